"""The code location: every asset, check, job, schedule, sensor and resource."""

from dagster import Definitions

from coproff_platform.assets.evaluation import EVALUATION_ASSETS
from coproff_platform.assets.exports import EXPORT_ASSETS
from coproff_platform.assets.landing import LANDING_ASSETS
from coproff_platform.assets.models import MODEL_ASSETS
from coproff_platform.assets.publication import PUBLICATION_ASSETS, PUBLICATION_SENSORS
from coproff_platform.assets.reference import REFERENCE_ASSETS
from coproff_platform.assets.sources import SOURCE_ASSETS
from coproff_platform.automation import JOBS, SCHEDULES, SENSORS
from coproff_platform.registre.assets import REGISTRE_ASSETS
from coproff_platform.checks import ALL_CHECKS
from coproff_platform.concurrency import build_executor
from coproff_platform.resources import resources_from_env

defs = Definitions(
    assets=[*LANDING_ASSETS, *SOURCE_ASSETS, *REFERENCE_ASSETS, *REGISTRE_ASSETS, *MODEL_ASSETS, *EVALUATION_ASSETS, *PUBLICATION_ASSETS, *EXPORT_ASSETS],
    asset_checks=ALL_CHECKS,
    jobs=JOBS,
    schedules=SCHEDULES,
    sensors=[*SENSORS, *PUBLICATION_SENSORS],
    resources=resources_from_env(),
    # Steps of a run side by side, each in a process forked from a preloaded server.
    executor=build_executor(),
)
