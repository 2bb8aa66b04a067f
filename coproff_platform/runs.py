"""Runs whose process died are marked failed, so that nothing waits for them for ever.

Dagster's run monitoring (enabled in both `deploy/*.yaml`) fails runs that never start, but the
`DefaultRunLauncher` cannot tell whether a started run's process is still alive, and a run of
`coproff materialize` (in process, SQLite instance, no daemon) has no monitor at all. A run whose
status is still in progress is dead when the process that executes it — the first engine event
of the run names its pid — no longer exists on this machine (or is another process that reused
the pid: it started after the run). `mark_dead_runs` reports such runs failed and tags them
`coproff/process_died`; `coproff materialize`, `coproff status`, the yearly schedule and
the landing sensor call it before they look at runs, and the schedule and the sensor then retry
the millésime.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter

# Tag set on a run marked failed because its process was gone (read by the sensor to retry once).
DEAD_PROCESS_TAG = "coproff/process_died"
IN_PROGRESS = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]


@dataclass(frozen=True)
class DeadRun:
    run_id: str
    partition: str | None
    pid: int


def _process_start_epoch(pid: int) -> float | None:
    """When process `pid` started (seconds since the epoch), from /proc; None if it does not exist."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (FileNotFoundError, ProcessLookupError, PermissionError, OSError):
        return None
    # Field 22 (starttime, clock ticks since boot) comes after the parenthesised command name.
    fields = stat.rsplit(")", 1)[1].split()
    ticks = int(fields[19])
    import time

    return time.time() - uptime + ticks / os.sysconf("SC_CLK_TCK")


def process_alive(pid: int, since: float | None = None) -> bool:
    """True when `pid` exists (and, with `since`, started no later than that moment)."""
    started = _process_start_epoch(pid)
    if started is None:
        if Path("/proc").is_dir():
            return False
        try:  # no /proc: fall back to a signal 0
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    # A process created after the run's first event reused the pid: the run's own process is gone.
    return since is None or started <= since + 2.0


def run_process(instance: DagsterInstance, run_id: str) -> tuple[int, float] | None:
    """(pid, timestamp) of the first engine event of the run that names a pid: its main process."""
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
        data = entry.dagster_event.event_specific_data if entry.dagster_event else None
        meta = getattr(data, "metadata", None) or {}
        if "pid" in meta:
            try:
                return int(meta["pid"].value), entry.timestamp
            except (TypeError, ValueError):
                continue
    return None


def _launcher_runs_locally(instance: DagsterInstance) -> bool:
    from dagster._core.launcher import DefaultRunLauncher

    return isinstance(instance.run_launcher, DefaultRunLauncher)


def mark_dead_runs(instance: DagsterInstance, job_name: str | None = None) -> list[DeadRun]:
    """Reports FAILED every in-progress run whose process is gone; returns those runs."""
    if not _launcher_runs_locally(instance):
        return []  # container launchers: Dagster's run monitoring checks their workers itself
    dead: list[DeadRun] = []
    filters = RunsFilter(statuses=IN_PROGRESS, job_name=job_name) if job_name else RunsFilter(statuses=IN_PROGRESS)
    for run in instance.get_runs(filters=filters, limit=200):
        found = run_process(instance, run.run_id)
        if found is None:
            continue  # not started yet: Dagster's start timeout covers it
        pid, since = found
        if pid == os.getpid() or process_alive(pid, since):
            continue
        instance.add_run_tags(run.run_id, {DEAD_PROCESS_TAG: str(pid)})
        run = instance.get_run_by_id(run.run_id) or run
        instance.report_run_failed(
            run,
            f"Processus {pid} de l'exécution disparu (arrêt brutal, kill -9, redémarrage) : "
            "exécution marquée en échec, la version publiée précédente est conservée.",
        )
        dead.append(DeadRun(run.run_id, run.tags.get("dagster/partition"), pid))
    return dead
