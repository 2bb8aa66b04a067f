"""Exports of a published millésime: GeoPackage and CSV of coproff.coproff, statistics as CSV.

Each export depends on `coproff/publication`, so only a complete, published millésime is exported.
Files land in `$COPROFF_EXPORT_DIR/<millesime>/` (see `coproff_platform.exports`). Owner and group
come from `coproff_platform.ui`; descriptions and metadata labels are in French and name the
public relations readers use (`coproff.coproff_<M>`), never internal partition tables.
"""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from coproff_platform import labels as L
from coproff_platform.concurrency import step_tags
from coproff_platform.exports import (
    ExportedFile,
    export_csv,
    export_dictionary,
    export_dir,
    export_gpkg,
    export_statistics,
)
from coproff_platform.partitions import millesime_partitions
from coproff_platform.resources.postgis import PostGISResource
from coproff_platform.ui import OWNERS, group_of
from coproff_platform.versions import python_code_version

PUBLICATION = AssetKey(["coproff", "publication"])


def _metadata(files: list[ExportedFile], millesime: int) -> dict:
    meta: dict = {
        L.FICHIERS: MetadataValue.json([str(f.path) for f in files]),
        L.RELATION_PUBLIEE: MetadataValue.text(f"coproff.coproff_{millesime}"),
    }
    if len(files) == 1:
        meta[L.CHEMIN] = MetadataValue.path(str(files[0].path))
        meta["dagster/row_count"] = files[0].rows
        meta[L.TAILLE_OCTETS] = files[0].bytes
    else:
        meta[L.LIGNES_PAR_FICHIER] = MetadataValue.json({f.path.name: f.rows for f in files})
    return meta


def _spec(name: str) -> dict:
    key = AssetKey(["exports", name])
    return {"key": key, "group_name": group_of(key), "owners": OWNERS, "deps": [PUBLICATION],
            "partitions_def": millesime_partitions, "op_tags": step_tags(f"exports/{name}"),
            "code_version": python_code_version("assets/exports.py", "exports.py")}


@asset(
    **_spec("coproff_gpkg"),
    kinds={"gpkg", "gdal"},
    description="GeoPackage du référentiel publié du millésime (couche `coproff`, points, EPSG:4326), avec la "
    "description de la couche et de chaque colonne (gpkg_data_columns) tirées des commentaires PostgreSQL.",
)
def coproff_gpkg(context: AssetExecutionContext, postgis: PostGISResource) -> MaterializeResult:
    millesime = int(context.partition_key)
    exported = export_gpkg(postgis.engine, postgis.database_url, millesime, export_dir(millesime))
    return MaterializeResult(metadata=_metadata([exported], millesime))


@asset(
    **_spec("coproff_csv"),
    kinds={"csv"},
    description="CSV du référentiel publié du millésime : point en longitude/latitude (WGS84), types déclarés "
    "dans un .csvt (codes en texte), système de coordonnées dans un .prj, et le dictionnaire des données "
    "`dictionnaire_<millésime>.csv` de tous les fichiers exportés.",
)
def coproff_csv(context: AssetExecutionContext, postgis: PostGISResource) -> MaterializeResult:
    millesime = int(context.partition_key)
    exported = export_csv(postgis.engine, millesime, export_dir(millesime))
    dictionary = export_dictionary(postgis.engine, millesime, export_dir(millesime))
    return MaterializeResult(
        metadata={**_metadata([exported], millesime), L.DICTIONNAIRE: MetadataValue.path(str(dictionary.path))}
    )


@asset(
    **_spec("statistiques_csv"),
    kinds={"csv"},
    description="Un CSV (et son .csvt) par table de statistiques coproff.stats_* du millésime.",
)
def statistiques_csv(context: AssetExecutionContext, postgis: PostGISResource) -> MaterializeResult:
    millesime = int(context.partition_key)
    files = export_statistics(postgis.engine, millesime, export_dir(millesime))
    return MaterializeResult(metadata=_metadata(files, millesime))


EXPORT_ASSETS = [coproff_gpkg, coproff_csv, statistiques_csv]
