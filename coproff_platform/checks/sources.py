"""Checks on the staged sources: rows read = rows loaded + rows quarantined, per millésime.

Recounted from the database, not echoed from the materialization metadata: rows read come from
`quality.load_log` (written in the load transaction), rows loaded from the staging partition and
rows quarantined from `quality.quarantine`. Blocking: a source that lost rows stops the build.
(Great Expectations suites on staging live in `checks/expectations.py`.)
"""


import sqlalchemy as sa
from dagster import AssetCheckExecutionContext, AssetCheckResult, AssetCheckSeverity, AssetKey, MetadataValue, asset_check

from coproff_platform import labels as L
from coproff_platform.concurrency import step_tags
from coproff_platform.contracts.sources import REQUIRED, SOURCES
from coproff_platform.partitions import millesime_partitions
from coproff_platform.resources.postgis import PostGISResource

RECOUNT_SQL = """
select
    (select coalesce(sum(rows_read), 0) from quality.load_log where millesime = :m and source = :s) as rows_read,
    (select count(*) from {table} where millesime = :m) as rows_loaded,
    (select count(*) from quality.quarantine where millesime = :m and source = :s) as rows_quarantined,
    (select count(*) from quality.load_log where millesime = :m and source = :s) as files
"""


# The recount's SQL columns as the UI labels them.
LABELS = {"rows_read": L.LIGNES_LUES, "rows_loaded": L.LIGNES_CHARGEES,
          "rows_quarantined": L.LIGNES_EN_QUARANTAINE, "files": L.FICHIERS}


def recount(postgis: PostGISResource, source: str, millesime: int) -> dict[str, int]:
    table = SOURCES[source].table.qualified
    with postgis.engine.connect() as conn:
        row = conn.execute(sa.text(RECOUNT_SQL.format(table=table)), {"m": millesime, "s": source}).one()
    return dict(row._mapping)


def build_reconciliation_check(source: str):
    @asset_check(
        asset=AssetKey(["staging", source]),
        name="rows_reconcile",
        blocking=True,
        partitions_def=millesime_partitions,
        op_tags=step_tags(f"staging/{source}"),
        description="Lignes lues = lignes chargées + lignes en quarantaine (recompté en base, par millésime)",
    )
    def _check(context: AssetCheckExecutionContext, postgis: PostGISResource) -> AssetCheckResult:
        millesime = int(context.partition_key)
        counts = recount(postgis, source, millesime)
        # An optional source, or a parcel source set aside, may have no file: 0 = 0 + 0 passes.
        has_files = counts["files"] > 0 or SOURCES[source].requirement != REQUIRED
        ok = has_files and counts["rows_read"] == counts["rows_loaded"] + counts["rows_quarantined"]
        return AssetCheckResult(
            passed=bool(ok),
            severity=AssetCheckSeverity.ERROR,
            metadata={L.MILLESIME: MetadataValue.text(str(millesime)),
                      **{L.du_millesime(LABELS[k], millesime): MetadataValue.int(int(v)) for k, v in counts.items()}},
            description=None if ok else (
                f"{source} {millesime} : {counts['rows_read']} lignes lues ≠ {counts['rows_loaded']} chargées + "
                f"{counts['rows_quarantined']} en quarantaine ({counts['files']} fichier(s) journalisé(s))"
            ),
        )

    return _check


SOURCE_CHECKS: list = [build_reconciliation_check(s) for s in SOURCES]
