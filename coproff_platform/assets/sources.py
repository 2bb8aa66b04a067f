"""Source assets: a millésime's landing files → typed, normalised staging tables.

One asset per declared source (`contracts.sources.SOURCES`), partitioned by millésime. Each loads
every file of its landing folder for the partition in one transaction (`coproff_platform.loading`),
and reports rows read / loaded / quarantined per file, the quarantine reasons, the soft registry
controls, unknown columns, lines read with the encoding fallback and a preview; `source_present`
and `note` say when a source was absent or set aside (0 rows, never a failure for an optional one).
"""


import time

import sqlalchemy as sa
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableSchema,
    asset,
)

from coproff_platform import metadata
from coproff_platform.contracts import tables
from coproff_platform.contracts.sources import REASONS, SOURCES
from coproff_platform.contracts.tables import Table
from coproff_platform.loading import LoadReport, load_source
from coproff_platform.loading.load import plan_source
from coproff_platform.partitions import millesime_partitions
from coproff_platform.resources.landing import LandingZone
from coproff_platform.resources.postgis import PostGISResource
from coproff_platform.ui import OWNERS, group_of
from coproff_platform.versions import landing_key, source_code_version

def column_schema(table: Table) -> TableSchema:
    return TableSchema(columns=[TableColumn(c.name, c.type, description=c.comment) for c in table.columns])


def reason_text(code: str) -> str:
    if code in REASONS:
        return REASONS[code]
    return "Champ obligatoire vide" if code.endswith("_manquant") else ""


def markdown_table(columns: list[str], rows: list[list]) -> str:
    # Source values shown as read: floats unformatted, cells cut at 80 characters.
    return metadata.markdown_table(columns, rows, float_format="", max_chars=80)


def report_metadata(report: LoadReport, preview_md: str) -> dict:
    files = markdown_table(
        ["file", "format", "encoding", "fallback lines", "read", "loaded", "quarantined", "blank lines", "MB"],
        [[f.file, f.variant, f.encoding, f.lines_fallback, f.rows_read, f.rows_loaded, f.rows_quarantined,
          f.blank_lines, round(f.bytes / 1e6, 2)] for f in report.files],
    )
    reasons = report.reasons
    soft = report.soft
    unknown = sorted({c for f in report.files for c in f.unknown_columns})
    personal = sorted({c for f in report.files for c in f.personal_columns_ignored})
    missing = sorted({c for f in report.files for c in f.missing_optional})
    return {
        "table": MetadataValue.text(report.table),
        "rows_read": MetadataValue.int(report.rows_read),
        "rows_loaded": MetadataValue.int(report.rows_loaded),
        "rows_quarantined": MetadataValue.int(report.rows_quarantined),
        "dagster/row_count": MetadataValue.int(report.rows_loaded),
        "reconciled": MetadataValue.bool(report.reconciled),
        "source_present": MetadataValue.bool(report.present),
        "note": MetadataValue.text(report.note or ""),
        "lines_fallback_encoding": MetadataValue.int(sum(f.lines_fallback for f in report.files)),
        "files": MetadataValue.md(files),
        "quarantine_reasons": MetadataValue.md(
            markdown_table(["reason", "rows", "meaning"], [[k, v, reason_text(k)] for k, v in reasons.most_common()])
            if reasons else "No row quarantined."
        ),
        "soft_controls": MetadataValue.md(
            markdown_table(["code", "rows", "meaning"], [[k, v, reason_text(k)] for k, v in soft.most_common()])
            if soft else "No soft control failed."
        ),
        "unknown_columns": MetadataValue.json({"count": len(unknown), "columns": unknown}),
        "missing_optional_columns": MetadataValue.json(missing),
        "personal_columns_not_loaded": MetadataValue.json(personal),
        "preview": MetadataValue.md(preview_md),
        "duration_s": MetadataValue.float(round(report.seconds, 3)),
        "rows_per_s": MetadataValue.float(round(report.rows_read / report.seconds, 1) if report.seconds else 0.0),
    }


def preview(postgis: PostGISResource, table: Table, millesime: int, limit: int = 5) -> str:
    cols = [c.name for c in table.columns if not c.type.startswith("geometry") and c.name != "millesime"][:12]
    with postgis.engine.connect() as conn:
        rows = conn.execute(
            sa.text(f"select {', '.join(cols)} from {table.qualified} where millesime = :m "
                    f"order by source_file, source_line limit {int(limit)}"),
            {"m": millesime},
        ).all()
    return markdown_table(cols, [list(r) for r in rows]) if rows else "(no row)"


def build_source_asset(source: str) -> AssetsDefinition:
    declared = SOURCES[source]
    spec = declared.spec

    @asset(
        key=AssetKey(["staging", source]),
        group_name=group_of(AssetKey(["staging", source])),
        partitions_def=millesime_partitions,
        description=declared.description,
        owners=OWNERS,
        kinds=set(declared.kinds),
        # The post-load SQL reads these sources' staging rows of the same millésime.
        # and its landing files' fingerprint (`landing/<source>`) makes it stale when they change.
        deps=[landing_key(source), *(AssetKey(["staging", d]) for d in declared.depends_on)],
        code_version=source_code_version(),
        metadata={
            "dagster/column_schema": column_schema(spec.table),
            "dagster/table_name": spec.table.qualified,
            "landing_folder": declared.landing_label(),
            "requirement": declared.requirement,
        },
    )
    def _load(context: AssetExecutionContext, postgis: PostGISResource, landing: LandingZone) -> MaterializeResult:
        millesime = int(context.partition_key)
        started = time.monotonic()
        postgis.ensure_database()
        with postgis.engine.begin() as conn:
            # Parallel source assets must not race on CREATE TABLE.
            conn.execute(sa.text("select pg_advisory_xact_lock(hashtext('coproff.setup'))"))
            tables.create_all(conn)
        plan = plan_source(landing.root, millesime, source)
        context.log.info(f"{source} {millesime}: {len(plan.files)} file(s) in "
                         f"{landing.folder(millesime, declared.folder)}")
        if plan.note:  # the French note goes to the metadata; the log says it in English
            context.log.warning(f"{source} {millesime}: absent or set aside for this millésime, 0 rows")
        report = load_source(postgis, source, millesime, plan.files, display=landing.relative,
                             log=context.log.info, note=plan.note)
        report.seconds = time.monotonic() - started
        context.log.info(
            f"{source} {millesime}: read {report.rows_read}, loaded {report.rows_loaded}, "
            f"quarantined {report.rows_quarantined} in {report.seconds:.1f}s"
        )
        if report.note and not plan.note:
            context.log.warning(f"{source} {millesime}: header-only file(s) of an optional source, 0 rows")
        return MaterializeResult(metadata=report_metadata(report, preview(postgis, spec.table, millesime)))

    return _load


SOURCE_ASSETS: list[AssetsDefinition] = [build_source_asset(s) for s in SOURCES]
