"""End to end on a generated millésime: the sample generator's files through the Dagster source assets."""

import argparse

import sqlalchemy as sa
from dagster import DagsterInstance, materialize

from coproff_platform import labels as L
from coproff_platform.assets.sources import SOURCE_ASSETS
from coproff_platform.checks.sources import SOURCE_CHECKS
from coproff_platform.partitions import millesime_partitions
from coproff_platform.resources.landing import LandingZone
from coproff_platform.sample import cli as sample_cli


def test_generated_millesime_loads_through_the_source_assets(fresh_db, tmp_path):
    landing, truth = tmp_path / "landing", tmp_path / "truth"
    args = argparse.Namespace(millesime=2023, years=None, departements="75,974", copros=200, seed=7,
                              rnic_format="labels", landing=landing, truth=truth)
    assert sample_cli.run(args) == 0
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(millesime_partitions.name, ["2023"])
    result = materialize(
        [*SOURCE_ASSETS, *SOURCE_CHECKS],
        resources={"postgis": fresh_db, "landing": LandingZone(path=str(landing))},
        partition_key="2023",
        instance=instance,
    )
    assert result.success
    mats = [e.event_specific_data.materialization for e in result.get_asset_materialization_events()]
    assert {m.asset_key.path[-1] for m in mats} == {"rnic", "ff_parcelle", "ff_tup", "cadastre_parcelle", "dpe",
                                                    "dvf", "dv3f", "lovac"}
    # The sample has no DV3F (restricted, optional) and no open cadastre (it has ff/): both 0 rows
    # with a note, the build goes on.
    for absent in ("dv3f", "cadastre_parcelle"):
        md = next(m for m in mats if m.asset_key.path[-1] == absent).metadata
        assert (md[L.LIGNES_LUES].value, md[L.SOURCE_PRESENTE].value) == (0, False) and md[L.NOTE].value
    mats = [m for m in mats if m.asset_key.path[-1] not in ("dv3f", "cadastre_parcelle")]
    with fresh_db.engine.connect() as conn:
        for m in mats:
            md = m.metadata
            assert m.partition == "2023"
            assert md[L.LIGNES_LUES].value == md[L.LIGNES_CHARGEES].value + md[L.LIGNES_EN_QUARANTAINE].value > 0
            table = md["table"].value
            assert conn.execute(sa.text(f"select count(*) from {table} where millesime = 2023")).scalar() == \
                md[L.LIGNES_CHARGEES].value
        # The older French-label header was mapped entirely, Paris references in arrondissement form.
        rnic = next(m for m in mats if m.asset_key.path[-1] == "rnic").metadata
        assert rnic[L.COLONNES_INCONNUES].value["nombre"] == 0
        assert conn.execute(sa.text(
            "select count(*) from staging.rnic where idpar_1 like '75056%'")).scalar() == 0
        assert conn.execute(sa.text(
            "select count(*) from staging.rnic r join staging.ff_parcelle p using (millesime) "
            "where p.idpar = r.idpar_1 and r.idpar_1 like '751%'")).scalar() > 0
        # Réunion parcels reprojected from EPSG:2975 land in Réunion.
        assert conn.execute(sa.text(
            "select bool_and(st_x(geompoint_4326) between 55.1 and 55.95) from staging.ff_tup where srid = 2975")).scalar()
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == len(SOURCE_ASSETS) and all(e.passed and e.partition == "2023" for e in evaluations)
