"""The referential coproff.coproff: situations, FF-only rule, geometry, personal data."""

import pytest
import sqlalchemy as sa
from pyproj import Transformer

from coproff_platform.models.fixtures import PARIS, REUNION, Fixture, build_referential, rows

X, Y = PARIS


def referential(db):
    return {r.idcopro: r for r in rows(db, "select * from coproff.coproff where millesime = 2023")}


def test_two_registrations_on_one_tup_give_rnic_1_n_with_copro_tup_2(fresh_db):
    fx = Fixture()
    shared = fx.copro_tup("75115000DF0112", X, Y, size=60)
    fx.copro_tup("75115000DF0300", X + 500, Y)
    fx.registration("AA0000001", x=X - 10, y=Y, idpar=[shared])
    fx.registration("AA0000002", x=X + 10, y=Y + 5)
    fx.registration("AA0000003", x=X + 500, y=Y)
    fx.write(fresh_db)
    build_referential(fresh_db)
    ref = referential(fresh_db)
    for idcopro in ("RNC_AA0000001", "RNC_AA0000002"):
        assert (ref[idcopro].situation, ref[idcopro].copro_tup, ref[idcopro].indicatif) == ("rnic_1_n", 2, True)
    assert (ref["RNC_AA0000003"].situation, ref["RNC_AA0000003"].copro_tup) == ("rnic_1_1", 1)


def test_an_ff_divided_property_with_one_dwelling_is_not_a_copropriete(fresh_db):
    fx = Fixture()
    fx.copro_tup("75115000DF0001", X, Y, nloghcopro=1)
    fx.copro_tup("75115000DF0002", X + 200, Y, nloghcopro=2)
    fx.plain_tup("75115000DF0003", X + 400, Y, nlogh=8)  # dwellings but no divided property
    fx.write(fresh_db)
    build_referential(fresh_db)
    assert set(referential(fresh_db)) == {"FF_75115000DF0002"}


def test_ff_only_rows_and_unmatched_registrations_follow_the_idcopro_prefix_rule(fresh_db):
    fx = Fixture()
    fx.copro_tup("75115000DF0002", X + 200, Y)
    fx.registration("AA0000009")
    fx.write(fresh_db)
    build_referential(fresh_db)
    ref = referential(fresh_db)
    assert ref["FF_75115000DF0002"].situation == "ff_only" and ref["FF_75115000DF0002"].num_immat is None
    assert ref["RNC_AA0000009"].situation == "rnic_unmatched" and ref["RNC_AA0000009"].geom is None


def test_a_registration_on_a_tup_without_ff_copropriete_is_flagged_tup_sans_copro_ff(fresh_db):
    fx = Fixture()
    fx.plain_tup("75115000DF0001", X, Y, nlogh=1)
    fx.registration("AA0000001", x=X, y=Y)
    fx.write(fresh_db)
    build_referential(fresh_db)
    row = referential(fresh_db)["RNC_AA0000001"]
    assert (row.situation, row.tup_sans_copro_ff) == ("rnic_1_1", True)


def test_a_reunion_tup_point_reprojects_to_the_right_wgs84_position(fresh_db):
    x, y = REUNION
    fx = Fixture()
    fx.copro_tup("97411000AB0001", x, y, srid=2975)
    fx.write(fresh_db)
    # The loader's WGS84 copy is not trusted: the model reprojects from the local projection.
    with fresh_db.engine.begin() as conn:
        conn.execute(sa.text("update staging.ff_tup set geompoint_4326 = null, geomtup_4326 = null"))
    build_referential(fresh_db)
    [(lon, lat, srid)] = rows(fresh_db, "select ST_X(geom), ST_Y(geom), ST_SRID(geom) from coproff.coproff")
    exp_lon, exp_lat = Transformer.from_crs(2975, 4326, always_xy=True).transform(x, y)
    assert srid == 4326
    assert (lon, lat) == (pytest.approx(exp_lon, abs=1e-6), pytest.approx(exp_lat, abs=1e-6))
    assert 55.2 < lon < 55.6 and -21.0 < lat < -20.8  # Saint-Denis


def test_a_registered_copropriete_keeps_its_rnic_point(fresh_db):
    fx = Fixture()
    fx.copro_tup("75115000DF0001", X, Y)
    fx.registration("AA0000001", x=X + 3, y=Y + 4)
    fx.write(fresh_db)
    build_referential(fresh_db)
    [(source, dist)] = rows(
        fresh_db,
        "select c.source_geom, ST_Distance(c.geom::geography, r.geom::geography) from coproff.coproff c "
        "join staging.rnic r using (num_immat)",
    )
    assert source == "rnic" and dist == 0


def test_a_volunteer_syndic_name_is_never_published(fresh_db):
    fx = Fixture()
    fx.copro_tup("75115000DF0001", X, Y)
    fx.copro_tup("75115000DF0002", X + 300, Y)
    fx.registration("AA0000001", x=X, y=Y, type_syndic="bénévole", syndic_raison_sociale="Jeanne Martin")
    fx.registration("AA0000002", x=X + 300, y=Y, type_syndic="professionnel", syndic_raison_sociale="FONCIA PARIS")
    fx.write(fresh_db)
    build_referential(fresh_db)
    ref = referential(fresh_db)
    assert ref["RNC_AA0000001"].syndic_raison_sociale is None
    assert ref["RNC_AA0000002"].syndic_raison_sociale == "FONCIA PARIS"
