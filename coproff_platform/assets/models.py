"""SQL model assets: one partitioned asset per `.sql` file under `dbt_like_sql/models/`.

Asset key `<schema>/<table>`, upstream assets read from the SQL (see `models.project`), group after
the folder. Audits registered on the key (`checks.audits`) become asset checks of the asset, run on
the fresh millésime before it is published.
"""


from collections.abc import Iterator

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Failure,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableSchema,
    asset,
)

from coproff_platform.checks.audits import audits_for
from coproff_platform.models.build import AuditFailed, AuditOutcome, build_model, metadata_value
from coproff_platform.models.project import Model, project
from coproff_platform.partitions import millesime_partitions
from coproff_platform.resources.postgis import PostGISResource

OWNERS = ["team:coproff-data"]
GROUPS = {"staging": "staging", "intermediate": "intermediate", "marts": "marts"}


def asset_key_of_table(table: str) -> AssetKey:
    """`staging.rnic` → `staging/rnic`: sources and models share the schema/table key scheme."""
    return AssetKey(table.split("."))


def _check_result(model: Model, outcome: AuditOutcome) -> AssetCheckResult:
    a, r = outcome.audit, outcome.result
    return AssetCheckResult(
        asset_key=AssetKey(model.asset_key_path),
        check_name=a.name,
        passed=r.passed,
        severity=AssetCheckSeverity.ERROR if a.blocking else AssetCheckSeverity.WARN,
        metadata={k: metadata_value(v) for k, v in r.metadata.items()},
        description=r.description or a.description or None,
    )


def _declared_schema(model: Model) -> TableSchema | None:
    cols = model.dictionary.columns
    if not cols:
        return None
    return TableSchema(columns=[TableColumn(c.name, c.data_type or "", c.description) for c in cols])


def model_asset(model: Model) -> AssetsDefinition:
    key = AssetKey(model.asset_key_path)
    audits = audits_for(key.to_user_string())
    check_specs = [
        AssetCheckSpec(
            a.name,
            asset=key,
            description=a.description or None,
            blocking=a.blocking,
            partitions_def=millesime_partitions,  # evaluations carry their millésime
        )
        for a in audits
    ]
    static_meta = {"sql_file": MetadataValue.path(model.relative_path), "table": model.table}
    schema = _declared_schema(model)
    if schema is not None:
        static_meta["dagster/column_schema"] = schema

    @asset(
        key=key,
        deps=[asset_key_of_table(t) for t in model.upstream],
        partitions_def=millesime_partitions,
        group_name=GROUPS[model.folder],
        owners=OWNERS,
        kinds={"postgres", "sql"},
        description=(model.dictionary.description or f"SQL model {model.relative_path}")
        + f"\n\nBuilt from `{model.relative_path}` into `{model.table}` (one partition per millésime).",
        metadata=static_meta,
        check_specs=check_specs,
    )
    def _model(context: AssetExecutionContext, postgis: PostGISResource) -> Iterator:
        millesime = int(context.partition_key)
        try:
            report = build_model(postgis, model, millesime, audits)
        except AuditFailed as exc:
            for outcome in exc.audits:
                yield _check_result(model, outcome)
            raise Failure(description=str(exc)) from exc
        for outcome in report.audits:
            yield _check_result(model, outcome)
        docs = {c.name: c.description for c in model.dictionary.columns}
        if report.undocumented:
            context.log.warning(f"{model.table}: columns without a description in the dictionary: {report.undocumented}")
        yield MaterializeResult(
            metadata={
                "dagster/row_count": report.row_count,
                "duration_s": round(report.duration_s, 3),
                "millesime": millesime,
                "sql": MetadataValue.md(f"```sql\n{model.sql}\n```"),
                "preview": MetadataValue.md(report.preview_markdown),
                "dagster/column_schema": TableSchema(
                    columns=[TableColumn(n, t, docs.get(n, "")) for n, t in report.columns]
                ),
                "undocumented_columns": ", ".join(report.undocumented) or "none",
                "schema_changes": "; ".join(report.schema_changes) or "none",
                **report.extra_metadata,
            }
        )

    return _model


def build_model_assets() -> list[AssetsDefinition]:
    return [model_asset(m) for m in project()]


MODEL_ASSETS: list[AssetsDefinition] = build_model_assets()
