"""The coherence audits inside the model runner: evaluations carry their millésime partition, the
statistics carry their tables, and a broken blocking rule keeps the published millésime."""

from __future__ import annotations

import base64
import dataclasses

import pytest
import sqlalchemy as sa
from dagster import DagsterInstance, materialize

from coproff_platform import labels as L
from coproff_platform.assets.models import MODEL_ASSETS
from coproff_platform.checks.audits import audits_for
from coproff_platform.checks.metadata_hooks import metadata_for
from coproff_platform.models.build import AuditFailed, build_all, build_model
from coproff_platform.models.fixtures import PARIS, Fixture
from coproff_platform.models.project import project
from coproff_platform.partitions import millesime_partitions

X, Y = PARIS
M = 2023


def _sample(db) -> None:
    fx = Fixture()
    fx.copro_tup("75115000DF0001", X, Y, nloghcopro=10)
    fx.copro_tup("75115000DF0002", X + 100, Y, nloghcopro=30)
    fx.copro_tup("75115000DF0003", X + 200, Y, nloghcopro=8)  # FF-only
    fx.registration("AA0000001", x=X, y=Y, idpar=["75115000DF0001"], lots_hab=10)
    fx.registration("AA0000002", x=X + 100, y=Y, idpar=["75115000DF0002"], lots_hab=20)
    fx.registration("AA0000003", x=X + 101, y=Y, idpar=["75115000DF0002"], lots_hab=10)
    fx.registration("AA0000004", lots_hab=5)  # no point, no reference: unmatched, no geometry
    fx.copro_tup("75115000DF0005", X + 300, Y, nloghcopro=12)
    fx.registration("AA0000005", x=X + 300, y=Y, idpar=["75115000DF0005"], lots_hab=None)  # gap: not filled
    fx.write(db)


@pytest.fixture
def instance():
    inst = DagsterInstance.ephemeral()
    inst.add_dynamic_partitions(millesime_partitions.name, [str(M)])
    return inst


def test_audit_evaluations_carry_the_partition_and_the_statistics(fresh_db, instance):
    _sample(fresh_db)
    result = materialize(MODEL_ASSETS, partition_key=str(M), resources={"postgis": fresh_db},
                         instance=instance, raise_on_error=False)
    assert result.success
    evaluations = {(e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()}
    ours = {(a.asset, a.name) for asset in ("coproff/coproff", "coproff/stats_situations",
                                            "coproff/stats_ecart_logements", "coproff/stats_coherence_construction",
                                            "coproff/stats_immatriculation_alur", "coproff/stats_evolution")
            for a in audits_for(asset)}
    assert ours <= set(evaluations)
    for key in ours:
        assert evaluations[key].partition == str(M), key
    for a in audits_for("coproff/coproff"):
        if a.blocking:
            assert evaluations[("coproff/coproff", a.name)].passed, (a.name, evaluations[("coproff/coproff", a.name)].metadata)
    for key in ours - {(a.asset, a.name) for a in audits_for("coproff/coproff")}:
        assert evaluations[key].passed, (key, evaluations[key].metadata)
    with fresh_db.engine.connect() as conn:
        france = conn.execute(sa.text(
            "select nb_copro, nb_rnic_1_1, nb_rnic_1_n, nb_ff_only, nb_rnic_unmatched from coproff.stats_situations "
            "where millesime = :m and niveau = 'france'"), {"m": M}).one()
    assert tuple(france) == (6, 2, 2, 1, 1)
    # the statistics' tables and plots are in their materializations' metadata (metadata hooks)
    gap = result.asset_materializations_for_node("coproff__stats_ecart_logements")[0].metadata
    assert "| Aucun écart | 1 |" in gap[L.CLASSES].value and "base64," in gap[L.GRAPHIQUE].value
    assert L.GRAPHIQUE in result.asset_materializations_for_node("coproff__stats_situations")[0].metadata


def test_statistics_metadata_hooks_render_markdown_tables_and_png_plots(fresh_db):
    _sample(fresh_db)
    build_all(fresh_db, M)
    with fresh_db.engine.connect() as conn:
        gap = metadata_for("coproff/stats_ecart_logements", conn, "coproff.stats_ecart_logements", M)
        alur = metadata_for("coproff/stats_immatriculation_alur", conn, "coproff.stats_immatriculation_alur", M)
    # compared: AA0000001 (10 lots, 10 FF dwellings) and AA0000005 (lots not filled);
    # out of scope: AA0000002/3 share a TUP, AA0000004 is unmatched
    assert "| Aucun écart | 1 | 50.0% | 100.0% | 48.0% |" in gap[L.CLASSES].value
    image = gap[L.GRAPHIQUE].value
    assert image.startswith("![") and base64.b64decode(image.split("base64,")[1].rstrip(")"))[:8] == b"\x89PNG\r\n\x1a\n"
    assert "2016-12-31" in alur[L.TAUX].value and L.GRAPHIQUE in alur


def test_a_duplicated_idcopro_blocks_the_swap_and_the_published_millesime_stays(fresh_db):
    _sample(fresh_db)
    build_all(fresh_db, M)  # the published version, every audit included
    with fresh_db.engine.connect() as conn:
        before = conn.execute(sa.text("select idcopro from coproff.coproff where millesime = :m order by 1"),
                              {"m": M}).scalars().all()
    model = next(m for m in project() if m.table == "coproff.coproff")
    broken = dataclasses.replace(model, sql=f"select * from ({model.sql}\n) q union all "
                                            f"select * from ({model.sql}\n) q where num_immat = 'AA0000001'")
    with pytest.raises(AuditFailed) as failure:
        build_model(fresh_db, broken, M, audits_for("coproff/coproff"))
    outcomes = {o.audit.name: o.result for o in failure.value.audits}
    assert not outcomes["idcopro_unique_and_well_formed"].passed
    assert outcomes["idcopro_unique_and_well_formed"].sample[0][:3] == ("RNC_AA0000001", 2, "doublon")
    assert not outcomes["every_registration_once"].passed
    with fresh_db.engine.connect() as conn:
        after = conn.execute(sa.text("select idcopro from coproff.coproff where millesime = :m order by 1"),
                             {"m": M}).scalars().all()
    assert after == before and len(before) == 6


def test_a_duplicated_idcopro_fails_the_dagster_run_as_coproff_materialize_reports_it(fresh_db, instance):
    from coproff_platform.assets.models import model_asset
    from coproff_platform.runner import summarize

    _sample(fresh_db)
    build_all(fresh_db, M)
    model = next(m for m in project() if m.table == "coproff.coproff")
    broken = model_asset(dataclasses.replace(
        model, sql=f"select * from ({model.sql}\n) q union all "
                   f"select * from ({model.sql}\n) q where num_immat = 'AA0000002'"))
    result = materialize([broken], partition_key=str(M), resources={"postgis": fresh_db},
                         instance=instance, raise_on_error=False)
    lines, blocking_failed = summarize(result)
    assert not result.success and blocking_failed  # `coproff materialize` exits 1 on either
    failed = {e.check_name: e for e in result.get_asset_check_evaluations() if not e.passed}
    assert failed["idcopro_unique_and_well_formed"].severity.value == "ERROR"
    assert failed["idcopro_unique_and_well_formed"].partition == str(M)
    with fresh_db.engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from coproff.coproff where millesime = :m"),
                            {"m": M}).scalar() == 6
