"""How runs and steps share a host: the shipped instance configurations queue runs (two at once,
one per millésime), the code location's executor runs two steps of a run side by side from a
preloaded forkserver, and a run can still ask for one process."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from dagster import AssetKey, DagsterEventType, DagsterInstance

from coproff_platform import concurrency
from coproff_platform.definitions import defs

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
PG_ENV = {"DAGSTER_PG_HOST": "127.0.0.1", "DAGSTER_PG_PORT": "5432", "DAGSTER_PG_DB": "dagster",
          "DAGSTER_PG_USERNAME": "postgres", "DAGSTER_PG_PASSWORD": ""}


def _queue_of(coordinator) -> tuple[int, list[dict]]:
    queue = coordinator.get_run_queue_config()
    limits = [dict(t) if isinstance(t, dict) else {"key": t.key, "value": t.value, "limit": t.limit}
              for t in queue.tag_concurrency_limits]
    return queue.max_concurrent_runs, limits


@pytest.mark.parametrize("name", ["dagster.sqlite.yaml", "dagster.postgres.yaml"])
def test_shipped_instances_queue_two_runs_and_one_per_millesime(name, tmp_path, monkeypatch):
    for key, value in PG_ENV.items():
        monkeypatch.setenv(key, value)
    from dagster._core.instance.config import dagster_instance_config
    from dagster._serdes.config_class import ConfigurableClassData

    shutil.copy(DEPLOY / name, tmp_path / "dagster.yaml")
    config, _ = dagster_instance_config(str(tmp_path))  # validated against Dagster's schema
    section = config["run_coordinator"]
    coordinator = ConfigurableClassData(section["module"], section["class"],
                                        yaml.safe_dump(section.get("config", {}))).rehydrate()
    assert type(coordinator).__name__ == "QueuedRunCoordinator"
    assert _queue_of(coordinator) == (2, [{"key": "dagster/partition",
                                           "value": {"applyLimitPerUniqueValue": True}, "limit": 1}])


def test_the_default_instance_is_the_queued_one(tmp_path):
    shutil.copy(DEPLOY / "dagster.sqlite.yaml", tmp_path / "dagster.yaml")
    with DagsterInstance.from_config(str(tmp_path)) as instance:
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert _queue_of(instance.run_coordinator)[0] == 2


def test_max_concurrent_comes_from_the_environment_with_clear_errors(monkeypatch):
    monkeypatch.delenv("COPROFF_MAX_CONCURRENT", raising=False)
    assert concurrency.max_concurrent() == 2
    monkeypatch.setenv("COPROFF_MAX_CONCURRENT", "3")
    assert concurrency.executor_config()["max_concurrent"] == 3
    for bad in ("two", "0"):
        monkeypatch.setenv("COPROFF_MAX_CONCURRENT", bad)
        with pytest.raises(ValueError, match="COPROFF_MAX_CONCURRENT"):
            concurrency.max_concurrent()


def test_every_job_uses_the_forkserver_executor_and_its_preloads_import(monkeypatch):
    import importlib

    monkeypatch.delenv("COPROFF_MAX_CONCURRENT", raising=False)  # the shipped default (make test sets 1)

    for job in ("build_millesime", "stage_sources"):
        assert defs.resolve_job_def(job).executor_def.name == "coproff_executor"
    config = concurrency._from_run_config({"multiprocess": {}})["multiprocess"]
    assert config["start_method"] == {"forkserver": {"preload_modules": concurrency.PRELOAD_MODULES}}
    assert concurrency._from_run_config({"in_process": {}}) == {"in_process": {}}
    # one step at a time: no process per step (what `make test` uses for its tiny fixtures)
    assert concurrency._from_run_config({"multiprocess": {"max_concurrent": 1}}) == {"in_process": {}}
    for module in concurrency.PRELOAD_MODULES:  # a failing preload would crash the forkserver
        importlib.import_module(module)


def _intervals(instance, run_id: str) -> dict[str, tuple[float, float]]:
    starts, out = {}, {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or not event.step_key:
            continue
        if event.event_type == DagsterEventType.STEP_START:
            starts[event.step_key] = entry.timestamp
        elif event.event_type == DagsterEventType.STEP_SUCCESS:
            out[event.step_key] = (starts[event.step_key], entry.timestamp)
    return out


def test_independent_steps_run_side_by_side_two_at_most(fresh_db, tmp_path, monkeypatch):
    from coproff_platform.runner import get_instance, materialize_millesime

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COPROFF_DATABASE_URL", fresh_db.database_url)
    monkeypatch.setenv("COPROFF_LANDING_DIR", str(tmp_path / "landing"))
    monkeypatch.setenv("COPROFF_MAX_CONCURRENT", "2")  # the shipped default (make test sets 1)
    (tmp_path / "landing" / "2023").mkdir(parents=True)
    keys = [AssetKey(["ref", t]) for t in ("mandats", "parametres", "types_pdl", "types_tup")]
    instance = get_instance()
    result = materialize_millesime("2023", keys, instance, verbose=False)
    assert result.success
    engine = [e.message for e in result.all_events if e.event_type == DagsterEventType.ENGINE_EVENT]
    assert any("multiprocess executor" in (m or "") for m in engine), engine
    intervals = _intervals(instance, result.run_id)
    assert len(intervals) == 4
    moments = sorted({t for span in intervals.values() for t in span})
    running = [sum(a <= t < b for a, b in intervals.values()) for t in moments]
    # Four independent steps and two slots: two ran together at some point, never three.
    assert max(running) == 2, intervals


def test_the_critical_path_starts_first_and_warn_only_suites_last():
    # What Dagster's executors do with the ready steps of a build: highest `dagster/priority` first.
    from dagster._core.errors import DagsterExecutionInterruptedError
    from dagster._core.execution.api import create_execution_plan
    from dagster._core.execution.plan.active import ActiveExecution
    from dagster._core.execution.retries import RetryMode

    from coproff_platform.automation import BUILD_JOB

    job = defs.resolve_job_def(BUILD_JOB)
    plan = create_execution_plan(job, tags={"dagster/partition": "2023"})
    # nothing runs: only the order is asked for, and leaving an unfinished plan raises
    with pytest.raises(DagsterExecutionInterruptedError), ActiveExecution(plan, RetryMode.DISABLED) as active:
        ready = [s.key for s in active.get_steps_to_execute()]
        active.mark_interrupted()
    refs = [i for i, k in enumerate(ready) if k.startswith("ref__")]
    sources = [k for k in ready if k.startswith("staging__") and not k.endswith("great_expectations")]
    # the reference tables (a second each, every model reads them) first, then the FF parcels
    # (the RNIC's post-load control waits on them, so the RNIC is not ready yet) and TUPs, before
    # DPE, DVF, LOVAC
    assert refs == list(range(len(refs))) and refs, ready
    assert set(sources[:2]) == {"staging__cadastre_parcelle", "staging__ff_parcelle"}, ready
    assert sources[2] == "staging__ff_tup", ready
    # once ready, the matching chain runs before the sources that only feed indicators
    def priority(key: str) -> int:
        return int(concurrency.step_tags(key)[concurrency.PRIORITY_TAG])

    assert priority("intermediate/tup_match") > priority("staging/dvf") == priority("staging/lovac")
