"""`coproff.stats_evolution` of a millésime is recomputed when the millésime it compares with is
(re)built after it: the `stats_evolution_sensor` requests it, once."""

from __future__ import annotations

import sqlalchemy as sa
from dagster import AssetKey, AssetMaterialization, DagsterInstance, build_sensor_context, materialize

from coproff_platform.assets.models import MODEL_ASSETS
from coproff_platform.automation import REFRESH_JOB, stale_comparisons, stats_evolution_sensor
from coproff_platform.definitions import defs
from coproff_platform.partitions import millesime_partitions
from coproff_platform.status import stale_lines

STATS_EVOLUTION = AssetKey(["coproff", "stats_evolution"])


def _coproff_rows(db, millesime: int, idcopros: list[str]) -> None:
    with db.replace_millesime("coproff.coproff", millesime) as swap:
        swap.copy_rows(["idcopro", "millesime", "situation"], [(i, millesime, "rnic_1_1") for i in idcopros])


def _evolution(db, millesime: int):
    with db.engine.connect() as conn:
        return conn.execute(sa.text("select millesime_precedent, nb_nouvelles from coproff.stats_evolution "
                                    "where millesime = :m"), {"m": millesime}).one()


def tick(instance):
    with build_sensor_context(instance=instance, definitions=defs) as context:
        return stats_evolution_sensor(context)


def test_stats_evolution_is_recomputed_when_the_previous_millesime_is_built_after_it(fresh_db):
    [evolution_asset] = [a for a in MODEL_ASSETS if STATS_EVOLUTION in a.keys]
    with fresh_db.engine.begin() as conn:
        conn.execute(sa.text("create table coproff.coproff (idcopro text not null, millesime smallint not null, "
                             "situation text) partition by list (millesime)"))
        # the parcel source every statistics row carries
        conn.execute(sa.text("create schema if not exists intermediate"))
        conn.execute(sa.text("create table intermediate.tup (millesime smallint, idtup text, source_parcelles text)"))
    _coproff_rows(fresh_db, 2024, ["RNC_A", "RNC_B", "RNC_C"])
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(millesime_partitions.name, ["2023", "2024"])
        instance.report_runless_asset_event(AssetMaterialization(asset_key=["coproff", "coproff"], partition="2024"))
        assert materialize([evolution_asset], partition_key="2024", resources={"postgis": fresh_db},
                           instance=instance).success
        assert _evolution(fresh_db, 2024) == (None, None)  # no previous millésime yet
        assert tick(instance).skip_reason is not None

        # 2023 is built afterwards: 2024's comparison is stale.
        _coproff_rows(fresh_db, 2023, ["RNC_A"])
        instance.report_runless_asset_event(AssetMaterialization(asset_key=["coproff", "coproff"], partition="2023"))
        [(millesime, key, reason)] = stale_comparisons(instance)
        assert stale_lines(instance, ["2023", "2024"]) == [
            f"  2024: coproff/stats_evolution is stale ({reason}); refresh: "
            "coproff materialize --millesime 2024 --select coproff/stats_evolution"]
        assert (millesime, key) == ("2024", "coproff/stats_evolution") and "millésime 2023" in reason
        result = tick(instance)
        [request] = result.run_requests
        assert request.partition_key == "2024"
        assert defs.get_sensor_def("stats_evolution_sensor").job_name == REFRESH_JOB

        # The requested run (the job's selection: stats_evolution and its checks) refreshes it.
        job = defs.resolve_job_def(REFRESH_JOB)
        assert {k.to_user_string() for k in job.asset_layer.executable_asset_keys} == {"coproff/stats_evolution"}
        assert materialize([evolution_asset], partition_key=request.partition_key,
                           resources={"postgis": fresh_db}, instance=instance).success
        assert _evolution(fresh_db, 2024) == (2023, 2)
        assert stale_comparisons(instance) == [] and tick(instance).skip_reason is not None
