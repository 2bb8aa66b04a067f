"""SQL model assets: one partitioned asset per `.sql` file under `dbt_like_sql/models/`.

Asset key `<schema>/<table>`, upstream assets read from the SQL (see `models.project`), owner and
group from `ui.py`. The model's audits (`<model>.audits/*.sql`, `checks/audits.py`) are its asset
checks, evaluated on the fresh millésime before it is published.

Which materialization an evaluation judged: Dagster attaches each check evaluation to the latest
materialization of the partition at the moment the evaluation is logged. So a successful build
records its materialization first and its audit results after it (`MaterializeResult` with
`check_results`): each evaluation targets its own run's materialization. A build stopped by a
blocking audit materialized nothing; its evaluations target "the unpublished rebuild" (run id of
the failed run, storage id -1: no materialization has it), so that the UI does not count them
against the published version, and their metadata says which version was judged and which one
stays published. Any failed build also records an observation of the asset's partition saying
which version stays published, since when, by which run.
"""


import time
import warnings
from collections.abc import Iterator
from datetime import datetime, timezone

from dagster import (
    AssetCheckEvaluation,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetObservation,
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

# not exported at the top level of dagster 1.13, but the documented field type of AssetCheckEvaluation
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)

from coproff_platform import labels as L
from coproff_platform.checks.audits import Audit, AuditResult, audits_of, check_audit_folders
from coproff_platform.concurrency import step_tags
from coproff_platform.metadata import markdown_table
from coproff_platform.models.build import AuditFailed, AuditOutcome, build_model
from coproff_platform.models.project import Model, project
from coproff_platform.partitions import millesime_partitions
from coproff_platform.resources.postgis import PostGISResource
from coproff_platform.ui import OWNERS, group_of, public_names
from coproff_platform.versions import model_code_version


def asset_key_of_table(table: str) -> AssetKey:
    """`staging.rnic` → `staging/rnic`: sources and models share the schema/table key scheme."""
    return AssetKey(table.split("."))


def audit_metadata(audit: Audit, result: AuditResult, millesime: int) -> dict:
    """What a check shows: the judged millésime, the offending count (labelled with the millésime: the
    UI plots a check's evaluations of every millésime together), a sample, the thresholds, the file."""
    meta: dict = {L.MILLESIME: MetadataValue.text(str(millesime)),
                  L.du_millesime(L.LIGNES_EN_FAUTE, millesime): result.offending,
                  L.FICHIER: MetadataValue.path(audit.relative_path)}
    if result.error:
        meta[L.ERREUR] = public_names(result.error)
    if result.sample:
        shown = len(result.sample)
        meta[L.ECHANTILLON] = MetadataValue.md(
            f"{result.offending:,} ligne(s) en faute ; les {shown} premières :\n\n"
            + markdown_table(result.columns, result.sample))
    if result.thresholds:
        meta[L.SEUILS] = MetadataValue.md(markdown_table(["paramètre", "valeur", "source"], result.thresholds))
    return meta


def _description(audit: Audit, result: AuditResult) -> str:
    if result.error:
        return f"{audit.description}\n\nL'audit n'a pas pu être évalué : {public_names(result.error)}"
    return audit.description


def _check_result(model: Model, outcome: AuditOutcome, millesime: int) -> AssetCheckResult:
    a, r = outcome.audit, outcome.result
    return AssetCheckResult(
        asset_key=AssetKey(model.asset_key_path),
        check_name=a.name,
        passed=r.passed,
        severity=AssetCheckSeverity.ERROR if a.blocking else AssetCheckSeverity.WARN,
        metadata=audit_metadata(a, r, millesime),
        description=_description(a, r),
    )


# Stands for "the unpublished rebuild" as an evaluation's target: no materialization has this id
# (Dagster's storage ids start at 1), so the UI never counts the evaluation against the published one.
UNPUBLISHED_REBUILD_ID = -1


def _kept_version(context: AssetExecutionContext, key: AssetKey) -> dict:
    """The version of the partition that stays published after a failed rebuild: metadata (French)."""
    records = context.instance.fetch_materializations(
        AssetRecordsFilter(asset_key=key, asset_partitions=[context.partition_key]), limit=1).records
    if not records:
        return {L.TOUJOURS_PUBLIE: False,
                L.VERSION_PUBLIEE: "aucune matérialisation de ce millésime dans Dagster : rien n'a été publié par un run"}
    r = records[0]
    return {
        L.TOUJOURS_PUBLIE: True,
        L.VERSION_PUBLIEE: f"matérialisation du run {r.event_log_entry.run_id} (id {r.storage_id}), inchangée",
        L.PUBLIE_DEPUIS: MetadataValue.timestamp(r.timestamp),
        L.EXECUTION_DE_PUBLICATION: r.event_log_entry.run_id,
    }


