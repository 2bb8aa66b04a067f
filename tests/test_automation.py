"""The yearly schedule, the landing sensor and the stage jobs, evaluated with Dagster's testing APIs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dataclasses import dataclass
from dagster import (
    AssetKey,
    AssetSelection,
    DagsterInstance,
    DagsterRunStatus,
    build_schedule_context,
    build_sensor_context,
    instance_for_test,
)
from dagster._core.test_utils import create_run_for_test

from coproff_platform.automation import (
    BUILD_JOB,
    JOBS,
    landing_sensor,
    yearly_millesime_schedule,
)
from coproff_platform.definitions import defs
from coproff_platform.partitions import millesime_partitions
from coproff_platform.resources.landing import LandingZone

AUTUMN_2024 = datetime(2024, 10, 15, 6, 0, tzinfo=ZoneInfo("Europe/Paris"))


def land(root: Path, millesime: str, sources=("rnic", "ff", "dpe", "dvf", "lovac")) -> None:
    for source in sources:
        folder = root / millesime / source
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{source}_75.csv").write_text("header\n")


@pytest.fixture(scope="module")
def _module_instance() -> DagsterInstance:
    # A temporary on-disk instance (schedule evaluation needs an instance reference), created once.
    with instance_for_test() as inst:
        yield inst


@pytest.fixture
def instance(_module_instance: DagsterInstance) -> DagsterInstance:
    """The module's instance, emptied: no run, no registered millésime."""
    _module_instance.wipe()
    for key in _module_instance.get_dynamic_partitions(millesime_partitions.name):
        _module_instance.delete_dynamic_partition(millesime_partitions.name, key)
    return _module_instance


def tick_schedule(instance: DagsterInstance, landing: Path):
    with build_schedule_context(
        instance=instance,
        scheduled_execution_time=AUTUMN_2024,
        resources={"landing": LandingZone(path=str(landing))},
        repository_def=defs.get_repository_def(),
    ) as context:
        return yearly_millesime_schedule.evaluate_tick(context)


def tick_sensor(instance: DagsterInstance, landing: Path, cursor: str | None):
    with build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"landing": LandingZone(path=str(landing))},
        definitions=defs,
    ) as context:
        result = landing_sensor(context)
    # What the daemon does with the sensor's answer: register the requested partitions.
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return Tick(result.run_requests or [], result.skip_reason.skip_message if result.skip_reason else None, result.cursor)


@dataclass
class Tick:
    run_requests: list
    skip_message: str | None
    cursor: str | None


def test_schedule_and_sensor_are_in_the_code_location():
    assert defs.get_schedule_def("yearly_millesime_schedule").job_name == BUILD_JOB
    assert defs.get_sensor_def("landing_sensor").job_name == BUILD_JOB


def test_schedule_fires_in_autumn():
    minute, hour, day, month, _ = yearly_millesime_schedule.cron_schedule.split()
    assert month in {"9", "10", "11"} and day.isdigit()
    assert yearly_millesime_schedule.execution_timezone == "Europe/Paris"
    assert yearly_millesime_schedule.job_name == BUILD_JOB


def test_schedule_skips_when_the_landing_zone_is_empty(instance, tmp_path):
    data = tick_schedule(instance, tmp_path)
    assert not data.run_requests
    assert "no millésime folder" in data.skip_message


def test_schedule_skips_a_millesime_whose_core_sources_are_missing(instance, tmp_path):
    land(tmp_path, "2024", sources=("rnic", "dpe"))
    data = tick_schedule(instance, tmp_path)
    assert not data.run_requests
    assert "millésime 2024: no file yet for ff" in data.skip_message


def test_schedule_builds_the_newest_landed_millesime(instance, tmp_path):
    land(tmp_path, "2023")
    land(tmp_path, "2024")
    data = tick_schedule(instance, tmp_path)
    [request] = data.run_requests
    assert request.partition_key == "2024"
    assert instance.has_dynamic_partition(millesime_partitions.name, "2024")


def test_schedule_skips_a_millesime_being_built(instance, tmp_path):
    land(tmp_path, "2023")
    run = create_run_for_test(
        instance, job_name=BUILD_JOB, status=DagsterRunStatus.STARTED, tags={"dagster/partition": "2023"}
    )
    data = tick_schedule(instance, tmp_path)
    assert not data.run_requests
    assert f"millésime 2023 already building: run {run.run_id}" in data.skip_message
    assert "(millésime 2024 has not landed yet)" in data.skip_message


def test_schedule_rebuilds_only_what_a_successful_build_did_not_materialize(instance, tmp_path):
    # A built and unchanged millésime is skipped as up to date (tests/test_incremental.py); here
    # the successful run materialized nothing, so every asset of the build is missing.
    land(tmp_path, "2023")
    create_run_for_test(instance, job_name=BUILD_JOB, status=DagsterRunStatus.SUCCESS, tags={"dagster/partition": "2023"})
    [request] = tick_schedule(instance, tmp_path).run_requests
    assert request.partition_key == "2023" and request.run_key.startswith("changed-2023-")
    assert AssetKey(["staging", "rnic"]) in request.asset_selection
    assert request.tags["coproff/raison"] == "jamais construit pour ce millésime"


