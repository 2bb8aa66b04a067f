"""Source assets: a millésime's landing files → typed, normalised staging tables (issue 2).

One asset per staging table, partitioned by millésime. Each loads every file of its landing folder
for the partition in one transaction (`coproff_platform.loading`), and reports rows read / loaded /
quarantined per file, the quarantine reasons, the soft registry controls, unknown columns and a
preview. `staging/ff_parcelle` and `staging/ff_tup` are two assets: they are separate tables with
separate files, and a failed TUP file must not block the parcels (nor the reverse).
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
from coproff_platform.contracts.sources import REASONS, SPECS
from coproff_platform.contracts.tables import Table
from coproff_platform.loading import LoadReport, load_source, source_files
from coproff_platform.partitions import millesime_partitions
from coproff_platform.resources.landing import LandingZone
from coproff_platform.resources.postgis import PostGISResource

OWNERS = ["team:coproff"]

DESCRIPTIONS = {
    "rnic": "Registre national d'immatriculation des copropriétés (ANAH, CSV open data, toutes versions "
            "d'en-tête) : numéro à 9 caractères, dates, booléens, références cadastrales au format idpar "
            "(Paris/Lyon/Marseille en arrondissement), point WGS84, contrôles du registre dans `controles`; "
            "rejets bloquants dans `quality.quarantine`.",
    "ff_parcelle": "Parcelles des Fichiers fonciers (pnb10_parcelle, CSV avec géométrie EWKT en projection "
                   "locale) : géométrie locale conservée + copie WGS84 reprojetée en SQL.",
    "ff_tup": "Unités foncières unifiées (TUP) des Fichiers fonciers : parcelles composantes, logements, "
              "logements en copropriété, contour et point en projection locale + WGS84.",
    "dpe": "DPE des logements existants (ADEME dpe03existant, noms ADEME ou libellés) : étiquettes, "
           "numéro d'immatriculation déclaré, point BAN reprojeté de la projection locale en WGS84.",
    "dvf": "DVF géolocalisées (Etalab) ou fichier brut DGFiP : une ligne par disposition × parcelle × local; "
           "les lignes strictement identiques sont gardées et partagent `line_hash`.",
    "dv3f": "DV3F (Cerema, accès restreint), une ligne par mutation : parcelles FF (`l_idpar`), appartements "
            "mutés et leur surface bâtie. Source optionnelle : sans dossier `dv3f/`, le millésime est publié "
            "avec 0 ligne et les indicateurs de ventes viennent de DVF.",
    "lovac": "Logements vacants (LOVAC), sans aucune colonne de données personnelles; point reprojeté en WGS84.",
}


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
        ["file", "format", "encoding", "read", "loaded", "quarantined", "blank lines", "MB"],
        [[f.file, f.variant, f.encoding, f.rows_read, f.rows_loaded, f.rows_quarantined, f.blank_lines,
          round(f.bytes / 1e6, 2)] for f in report.files],
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
    spec = SPECS[source][0]
    # RNIC's "point far from its commune" control uses the FF parcels of the same millésime.
    deps = [AssetKey(["staging", "ff_parcelle"])] if source == "rnic" else []

    @asset(
        key=AssetKey(["staging", source]),
        group_name="sources",
        partitions_def=millesime_partitions,
        description=DESCRIPTIONS[source],
        owners=OWNERS,
        kinds={"postgres", "csv"},
        deps=deps,
        metadata={
            "dagster/column_schema": column_schema(spec.table),
            "dagster/table_name": spec.table.qualified,
            "landing_folder": f"<landing>/<millesime>/{spec.folder}/ ({', '.join(p for s in SPECS[source] for p in s.patterns)})",
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
        files = source_files(landing.root, millesime, source)
        context.log.info(f"{source} {millesime}: {len(files)} file(s) in {landing.folder(millesime, spec.folder)}")
        if not files and spec.optional:
            context.log.warning(f"{source} {millesime}: no file in {landing.folder(millesime, spec.folder)} "
                                "(optional source): the millésime is published with 0 rows")
        report = load_source(postgis, source, millesime, files, display=landing.relative, log=context.log.info)
        report.seconds = time.monotonic() - started
        context.log.info(
            f"{source} {millesime}: read {report.rows_read}, loaded {report.rows_loaded}, "
            f"quarantined {report.rows_quarantined} in {report.seconds:.1f}s"
        )
        metadata = report_metadata(report, preview(postgis, spec.table, millesime))
        if spec.optional:
            metadata["source_present"] = MetadataValue.bool(bool(files))
        return MaterializeResult(metadata=metadata)

    return _load


SOURCES = ("rnic", "ff_parcelle", "ff_tup", "dpe", "dvf", "dv3f", "lovac")
SOURCE_ASSETS: list[AssetsDefinition] = [build_source_asset(s) for s in SOURCES]
