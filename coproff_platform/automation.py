"""Jobs, schedules and sensors: how a millésime gets built without anyone at the keyboard.

- `build_millesime`: everything of one millésime, checks included (used by `coproff materialize`,
  the yearly schedule and the landing sensor).
- one job per stage (`stage_sources`, `stage_referential`, `stage_statistics`, `stage_exports`) to
  rerun part of a millésime from the UI.
- `yearly_millesime_schedule`: each autumn (millésime N = RNIC export of September N), builds the
  newest millésime present in the landing zone, or skips saying why. A millésime already built is
  rebuilt only where something changed (the rule of `coproff materialize`, `versions.plan_rebuild`):
  with nothing changed the tick is skipped as up to date.
- `landing_sensor`: sees a new `<landing>/<YYYY>/` folder, waits until its files stop changing,
  registers the partition and requests its run. Several folders landing at once give one run per
  millésime: a backfill. In a millésime already built, a landing file that changed (once settled)
  triggers a run of only what depends on it. It also retries, once, a millésime whose last build
  died with its process (`coproff_platform.runs`).
- `stats_evolution_sensor`: `coproff.stats_evolution` of millésime N compares N with the
  previous built millésime; when that one is (re)built after N's comparison was computed, the
  sensor rebuilds N's `stats_evolution` (job `refresh_comparisons`).

Folder names and partition keys go through `partitions.validate_millesime`: `0000`, `9999` or
`²⁰²⁴` are never registered.
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
from coproff_platform.partitions import is_millesime, landed_millesimes, millesime_partitions
from coproff_platform.resources.landing import LandingZone
from coproff_platform.runs import DEAD_PROCESS_TAG, mark_dead_runs

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
    description="Charge les sources d'un millésime, construit le référentiel, le publie et lance tous les contrôles.",
)

STAGE_JOBS = [
    define_asset_job(
        f"stage_{name}",
        selection=_stage(keys),
        description=description,
    )
    for name, keys, description in (
        ("sources", SOURCE_KEYS + REFERENCE_KEYS,
         "Fichiers déposés → tables staging d'un millésime, avec leurs contrôles ; couche de référence (ref.*)."),
        ("referential", REFERENTIAL_KEYS, "Modèles SQL : appariement, coproff.coproff, doublons, avec leurs contrôles."),
        ("statistics", STATISTIC_KEYS, "Tables de statistiques coproff.stats_* d'un millésime."),
        ("exports", EXPORT_KEYS, "Publie le millésime (vues, index, rôle lecteur) et écrit ses exports."),
    )
    if keys  # a stage without assets yet has no job
]

# Models that read another millésime than their own: rebuilt when the one they compare with is.
COMPARISON_KEYS = [AssetKey(["coproff", "stats_evolution"])]
COMPARED_WITH = AssetKey(["coproff", "coproff"])
REFRESH_JOB = "refresh_comparisons"

refresh_comparisons = define_asset_job(
    REFRESH_JOB,
    selection=_stage(COMPARISON_KEYS),
    description="Recalcule les comparaisons entre millésimes (coproff.stats_evolution) d'un millésime.",
)

JOBS = [build_millesime, *STAGE_JOBS, refresh_comparisons]


# -- what the landing zone holds ------------------------------------------------------------------
@dataclass(frozen=True)
class Landed:
    millesime: str
    missing: tuple[str, ...]  # required source folders without any file
    absent_optional: tuple[str, ...]  # optional folders without files: built without them
    fingerprint: str  # changes while files are still being copied

    @property
    def complete(self) -> bool:
        return not self.missing


def inspect_landing(landing: LandingZone, millesime: str) -> Landed:
    missing = landing.missing_folders(millesime)
    files = sorted(p for p in (landing.root / millesime).rglob("*") if p.is_file())
    stats = [(str(p.relative_to(landing.root)), p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    return Landed(millesime, missing, landing.absent_optional_folders(millesime), json.dumps(stats))


ACTIVE = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED]


def _active_or_done_run(instance: DagsterInstance, millesime: str, statuses=(*ACTIVE, DagsterRunStatus.SUCCESS)) -> str | None:
    """Id of a queued, running or successful build of this millésime, if any."""
    runs = instance.get_runs(
        filters=RunsFilter(job_name=BUILD_JOB, tags={"dagster/partition": millesime}, statuses=list(statuses)),
        limit=1,
    )
    return runs[0].run_id if runs else None


def changed_request(instance: DagsterInstance, landing: LandingZone, millesime: str, trigger: str):
    """(RunRequest of what changed in a built millésime, or None when it is up to date, and the plan).

    The landing fingerprints are recorded first, then Dagster's staleness decides
    (`versions.plan_rebuild`, as `coproff materialize` does); the run key names the plan, so the
    same change is never requested twice."""
    import hashlib

    from coproff_platform.definitions import defs
    from coproff_platform.versions import millesime_keys, observe_landing, plan_rebuild

    observe_landing(instance, landing.root, millesime)
    graph = defs.resolve_asset_graph()
    plan = plan_rebuild(instance, graph, millesime, millesime_keys(graph, millesime))
    if plan.up_to_date:
        return None, plan
    keys = list(plan.rebuild)
    # What is rebuilt, why, from which files and code: the same change gets the same key.
    state = repr(sorted((k.to_user_string(), w, graph.get(k).code_version) for k, w in plan.rebuild.items()))
    digest = hashlib.sha256((state + inspect_landing(landing, millesime).fingerprint).encode()).hexdigest()[:16]
    run_key = f"changed-{millesime}-{digest}"
    return RunRequest(
        run_key=run_key, partition_key=millesime, asset_selection=keys,
        tags={"coproff/trigger": trigger, "coproff/reconstruction": "changements",
              "coproff/assets_reconstruits": str(len(keys)), "coproff/assets_a_jour": str(len(plan.fresh)),
              # distinct reasons in build order: the root causes (landing files, code) come first
              # and survive the cut at 200 characters
              "coproff/raison": "; ".join(dict.fromkeys(plan.rebuild.values()))[:200]},
    ), plan


# -- yearly schedule ----------------------------------------------------------------------------
@schedule(
    name="yearly_millesime_schedule",
    job=build_millesime,
    # RNIC's September export and the FF of year N are in hand by mid-October; the landing sensor
    # covers files that arrive later.
    cron_schedule="0 6 15 10 *",
    execution_timezone="Europe/Paris",
    default_status=DefaultScheduleStatus.STOPPED,
    description="Chaque automne, construit le millésime le plus récent déposé dans la zone de dépôt (et reprend une "
    "construction dont le processus a disparu).",
)
def yearly_millesime_schedule(context: ScheduleEvaluationContext, landing: LandingZone):
    # A build whose process died (kill -9, reboot) is failed first, so that it is retried below.
    mark_dead_runs(context.instance, BUILD_JOB)
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
    late = f" (millésime {year} has not landed yet)" if year and int(newest) < year else ""
    active = _active_or_done_run(context.instance, newest, ACTIVE)
    if active:
        return SkipReason(f"millésime {newest} already building: run {active}{late}")
    built = _active_or_done_run(context.instance, newest, [DagsterRunStatus.SUCCESS])
    if built:
        if not context.instance.has_dynamic_partition(millesime_partitions.name, newest):
            context.instance.add_dynamic_partitions(millesime_partitions.name, [newest])
        # Built before: only what changed since (files, SQL, reference tables, code) is rebuilt.
        request, plan = changed_request(context.instance, landing, newest, "schedule")
        if request is None:
            return SkipReason(f"millésime {newest} already built (run {built}) and up to date: no landing file, "
                              f"SQL model, reference table or code changed{late}")
        return request
    if not context.instance.has_dynamic_partition(millesime_partitions.name, newest):
        context.instance.add_dynamic_partitions(millesime_partitions.name, [newest])
    # The daemon launches a run key once: a retry after a failed (or dead) build needs its own key.
    failed = context.instance.get_runs(
        filters=RunsFilter(job_name=BUILD_JOB, tags={"dagster/partition": newest}, statuses=[DagsterRunStatus.FAILURE]),
        limit=1,
    )
    run_key = f"millesime-{newest}" + (f"-after-{failed[0].run_id}" if failed else "")
    return RunRequest(run_key=run_key, partition_key=newest, tags={"coproff/trigger": "schedule"})


# -- landing sensor -----------------------------------------------------------------------------
@sensor(
    name="landing_sensor",
    job=build_millesime,
    minimum_interval_seconds=120,
    default_status=DefaultSensorStatus.STOPPED,
    description="Enregistre et construit un millésime quand son dossier apparaît dans la zone de dépôt ; relance une "
    "fois une construction dont le processus a disparu.",
)
def landing_sensor(context: SensorEvaluationContext, landing: LandingZone) -> SensorResult | SkipReason:
    # Cursor: fingerprints of new folders seen at the previous tick. A folder is built once it is
    # complete and unchanged between two ticks, so a half-copied millésime is never started.
    previous: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    instance = context.instance
    mark_dead_runs(instance, BUILD_JOB)
    pending: dict[str, str] = {}
    ready: list[str] = []
    waiting: list[str] = []
    retries: list[RunRequest] = []
    changes: list[RunRequest] = []
    for millesime in landed_millesimes(landing.root):
        if instance.has_dynamic_partition(millesime_partitions.name, millesime):
            # Already registered (by this sensor, the schedule or `coproff materialize`): built on
            # purpose only, except a build that died with its process, retried once (run key), and
            # landing files changed in a built millésime: what depends on them, once they settle.
            dead = _last_build_died(instance, millesime)
            if dead:
                retries.append(RunRequest(run_key=f"retry-{dead}", partition_key=millesime,
                                          tags={"coproff/trigger": "landing_sensor", "coproff/retry_of": dead}))
                continue
            request = _changed_files_request(instance, landing, millesime, previous, pending, waiting)
            if request is not None:
                changes.append(request)
            continue
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
    if not ready and not retries and not changes:
        reason = "waiting for " + "; ".join(waiting) if waiting else "no new millésime in the landing zone"
        return SensorResult(skip_reason=reason, cursor=cursor)
    return SensorResult(
        run_requests=retries + changes + [
            RunRequest(run_key=f"landed-{m}", partition_key=m, tags={
                "coproff/trigger": "landing_sensor",
                "coproff/sources_optionnelles_absentes": ",".join(landing.absent_optional_folders(m)) or "aucune"})
            for m in ready
        ],
        dynamic_partitions_requests=[millesime_partitions.build_add_request(ready)] if ready else [],
        cursor=cursor,
    )


def _changed_files_request(instance: DagsterInstance, landing: LandingZone, millesime: str,
                           previous: dict[str, str], pending: dict[str, str], waiting: list[str]) -> RunRequest | None:
    """A run of what depends on the changed landing files of a built millésime, once they settled.

    The cursor keeps each built millésime's landing state (`built:<M>`) and the last state planned
    (`planned:<M>`); a state that differs from the previous tick's is still being copied: wait. A
    settled state is planned once, so an unchanged landing zone costs a stat of its files per tick."""
    if not _active_or_done_run(instance, millesime, [DagsterRunStatus.SUCCESS]):
        return None  # never built: built on purpose (CLI, schedule), not by a file change
    state = inspect_landing(landing, millesime)
    seen, planned = previous.get(f"built:{millesime}"), previous.get(f"planned:{millesime}")
    pending[f"built:{millesime}"] = state.fingerprint
    if planned is not None:
        pending[f"planned:{millesime}"] = planned
    if seen != state.fingerprint:
        if seen is not None:
            waiting.append(f"{millesime} (files changed, still changing)")
        return None
    if planned == state.fingerprint:
        return None  # this state was already planned
    if _active_or_done_run(instance, millesime, ACTIVE):
        waiting.append(f"{millesime} (files changed, a build is running)")
        return None
    pending[f"planned:{millesime}"] = state.fingerprint
    request, _plan = changed_request(instance, landing, millesime, "landing_sensor")
    return request


def _last_build_died(instance: DagsterInstance, millesime: str) -> str | None:
    """Id of the millésime's latest build run when it failed because its process died."""
    runs = instance.get_runs(filters=RunsFilter(job_name=BUILD_JOB, tags={"dagster/partition": millesime}), limit=1)
    if runs and runs[0].status == DagsterRunStatus.FAILURE and DEAD_PROCESS_TAG in runs[0].tags:
        return runs[0].run_id
    return None