def test_schedule_retries_a_millesime_whose_build_failed(instance, tmp_path):
    land(tmp_path, "2024")
    create_run_for_test(instance, job_name=BUILD_JOB, status=DagsterRunStatus.FAILURE, tags={"dagster/partition": "2024"})
    [request] = tick_schedule(instance, tmp_path).run_requests
    assert request.partition_key == "2024"


def test_sensor_registers_and_builds_a_new_folder_once_it_has_settled(instance, tmp_path):
    land(tmp_path, "2024")
    first = tick_sensor(instance, tmp_path, None)
    assert not first.run_requests and "2024 (files still changing)" in first.skip_message
    assert not instance.has_dynamic_partition(millesime_partitions.name, "2024")

    second = tick_sensor(instance, tmp_path, first.cursor)
    [request] = second.run_requests
    assert request.partition_key == "2024"
    assert instance.has_dynamic_partition(millesime_partitions.name, "2024")

    third = tick_sensor(instance, tmp_path, second.cursor)
    assert not third.run_requests and third.skip_message == "no new millésime in the landing zone"


def test_sensor_waits_while_files_are_still_being_copied(instance, tmp_path):
    land(tmp_path, "2024")
    first = tick_sensor(instance, tmp_path, None)
    with (tmp_path / "2024" / "rnic" / "rnic_75.csv").open("a") as f:
        f.write("AA0000001\n")  # the copy goes on between two ticks
    second = tick_sensor(instance, tmp_path, first.cursor)
    assert not second.run_requests and "files still changing" in second.skip_message
    third = tick_sensor(instance, tmp_path, second.cursor)
    assert [r.partition_key for r in third.run_requests] == ["2024"]


def test_sensor_waits_for_the_core_sources(instance, tmp_path):
    land(tmp_path, "2024", sources=("rnic",))
    first = tick_sensor(instance, tmp_path, None)
    second = tick_sensor(instance, tmp_path, first.cursor)
    assert not second.run_requests
    assert "2024 (no file yet for ff|cadastre)" in second.skip_message


def test_sensor_ignores_millesimes_already_registered(instance, tmp_path):
    land(tmp_path, "2023")
    instance.add_dynamic_partitions(millesime_partitions.name, ["2023"])  # e.g. by `coproff materialize`
    first = tick_sensor(instance, tmp_path, None)
    second = tick_sensor(instance, tmp_path, first.cursor)
    assert not second.run_requests


def test_several_landed_millesimes_are_backfilled_one_run_each(instance, tmp_path):
    for millesime in ("2021", "2022", "2023"):
        land(tmp_path, millesime)
    (tmp_path / "notes").mkdir()  # not a millésime folder
    first = tick_sensor(instance, tmp_path, None)
    second = tick_sensor(instance, tmp_path, first.cursor)
    assert sorted(r.partition_key for r in second.run_requests) == ["2021", "2022", "2023"]
    assert len({r.run_key for r in second.run_requests}) == 3
    assert sorted(instance.get_dynamic_partitions(millesime_partitions.name)) == ["2021", "2022", "2023"]


def test_stage_jobs_select_the_checks_of_their_assets():
    graph = defs.get_repository_def().asset_graph
    for job in JOBS:
        if job.name == BUILD_JOB:
            continue
        selected = job.selection.resolve(graph)
        assert selected, job.name
        expected_checks = AssetSelection.checks_for_assets(*selected).resolve_checks(graph)
        assert job.selection.resolve_checks(graph) == expected_checks, job.name
        resolved = defs.resolve_job_def(job.name)
        assert resolved.partitions_def == millesime_partitions, job.name


def test_sensor_never_registers_a_folder_that_is_not_a_millesime(instance, tmp_path):
    for name in ("0000", "9999", "²⁰²⁴", "２０２３", "2015"):
        land(tmp_path, name)
    first = tick_sensor(instance, tmp_path, None)
    second = tick_sensor(instance, tmp_path, first.cursor)
    assert not second.run_requests and second.skip_message == "no new millésime in the landing zone"
    assert instance.get_dynamic_partitions(millesime_partitions.name) == []


def test_schedule_retry_after_a_failed_build_has_a_new_run_key(instance, tmp_path):
    # The daemon launches a run key only once: the retry must not reuse the first request's key.
    land(tmp_path, "2024")
    [first] = tick_schedule(instance, tmp_path).run_requests
    failed = create_run_for_test(instance, job_name=BUILD_JOB, status=DagsterRunStatus.FAILURE,
                                 tags={"dagster/partition": "2024"})
    [retry] = tick_schedule(instance, tmp_path).run_requests
    assert retry.run_key != first.run_key and failed.run_id in retry.run_key
