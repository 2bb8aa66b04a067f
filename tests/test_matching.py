"""RNIC ↔ TUP matching rules (intermediate.tup_match / coproff.appariement), one rule per test."""

import sqlalchemy as sa

from coproff_platform.models.fixtures import PARIS, Fixture, build_referential, rows
from coproff_platform.normalise import idpar as normalise_idpar

X, Y = PARIS


def match(db, num_immat):
    return rows(db, "select idtup, methode, motif, nb_candidats, distance_m from coproff.appariement "
                    "where millesime = 2023 and num_immat = :n", n=num_immat)[0]


def test_paris_reference_in_registry_form_matches_the_arrondissement_parcel(fresh_db):
    fx = Fixture()
    parcel = fx.copro_tup("75115000DF0112", X, Y)
    fx.copro_tup("75115000DF0113", X + 30, Y)  # the point below lies in this neighbour
    staged = normalise_idpar("75056115DF0112")  # the registry writes Paris + arrondissement in the prefix
    assert staged == parcel
    fx.registration("AA0000001", x=X + 22, y=Y, idpar=[staged])
    fx.write(fresh_db)
    build_referential(fresh_db)
    idtup, methode, motif, _, distance = match(fresh_db, "AA0000001")
    assert (idtup, methode, motif) == (parcel, "idpar", "idpar_point_a_moins_de_100m")
    assert 5 <= float(distance) <= 9  # the point is 7 m east of the parcel's edge


def test_a_reference_to_a_parcel_300_m_from_the_point_falls_through_to_location_matching(fresh_db):
    fx = Fixture()
    far = fx.copro_tup("75115000DF0200", X + 300, Y)
    here = fx.copro_tup("75115000DF0112", X, Y)
    fx.registration("AA0000001", x=X, y=Y, idpar=[far])
    fx.write(fresh_db)
    build_referential(fresh_db)
    assert match(fresh_db, "AA0000001")[:3] == (here, "geoloc", "geoloc_point_dans_tup_reference_lointaine")


def test_a_reference_without_a_point_is_accepted(fresh_db):
    fx = Fixture()
    parcel = fx.copro_tup("75115000DF0112", X, Y)
    fx.registration("AA0000001", idpar=[parcel])
    fx.write(fresh_db)
    build_referential(fresh_db)
    assert match(fresh_db, "AA0000001")[:3] == (parcel, "idpar", "idpar_sans_point_precis")


def test_references_to_several_tups_pick_the_one_most_references_lead_to(fresh_db):
    fx = Fixture()
    fx.parcel("75115000DF0001", X, Y)
    fx.parcel("75115000DF0002", X + 30, Y)
    two = fx.tup("pdlmp75115000DF0001", ["75115000DF0001", "75115000DF0002"], typetup="PDLMP", ctpdl="CL", nloghcopro=20)
    one = fx.copro_tup("75115000DF0003", X + 60, Y)
    fx.registration("AA0000001", x=X + 60, y=Y, idpar=["75115000DF0003", "75115000DF0001", "75115000DF0002"])
    fx.write(fresh_db)
    build_referential(fresh_db)
    idtup, methode, motif, nb, _ = match(fresh_db, "AA0000001")
    assert (idtup, methode, motif, nb) == (two, "idpar", "idpar_plusieurs_tup_plus_de_references", 2)
    assert one != two


def test_a_point_outside_any_tup_takes_the_nearest_ff_copropriete_within_100_m(fresh_db):
    fx = Fixture()
    fx.plain_tup("75115000DF0001", X - 80, Y)  # nearer, but FF shows no copropriété on it
    near = fx.copro_tup("75115000DF0002", X + 60, Y)
    fx.copro_tup("75115000DF0003", X + 95, Y)
    fx.registration("AA0000001", x=X, y=Y)
    fx.write(fresh_db)
    build_referential(fresh_db)
    idtup, methode, motif, nb, distance = match(fresh_db, "AA0000001")
    assert (idtup, methode, motif, nb) == (near, "geoloc", "geoloc_tup_copro_ff_a_moins_de_100m", 2)
    assert 44 <= float(distance) <= 46


def test_no_tup_at_the_point_nor_within_100_m_leaves_the_registration_unmatched(fresh_db):
    fx = Fixture()
    fx.copro_tup("75115000DF0002", X + 150, Y)
    fx.registration("AA0000001", x=X, y=Y)
    fx.registration("AA0000002")
    fx.registration("AA0000003", x=X, y=Y - 20, idpar=["75115000ZZ9999"])  # a parcel FF does not know
    fx.write(fresh_db)
    build_referential(fresh_db)
    assert match(fresh_db, "AA0000001")[:3] == (None, "none", "none_aucune_tup_au_point_ni_a_moins_de_100m")
    assert match(fresh_db, "AA0000002")[:3] == (None, "none", "none_ni_reference_ni_point")
    assert match(fresh_db, "AA0000003")[:3] == (None, "none", "none_references_absentes_des_parcelles_aucune_tup_au_point")


def test_an_imprecise_point_neither_rejects_a_reference_nor_locates_a_tup(fresh_db):
    fx = Fixture()
    parcel = fx.copro_tup("75115000DF0112", X, Y)
    fx.copro_tup("75115000DF0300", X + 900, Y)
    fx.write(fresh_db)
    with fresh_db.engine.begin() as conn:  # registry points truncated to 2 decimals, ~1 km off
        conn.execute(sa.text(
            "insert into staging.rnic (millesime, num_immat, l_idpar, geom, source_file, source_line) values "
            "(2023, 'AA0000001', array[:p], ST_SetSRID(ST_MakePoint(2.29, 48.82), 4326), 'f', 2), "
            "(2023, 'AA0000002', '{}', ST_SetSRID(ST_MakePoint(2.29, 48.82), 4326), 'f', 3)"), {"p": parcel})
    build_referential(fresh_db)
    assert match(fresh_db, "AA0000001")[:3] == (parcel, "idpar", "idpar_sans_point_precis")
    assert match(fresh_db, "AA0000002")[:3] == (None, "none", "none_point_imprecis_sans_reference")


def test_references_to_two_tups_equally_prefer_the_one_holding_an_ff_copropriete(fresh_db):
    fx = Fixture()
    plain = fx.plain_tup("75115000DF0001", X, Y)
    copro = fx.copro_tup("75115000DF0002", X + 30, Y)
    fx.registration("AA0000001", x=X, y=Y, idpar=[plain, copro])
    fx.write(fresh_db)
    build_referential(fresh_db)
    assert match(fresh_db, "AA0000001")[:4] == (copro, "idpar", "idpar_plusieurs_tup_seule_copro_ff", 2)