# -- comparisons between millésimes ---------------------------------------------------------------
def _last_materialization(instance: DagsterInstance, key: AssetKey, partition: str):
    from dagster import AssetRecordsFilter

    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=key, asset_partitions=[partition]), limit=1, ascending=False
    ).records
    return records[0] if records else None


def stale_comparisons(instance: DagsterInstance) -> list[tuple[str, str, str]]:
    """(millésime, asset, reason) of comparison models computed before the millésime they compare
    with was last (re)built: the previous built millésime of `coproff/coproff`."""
    keys = sorted(k for k in instance.get_dynamic_partitions(millesime_partitions.name) if is_millesime(k))
    built = {k: _last_materialization(instance, COMPARED_WITH, k) for k in keys}
    stale: list[tuple[str, str, str]] = []
    for i, millesime in enumerate(keys):
        previous = next((p for p in reversed(keys[:i]) if built[p] is not None), None)
        if previous is None:
            continue
        for key in COMPARISON_KEYS:
            computed = _last_materialization(instance, key, millesime)
            if computed is not None and built[previous].timestamp > computed.timestamp:
                stale.append((millesime, key.to_user_string(),
                              f"{key.to_user_string()} {millesime} computed before millésime {previous} was rebuilt "
                              f"(run {built[previous].run_id[:8]})"))
    return stale


