"""Source assets: a millésime's landing files → typed, normalised staging tables.

One asset per declared source (`contracts.sources.SOURCES`), partitioned by millésime. Each loads
every file of its landing folder for the partition in one transaction (`coproff_platform.loading`),
and reports rows read / loaded / quarantined per file, the quarantine reasons, the soft registry
controls, unknown columns, lines read with the encoding fallback and a preview; `source_presente`
and `note` (labels of `coproff_platform.labels`) say when a source was absent or set aside (0 rows, never a failure for an optional one).
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

from coproff_platform import labels as L
from coproff_platform import metadata
from coproff_platform.concurrency import step_tags
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
        ["fichier", "format", "encodage", "lignes en encodage de secours", "lues", "chargées", "en quarantaine",
         "lignes vides", "Mo"],
        [[f.file, f.variant, f.encoding, f.lines_fallback, f.rows_read, f.rows_loaded, f.rows_quarantined,
          f.blank_lines, round(f.bytes / 1e6, 2)] for f in report.files],
    )
    reasons = report.reasons
    soft = report.soft
    unknown = sorted({c for f in report.files for c in f.unknown_columns})
    personal = sorted({c for f in report.files for c in f.personal_columns_ignored})
    missing = sorted({c for f in report.files for c in f.missing_optional})
    return {
        L.TABLE: MetadataValue.text(report.table),
        L.LIGNES_LUES: MetadataValue.int(report.rows_read),
        L.LIGNES_CHARGEES: MetadataValue.int(report.rows_loaded),
        L.LIGNES_EN_QUARANTAINE: MetadataValue.int(report.rows_quarantined),
        "dagster/row_count": MetadataValue.int(report.rows_loaded),
        L.RECONCILIE: MetadataValue.bool(report.reconciled),
        L.SOURCE_PRESENTE: MetadataValue.bool(report.present),
        L.NOTE: MetadataValue.text(report.note or ""),
        L.LIGNES_ENCODAGE_DE_SECOURS: MetadataValue.int(sum(f.lines_fallback for f in report.files)),
        L.FICHIERS: MetadataValue.md(files),
        L.MOTIFS_QUARANTAINE: MetadataValue.md(
            markdown_table(["motif", "lignes", "signification"], [[k, v, reason_text(k)] for k, v in reasons.most_common()])
            if reasons else "Aucune ligne en quarantaine."
        ),
        L.CONTROLES_SOUPLES: MetadataValue.md(
            markdown_table(["code", "lignes", "signification"], [[k, v, reason_text(k)] for k, v in soft.most_common()])
            if soft else "Aucun contrôle souple en échec."
        ),
        L.COLONNES_INCONNUES: MetadataValue.json({"nombre": len(unknown), "colonnes": unknown}),
        L.COLONNES_OPTIONNELLES_ABSENTES: MetadataValue.json(missing),
        L.COLONNES_PERSONNELLES_NON_CHARGEES: MetadataValue.json(personal),
        L.APERCU: MetadataValue.md(preview_md),
        L.DUREE_S: MetadataValue.float(round(report.seconds, 3)),
        L.LIGNES_PAR_S: MetadataValue.float(round(report.rows_read / report.seconds, 1) if report.seconds else 0.0),
    }


def preview(postgis: PostGISResource, table: Table, millesime: int, limit: int = 5) -> str:
    cols = [c.name for c in table.columns if not c.type.startswith("geometry") and c.name != "millesime"][:12]
    with postgis.engine.connect() as conn:
        rows = conn.execute(
            sa.text(f"select {', '.join(cols)} from {table.qualified} where millesime = :m "
                    f"order by source_file, source_line limit {int(limit)}"),
            {"m": millesime},
        ).all()
    return markdown_table(cols, [list(r) for r in rows]) if rows else "(aucune ligne)"


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
        op_tags=step_tags(f"staging/{source}"),
        metadata={
            "dagster/column_schema": column_schema(spec.table),
            "dagster/table_name": spec.table.qualified,
            L.DOSSIER_DEPOT: declared.landing_label(),
            L.EXIGENCE: declared.requirement,
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
