"""SQL model assets: one partitioned asset per `.sql` file under `dbt_like_sql/models/`.

Asset key `<schema>/<table>`, upstream assets read from the SQL (see `models.project`), owner and
group from `ui.py`. The model's audits (`<model>.audits/*.sql`, `checks/audits.py`) are its asset
checks, evaluated on the fresh millésime before it is published.

Which materialization an evaluation judged: Dagster attaches each check evaluation to the latest
materialization of the partition at the moment the evaluation is logged. So a successful build
records its materialization first and its audit results after it (`MaterializeResult` with
`check_results`): each evaluation targets its own run's materialization. A build stopped by a
blocking audit materialized nothing; its evaluations are logged without a target materialization
(not the published version they did not judge), and their metadata says which version was judged
and which one stays published.
"""


import warnings
from collections.abc import Iterator

from dagster import (
    AssetCheckEvaluation,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetRecordsFilter,
    AssetsDefinition,
    Failure,
    MaterializeResult,
    MetadataValue,
    PreviewWarning,
    TableColumn,
    TableSchema,
    asset,
)

from coproff_platform.checks.audits import Audit, AuditResult, audits_of, check_audit_folders
from coproff_platform.metadata import markdown_table
from coproff_platform.models.build import AuditFailed, AuditOutcome, build_model
from coproff_platform.models.project import Model, project
from coproff_platform.partitions import millesime_partitions
from coproff_platform.resources.postgis import PostGISResource
from coproff_platform.ui import OWNERS, group_of
from coproff_platform.versions import model_code_version


def asset_key_of_table(table: str) -> AssetKey:
    """`staging.rnic` → `staging/rnic`: sources and models share the schema/table key scheme."""
    return AssetKey(table.split("."))


def audit_metadata(audit: Audit, result: AuditResult) -> dict:
    """What a check shows: the offending count, a sample of the rows, the thresholds, the file."""
    meta: dict = {"lignes_en_faute": result.offending, "fichier": MetadataValue.path(audit.relative_path)}
    if result.error:
        meta["erreur"] = result.error
    if result.sample:
        shown = len(result.sample)
        meta["échantillon"] = MetadataValue.md(
            f"{result.offending:,} ligne(s) en faute ; les {shown} premières :\n\n"
            + markdown_table(result.columns, result.sample))
    if result.thresholds:
        meta["seuils"] = MetadataValue.md(markdown_table(["paramètre", "valeur", "source"], result.thresholds))
    return meta


def _description(audit: Audit, result: AuditResult) -> str:
    if result.error:
        return f"{audit.description}\n\nL'audit n'a pas pu être évalué : {result.error}"
    return audit.description


def _check_result(model: Model, outcome: AuditOutcome) -> AssetCheckResult:
    a, r = outcome.audit, outcome.result
    return AssetCheckResult(
        asset_key=AssetKey(model.asset_key_path),
        check_name=a.name,
        passed=r.passed,
        severity=AssetCheckSeverity.ERROR if a.blocking else AssetCheckSeverity.WARN,
        metadata=audit_metadata(a, r),
        description=_description(a, r),
    )


def _published_version(context: AssetExecutionContext, key: AssetKey) -> str:
    records = context.instance.fetch_materializations(
        AssetRecordsFilter(asset_key=key, asset_partitions=[context.partition_key]), limit=1).records
    if not records:
        return "aucune matérialisation de ce millésime dans Dagster : rien n'a été publié par un run"
    r = records[0]
    return f"matérialisation du run {r.event_log_entry.run_id} (id {r.storage_id}), inchangée"


def _unpublished_evaluation(context: AssetExecutionContext, model: Model, outcome: AuditOutcome,
                            published: str) -> AssetCheckEvaluation:
    """An evaluation of a build that was not published: it targets no materialization."""
    a, r = outcome.audit, outcome.result
    return AssetCheckEvaluation(
        asset_key=AssetKey(model.asset_key_path),
        check_name=a.name,
        passed=r.passed,
        metadata={
            **audit_metadata(a, r),
            "version_jugee": f"reconstruction non publiée du run {context.run_id}",
            "version_publiee": published,
        },
        target_materialization_data=None,
        severity=AssetCheckSeverity.ERROR if a.blocking else AssetCheckSeverity.WARN,
        description=_description(a, r),
        blocking=a.blocking,
        partition=context.partition_key,
    )


def _declared_schema(model: Model) -> TableSchema | None:
    cols = model.dictionary.columns
    if not cols:
        return None
    return TableSchema(columns=[TableColumn(c.name, c.data_type or "", c.description) for c in cols])


def _check_spec(key: AssetKey, audit: Audit) -> AssetCheckSpec:
    # A partitioned check is what makes each evaluation carry its millésime; Dagster 1.13 warns
    # that the option is in preview on every code load: known and accepted, silenced here only.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=PreviewWarning,
                                message="Specifying a partitions_def on an AssetCheckSpec")
        return AssetCheckSpec(
            audit.name,
            asset=key,
            description=audit.description,
            blocking=audit.blocking,
            partitions_def=millesime_partitions,
        )


def model_asset(model: Model) -> AssetsDefinition:
    key = AssetKey(model.asset_key_path)
    audits = audits_of(model)
    # what the audits read besides the model's own table (reference tables, staged sources)
    audit_reads = {t for a in audits for t in a.reads} - {model.table} - set(model.upstream)
    check_specs = [_check_spec(key, a) for a in audits]
    static_meta = {"sql_file": MetadataValue.path(model.relative_path), "table": model.table}
    schema = _declared_schema(model)
    if schema is not None:
        static_meta["dagster/column_schema"] = schema

    @asset(
        key=key,
        deps=[asset_key_of_table(t) for t in sorted({*model.upstream, *audit_reads})],
        partitions_def=millesime_partitions,
        group_name=group_of(key),
        owners=OWNERS,
        kinds={"postgres", "sql"},
        description=(model.dictionary.description or f"Modèle SQL {model.relative_path}")
        + f"\n\nConstruit par `{model.relative_path}` dans `{model.table}` (une partition par millésime).",
        metadata=static_meta,
        check_specs=check_specs,
        code_version=model_code_version(model, audits),
    )
    def _model(context: AssetExecutionContext, postgis: PostGISResource) -> Iterator:
        millesime = int(context.partition_key)
        try:
            report = build_model(postgis, model, millesime, audits)
        except AuditFailed as exc:
            published = _published_version(context, key)
            for outcome in exc.audits:
                yield _unpublished_evaluation(context, model, outcome, published)
            raise Failure(description=str(exc)) from exc
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
            },
            # after the materialization: each evaluation targets this run's materialization
            check_results=[_check_result(model, o) for o in report.audits],
        )

    return _model


def build_model_assets() -> list[AssetsDefinition]:
    models = project()
    check_audit_folders(models)
    return [model_asset(m) for m in models]


MODEL_ASSETS: list[AssetsDefinition] = build_model_assets()
