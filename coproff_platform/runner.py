"""`coproff materialize`: registers a millésime and builds it, checks included, from this process.

The run executes here (no queue, no daemon); its steps run in processes forked from a preloaded
server, up to `COPROFF_MAX_CONCURRENT` at once (`concurrency.py`). When quiet, the step processes'
own console output goes to `$DAGSTER_HOME/logs/steps.log`.

The run is recorded in the Dagster instance of `DAGSTER_HOME`, so it shows in the UI like a run
launched there. Before anything runs, the millésime key, its landing folder, the `--select` keys
and the database are checked, so that a typo or a stopped server ends in a few lines. Dagster's
own log stream is hidden (progress lines instead; `--verbose` shows it) and written whole to
`$DAGSTER_HOME/logs/<run id>.log`; a failure ends with what failed, why, what to do and that path.

Only what changed is rebuilt (`coproff_platform.versions`): the landing files are fingerprinted,
Dagster says which assets are missing or stale for the millésime (code, SQL, dictionary, audits,
reference tables, upstream data), those and everything downstream of them are built, and the
summary says what was rebuilt and why. With nothing changed no run is started. `--force`
rebuilds everything.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from coproff_platform import labels as L
from coproff_platform.cli import (
    EXIT_BUILD_FAILED,
    EXIT_CHECK_FAILED,
    EXIT_DATABASE,
    EXIT_USAGE,
    CommandError,
    database_error_line,
    database_unreachable,
)
from coproff_platform.config import dagster_home, database_url, landing_dir

# Tag naming one `coproff materialize` invocation (its run id is chosen by Dagster).
INVOCATION_TAG = "coproff/invocation"
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def run_config(verbose: bool) -> dict:
    """Resources from the environment as it is now (the code location may have been imported
    earlier with other values), and Dagster's console log hidden unless verbose."""
    config: dict = {"resources": {
        "postgis": {"config": {"database_url": database_url()}},
        "landing": {"config": {"path": str(landing_dir())}},
    }}
    if not verbose:
        config.update(QUIET_RUN_CONFIG)
    return config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--millesime", required=True, help="millésime (year, four digits), e.g. 2023")
    parser.add_argument(
        "--select",
        help="comma-separated asset keys to build (e.g. staging/rnic,coproff/coproff); default: everything "
        "that changed",
    )
    parser.add_argument(
        "--force", action="store_true",
        help="rebuild every selected asset even when up to date (by default only assets whose landing files, "
        "SQL model, dictionary, audits, reference tables, code or upstream data changed are rebuilt; the "
        "others keep their data and check results)",
    )


def get_instance():
    from dagster import DagsterInstance

    home = dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        # The instance `make` sets up: SQLite storage, run monitoring, no telemetry banner on stderr.
        shipped = Path(__file__).resolve().parent.parent / "deploy" / "dagster.sqlite.yaml"
        config.write_text(shipped.read_text() if shipped.exists() else "telemetry:\n  enabled: false\n")
    os.environ["DAGSTER_HOME"] = str(home)
    return DagsterInstance.get()


def start_step_server(verbose: bool) -> None:
    """Starts the multiprocess executor's forkserver (`concurrency.start_forkserver`), only when
    that executor will run: with one step at a time (COPROFF_MAX_CONCURRENT=1, `make test`) the
    steps run in this process, and the server would only spend a core importing the code location
    and GX (restarted by every test that changes the environment)."""
    from coproff_platform.concurrency import max_concurrent, start_forkserver

    if max_concurrent() > 1:
        start_forkserver(None if verbose else steps_log_path())


def steps_log_path() -> Path:
    """Where the step processes' own console output goes when the CLI is quiet."""
    return dagster_home() / "logs" / "steps.log"


def log_path(run_id: str) -> Path:
    return dagster_home() / "logs" / f"{run_id}.log"


