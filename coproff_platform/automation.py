"""Jobs, schedules and sensors: how a millésime gets built without anyone at the keyboard.

- `build_millesime`: everything of one millésime, checks included (used by `coproff materialize`,
  the yearly schedule and the landing sensor).
- one job per stage (`stage_sources`, `stage_referential`, `stage_statistics`, `stage_exports`) to
  rerun part of a millésime from the UI.
- `yearly_millesime_schedule`: each autumn (millésime N = RNIC export of September N), builds the
  newest millésime present in the landing zone, or skips saying why.
- `landing_sensor`: sees a new `<landing>/<YYYY>/` folder, waits until its files stop changing,
  registers the partition and requests its run. Several folders landing at once give one run per
  millésime: a backfill.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from dagster import (
    AssetKey,
    AssetSelection,
    DagsterInstance,
    DagsterRunStatus,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    define_asset_job,
    schedule,
    sensor,
)

from coproff_platform.assets.exports import EXPORT_ASSETS
from coproff_platform.assets.models import MODEL_ASSETS
from coproff_platform.assets.publication import PUBLICATION_ASSETS
from coproff_platform.assets.reference import REFERENCE_ASSETS
from coproff_platform.assets.sources import SOURCE_ASSETS
from coproff_platform.contracts.sources import required_folders
from coproff_platform.partitions import landed_millesimes, millesime_partitions
from coproff_platform.resources.landing import LandingZone

# The registry plus one parcel source (`ff` or `cadastre`) make a referential; the other sources only
# enrich it. Declared once in `contracts.sources` (each group: one of these folders is needed).
REQUIRED_SOURCES = required_folders()
BUILD_JOB = "build_millesime"


# -- jobs ---------------------------------------------------------------------------------------
def _keys(assets: list) -> list[AssetKey]:
    return [key for a in assets for key in a.keys]


def is_statistic(key: AssetKey) -> bool:
    """Statistics models are the marts named `stats_*` (coproff.stats_commune, ...)."""
    return key.path[-1].startswith("stats_")


def _stage(keys: list[AssetKey]) -> AssetSelection:
    # Checks are selected explicitly: an asset selection alone can leave them out.
    return AssetSelection.assets(*keys) | AssetSelection.checks_for_assets(*keys)


SOURCE_KEYS = _keys(SOURCE_ASSETS)
REFERENCE_KEYS = _keys(REFERENCE_ASSETS)  # loaded with the sources: the models read both
REFERENTIAL_KEYS = [k for k in _keys(MODEL_ASSETS) if not is_statistic(k)]
STATISTIC_KEYS = [k for k in _keys(MODEL_ASSETS) if is_statistic(k)]
EXPORT_KEYS = _keys(PUBLICATION_ASSETS) + _keys(EXPORT_ASSETS)

build_millesime = define_asset_job(
    BUILD_JOB,
    selection=AssetSelection.all() | AssetSelection.all_asset_checks(),
    description="Loads the sources of a millésime, builds the referential and runs every check.",
)

STAGE_JOBS = [
    define_asset_job(
        f"stage_{name}",
        selection=_stage(keys),
        description=description,
    )
    for name, keys, description in (
        ("sources", SOURCE_KEYS + REFERENCE_KEYS,
         "Landing files → staging tables of a millésime, with their checks; the reference layer (ref.*)."),
        ("referential", REFERENTIAL_KEYS, "SQL models: matching, coproff.coproff, duplicate flags, with audits."),
        ("statistics", STATISTIC_KEYS, "Statistics tables coproff.stats_* of a millésime."),
        ("exports", EXPORT_KEYS, "Publishes the millésime (views, indexes, role) and writes its exports."),
    )
    if keys  # a stage without assets yet has no job
]

JOBS = [build_millesime, *STAGE_JOBS]


# -- what the landing zone holds ------------------------------------------------------------------
@dataclass(frozen=True)
class Landed:
    millesime: str
    missing: tuple[str, ...]  # required source folders without any file
    fingerprint: str  # changes while files are still being copied

    @property
    def complete(self) -> bool:
        return not self.missing


def inspect_landing(landing: LandingZone, millesime: str) -> Landed:
    missing = landing.missing_folders(millesime)
    files = sorted(p for p in (landing.root / millesime).rglob("*") if p.is_file())
    stats = [(str(p.relative_to(landing.root)), p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    return Landed(millesime, missing, json.dumps(stats))


def _active_or_done_run(instance: DagsterInstance, millesime: str) -> str | None:
    """Id of a queued, running or successful build of this millésime, if any."""
    runs = instance.get_runs(
        filters=RunsFilter(
            job_name=BUILD_JOB,
            tags={"dagster/partition": millesime},
            statuses=[
                DagsterRunStatus.QUEUED,
                DagsterRunStatus.NOT_STARTED,
                DagsterRunStatus.STARTING,
                DagsterRunStatus.STARTED,
                DagsterRunStatus.SUCCESS,
            ],
        ),
        limit=1,
    )
    return runs[0].run_id if runs else None


# -- yearly schedule ----------------------------------------------------------------------------
@schedule(
    name="yearly_millesime_schedule",
    job=build_millesime,
    # RNIC's September export and the FF of year N are in hand by mid-October; the landing sensor
    # covers files that arrive later.
    cron_schedule="0 6 15 10 *",
    execution_timezone="Europe/Paris",
    default_status=DefaultScheduleStatus.STOPPED,
    description="Each autumn, builds the newest millésime present in the landing zone.",
)
def yearly_millesime_schedule(context: ScheduleEvaluationContext, landing: LandingZone):
    landed = landed_millesimes(landing.root)
    year = context.scheduled_execution_time.year if context.scheduled_execution_time else None
    if not landed:
        return SkipReason(f"no millésime folder in the landing zone {landing.root}")
    newest = landed[-1]
    state = inspect_landing(landing, newest)
    if not state.complete:
        return SkipReason(
            f"millésime {newest}: no file yet for {', '.join(state.missing)} in {landing.root / newest}"
        )
    existing = _active_or_done_run(context.instance, newest)
    if existing:
        late = f" (millésime {year} has not landed yet)" if year and int(newest) < year else ""
        return SkipReason(f"millésime {newest} already built or building: run {existing}{late}")
    if not context.instance.has_dynamic_partition(millesime_partitions.name, newest):
        context.instance.add_dynamic_partitions(millesime_partitions.name, [newest])
    return RunRequest(run_key=f"millesime-{newest}", partition_key=newest, tags={"coproff/trigger": "schedule"})


# -- landing sensor -----------------------------------------------------------------------------
@sensor(
    name="landing_sensor",
    job=build_millesime,
    minimum_interval_seconds=120,
    default_status=DefaultSensorStatus.STOPPED,
    description="Registers and builds a millésime when its folder appears in the landing zone.",
)
def landing_sensor(context: SensorEvaluationContext, landing: LandingZone) -> SensorResult | SkipReason:
    # Cursor: fingerprints of new folders seen at the previous tick. A folder is built once it is
    # complete and unchanged between two ticks, so a half-copied millésime is never started.
    previous: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    instance = context.instance
    pending: dict[str, str] = {}
    ready: list[str] = []
    waiting: list[str] = []
    for millesime in landed_millesimes(landing.root):
        if instance.has_dynamic_partition(millesime_partitions.name, millesime):
            continue  # already registered (by this sensor, the schedule or `coproff materialize`)
        state = inspect_landing(landing, millesime)
        if not state.complete:
            waiting.append(f"{millesime} (no file yet for {', '.join(state.missing)})")
        elif previous.get(millesime) == state.fingerprint:
            ready.append(millesime)
            continue
        else:
            waiting.append(f"{millesime} (files still changing)")
        pending[millesime] = state.fingerprint
    cursor = json.dumps(pending, sort_keys=True)
    if not ready:
        reason = "waiting for " + "; ".join(waiting) if waiting else "no new millésime in the landing zone"
        return SensorResult(skip_reason=reason, cursor=cursor)
    return SensorResult(
        run_requests=[
            RunRequest(run_key=f"landed-{m}", partition_key=m, tags={"coproff/trigger": "landing_sensor"})
            for m in ready
        ],
        dynamic_partitions_requests=[millesime_partitions.build_add_request(ready)],
        cursor=cursor,
    )


SCHEDULES = [yearly_millesime_schedule]
SENSORS = [landing_sensor]

