"""Source assets through Dagster: materialize a partition, metadata reconciles, checks carry the partition."""

import shutil

import sqlalchemy as sa

from coproff_platform import labels as L
from coproff_platform.contracts.sources import SOURCES
from dagster import AssetKey, DagsterInstance, materialize

from coproff_platform.assets.sources import SOURCE_ASSETS
from coproff_platform.checks.sources import SOURCE_CHECKS
from coproff_platform.partitions import millesime_partitions
from coproff_platform.resources.landing import LandingZone


def test_source_assets_materialize_a_partition_and_checks_reconcile(fresh_db, realdata, tmp_path):
    from test_load_sources import write_ff

    landing = tmp_path / "landing"
    (landing / "2023" / "rnic").mkdir(parents=True)
    (landing / "2023" / "dpe").mkdir(parents=True)
    shutil.copy(realdata / "rnic_extract_bondy.csv", landing / "2023" / "rnic")
    shutil.copy(realdata / "dpe_sample.csv", landing / "2023" / "dpe")
    write_ff(landing / "2023" / "ff")
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(millesime_partitions.name, ["2023"])
    selected = [a for a in SOURCE_ASSETS if a.key.path[-1] in {"rnic", "ff_parcelle", "ff_tup", "dpe"}]
    checks = [c for c in SOURCE_CHECKS if next(iter(c.check_keys)).asset_key in {a.key for a in selected}]
    result = materialize(
        [*selected, *checks],
        resources={"postgis": fresh_db, "landing": LandingZone(path=str(landing))},
        partition_key="2023",
        instance=instance,
    )
    assert result.success
    mats = {m.asset_key.path[-1]: m
            for m in (e.event_specific_data.materialization for e in result.get_asset_materialization_events())}
    rnic = mats["rnic"].metadata
    assert rnic[L.LIGNES_LUES].value == 332 and rnic[L.LIGNES_CHARGEES].value == 332 and rnic[L.LIGNES_EN_QUARANTAINE].value == 0
    assert rnic["dagster/row_count"].value == 332 and mats["rnic"].partition == "2023"
    assert "AA0652685" in rnic[L.APERCU].value
    par = mats["ff_parcelle"].metadata
    assert (par[L.LIGNES_LUES].value, par[L.LIGNES_CHARGEES].value, par[L.LIGNES_EN_QUARANTAINE].value) == (5, 4, 1)
    assert "reference_cadastrale_invalide" in par[L.MOTIFS_QUARANTAINE].value
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == 4
    assert all(e.passed and e.partition == "2023" for e in evaluations)
    assert {e.asset_key.path[-1] for e in evaluations} == {"rnic", "ff_parcelle", "ff_tup", "dpe"}


def test_reconciliation_check_fails_when_rows_went_missing(fresh_db, realdata):
    from coproff_platform.checks.sources import recount
    from coproff_platform.loading import load_source

    load_source(fresh_db, "rnic", 2023, [realdata / "rnic_extract_bondy.csv"])
    assert recount(fresh_db, "rnic", 2023) == {"rows_read": 332, "rows_loaded": 332, "rows_quarantined": 0, "files": 1}
    with fresh_db.engine.begin() as conn:  # someone deletes rows behind the loader's back
        conn.execute(sa.text("delete from staging.rnic where num_immat like 'AA%'"))
    counts = recount(fresh_db, "rnic", 2023)
    assert counts["rows_read"] != counts["rows_loaded"] + counts["rows_quarantined"]


def test_source_assets_declare_schema_owners_kinds():
    for a in SOURCE_ASSETS:
        spec = a.specs_by_key[a.key]
        assert a.key.path[0] == "staging" and spec.group_name == "staging"  # group = schema (ui.py)
        assert spec.owners == ["team:coproff"] and spec.kinds == set(SOURCES[a.key.path[-1]].kinds)
        assert spec.kinds in ({"postgres", "csv"}, {"postgres", "geojson"})
        cols = spec.metadata["dagster/column_schema"].columns
        assert cols[0].name == "millesime" and cols[0].description.startswith("Millésime")
        assert a.partitions_def is millesime_partitions
    assert AssetKey(["staging", "ff_parcelle"]) in SOURCE_ASSETS[0].asset_deps[AssetKey(["staging", "rnic"])]


def test_an_unreadable_file_fails_the_asset_naming_file_and_problem(fresh_db, tmp_path):
    landing = tmp_path / "landing"
    folder = landing / "2023" / "rnic"
    folder.mkdir(parents=True)
    (folder / "rnic_93.csv").write_text("epci,commune\n200057875,93010\n", encoding="utf-8")
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(millesime_partitions.name, ["2023"])
    rnic = [a for a in SOURCE_ASSETS if a.key.path[-1] == "rnic"]
    result = materialize(rnic, resources={"postgis": fresh_db, "landing": LandingZone(path=str(landing))},
                         partition_key="2023", instance=instance, raise_on_error=False)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = str(failure.event_specific_data.error.cause or failure.event_specific_data.error)
    assert "2023/rnic/rnic_93.csv, line 1: missing required column(s) numero_d_immatriculation" in message
