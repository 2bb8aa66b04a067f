"""Open-cadastre mode, SQL side: a millésime without FF builds its TUPs from the open cadastre.

Rules proved here (dbt_like_sql/models/intermediate/tup.sql, parcelle.sql, tup_match.sql):
each cadastral parcel is a SIMPLE TUP whose idtup is its idpar, FF attributes are NULL, no TUP
holds an FF copropriété (no FF-only copropriété); with both sources FF wins; the whole referential
(matching, base, indicators, statistics) builds from RNIC + cadastre only, on real parcels.
"""

import sqlalchemy as sa

from coproff_platform.models.build import build_all
from coproff_platform.models.facade_plant import load_cadastre, measure, plant
from coproff_platform.models.fixtures import PARIS, Fixture, build_referential, rows
from coproff_platform.models.project import project

X, Y = PARIS


def test_open_cadastre_parcels_are_simple_tups_when_ff_is_absent(fresh_db):
    fx = Fixture()
    fx.cadastre_parcel("75115000DF0112", X, Y)
    fx.cadastre_parcel("75115000DF0113", X + 30, Y)
    fx.registration("AA0000001", x=X - 17, y=Y)  # façade point 2 m west of DF0112
    fx.registration("AA0000002", x=X + 22, y=Y, idpar=["75115000DF0112"])  # point in DF0113, reference DF0112
    fx.write(fresh_db)
    build_referential(fresh_db)
    tups = rows(fresh_db, "select idtup, typetup, l_idpar, nparcel, source_parcelles, copro_ff, ctpdl, nloghcopro, "
                          "an_const, idcom, code_departement from intermediate.tup where millesime = 2023 order by idtup")
    assert tups == [
        ("75115000DF0112", "SIMPLE", ["75115000DF0112"], 1, "cadastre", False, None, None, None, "75115", "75"),
        ("75115000DF0113", "SIMPLE", ["75115000DF0113"], 1, "cadastre", False, None, None, None, "75115", "75"),
    ]
    matches = rows(fresh_db, "select num_immat, idtup, motif from coproff.appariement where millesime = 2023 "
                             "order by num_immat")
    assert matches == [("AA0000001", "75115000DF0112", "geoloc_facade"),
                       ("AA0000002", "75115000DF0112", "idpar_point_a_moins_de_100m")]
    situations = rows(fresh_db, "select situation, count(*) from coproff.coproff where millesime = 2023 "
                                "group by situation order by situation")
    assert situations == [("rnic_1_n", 2)]  # both on DF0112, and no FF-only copropriété
    # without FF, "matched to a TUP where FF shows no copropriété" is unknown, not true
    assert rows(fresh_db, "select distinct tup_sans_copro_ff from coproff.coproff where millesime = 2023") == [(None,)]


def test_ff_wins_when_both_parcel_sources_exist(fresh_db):
    fx = Fixture()
    ff = fx.copro_tup("75115000DF0112", X, Y)
    fx.cadastre_parcel("75115000DF0900", X + 300, Y)  # only in the cadastre: not a TUP of this millésime
    fx.registration("AA0000001", x=X + 300, y=Y, idpar=["75115000DF0900"])
    fx.registration("AA0000002", x=X + 16, y=Y)
    fx.write(fresh_db)
    build_referential(fresh_db)
    assert rows(fresh_db, "select idtup, source_parcelles from intermediate.tup where millesime = 2023") == [(ff, "ff")]
    assert rows(fresh_db, "select distinct source_parcelles from intermediate.parcelle where millesime = 2023") == [("ff",)]
    matches = dict(rows(fresh_db, "select num_immat, motif from coproff.appariement where millesime = 2023"))
    assert matches == {"AA0000001": "none_references_absentes_des_parcelles_aucune_tup_au_point",
                       "AA0000002": "geoloc_facade"}


def test_the_referential_builds_from_rnic_and_a_real_cadastre_only(fresh_db, realdata):
    # a ~450 m × 450 m window of the real Paris 18e cadastre, façade points planted as real ones sit
    with fresh_db.engine.begin() as conn:
        parcels = load_cadastre(conn, realdata / "cadastre-75118-parcelles.json.gz", 2023,
                                window=(2.340, 48.888, 2.346, 48.892))
        planted = plant(conn, 2023, 150, seed=7)
    assert 200 <= parcels <= 700
    build_all(fresh_db, 2023, list(project()), with_audits=False)  # every model, indicators and statistics
    with fresh_db.engine.begin() as conn:
        m = measure(conn, 2023)
    assert m["registrations"] == len(planted) == 150
    assert m["outside_share"] >= 0.6  # most points outside every parcel, as real registry points
    assert m["unmatched_share"] <= 0.02
    assert m["agreement_independent"] >= 0.95
    assert rows(fresh_db, "select count(*) from intermediate.tup where millesime = 2023 and source_parcelles <> 'cadastre'") == [(0,)]
    counts = dict(rows(fresh_db, "select situation, count(*) from coproff.coproff where millesime = 2023 group by 1"))
    assert "ff_only" not in counts and sum(counts.values()) == 150
    with fresh_db.engine.connect() as conn:
        for table in ("coproff.stats_situations", "coproff.stats_ecart_logements", "intermediate.indicateurs"):
            assert conn.execute(sa.text(f"select count(*) from {table} where millesime = 2023")).scalar() > 0, table
        for table in ("coproff.stats_situations", "coproff.stats_ecart_logements", "coproff.stats_evolution",
                      "coproff.stats_coherence_construction", "coproff.stats_immatriculation_alur"):
            sources = conn.execute(sa.text(f"select distinct source_parcelles from {table} where millesime = 2023"))
            assert sources.scalars().all() == ["cadastre"], table  # the statistics say they count on cadastre parcels
