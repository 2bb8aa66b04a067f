"""Duplicate flags (coproff.doublons) and the doublon_suspect flag of coproff.coproff."""

import datetime as dt

from coproff_platform import reference
from coproff_platform.models.fixtures import PARIS, Fixture, build_referential, rows

# mandate labels of the registry (dbt_like_sql/reference/mandats.csv)
RUNNING = next(r.libelle for r in reference.table("mandats") if r.en_cours)
EXPIRED = next(r.libelle for r in reference.table("mandats") if r.expire)
NONE_RUNNING = next(r.libelle for r in reference.table("mandats") if not r.en_cours and not r.expire)

X, Y = PARIS


def pairs(db):
    return {(r.idcopro_a, r.idcopro_b): r for r in rows(db, "select * from coproff.doublons where millesime = 2023")}


def suspects(db):
    return {r[0] for r in rows(db, "select idcopro from coproff.coproff where doublon_suspect")}


def test_a_re_registration_after_a_syndic_change_is_flagged(fresh_db):
    fx = Fixture()
    tup = fx.copro_tup("75115000DF0112", X, Y)
    common = dict(numero_voie="12 rue de la Convention", code_postal="75015", lots_total=40, nom_copro="Les Tilleuls")
    fx.registration("AA0000001", x=X, y=Y, idpar=[tup], mandat=EXPIRED,
                    date_immat=dt.date(2017, 3, 1), date_fin_mandat=dt.date(2021, 6, 30), **common)
    fx.registration("AB0000002", x=X + 2, y=Y + 1, mandat=RUNNING, date_immat=dt.date(2022, 1, 10),
                    **{**common, "numero_voie": "12, Rue de la Convention"})
    fx.write(fresh_db)
    build_referential(fresh_db)
    found = pairs(fresh_db)
    assert set(found) == {("RNC_AA0000001", "RNC_AB0000002")}
    pair = found[("RNC_AA0000001", "RNC_AB0000002")]
    assert pair.kind == "double_immatriculation" and pair.score >= 0.6
    assert "meme_adresse" in pair.reason and "un_mandat_termine" in pair.reason
    assert suspects(fresh_db) == {"RNC_AA0000001", "RNC_AB0000002"}


def test_a_principal_secondary_pair_is_not_flagged_as_a_duplicate_registration(fresh_db):
    fx = Fixture()
    tup = fx.copro_tup("75115000DF0112", X, Y, size=60)
    common = dict(numero_voie="12 rue de la Convention", code_postal="75015", lots_total=40, mandat=RUNNING)
    fx.registration("AA0000001", x=X, y=Y, idpar=[tup], syndicat_principal=True, **common)
    fx.registration("AA0000002", x=X + 5, y=Y, idpar=[tup], syndicat_principal=False,
                    num_immat_principal="AA0000001", **{**common, "mandat": "Mandat expiré sans successeur déclaré"})
    fx.write(fresh_db)
    build_referential(fresh_db)
    assert pairs(fresh_db) == {}
    assert suspects(fresh_db) == set()


def test_a_registration_on_a_tup_without_ff_copropriete_near_an_ff_only_one_is_a_double_count(fresh_db):
    fx = Fixture()
    fx.plain_tup("75115000DF0001", X, Y)
    fx.copro_tup("75115000DF0002", X + 30, Y, nloghcopro=11)  # FF-only copropriété next door, same dwellings
    fx.copro_tup("75115000DF0003", X - 30, Y, nloghcopro=30)  # next door too, but other dwellings
    fx.registration("AA0000001", x=X, y=Y, lots_hab=10)
    fx.write(fresh_db)
    build_referential(fresh_db)
    found = pairs(fresh_db)
    assert set(found) == {("RNC_AA0000001", "FF_75115000DF0002")}
    assert found[("RNC_AA0000001", "FF_75115000DF0002")].kind == "double_compte_ff"
    assert suspects(fresh_db) == {"RNC_AA0000001", "FF_75115000DF0002"}


def test_an_unmatched_registration_near_an_ff_only_copropriete_with_similar_dwellings_is_flagged(fresh_db):
    fx = Fixture()
    fx.copro_tup("75115000DF0002", X + 150, Y, nloghcopro=24)
    fx.copro_tup("75115000DF0003", X - 120, Y, nloghcopro=6)  # nearer, but not the same dwellings
    fx.registration("AA0000001", x=X, y=Y, lots_hab=25)
    fx.write(fresh_db)
    build_referential(fresh_db)
    found = pairs(fresh_db)
    assert set(found) == {("RNC_AA0000001", "FF_75115000DF0002")}
    assert found[("RNC_AA0000001", "FF_75115000DF0002")].kind == "non_apparie_proche_ff"