def _kept_version_observation(context: AssetExecutionContext, key: AssetKey, kept: dict, cause: str) -> AssetObservation:
    """Said next to the asset after a failed rebuild: which version consumers still read."""
    millesime = context.partition_key
    if kept[L.TOUJOURS_PUBLIE]:
        since = datetime.fromtimestamp(kept[L.PUBLIE_DEPUIS].value, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        text = (f"Échec de la reconstruction du millésime {millesime} : la version précédente reste publiée, "
                f"inchangée (run {kept[L.EXECUTION_DE_PUBLICATION]}, depuis le {since})")
    else:
        text = f"Échec de la construction du millésime {millesime} : aucune version de ce millésime n'est publiée"
    return AssetObservation(
        asset_key=key,
        partition=millesime,
        description=text,
        metadata={**kept, L.MILLESIME: MetadataValue.text(millesime),
                  L.EXECUTION_EN_ECHEC: context.run.run_id, L.CAUSE: cause[:500]},
    )


def _unpublished_evaluation(context: AssetExecutionContext, model: Model, outcome: AuditOutcome,
                            kept: dict) -> AssetCheckEvaluation:
    """An evaluation of a build that was not published: it targets the unpublished rebuild."""
    a, r = outcome.audit, outcome.result
    return AssetCheckEvaluation(
        asset_key=AssetKey(model.asset_key_path),
        check_name=a.name,
        passed=r.passed,
        metadata={
            **audit_metadata(a, r, int(context.partition_key)),
            L.VERSION_JUGEE: f"reconstruction non publiée du run {context.run.run_id}",
            L.VERSION_PUBLIEE: kept[L.VERSION_PUBLIEE],
        },
        # Without a target, Dagster's UI would place the evaluation by timestamp on the latest
        # materialization, i.e. the published version it did not judge.
        target_materialization_data=AssetCheckEvaluationTargetMaterializationData(
            storage_id=UNPUBLISHED_REBUILD_ID, run_id=context.run.run_id, timestamp=time.time()),
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
    static_meta = {L.FICHIER_SQL: MetadataValue.path(model.relative_path), L.TABLE: model.table}
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
        op_tags=step_tags("/".join(model.asset_key_path)),
    )
    def _model(context: AssetExecutionContext, postgis: PostGISResource) -> Iterator:
        millesime = int(context.partition_key)
        try:
            report = build_model(postgis, model, millesime, audits)
        except AuditFailed as exc:
            kept = _kept_version(context, key)
            for outcome in exc.audits:
                yield _unpublished_evaluation(context, model, outcome, kept)
            yield _kept_version_observation(context, key, kept, str(exc))
            raise Failure(description=str(exc)) from exc
        except Exception as exc:
            yield _kept_version_observation(context, key, _kept_version(context, key), f"{type(exc).__name__}: {exc}")
            raise
        docs = {c.name: c.description for c in model.dictionary.columns}
        if report.undocumented:
            context.log.warning(f"{model.table}: columns without a description in the dictionary: {report.undocumented}")
        yield MaterializeResult(
            metadata={
                "dagster/row_count": report.row_count,
                L.DUREE_S: round(report.duration_s, 3),
                L.MILLESIME: millesime,
                L.SQL: MetadataValue.md(f"```sql\n{model.sql}\n```"),
                L.APERCU: MetadataValue.md(report.preview_markdown),
                "dagster/column_schema": TableSchema(
                    columns=[TableColumn(n, t, docs.get(n, "")) for n, t in report.columns]
                ),
                L.COLONNES_NON_DOCUMENTEES: ", ".join(report.undocumented) or "aucune",
                L.CHANGEMENTS_DE_SCHEMA: "; ".join(report.schema_changes) or "aucun",
                **report.extra_metadata,
            },
            # after the materialization: each evaluation targets this run's materialization
            check_results=[_check_result(model, o, millesime) for o in report.audits],
        )

    return _model


def build_model_assets() -> list[AssetsDefinition]:
    models = project()
    check_audit_folders(models)
    return [model_asset(m) for m in models]


MODEL_ASSETS: list[AssetsDefinition] = build_model_assets()
