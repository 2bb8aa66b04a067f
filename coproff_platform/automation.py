"""Jobs, schedules and sensors. (Being built: issue 5.)"""

from dagster import AssetSelection, define_asset_job

from coproff_platform.partitions import millesime_partitions

# Everything of one millésime, checks included (selected explicitly: jobs can leave checks out).
build_millesime = define_asset_job(
    "build_millesime",
    selection=AssetSelection.all() | AssetSelection.all_asset_checks(),
    partitions_def=millesime_partitions,
    description="Loads the sources of a millésime, builds the referential and runs every check.",
)

JOBS = [build_millesime]
SCHEDULES: list = []
SENSORS: list = []
