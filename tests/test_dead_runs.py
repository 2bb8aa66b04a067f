"""A first build killed with kill -9 is seen as dead: marked failed, then retried by the yearly
schedule and the landing sensor at their next tick (SQLite instance, no daemon)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from dagster import DagsterInstance, DagsterRunStatus, build_schedule_context, build_sensor_context

from coproff_platform.automation import landing_sensor, yearly_millesime_schedule
from coproff_platform.definitions import defs
from coproff_platform.resources.landing import LandingZone
from coproff_platform.runs import DEAD_PROCESS_TAG, mark_dead_runs, process_alive, run_process

AUTUMN_2024 = datetime(2024, 10, 15, 6, 0, tzinfo=ZoneInfo("Europe/Paris"))


def land(root: Path, millesime: str) -> None:
    for source in ("rnic", "ff", "dpe", "dvf", "lovac"):
        (root / millesime / source).mkdir(parents=True, exist_ok=True)
        (root / millesime / source / f"{source}_75.csv").write_text("header\n")


def _wait(predicate, timeout: float = 120.0, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_killed_first_build_is_marked_failed_then_retried_by_schedule_and_sensor(fresh_db, tmp_path):
    home, landing = tmp_path / "home", tmp_path / "landing"
    home.mkdir()
    land(landing, "2024")
    env = {**os.environ, "DAGSTER_HOME": str(home), "COPROFF_DATABASE_URL": fresh_db.database_url,
           "COPROFF_LANDING_DIR": str(landing), "COPROFF_EXPORT_DIR": str(tmp_path / "exports")}
    # Every source load takes this lock first: held here, the build is parked mid-run, process alive.
    blocker = fresh_db.engine.connect()
    blocker.execute(sa.text("select pg_advisory_lock(hashtext('coproff.setup'))"))
    proc = subprocess.Popen([sys.executable, "-m", "coproff_platform.cli", "materialize", "--millesime", "2024"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    instance = DagsterInstance.from_config(str(home))
    try:
        run = _wait(lambda: next(iter(instance.get_runs(limit=1)), None), what="the run record")
        _wait(lambda: run_process(instance, run.run_id), what="the run's engine event naming its pid")
        pid, since = run_process(instance, run.run_id)
        assert pid == proc.pid and process_alive(pid, since)
        assert mark_dead_runs(instance) == []  # alive: left alone
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        blocker.execute(sa.text("select pg_advisory_unlock_all()"))
        blocker.close()
    assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.STARTED  # what Dagster alone leaves

    # The schedule's tick finds it dead, fails it, and requests the millésime again.
    with build_schedule_context(instance=instance, scheduled_execution_time=AUTUMN_2024,
                                resources={"landing": LandingZone(path=str(landing))},
                                repository_def=defs.get_repository_def()) as context:
        tick = yearly_millesime_schedule.evaluate_tick(context)
    dead = instance.get_run_by_id(run.run_id)
    assert dead.status == DagsterRunStatus.FAILURE and dead.tags[DEAD_PROCESS_TAG] == str(proc.pid)
    [request] = tick.run_requests
    assert request.partition_key == "2024"

    # The sensor ignores registered millésimes, except one whose last build died: retried once.
    with build_sensor_context(instance=instance, resources={"landing": LandingZone(path=str(landing))},
                              definitions=defs) as context:
        result = landing_sensor(context)
    [retry] = result.run_requests
    assert retry.partition_key == "2024" and retry.run_key == f"retry-{run.run_id}"
    assert retry.tags["coproff/retry_of"] == run.run_id
    instance.dispose()
