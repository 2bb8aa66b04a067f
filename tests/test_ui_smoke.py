"""Smoke test of the UI path on the production instance configuration (PostgreSQL storage):
`dagster dev` (webserver + daemon) launches a partition run through the GraphQL API, the run succeeds, and its check evaluations can be read back; then a backfill of two
millésimes runs through the daemon, one run per millésime.

Cheap on purpose: one source asset (staging/lovac) of a tiny generated landing folder. Every wait
is bounded and the `dagster dev` process group is always killed.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import requests
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from coproff_platform import labels as L

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LOCATION = "coproff_platform.definitions"
JOB = "stage_sources"
ASSET = ["staging", "lovac"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class GraphQL:
    def __init__(self, port: int):
        self.url = f"http://127.0.0.1:{port}/graphql"

    def __call__(self, query: str, **variables) -> dict:
        response = requests.post(self.url, json={"query": query, "variables": variables}, timeout=30)
        response.raise_for_status()
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]


def _wait(predicate, timeout: float, what: str, proc: subprocess.Popen, log: Path, every: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"dagster dev exited ({proc.returncode}) while waiting for {what}:\n{log.read_text()[-3000:]}")
        value = predicate()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}:\n{log.read_text()[-3000:]}")


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    subprocess.run(
        [BIN / "coproff", "sample", "--years", "2022-2023", "--departements", "974", "--copros", "20",
         "--landing", str(root), "--truth", str(tmp_path / "truth")],
        check=True, capture_output=True, cwd=REPO,
    )
    return root


@pytest.fixture
def dagster_dev(fresh_db, landing: Path, tmp_path: Path):
    # The production instance (deploy/dagster.postgres.yaml): storage in a fresh PostgreSQL database,
    # runs queued and dequeued by the daemon under its concurrency limits.
    url = make_url(fresh_db.database_url)
    dagster_db = f"{url.database}_dagster_ui"
    admin = f"postgresql://{url.username or 'postgres'}@{url.host or '127.0.0.1'}:{url.port or 5432}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{dagster_db}" with (force)')
        conn.execute(f'create database "{dagster_db}"')
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.postgres.yaml", home / "dagster.yaml")
    port = _free_port()
    env = {
        **os.environ,
        "DAGSTER_PG_HOST": url.host or "127.0.0.1",
        "DAGSTER_PG_PORT": str(url.port or 5432),
        "DAGSTER_PG_DB": dagster_db,
        "DAGSTER_PG_USERNAME": url.username or "postgres",
        "DAGSTER_PG_PASSWORD": url.password or "",
        "DAGSTER_HOME": str(home),
        "COPROFF_DATABASE_URL": fresh_db.database_url,
        "COPROFF_LANDING_DIR": str(landing),
        "COPROFF_EXPORT_DIR": str(tmp_path / "exports"),
    }
    log = tmp_path / "dagster_dev.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [BIN / "dagster", "dev", "-m", LOCATION, "-h", "127.0.0.1", "-p", str(port)],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        gql = GraphQL(port)

        def ready() -> bool:
            try:
                data = gql("{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } } } } }")
            except (requests.ConnectionError, requests.HTTPError, requests.Timeout):
                return False
            return bool(data["repositoriesOrError"].get("nodes"))

        _wait(ready, 180, "the webserver to load the code location", proc, log, every=2)
        yield gql, proc, log, admin.rsplit("/", 1)[0] + f"/{dagster_db}"
    finally:
        # The whole group: webserver, daemon and code server.
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def test_a_run_and_a_backfill_launched_through_graphql_succeed_with_their_checks(dagster_dev, fresh_db):
    gql, proc, log, dagster_dsn = dagster_dev
    repo = gql("{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } } } } }")
    node = repo["repositoriesOrError"]["nodes"][0]
    selector = {"repositoryLocationName": node["location"]["name"], "repositoryName": node["name"]}

    # Register the millésime as the landing sensor or the CLI would.
    added = gql(
        """mutation($sel: RepositorySelector!, $key: String!) {
             addDynamicPartition(repositorySelector: $sel, partitionsDefName: "millesime", partitionKey: $key) {
               __typename ... on PythonError { message } } }""",
        sel=selector, key="2023",
    )
    assert added["addDynamicPartition"]["__typename"] == "AddDynamicPartitionSuccess", added

    launched = gql(
        """mutation($params: ExecutionParams!) {
             launchRun(executionParams: $params) {
               __typename
               ... on LaunchRunSuccess { run { runId } }
               ... on PythonError { message }
               ... on InvalidSubsetError { message }
               ... on RunConfigValidationInvalid { errors { message } } } }""",
        params={
            "selector": {**selector, "jobName": JOB, "assetSelection": [{"path": ASSET}]},
            "executionMetadata": {"tags": [{"key": "dagster/partition", "value": "2023"}]},
            # One process for the run: each step would otherwise reload the code location (~8 s each).
            "runConfigData": {"execution": {"config": {"in_process": {}}}},
        },
    )
    assert launched["launchRun"]["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["launchRun"]["run"]["runId"]

    def finished() -> str | None:
        status = gql("query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }", id=run_id)
        value = status["runOrError"]["status"]
        return value if value in ("SUCCESS", "FAILURE", "CANCELED") else None

    # Queued runs only start through the daemon that `dagster dev` runs.
    assert _wait(finished, 240, f"run {run_id}", proc, log, every=2) == "SUCCESS"

    events = gql(
        """query($id: ID!) { logsForRun(runId: $id) { __typename ... on EventConnection { events {
             __typename
             ... on AssetCheckEvaluationEvent { evaluation { checkName success assetKey { path }
                                                             metadataEntries { label __typename } } }
             ... on MaterializationEvent { assetKey { path } partition metadataEntries { label __typename } } } } } }""",
        id=run_id,
    )["logsForRun"]["events"]
    materializations = [e for e in events if e["__typename"] == "MaterializationEvent"]
    assert [(m["assetKey"]["path"], m["partition"]) for m in materializations] == [(ASSET, "2023")]
    checks = {e["evaluation"]["checkName"]: e["evaluation"]["success"]
              for e in events if e["__typename"] == "AssetCheckEvaluationEvent"}
    assert checks, "the run evaluated no check"
    assert all(e["evaluation"]["assetKey"]["path"] == ASSET
               for e in events if e["__typename"] == "AssetCheckEvaluationEvent")
    assert checks.get("rows_reconcile") is True
    # What the UI receives: the French labels, with their entry types.
    entries = {e["label"]: e["__typename"] for e in materializations[0]["metadataEntries"]}
    assert entries[L.LIGNES_LUES] == "IntMetadataEntry" and entries[L.SOURCE_PRESENTE] == "BoolMetadataEntry"
    assert entries[L.MOTIFS_QUARANTAINE] == entries[L.APERCU] == "MarkdownMetadataEntry"
    assert all(L.is_known(label) for label in entries), entries
    [reconcile] = [e["evaluation"] for e in events if e["__typename"] == "AssetCheckEvaluationEvent"
                   and e["evaluation"]["checkName"] == "rows_reconcile"]
    check_entries = {e["label"]: e["__typename"] for e in reconcile["metadataEntries"]}
    # numeric entries of a check are labelled with the millésime they judged (one plot per millésime)
    assert check_entries[L.du_millesime(L.LIGNES_LUES, 2023)] == "IntMetadataEntry"
    assert check_entries[L.MILLESIME] == "TextMetadataEntry", check_entries

    # -- then a backfill of two millésimes, which the daemon splits into one run per partition --
    gql("""mutation($sel: RepositorySelector!) {
             addDynamicPartition(repositorySelector: $sel, partitionsDefName: "millesime", partitionKey: "2022") {
               __typename } }""", sel=selector)
    launched = gql(
        """mutation($params: LaunchBackfillParams!) {
             launchPartitionBackfill(backfillParams: $params) {
               __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }""",
        params={"assetSelection": [{"path": ASSET}], "partitionNames": ["2022", "2023"],
                "runConfigData": {"execution": {"config": {"in_process": {}}}}},
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    backfill_id = launched["backfillId"]

    def backfill_runs_finished() -> list | None:
        # The backfill daemon ticks every 30 s; its runs finishing is what matters here.
        runs = gql(
            """query($id: String!) { runsOrError(filter: {tags: [{key: "dagster/backfill", value: $id}]}) {
                 ... on Runs { results { status tags { key value } } } } }""",
            id=backfill_id,
        )["runsOrError"]["results"]
        terminal = [r for r in runs if r["status"] in ("SUCCESS", "FAILURE", "CANCELED")]
        return runs if len(runs) == 2 and len(terminal) == 2 else None

    runs = _wait(backfill_runs_finished, 240, f"the runs of backfill {backfill_id}", proc, log, every=3)
    partitions = sorted(next(t["value"] for t in r["tags"] if t["key"] == "dagster/partition") for r in runs)
    assert partitions == ["2022", "2023"] and {r["status"] for r in runs} == {"SUCCESS"}
    with fresh_db.engine.connect() as conn:
        loaded = conn.execute(sa.text("select millesime, count(*) from staging.lovac group by 1 order by 1")).all()
    assert [m for m, n in loaded if n > 0] == [2022, 2023]
    # The three runs are recorded in the instance's PostgreSQL storage.
    with psycopg.connect(dagster_dsn) as conn:
        assert conn.execute("select count(*) from runs where status = 'SUCCESS'").fetchone() == (3,)