# -- checks before the run ----------------------------------------------------------------------
def check_millesime_key(millesime: str, instance, command: str = "materialize") -> str:
    """The validated key; raises CommandError (usage) for an invalid key or a missing landing folder."""
    from coproff_platform.partitions import InvalidMillesime, millesime_partitions, validate_millesime

    try:
        key = validate_millesime(millesime)
    except InvalidMillesime as exc:
        raise CommandError(EXIT_USAGE, f"coproff {command}: {exc}") from None
    landing = landing_dir()
    if not (landing / key).is_dir() and not instance.has_dynamic_partition(millesime_partitions.name, key):
        raise CommandError(
            EXIT_USAGE,
            f"coproff {command}: millésime {key} has no landing folder {landing / key} (COPROFF_LANDING_DIR)",
            f"  what to do: drop its files in {landing / key}/<source>/ (docs/landing_formats.md) "
            f"or generate a sample: coproff sample --millesime {key}",
        )
    return key


def resolve_selection(select: list[str] | None):
    """AssetKeys of `--select`; unknown keys raise CommandError listing the closest existing keys."""
    if not select:
        return None
    from dagster import AssetKey

    from coproff_platform.definitions import defs

    known = sorted(k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys())
    wanted = [k.strip() for k in select if k.strip()]
    unknown = [k for k in wanted if k not in known]
    if unknown:
        lines = [f"coproff materialize: unknown asset key{'s' if len(unknown) > 1 else ''} in --select"]
        for k in unknown:
            close = difflib.get_close_matches(k, known, n=3, cutoff=0.5)
            lines.append(f"  {k!r}: closest: {', '.join(close)}" if close else f"  {k!r}: no close key")
        lines.append(f"  what to do: pick keys among the {len(known)} assets (schema/table), e.g. {known[0]}; "
                     "`dagster asset list -m coproff_platform.definitions` lists them")
        raise CommandError(EXIT_USAGE, *lines)
    return [AssetKey.from_user_string(k) for k in wanted]


def check_database(command: str = "materialize") -> None:
    """Raises CommandError (database unreachable) unless a connection opens within a few seconds."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url(), connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except sa.exc.OperationalError as exc:
        raise database_unreachable(command, database_error_line(exc) or str(exc)) from None
    finally:
        engine.dispose()


# -- the run --------------------------------------------------------------------------------------
class Progress(threading.Thread):
    """Prints one line per finished step, read from the instance's event log while the run goes on."""

    def __init__(self, instance, run_id: str | None = None, out=None, interval: float = 1.0, token: str | None = None):
        super().__init__(daemon=True)
        self.instance, self.run_id, self.out, self.interval = instance, run_id, out, interval
        self.token = token  # INVOCATION_TAG of the run, when its id is not known yet
        self.stop = threading.Event()
        self.cursor = 0
        self.started = time.monotonic()

    def poll(self) -> None:
        from dagster import DagsterEventType

        kinds = {DagsterEventType.STEP_SUCCESS: "done", DagsterEventType.STEP_FAILURE: "FAILED"}
        if self.run_id is None:
            from dagster import RunsFilter

            found = self.instance.get_run_ids(RunsFilter(tags={INVOCATION_TAG: self.token}), limit=1)
            if not found:
                return
            self.run_id = found[0]
        try:
            entries = self.instance.all_logs(self.run_id, of_type=set(kinds))
        except Exception:
            return  # the run record may not exist yet
        for entry in entries[self.cursor:]:
            event = entry.dagster_event
            step = (event.step_key or "?").replace("__", "/")
            try:  # sys.stdout read now: it may have been replaced since the run started
                print(f"  [{time.monotonic() - self.started:6.1f} s] {step:<40} {kinds[event.event_type]}",
                      file=self.out or sys.stdout, flush=True)
            except (ValueError, OSError):
                pass  # progress is a nicety: a closed stream never fails the command
        self.cursor = len(entries)

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            self.poll()

    def finish(self) -> None:
        self.stop.set()
        self.join(timeout=5)
        self.poll()


