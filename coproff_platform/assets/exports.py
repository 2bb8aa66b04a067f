"""Exports of a published millésime: GeoPackage and CSV of coproff.coproff, statistics as CSV.

Each export depends on `coproff/publication`, so only a complete, published millésime is exported.
Files land in `$COPROFF_EXPORT_DIR/<millesime>/` (see `coproff_platform.exports`).
"""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

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

PUBLICATION = AssetKey(["coproff", "publication"])


def _metadata(files: list[ExportedFile]) -> dict:
    meta: dict = {"files": MetadataValue.json([str(f.path) for f in files])}
    if len(files) == 1:
        meta["path"] = MetadataValue.path(str(files[0].path))
        meta["dagster/row_count"] = files[0].rows
        meta["size_bytes"] = files[0].bytes
    else:
        meta["rows_per_file"] = MetadataValue.json({f.path.name: f.rows for f in files})
    return meta


@asset(
    key=["exports", "coproff_gpkg"],
    deps=[PUBLICATION],
    partitions_def=millesime_partitions,
    group_name="exports",
    kinds={"gpkg"},
    description="GeoPackage of coproff.coproff for the millésime (layer `coproff`, Point, EPSG:4326).",
)
def coproff_gpkg(context: AssetExecutionContext, postgis: PostGISResource) -> MaterializeResult:
    millesime = int(context.partition_key)
    exported = export_gpkg(postgis.engine, postgis.database_url, millesime, export_dir(millesime))
    return MaterializeResult(metadata=_metadata([exported]))


@asset(
    key=["exports", "coproff_csv"],
    deps=[PUBLICATION],
    partitions_def=millesime_partitions,
    group_name="exports",
    kinds={"csv"},
    description="CSV of coproff.coproff for the millésime (point as longitude/latitude, WGS84).",
)
def coproff_csv(context: AssetExecutionContext, postgis: PostGISResource) -> MaterializeResult:
    millesime = int(context.partition_key)
    exported = export_csv(postgis.engine, millesime, export_dir(millesime))
    dictionary = export_dictionary(postgis.engine, millesime, export_dir(millesime))
    return MaterializeResult(metadata={**_metadata([exported]), "dictionnaire": MetadataValue.path(str(dictionary.path))})


@asset(
    key=["exports", "statistiques_csv"],
    deps=[PUBLICATION],
    partitions_def=millesime_partitions,
    group_name="exports",
    kinds={"csv"},
    description="One CSV per statistics table coproff.stats_* for the millésime.",
)
def statistiques_csv(context: AssetExecutionContext, postgis: PostGISResource) -> MaterializeResult:
    millesime = int(context.partition_key)
    files = export_statistics(postgis.engine, millesime, export_dir(millesime))
    return MaterializeResult(metadata=_metadata(files))


EXPORT_ASSETS = [coproff_gpkg, coproff_csv, statistiques_csv]