@sensor(
    name="stats_evolution_sensor",
    job=refresh_comparisons,
    minimum_interval_seconds=120,
    default_status=DefaultSensorStatus.STOPPED,
    description="Recalcule coproff.stats_evolution d'un millésime quand le millésime auquel il se compare est "
    "(re)construit après lui.",
)
def stats_evolution_sensor(context: SensorEvaluationContext) -> SensorResult | SkipReason:
    stale = stale_comparisons(context.instance)
    if not stale:
        return SensorResult(skip_reason="every comparison between millésimes is up to date")
    requests = {}
    for millesime, _key, reason in stale:
        # One request per millésime and state of the compared build: never twice for the same one.
        compared = _last_materialization(context.instance, COMPARED_WITH, _previous_built(context.instance, millesime))
        requests[millesime] = RunRequest(
            run_key=f"compare-{millesime}-{compared.run_id if compared else 'none'}",
            partition_key=millesime,
            tags={"coproff/trigger": "stats_evolution_sensor", "coproff/reason": reason[:200]},
        )
    return SensorResult(run_requests=list(requests.values()))


def _previous_built(instance: DagsterInstance, millesime: str) -> str:
    keys = sorted(k for k in instance.get_dynamic_partitions(millesime_partitions.name) if is_millesime(k) and k < millesime)
    return next((p for p in reversed(keys) if _last_materialization(instance, COMPARED_WITH, p) is not None), "")


SCHEDULES = [yearly_millesime_schedule]
SENSORS = [landing_sensor, stats_evolution_sensor]