def plan_millesime(millesime: str, select: list | None = None, instance=None, landing: Path | None = None,
                   force: bool = False):
    """Registers the millésime, records its landing fingerprints and returns what to rebuild
    (`versions.Plan`): the missing or stale assets of `select` (default: the whole build) and
    everything downstream of them; every one of them with `force`."""
    from dagster import AssetKey

    from coproff_platform.definitions import defs
    from coproff_platform.partitions import register_millesime
    from coproff_platform.versions import millesime_keys, observe_landing, plan_rebuild

    started = time.monotonic()
    instance = instance or get_instance()
    register_millesime(instance, millesime, landing)
    observe_landing(instance, landing or landing_dir(), str(millesime))
    graph = defs.resolve_asset_graph()
    keys = [k if isinstance(k, AssetKey) else AssetKey.from_user_string(k.strip()) for k in select] if select else None
    plan = plan_rebuild(instance, graph, str(millesime), millesime_keys(graph, str(millesime), keys), force=force)
    plan.seconds = time.monotonic() - started
    return plan


def plan_lines(plan) -> list[str]:
    """What will be rebuilt and why, and how many assets are up to date (counted by group); in
    French, like the reasons (`versions.py`) and the UI's metadata."""
    total = len(plan.rebuild) + len(plan.fresh)
    if plan.up_to_date:
        return [f"millésime {plan.millesime} : à jour, rien à reconstruire ({total} assets vérifiés en "
                f"{_seconds(plan.seconds)} : aucun fichier déposé, modèle SQL, table de référence ni code modifié "
                "depuis leur dernière construction) ; --force reconstruit tout"]
    lines = [f"Reconstruction de {len(plan.rebuild)} assets sur {total}"
             + (" (--force) :" if plan.forced else ", parce que :")]
    if not plan.forced:
        # A reason shared by many assets (a first build) is said once, with the count per group.
        by_reason: dict[str, list] = {}
        for k, why in plan.rebuild.items():
            by_reason.setdefault(why, []).append(k)
        width = max(len(k.to_user_string()) for k in plan.rebuild) + 2
        for why, keys in by_reason.items():
            if len(keys) > 5:
                lines.append(f"  {len(keys)} assets ({_by_group(keys)}) : {why}")
            else:
                lines += [f"  {k.to_user_string():<{width}}{why}" for k in keys]
    if plan.fresh:
        lines.append(f"À jour, non reconstruits : {len(plan.fresh)} assets ({_by_group(plan.fresh)}) ; "
                     "leurs contrôles ont jugé les mêmes données et ne sont pas relancés")
    return lines


def _seconds(value: float) -> str:
    return f"{value:.1f} s".replace(".", ",")  # French decimal comma


def _by_group(keys) -> str:
    groups: dict[str, int] = {}
    for k in keys:
        groups[k.path[0]] = groups.get(k.path[0], 0) + 1
    return ", ".join(f"{g} {n}" for g, n in groups.items())


def build_millesime_job():
    """The job as the step processes rebuild it (`reconstructable` needs a module-level function)."""
    from coproff_platform.automation import BUILD_JOB
    from coproff_platform.definitions import defs

    return defs.resolve_job_def(BUILD_JOB)


def materialize_millesime(millesime: str, select: list[str] | None = None, instance=None, verbose: bool = True,
                          progress: bool = False, landing: Path | None = None, tags: dict | None = None):
    """Runs the `build_millesime` job for one partition with the code location's executor
    (`concurrency.py`: independent steps side by side); returns the JobExecutionResult."""
    from dagster import AssetKey, execute_job, reconstructable
    from dagster._core.storage.tags import PARTITION_NAME_TAG

    from coproff_platform.partitions import register_millesime
    from coproff_platform.runs import mark_dead_runs

    instance = instance or get_instance()
    start_step_server(verbose)  # no-op when running with this environment
    register_millesime(instance, millesime, landing)
    mark_dead_runs(instance)
    selection = [k if isinstance(k, AssetKey) else AssetKey.from_user_string(k.strip()) for k in select] if select else None
    token = uuid.uuid4().hex  # execute_job picks the run id: the progress thread finds the run by this tag
    watcher = Progress(instance, token=token) if progress else None
    if watcher:
        watcher.start()
    try:
        return execute_job(
            reconstructable(build_millesime_job),
            instance=instance,
            tags={**(tags or {}), PARTITION_NAME_TAG: str(millesime), INVOCATION_TAG: token},
            asset_selection=selection,
            raise_on_error=False,
            run_config=run_config(verbose),
        )
    finally:
        if watcher:
            watcher.finish()


