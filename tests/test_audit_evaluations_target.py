"""Audit evaluations are attached to the materialization they judged (real Dagster instance).

Dagster records, with each check evaluation, the materialization it judged: the latest
materialization of the partition at the moment the evaluation is logged. A model asset must
therefore record its materialization before its audit results; and when a blocking audit stops
the build, nothing was materialized, so the evaluations must not point at the published version,
and an observation of the partition says which version stays published.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from dagster import AssetCheckKey, AssetKey, instance_for_test, materialize
from dagster._core.loader import LoadingContextForTest
from dagster._core.storage.event_log.base import AssetRecordsFilter

from coproff_platform import labels as L
from coproff_platform.assets.models import UNPUBLISHED_REBUILD_ID, model_asset
from coproff_platform.models.build import build_all
from coproff_platform.models.fixtures import PARIS, Fixture
from coproff_platform.models.project import project
from coproff_platform.partitions import millesime_partitions

X, Y = PARIS
M = "2023"
COPROFF = AssetKey(["coproff", "coproff"])


def _sample(db) -> None:
    fx = Fixture()
    fx.copro_tup("75115000DF0001", X, Y, nloghcopro=10)
    fx.copro_tup("75115000DF0003", X + 200, Y, nloghcopro=8)  # FF-only
    fx.registration("AA0000001", x=X, y=Y, idpar=["75115000DF0001"], lots_hab=10)
    fx.write(db)


@pytest.fixture
def instance(tmp_path):
    with instance_for_test(temp_dir=str(tmp_path)) as inst:
        inst.add_dynamic_partitions(millesime_partitions.name, [M])
        yield inst


def _materializations(instance):
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=COPROFF, asset_partitions=[M]), limit=10).records
    return {r.event_log_entry.run_id: r.storage_id for r in records}


def _observations(instance):
    """The model partition's observations, newest first."""
    records = instance.fetch_observations(AssetRecordsFilter(asset_key=COPROFF, asset_partitions=[M]), limit=10).records
    return [r.event_log_entry.asset_observation for r in records]


def test_each_run_s_evaluations_target_that_run_s_own_materialization(fresh_db, instance):
    _sample(fresh_db)
    build_all(fresh_db, int(M))  # the upstream tables
    coproff = model_asset(next(m for m in project() if m.table == "coproff.coproff"))
    runs = []
    for _ in range(2):  # two materializations of one partition
        result = materialize([coproff], partition_key=M, resources={"postgis": fresh_db}, instance=instance)
        runs.append(result)
    materializations = _materializations(instance)
    assert len(materializations) == 2
    for result in runs:
        evaluations = [e for e in result.get_asset_check_evaluations() if e.asset_key == COPROFF]
        assert evaluations
        for e in evaluations:
            assert e.target_materialization_data is not None, e.check_name
            # the evaluation judged the materialization of its own run, not the one before
            assert e.target_materialization_data.run_id == result.run_id, e.check_name
            assert e.target_materialization_data.storage_id == materializations[result.run_id], e.check_name


def test_a_failed_build_s_evaluations_do_not_target_the_published_version(fresh_db, instance):
    _sample(fresh_db)
    build_all(fresh_db, int(M))
    model = next(m for m in project() if m.table == "coproff.coproff")
    broken = model_asset(dataclasses.replace(
        model, sql=f"select * from ({model.sql}\n) q union all "
                   f"select * from ({model.sql}\n) q where num_immat = 'AA0000001'"))
    never = materialize([broken], partition_key=M, resources={"postgis": fresh_db}, instance=instance,
                        raise_on_error=False)
    assert not never.success and not _materializations(instance)
    for e in never.get_asset_check_evaluations():
        assert e.target_materialization_data.storage_id == UNPUBLISHED_REBUILD_ID
        assert e.metadata[L.VERSION_PUBLIEE].value.startswith("aucune matérialisation"), e.check_name
    [first_obs] = _observations(instance)
    assert first_obs.metadata[L.TOUJOURS_PUBLIE].value is False
    published = materialize([model_asset(model)], partition_key=M, resources={"postgis": fresh_db},
                            instance=instance)
    failed = materialize([broken], partition_key=M, resources={"postgis": fresh_db}, instance=instance,
                         raise_on_error=False)
    assert not failed.success
    assert set(_materializations(instance)) == {published.run_id}  # nothing new was materialized
    evaluations = {e.check_name: e for e in failed.get_asset_check_evaluations() if e.asset_key == COPROFF}
    assert not evaluations["idcopro_unique_and_well_formed"].passed
    for name, e in evaluations.items():
        # the unpublished rebuild of the failed run, not the published materialization
        assert e.target_materialization_data.run_id == failed.run_id, name
        assert e.target_materialization_data.storage_id == UNPUBLISHED_REBUILD_ID, name
        assert e.partition == M
        assert e.metadata[L.VERSION_JUGEE].value.startswith("reconstruction non publiée"), name
        assert published.run_id in e.metadata[L.VERSION_PUBLIEE].value, name
    # What the UI asks Dagster: does the partition's latest check execution judge its latest
    # materialization? No, whatever the timestamps (a target-less evaluation would be placed by
    # timestamp, on the published version).
    context = LoadingContextForTest(instance)
    for name in evaluations:
        [record] = instance.event_log_storage.get_asset_check_execution_history(AssetCheckKey(COPROFF, name), limit=1)
        assert record.run_id == failed.run_id
        assert asyncio.run(record.targets_latest_materialization(context)) is False, name
    # next to the asset: an observation of the partition says which version stays published
    obs = _observations(instance)[0]
    assert obs.metadata[L.TOUJOURS_PUBLIE].value is True
    assert obs.metadata[L.EXECUTION_DE_PUBLICATION].value == published.run_id
    assert obs.metadata[L.EXECUTION_EN_ECHEC].value == failed.run_id
    [mat] = instance.fetch_materializations(AssetRecordsFilter(asset_key=COPROFF, asset_partitions=[M]), limit=1).records
    assert obs.metadata[L.PUBLIE_DEPUIS].value == mat.timestamp
    assert "la version précédente reste publiée" in obs.description and published.run_id in obs.description
