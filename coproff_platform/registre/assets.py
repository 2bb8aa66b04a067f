"""Dagster assets of the registry's declarations: the `declarations/` source → five staging tables.

One multi-asset (the five tables are filled and swapped in one transaction), partitioned by
millésime, after `staging/rnic` (the WS2 existence control reads the registry export). Its
metadata is the registry's answers: declarations read / accepted / rejected per file and service,
and each control's failures; its check proves read = accepted + rejected.
"""


import time

import sqlalchemy as sa
from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableSchema,
    multi_asset,
)

from coproff_platform import labels as L
from coproff_platform import metadata
from coproff_platform.concurrency import step_tags
from coproff_platform.contracts.declarations import DECLARATION, DECLARATION_CONTROLE, SPEC, TABLES
from coproff_platform.partitions import millesime_partitions
from coproff_platform.registre.controles import CONTROLES_DIR, catalogue
from coproff_platform.registre.load import DeclarationReport, declaration_files, load_declarations
from coproff_platform.resources.landing import LandingZone
from coproff_platform.resources.postgis import PostGISResource
from coproff_platform.ui import OWNERS, group_of
from coproff_platform.versions import digest, landing_key, modules, reference_files

REF_READ = ["controles_declaration", "etiquettes_dpe", "parametres", "periodes_construction", "territoires"]
KEYS = {t.qualified: AssetKey(t.qualified.split(".")) for t in TABLES}
MAIN = KEYS[DECLARATION.qualified]


def _schema(table) -> TableSchema:
    return TableSchema(columns=[TableColumn(c.name, c.type, description=c.comment) for c in table.columns])


def controls_markdown(report: DeclarationReport) -> str:
    cat = catalogue()
    rows = [[code, cat[code].niveau, count, cat[code].message] for code, count in report.codes.most_common()]
    return metadata.markdown_table(["contrôle", "niveau", "déclarations", "message"], rows) if rows else "Aucun contrôle échoué."


def report_metadata(report: DeclarationReport) -> dict:
    files = metadata.markdown_table(
        ["fichier", "lues", "acceptées", "rejetées", "Mo"],
        [[f.file, f.rows_read, f.rows_accepted, f.rows_rejected, round(f.bytes / 1e6, 2)] for f in report.files])
    services = metadata.markdown_table(
        ["service", "statut", "déclarations"], [[s, st, c] for (s, st), c in sorted(report.by_service.items())])
    rate = report.rows_read / report.control_seconds if report.control_seconds else 0.0
    return {
        L.LIGNES_LUES: MetadataValue.int(report.rows_read),
        L.LIGNES_ACCEPTEES: MetadataValue.int(report.rows_accepted),
        L.LIGNES_REJETEES: MetadataValue.int(report.rows_rejected),
        L.RECONCILIE: MetadataValue.bool(report.reconciled),
        "dagster/row_count": MetadataValue.int(report.rows_accepted),
        L.FICHIERS: MetadataValue.md(files if report.files else "Aucun fichier : source optionnelle, partitions vides."),
        L.REPONSES_PAR_SERVICE: MetadataValue.md(services if report.by_service else "Aucune déclaration."),
        L.CONTROLES_ECHOUES: MetadataValue.md(controls_markdown(report)),
        L.DUREE_S: MetadataValue.float(round(report.seconds, 3)),
        L.DECLARATIONS_CONTROLEES_PAR_S: MetadataValue.float(round(rate, 1)),
    }


@multi_asset(
    specs=[
        AssetSpec(
            key, description=table.comment, owners=OWNERS, group_name=group_of(key), kinds={"postgres", "json"},
            # ref/*: the typing SQL of block C joins ref.etiquettes_dpe (passoires); the business
            # controls' SQL reads the reference tables of REF_READ.
            deps=[AssetKey(["staging", "rnic"]), *(AssetKey(["ref", t]) for t in REF_READ), landing_key("declarations")],
            code_version=digest([*modules("registre", "contracts/declarations.py"), *reference_files(REF_READ),
                                 *sorted(CONTROLES_DIR.glob("*.sql"))]),
            metadata={"dagster/column_schema": _schema(table), "dagster/table_name": table.qualified,
                      L.DOSSIER_DEPOT: SPEC.source.landing_label(), L.SOURCE: SPEC.description},
        )
        for (qualified, key), table in zip(KEYS.items(), TABLES)
    ],
    check_specs=[
        AssetCheckSpec("declarations_reconciliees", asset=MAIN, blocking=True, partitions_def=millesime_partitions,
                       description="Déclarations lues = acceptées + rejetées, par fichier"),
    ],
    partitions_def=millesime_partitions,
    name="staging_declarations",
    can_subset=False,
    op_tags=step_tags("staging/declaration"),  # a source: beside the matching chain, not after it
)
def declarations_asset(context: AssetExecutionContext, postgis: PostGISResource, landing: LandingZone):
    millesime = int(context.partition_key)
    started = time.monotonic()
    postgis.ensure_database()
    files = declaration_files(landing.root, millesime)
    if not files:
        context.log.warning(f"declarations {millesime}: no file in {landing.folder(millesime, SPEC.folder)} "
                            f"({'optional' if SPEC.optional else 'required'} source): empty partitions")
    report = load_declarations(postgis, millesime, files, display=landing.relative, log=context.log.info)
    report.seconds = time.monotonic() - started
    common = report_metadata(report)
    with postgis.engine.connect() as conn:
        counts = {t.qualified: conn.execute(sa.text(f"select count(*) from {t.qualified} where millesime = :m"),
                                            {"m": millesime}).scalar() for t in TABLES}
    for table in TABLES:
        meta = {"dagster/row_count": MetadataValue.int(counts[table.qualified]), L.MILLESIME: millesime}
        if table is DECLARATION:
            meta |= common
        if table is DECLARATION_CONTROLE:
            meta[L.CONTROLES_ECHOUES] = common[L.CONTROLES_ECHOUES]
        yield MaterializeResult(asset_key=KEYS[table.qualified], metadata=meta)
    yield AssetCheckResult(
        asset_key=MAIN, check_name="declarations_reconciliees", passed=report.reconciled,
        metadata={L.MILLESIME: MetadataValue.text(str(millesime)),
                  L.du_millesime(L.LIGNES_LUES, millesime): report.rows_read,
                  L.du_millesime(L.LIGNES_ACCEPTEES, millesime): report.rows_accepted,
                  L.du_millesime(L.LIGNES_REJETEES, millesime): report.rows_rejected},
    )


REGISTRE_ASSETS = [declarations_asset]