# -- what the run did -----------------------------------------------------------------------------
@dataclass
class Outcome:
    lines: list[str] = field(default_factory=list)  # summary for stdout
    blocking_failed: list[str] = field(default_factory=list)  # "asset:check"
    failed_steps: list[tuple[str, str]] = field(default_factory=list)  # (asset, cause in one line)


def _cause_line(error) -> str:
    """The innermost cause of a step error in one line (user errors wrap the real exception)."""
    if error is None:
        return "unknown error"
    innermost = error
    while innermost.cause is not None:
        innermost = innermost.cause
    chosen = innermost if innermost is not error else error
    message = (chosen.message or "").strip()
    # "psycopg.errors.UndefinedTable: relation ... does not exist\nLINE 1: ..." -> first line.
    first = next((line.strip() for line in message.splitlines() if line.strip()), chosen.cls_name or "error")
    if error.cls_name == "Failure" and error.message:
        first = next((line.strip() for line in error.message.splitlines() if line.strip()), first)
    # "coproff_platform.loading.reader.SourceFileError: ..." -> "SourceFileError: ...".
    head, sep, rest = first.partition(": ")
    if sep and "." in head and " " not in head:
        first = f"{head.rsplit('.', 1)[1]}: {rest}"
    return first if len(first) <= 300 else first[:297] + "..."



def _source_notes(mat) -> list[str]:
    notes = []
    for label, value in mat.metadata.items():
        if label in (L.NOTE, L.SOURCE_PRESENTE):
            notes.append(f"{label}={getattr(value, 'value', value)}")
    return notes


def summarize(result) -> tuple[list[str], bool]:
    """Lines of a summary (rows per asset, quarantined rows, check results) and whether a blocking check failed."""
    outcome = outcome_of(result)
    return outcome.lines, bool(outcome.blocking_failed)


def outcome_of(result) -> Outcome:
    out = Outcome()
    assets: list[tuple[str, str, str]] = []
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            mat = event.event_specific_data.materialization
            rows = mat.metadata.get("dagster/row_count")
            quarantined = getattr(mat.metadata.get(L.LIGNES_EN_QUARANTAINE), "value", None)
            extra = []
            if quarantined is not None:
                extra.append(f"{quarantined:,} quarantined")
            extra += _source_notes(mat)
            assets.append((mat.asset_key.to_user_string(), f"{rows.value:,} rows" if rows is not None else "", ", ".join(extra)))
        elif event.event_type_value == "STEP_FAILURE":
            step = (event.step_key or "?").replace("__", "/")
            out.failed_steps.append((step, _cause_line(event.event_specific_data.error)))
    checks: list[tuple[str, str]] = []
    for ev in result.get_asset_check_evaluations():
        failed_blocking = not ev.passed and ev.severity.value == "ERROR"
        name = f"{ev.asset_key.to_user_string()}:{ev.check_name}"
        if failed_blocking:
            out.blocking_failed.append(name)
        status = "passed" if ev.passed else ("FAILED (blocking)" if failed_blocking else "failed (warning)")
        checks.append((name, status))
    width = max((len(name) for name, *_ in assets + checks), default=0) + 2
    out.lines = ["", "Assets materialized:"]
    out.lines += [f"  {name:<{width}}{rows:>14}" + (f"  ({extra})" if extra else "") for name, rows, extra in assets]
    out.lines.append("Checks:")
    out.lines += [f"  {name:<{width}}{status}" for name, status in checks]
    return out


def write_run_log(instance, run_id: str) -> Path:
    """The run's whole event log as text (errors with their tracebacks) in $DAGSTER_HOME/logs/."""
    path = log_path(run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for entry in instance.all_logs(run_id):
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(entry.timestamp))
            event = entry.dagster_event
            kind = event.event_type_value if event else entry.level
            step = entry.step_key or "-"
            f.write(f"{when} {kind:<24} {step:<32} {entry.user_message or (event.message if event else '')}\n")
            error = getattr(getattr(event, "event_specific_data", None), "error", None) if event else None
            if error is not None:
                f.write(error.to_string() + "\n")
    return path