def test_same_street_same_lots_at_another_number_is_not_a_duplicate_registration(fresh_db):
    fx = Fixture()
    fx.copro_tup("75115000DF0001", X, Y)
    fx.copro_tup("75115000DF0002", X + 30, Y)
    common = dict(code_postal="75011", lots_total=7, lots_hab=4)
    fx.registration("AA0000001", x=X, y=Y, numero_voie="10-12 r de la Paix", mandat=NONE_RUNNING, **common)
    fx.registration("AA0000002", x=X + 30, y=Y, numero_voie="52-54 rue de la Paix", mandat=RUNNING, **common)
    fx.write(fresh_db)
    build_referential(fresh_db)
    assert pairs(fresh_db) == {}


def test_the_duplicate_rules_read_their_distances_tolerances_and_scores_from_the_reference_parameters(fresh_db):
    import sqlalchemy as sa

    from coproff_platform.models.build import build_all
    from coproff_platform.models.fixtures import REFERENTIAL_TABLES, ancestors
    from coproff_platform.models.project import project

    fx = Fixture()
    fx.copro_tup("75115000DF0002", X + 150, Y, nloghcopro=27)  # its edge 135 m east of the point
    fx.registration("AA0000001", x=X, y=Y, lots_hab=25)  # unmatched; 2 dwellings apart: within 10 %
    fx.plain_tup("75115000DF0011", X, Y + 500)
    fx.copro_tup("75115000DF0012", X + 30, Y + 500, nloghcopro=11)  # next door, one dwelling apart
    fx.registration("AA0000002", x=X, y=Y + 500, lots_hab=10)
    fx.write(fresh_db)
    build_referential(fresh_db)
    found = {(p.kind, p.idcopro_b): p for p in pairs(fresh_db).values()}
    assert set(found) == {("non_apparie_proche_ff", "FF_75115000DF0002"), ("double_compte_ff", "FF_75115000DF0012")}
    near, double = found[("non_apparie_proche_ff", "FF_75115000DF0002")], found[("double_compte_ff", "FF_75115000DF0012")]
    shipped = {code: reference.parameter(code) for code in (
        "doublons_non_apparie_score_distance_nulle_m", "doublons_score_double_compte_ff_ecart_logements",
        "doublons_ecart_logements_part_max")}
    assert (round(near.score, 2), double.score) == (
        round(1 - float(near.distance_m) / shipped["doublons_non_apparie_score_distance_nulle_m"], 2),
        shipped["doublons_score_double_compte_ff_ecart_logements"])
    with fresh_db.engine.begin() as conn:
        for code, value in (("doublons_non_apparie_score_distance_nulle_m", "270"),
                            ("doublons_score_double_compte_ff_ecart_logements", "0.65"),
                            ("doublons_ecart_logements_part_max", "0.05")):
            conn.execute(sa.text("update ref.parametres set valeur = :v where code = :c"), {"v": value, "c": code})
    wanted = ancestors(REFERENTIAL_TABLES)
    build_all(fresh_db, 2023, [m for m in project() if m.table in wanted], with_audits=False)
    found = {(p.kind, p.idcopro_b): p for p in pairs(fresh_db).values()}
    # 2 of 27 dwellings is beyond 5 %: no longer the same dwellings; one dwelling still is
    assert set(found) == {("double_compte_ff", "FF_75115000DF0012")}
    assert found[("double_compte_ff", "FF_75115000DF0012")].score == 0.65
    with fresh_db.engine.begin() as conn:
        conn.execute(sa.text("update ref.parametres set valeur = :v where code = 'doublons_ecart_logements_part_max'"),
                     {"v": str(shipped["doublons_ecart_logements_part_max"])})
        conn.execute(sa.text("update ref.parametres set valeur = '130' where code = 'doublons_non_apparie_distance_max_m'"))
    build_all(fresh_db, 2023, [m for m in project() if m.table in wanted], with_audits=False)
    assert {p.kind for p in pairs(fresh_db).values()} == {"double_compte_ff"}  # 135 m is beyond 130 m
