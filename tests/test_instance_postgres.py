"""The production instance (deploy/dagster.postgres.yaml) keeps runs and events in PostgreSQL."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import psycopg
import pytest
from dagster import AssetCheckResult, DagsterInstance, asset, asset_check, materialize
from dagster._core.run_coordinator import QueuedRunCoordinator
from sqlalchemy.engine import make_url

from coproff_platform.partitions import millesime_partitions, register_millesime

TEST_DATABASE_URL = os.environ.get(
    "COPROFF_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/coproff_test"
)
DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
# Derived from the test database so that engineers sharing a server never share Dagster storage.
_test_url = make_url(TEST_DATABASE_URL)
DAGSTER_DB = f"{_test_url.database}_dagster"
ADMIN_DSN = f"postgresql://{_test_url.username or 'postgres'}@{_test_url.host or '127.0.0.1'}:{_test_url.port or 5432}/postgres"


@asset(key=["staging", "probe"], partitions_def=millesime_partitions)
def probe(context) -> None:
    context.add_output_metadata({"dagster/row_count": 3})


@asset_check(asset=probe, partitions_def=millesime_partitions)
def probe_has_rows() -> AssetCheckResult:
    return AssetCheckResult(passed=True)


@pytest.fixture
def pg_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DagsterInstance:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", [DAGSTER_DB]).fetchone():
            conn.execute(f'create database "{DAGSTER_DB}"')
    monkeypatch.setenv("DAGSTER_PG_HOST", _test_url.host or "127.0.0.1")
    monkeypatch.setenv("DAGSTER_PG_PORT", str(_test_url.port or 5432))
    monkeypatch.setenv("DAGSTER_PG_DB", DAGSTER_DB)
    monkeypatch.setenv("DAGSTER_PG_USERNAME", _test_url.username or "postgres")
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", _test_url.password or "")
    shutil.copy(DEPLOY / "dagster.postgres.yaml", tmp_path / "dagster.yaml")
    instance = DagsterInstance.from_config(str(tmp_path))
    yield instance
    instance.dispose()


def test_a_partition_run_is_recorded_in_postgresql(pg_instance: DagsterInstance):
    assert type(pg_instance.run_storage).__name__ == "PostgresRunStorage"
    assert type(pg_instance.event_log_storage).__name__ == "PostgresEventLogStorage"
    assert isinstance(pg_instance.run_coordinator, QueuedRunCoordinator)
    queue = pg_instance.run_coordinator.get_run_queue_config()
    assert queue.max_concurrent_runs == 2
    # Never two runs of the same millésime at once.
    [limit] = queue.tag_concurrency_limits
    assert limit["key"] == "dagster/partition" and limit["limit"] == 1
    assert limit["value"] == {"applyLimitPerUniqueValue": True}

    register_millesime(pg_instance, "2023")
    result = materialize([probe, probe_has_rows], partition_key="2023", instance=pg_instance)
    assert result.success

    # Read PostgreSQL directly: the run, its materialization and check evaluation are stored there.
    with psycopg.connect(ADMIN_DSN.rsplit("/", 1)[0] + f"/{DAGSTER_DB}") as conn:
        status = conn.execute("select status from runs where run_id = %s", [result.run_id]).fetchone()
        assert status == ("SUCCESS",)
        events = dict(
            conn.execute(
                "select dagster_event_type, count(*) from event_logs where run_id = %s group by 1",
                [result.run_id],
            ).fetchall()
        )
        assert events.get("ASSET_MATERIALIZATION") == 1
        assert events.get("ASSET_CHECK_EVALUATION") == 1
        assert events.get("PIPELINE_SUCCESS") == 1  # RUN_SUCCESS keeps its legacy name in storage
        partition = conn.execute(
            "select partition from event_logs where run_id = %s and dagster_event_type = 'ASSET_MATERIALIZATION'",
            [result.run_id],
        ).fetchone()
        assert partition == ("2023",)
        assert conn.execute(
            "select 1 from dynamic_partitions where partitions_def_name = 'millesime' and partition = '2023'"
        ).fetchone()