def previous_publication(millesime: int) -> str | None:
    """'published since <when> by run <id>' when the millésime is in coproff.millesimes, else None."""
    from coproff_platform.status import publication_record

    record = publication_record(database_url(), millesime)
    if record is None:
        return None
    published_at, run_id = record
    return f"the version published on {published_at:%Y-%m-%d %H:%M UTC} (run {(run_id or '?')[:8]}) is still published, unchanged"


def failure_lines(millesime: str, outcome: Outcome, run_id: str, path: Path, elapsed: float) -> list[str]:
    lines = [f"millésime {millesime}: FAILED after {elapsed:.1f} s (run {run_id})"]
    for step, cause in outcome.failed_steps[:4]:
        lines.append(f"  failed: {step}")
        lines.append(f"    cause: {cause}")
    if len(outcome.failed_steps) > 4:
        lines.append(f"  ... and {len(outcome.failed_steps) - 4} more failed steps")
    if outcome.blocking_failed:
        shown = ", ".join(outcome.blocking_failed[:3]) + (" ..." if len(outcome.blocking_failed) > 3 else "")
        lines.append(f"  blocking check failed: {shown}")
    try:
        kept = previous_publication(int(millesime))
    except Exception:
        kept = None
    lines.append(f"  {kept}" if kept else "  nothing of this millésime is published")
    if outcome.failed_steps:
        lines.append("  what to do: fix the cause above (file, line and field are named when a source is at fault), then rerun")
    else:
        lines.append(f"  what to do: see the failing check's metadata (coproff status --millesime {millesime}), fix the data, rerun")
    lines.append(f"  full log: {path}  (or the Dagster UI, run {run_id[:8]})")
    return lines


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    verbose = bool(getattr(args, "verbose", False))
    instance = get_instance()
    millesime = check_millesime_key(str(args.millesime), instance)
    selection = resolve_selection(args.select.split(",") if args.select else None)
    # Before the database check and the plan, so that the step server imports meanwhile; after
    # the argument checks, so that a usage error does not start it for nothing.
    start_step_server(verbose)
    check_database()
    force = bool(getattr(args, "force", False))
    plan = plan_millesime(millesime, selection, instance, landing_dir(), force=force)
    print("\n".join(plan_lines(plan)), flush=True)
    if plan.up_to_date:
        return 0
    print(f"millésime {millesime}: building (Dagster instance {dagster_home()})", flush=True)
    tags = {"coproff/reconstruction": "force" if force else "changements",
            "coproff/assets_a_jour": str(len(plan.fresh)), "coproff/assets_reconstruits": str(len(plan.rebuild))}
    result = materialize_millesime(millesime, list(plan.rebuild), instance, verbose=verbose, progress=not verbose,
                                   landing=landing_dir(), tags=tags)
    outcome = outcome_of(result)
    print("\n".join(outcome.lines))
    path = write_run_log(instance, result.run_id)
    elapsed = time.monotonic() - started
    if not result.success or outcome.blocking_failed:
        # A database that went away during the run says so, not "build failed".
        db_causes = [c for _, c in outcome.failed_steps if "connection" in c.lower() and "refused" in c.lower()]
        lines = failure_lines(millesime, outcome, result.run_id, path, elapsed)
        print("\n" + "\n".join(lines), file=sys.stderr)
        if db_causes:
            return EXIT_DATABASE
        return EXIT_BUILD_FAILED if outcome.failed_steps and not _only_check_failures(outcome) else EXIT_CHECK_FAILED
    print(f"\nmillésime {millesime}: done in {elapsed:.1f} s (run {result.run_id}); log: {path}")
    return 0


def _only_check_failures(outcome: Outcome) -> bool:
    """A blocking check fails its asset's step too: the build failed *because of* the check."""
    return bool(outcome.blocking_failed) and all(
        any(step == name.split(":")[0] for name in outcome.blocking_failed) for step, _ in outcome.failed_steps
    )
