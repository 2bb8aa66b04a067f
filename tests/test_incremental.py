"""Rebuilds that only redo what changed: landing fingerprints, code versions and Dagster's staleness.

End to end on real rows (`coproff materialize` on two sources, a real Dagster instance and
PostGIS): a re-run with nothing changed starts no run, a touched file rebuilds only its source (and
runs only its checks), `--force` rebuilds everything. The schedule, the landing sensor and a SQL
model edit are judged on the whole build's graph, against an instance holding a recorded build
(every asset's materialization with the provenance Dagster itself writes: code version and
input data versions), so that no full national-style build is needed.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dagster import (
    AssetKey,
    AssetMaterialization,
    DagsterInstance,
    DagsterRunStatus,
    Definitions,
    build_schedule_context,
    build_sensor_context,
    instance_for_test,
)
from dagster._core.definitions.data_version import (
    CODE_VERSION_TAG,
    DATA_VERSION_TAG,
    extract_data_version_from_entry,
    get_input_data_version_tag,
    get_input_event_pointer_tag,
)
from dagster._core.test_utils import create_run_for_test

from coproff_platform.automation import BUILD_JOB, landing_sensor, yearly_millesime_schedule
from coproff_platform.cli import main as coproff
from coproff_platform.definitions import defs
from coproff_platform.partitions import millesime_partitions
from coproff_platform.resources.landing import LandingZone
from coproff_platform.versions import build_keys, landing_key, millesime_keys, observe_landing, plan_rebuild

AUTUMN = datetime(2023, 10, 15, 6, 0, tzinfo=ZoneInfo("Europe/Paris"))
RNIC, DPE = AssetKey(["staging", "rnic"]), AssetKey(["staging", "dpe"])


# -- end to end: `coproff materialize` ----------------------------------------------------------
@pytest.fixture
def two_sources(tmp_path, monkeypatch, fresh_db, realdata):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COPROFF_DATABASE_URL", fresh_db.database_url)
    monkeypatch.setenv("COPROFF_LANDING_DIR", str(tmp_path / "landing"))
    (tmp_path / "home").mkdir()
    for folder, name, target in (("rnic", "rnic_extract_bondy.csv", "rnic_93.csv"), ("dpe", "dpe_sample.csv", "dpe_93.csv")):
        (tmp_path / "landing" / "2023" / folder).mkdir(parents=True)
        shutil.copy(realdata / name, tmp_path / "landing" / "2023" / folder / target)
    return tmp_path


def _runs(home: Path) -> int:
    os.environ["DAGSTER_HOME"] = str(home)
    with DagsterInstance.get() as instance:
        return len(instance.get_runs())


def _materialized(out: str) -> list[str]:
    lines = out.split("Assets materialized:")[1].split("Checks:")[0].splitlines()
    return sorted(line.split()[0] for line in lines if line.strip())


def _checked(out: str) -> list[str]:
    lines = out.split("Checks:")[1].split("\n\n")[0].splitlines()
    return sorted({line.split()[0].split(":")[0] for line in lines if line.strip()})


def test_materialize_rebuilds_only_what_changed_and_force_rebuilds_all(two_sources, capsys):
    select = ["materialize", "--millesime", "2023", "--select", "staging/rnic,staging/dpe"]
    assert coproff(select) == 0
    first = capsys.readouterr().out
    assert "Reconstruction de 2 assets sur 2, parce que :" in first and _materialized(first) == ["staging/dpe", "staging/rnic"]

    # Nothing changed: no run at all, said in one line.
    runs = _runs(two_sources / "home")
    assert coproff(select) == 0
    again = capsys.readouterr().out
    assert "millésime 2023 : à jour, rien à reconstruire (2 assets vérifiés" in again
    assert "Assets materialized" not in again and _runs(two_sources / "home") == runs

    # One source's file touched: only that source is rebuilt, only its checks run, the reason said.
    dpe_file = two_sources / "landing" / "2023" / "dpe" / "dpe_93.csv"
    os.utime(dpe_file, ns=(dpe_file.stat().st_atime_ns, dpe_file.stat().st_mtime_ns + 1_000_000_000))
    assert coproff(select) == 0
    touched = capsys.readouterr().out
    assert "staging/dpe" in touched and "landing/dpe : fichiers modifiés" in touched
    assert "À jour, non reconstruits : 1 assets (staging 1)" in touched
    assert _materialized(touched) == ["staging/dpe"]
    assert _checked(touched) == ["staging/dpe"]  # staging/rnic's checks judged the same data: not rerun

    assert coproff([*select, "--force"]) == 0
    forced = capsys.readouterr().out
    assert "Reconstruction de 2 assets sur 2 (--force) :" in forced
    assert _materialized(forced) == ["staging/dpe", "staging/rnic"]
    # Same code and files: the same data version (Dagster derives it), so nothing below is stale.
    os.environ["DAGSTER_HOME"] = str(two_sources / "home")
    with DagsterInstance.get() as instance:
        records = instance.fetch_materializations(RNIC, limit=2).records
        versions = [r.event_log_entry.tags[DATA_VERSION_TAG] for r in records]
        assert len(versions) == 2 and versions[0] == versions[1]


# -- the whole build's graph, against a recorded build ------------------------------------------
def land(root: Path, millesime: str = "2023") -> None:
    for source in ("rnic", "ff", "dpe", "dvf", "lovac"):
        folder = root / millesime / source
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{source}_75.csv").write_text("header\n")
    (root / millesime / "ff" / "tup_75.csv").write_text("header\n")


def record_build(instance: DagsterInstance, graph, landing: Path, millesime: str = "2023") -> None:
    """What a successful build leaves in the instance: one materialization per asset carrying the
    provenance Dagster writes (code version, each input's data version and event)."""
    instance.add_dynamic_partitions(millesime_partitions.name, [millesime])
    observe_landing(instance, landing, millesime)
    for key in build_keys(graph):
        node = graph.get(key)
        tags = {CODE_VERSION_TAG: node.code_version, DATA_VERSION_TAG: f"{key.to_user_string()}@{node.code_version}"}
        for parent in node.parent_keys:
            record = instance.get_latest_data_version_record(parent, graph.get(parent).is_external, millesime)
            if record is not None:
                tags[get_input_data_version_tag(parent)] = extract_data_version_from_entry(record.event_log_entry).value
                tags[get_input_event_pointer_tag(parent)] = str(record.storage_id)
        instance.report_runless_asset_event(AssetMaterialization(key, partition=millesime, tags=tags))
    create_run_for_test(instance, job_name=BUILD_JOB, status=DagsterRunStatus.SUCCESS,
                        tags={"dagster/partition": millesime})


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Recorded once (about 15 s on a loaded machine); the tests below change different files in
    the order they are written, and each asserts only about its own change."""
    root = tmp_path_factory.mktemp("built")
    land(root / "landing")
    with instance_for_test() as instance:
        record_build(instance, defs.resolve_asset_graph(), root / "landing")
        yield instance, root / "landing"


def _downstream(graph, key: AssetKey) -> set[AssetKey]:
    found, todo = set(), [key]
    while todo:
        for child in graph.get(todo.pop()).child_keys:
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _bump(path: Path, seconds: int = 1) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + seconds * 1_000_000_000))


def test_a_recorded_build_is_up_to_date_and_force_plans_everything(built):
    instance, _landing = built
    graph = defs.resolve_asset_graph()
    plan = plan_rebuild(instance, graph, "2023", build_keys(graph))
    assert plan.up_to_date, plan.rebuild
    assert len(plan.fresh) == len(build_keys(graph))
    forced = plan_rebuild(instance, graph, "2023", build_keys(graph), force=True)
    assert set(forced.rebuild) == set(build_keys(graph))


def test_an_edited_sql_model_is_stale_with_what_is_below_it(built, tmp_path):
    # Before any landing file changes below: only the edit makes anything stale.
    from coproff_platform.assets import models as model_assets
    from coproff_platform.models.project import PROJECT_DIR, load_model

    instance, _landing = built
    key = AssetKey(["intermediate", "indicateurs_lovac"])
    copy = tmp_path / "models" / "intermediate"
    copy.mkdir(parents=True)
    for suffix in (".sql", ".yml"):
        shutil.copy(PROJECT_DIR / "intermediate" / f"indicateurs_lovac{suffix}", copy / f"indicateurs_lovac{suffix}")
    sql = copy / "indicateurs_lovac.sql"
    sql.write_text(sql.read_text(encoding="utf-8") + "\n-- reworded\n", encoding="utf-8")
    edited = model_assets.model_asset(load_model(sql, tmp_path / "models"))

    assets = [a for a in defs.assets if key not in getattr(a, "keys", ())] + [edited]
    graph = Definitions(assets=assets, asset_checks=defs.asset_checks, resources=defs.resources).resolve_asset_graph()
    assert graph.get(key).code_version != defs.resolve_asset_graph().get(key).code_version
    plan = plan_rebuild(instance, graph, "2023", build_keys(graph))
    assert plan.rebuild[key] == "intermediate/indicateurs_lovac : code modifié"
    assert set(plan.rebuild) == {key} | (_downstream(graph, key) & set(build_keys(graph)))
    assert not any(k.path[0] in ("staging", "ref") for k in plan.rebuild)
    assert landing_key("lovac") not in plan.rebuild


def test_schedule_skips_an_up_to_date_millesime_and_requests_only_the_changed_source(built):
    instance, landing = built

    def tick():
        with build_schedule_context(instance=instance, scheduled_execution_time=AUTUMN,
                                    resources={"landing": LandingZone(path=str(landing))},
                                    repository_def=defs.get_repository_def()) as context:
            return yearly_millesime_schedule.evaluate_tick(context)

    skipped = tick()
    assert not skipped.run_requests and "up to date" in skipped.skip_message

    _bump(landing / "2023" / "lovac" / "lovac_75.csv")
    [request] = tick().run_requests
    graph = defs.resolve_asset_graph()
    lovac = AssetKey(["staging", "lovac"])
    assert set(request.asset_selection) == {lovac} | (_downstream(graph, lovac) & set(build_keys(graph)))
    assert RNIC not in request.asset_selection and DPE not in request.asset_selection
    assert "landing/lovac : fichiers modifiés" in request.tags["coproff/raison"]

    # The file put back as it was: its fingerprint is the built one again, nothing is stale.
    _bump(landing / "2023" / "lovac" / "lovac_75.csv", -1)
    assert not tick().run_requests


def test_landing_sensor_rebuilds_the_downstream_of_a_changed_file_once_it_settled(built):
    instance, landing = built

    def tick(cursor):
        with build_sensor_context(instance=instance, cursor=cursor, definitions=defs,
                                  resources={"landing": LandingZone(path=str(landing))}) as context:
            return landing_sensor(context)

    first = tick(None)
    assert not first.run_requests
    second = tick(first.cursor)  # settled, planned once: up to date
    assert not second.run_requests
    _bump(landing / "2023" / "dpe" / "dpe_75.csv")
    third = tick(second.cursor)
    assert not third.run_requests and "2023 (files changed, still changing)" in third.skip_reason.skip_message
    fourth = tick(third.cursor)
    [request] = fourth.run_requests
    assert request.partition_key == "2023" and DPE in request.asset_selection
    assert RNIC not in request.asset_selection
    assert not tick(fourth.cursor).run_requests  # the same change is requested once
    assert json.loads(fourth.cursor)["planned:2023"]


def test_without_a_ground_truth_the_evaluation_is_left_out_so_a_rerun_can_be_up_to_date(tmp_path, monkeypatch):
    # Real data has no truth: evaluation/scores materializes nothing, so kept in the build it would be
    # "never built" at every run (seen on the national benchmark's no-change re-run).
    from coproff_platform.evaluation import LINKS

    graph = defs.resolve_asset_graph()
    scores = AssetKey(["evaluation", "scores"])
    monkeypatch.setenv("COPROFF_TRUTH_DIR", str(tmp_path))
    assert scores in build_keys(graph)
    assert millesime_keys(graph, "2023") == [k for k in build_keys(graph) if k != scores]
    (tmp_path / "2023").mkdir()
    (tmp_path / "2023" / LINKS).write_text("num_immat,idtup\n")
    assert millesime_keys(graph, "2023") == build_keys(graph)
    assert scores not in millesime_keys(graph, "2024")
