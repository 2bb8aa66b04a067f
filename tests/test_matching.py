"""RNIC ↔ TUP matching rules (intermediate.tup_match / coproff.appariement), one rule per test."""

import sqlalchemy as sa

from coproff_platform.models.build import build_all
from coproff_platform.models.fixtures import PARIS, REFERENTIAL_TABLES, Fixture, ancestors, build_referential, rows
from coproff_platform.models.project import project
from coproff_platform.normalise import idpar as normalise_idpar
from coproff_platform.normalise import idpar_ref_or_parts as normalise_ref_or_parts

X, Y = PARIS


def build_models(db):
    """Rebuilds the referential's models without reloading the reference layer."""
    wanted = ancestors(REFERENTIAL_TABLES)
    build_all(db, 2023, [m for m in project() if m.table in wanted], with_audits=False)


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


def _one_parcel_tup_beside_a_two_parcel_tup() -> tuple[Fixture, str, str, list[str]]:
    """A TUP of two parcels (DF0001, DF0002) and, east of it, a TUP of one (DF0003); the references
    list the address parcel DF0003 first, then the two parcels of the neighbouring TUP."""
    fx = Fixture()
    fx.parcel("75115000DF0001", X, Y)
    fx.parcel("75115000DF0002", X + 30, Y)
    two = fx.tup("pdlmp75115000DF0001", ["75115000DF0001", "75115000DF0002"], typetup="PDLMP", ctpdl="CL", nloghcopro=20)
    one = fx.copro_tup("75115000DF0003", X + 60, Y)
    return fx, two, one, ["75115000DF0003", "75115000DF0001", "75115000DF0002"]


def test_references_to_several_tups_pick_the_one_most_references_lead_to_when_none_is_at_the_point(fresh_db):
    fx, two, one, refs = _one_parcel_tup_beside_a_two_parcel_tup()
    fx.registration("AA0000001", idpar=refs)  # no point
    fx.registration("AA0000002", x=X + 45, y=Y, idpar=refs)  # on the edge both TUPs share
    fx.registration("AA0000003", x=X + 60, y=Y + 40, idpar=refs)  # 25 m from both: beyond a façade
    fx.write(fresh_db)
    build_referential(fresh_db)
    for num_immat in ("AA0000001", "AA0000002", "AA0000003"):
        idtup, methode, motif, nb, _ = match(fresh_db, num_immat)
        assert (idtup, methode, motif, nb) == (two, "idpar", "idpar_plusieurs_tup_plus_de_references", 2), num_immat
    assert one != two


def test_idpar_plusieurs_tup_au_point_takes_the_tup_at_the_point_over_the_one_more_references_lead_to(fresh_db):
    fx, two, one, refs = _one_parcel_tup_beside_a_two_parcel_tup()
    fx.registration("AA0000001", x=X + 60, y=Y, idpar=refs)  # inside the address parcel
    fx.registration("AA0000002", x=X + 70, y=Y - 17, idpar=refs)  # 2 m outside its street side
    # 1 m nearer to it than to the neighbour: within an address point's precision, the count decides
    fx.registration("AA0000003", x=X + 45.5, y=Y - 16, idpar=refs)
    fx.write(fresh_db)
    build_referential(fresh_db)
    idtup, methode, motif, nb, distance = match(fresh_db, "AA0000001")
    assert (idtup, methode, motif, nb, float(distance)) == (one, "idpar", "idpar_plusieurs_tup_au_point", 2, 0.0)
    assert match(fresh_db, "AA0000002")[:4] == (one, "idpar", "idpar_plusieurs_tup_au_point", 2)
    assert match(fresh_db, "AA0000003")[:3] == (two, "idpar", "idpar_plusieurs_tup_plus_de_references")


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


def test_references_to_two_tups_equally_near_prefer_the_one_holding_an_ff_copropriete(fresh_db):
    fx = Fixture()
    plain = fx.plain_tup("75115000DF0001", X, Y)
    copro = fx.copro_tup("75115000DF0002", X + 30, Y)
    fx.registration("AA0000001", x=X + 15, y=Y + 5, idpar=[plain, copro])  # on their shared edge
    fx.write(fresh_db)
    build_referential(fresh_db)
    assert match(fresh_db, "AA0000001")[:4] == (copro, "idpar", "idpar_plusieurs_tup_seule_copro_ff", 2)


# -- façade points (rule 2b) -----------------------------------------------------------------------
# Fixture parcels are 30 m squares centred on (x, y): the east edge of a parcel at X is X + 15.


def test_facade_point_two_metres_outside_matches_the_nearest_tup(fresh_db):
    fx = Fixture()
    facade = fx.plain_tup("75115000DF0001", X, Y)  # FF shows no copropriété: matched all the same
    fx.copro_tup("75115000DF0002", X + 60, Y)  # 28 m away: beyond the façade tolerance
    fx.registration("AA0000001", x=X + 17, y=Y)
    fx.write(fresh_db)
    build_referential(fresh_db)
    idtup, methode, motif, nb, distance = match(fresh_db, "AA0000001")
    assert (idtup, methode, motif, nb) == (facade, "geoloc", "geoloc_facade", 1)
    assert 1.5 <= float(distance) <= 2.5


def test_facade_point_between_two_tups_takes_the_nearer(fresh_db):
    fx = Fixture()
    near = fx.plain_tup("75115000DF0001", X, Y)
    fx.plain_tup("75115000DF0002", X + 37, Y)  # west edge at X + 22, 6 m from the point
    fx.registration("AA0000001", x=X + 16, y=Y)
    fx.write(fresh_db)
    build_referential(fresh_db)
    assert match(fresh_db, "AA0000001")[:4] == (near, "geoloc", "geoloc_facade_plus_proche", 2)


def test_facade_point_prefers_the_tup_of_the_declared_commune(fresh_db):
    fx = Fixture()
    fx.plain_tup("75114000DF0001", X, Y)  # nearer, but in the neighbouring arrondissement
    own = fx.plain_tup("75115000DF0002", X + 37, Y)
    fx.registration("AA0000001", x=X + 16, y=Y, code_commune="75115")
    fx.write(fresh_db)
    build_referential(fresh_db)
    assert match(fresh_db, "AA0000001")[:4] == (own, "geoloc", "geoloc_facade_commune_declaree", 2)


def test_references_to_two_tups_take_the_one_the_point_fronts_before_an_ff_copropriete(fresh_db):
    fx = Fixture()
    fronted = fx.plain_tup("75115000DF0001", X, Y)
    copro = fx.copro_tup("75115000DF0002", X + 30, Y)  # 15 m from the point
    fx.registration("AA0000001", x=X, y=Y, idpar=[fronted, copro])
    fx.write(fresh_db)
    build_referential(fresh_db)
    assert match(fresh_db, "AA0000001")[:4] == (fronted, "idpar", "idpar_plusieurs_tup_plus_proche", 2)


def test_facade_point_takes_the_nearer_tup_before_an_ff_copropriete(fresh_db):
    fx = Fixture()
    near = fx.plain_tup("75115000DF0001", X, Y)
    fx.copro_tup("75115000DF0002", X + 37, Y)  # 6 m from the point
    fx.registration("AA0000001", x=X + 16, y=Y)
    fx.write(fresh_db)
    build_referential(fresh_db)
    assert match(fresh_db, "AA0000001")[:4] == (near, "geoloc", "geoloc_facade_plus_proche", 2)


def test_facade_point_equally_near_to_the_metre_prefers_an_ff_copropriete(fresh_db):
    fx = Fixture()
    fx.plain_tup("75115000DF0001", X, Y)
    copro = fx.copro_tup("75115000DF0002", X + 36.6, Y)  # both edges 3.3 m from the point
    fx.registration("AA0000001", x=X + 18.3, y=Y)
    fx.write(fresh_db)
    build_referential(fresh_db)
    assert match(fresh_db, "AA0000001")[:4] == (copro, "geoloc", "geoloc_facade_seule_copro_ff", 2)


def test_a_point_sixteen_metres_from_every_tup_is_not_a_facade_point(fresh_db):
    fx = Fixture()
    fx.plain_tup("75115000DF0001", X, Y)
    fx.registration("AA0000001", x=X + 31, y=Y)
    fx.write(fresh_db)
    build_referential(fresh_db)
    assert match(fresh_db, "AA0000001")[:3] == (None, "none", "none_aucune_tup_au_point_ni_a_moins_de_100m")


def test_the_facade_tolerance_is_read_from_the_reference_parameters(fresh_db):
    fx = Fixture()
    parcel = fx.plain_tup("75115000DF0001", X, Y)
    fx.registration("AA0000001", x=X + 31, y=Y)  # 16 m east of the parcel
    fx.write(fresh_db)
    build_referential(fresh_db)
    assert match(fresh_db, "AA0000001")[:3] == (None, "none", "none_aucune_tup_au_point_ni_a_moins_de_100m")
    with fresh_db.engine.begin() as conn:
        conn.execute(sa.text("update ref.parametres set valeur = '17' "
                             "where code = 'geoloc_facade_distance_max_m'"))
    build_models(fresh_db)
    assert match(fresh_db, "AA0000001")[:3] == (parcel, "geoloc", "geoloc_facade")


# -- references in their real forms (step 1) --------------------------------------------------------


def test_letter_o_for_the_padding_zero_matches_the_one_letter_section_parcel(fresh_db):
    fx = Fixture()
    parcel = fx.plain_tup("930100000Q0025", X, Y)
    fx.plain_tup("930100000Q0026", X + 30, Y)  # the point lies in this neighbour
    fx.registration("AA0000001", x=X + 22, y=Y, idpar=[normalise_idpar("93010000OQ0025")])
    fx.write(fresh_db)
    build_referential(fresh_db)
    assert match(fresh_db, "AA0000001")[:3] == (parcel, "idpar", "idpar_lettre_o_lue_zero")


def test_a_real_section_starting_with_o_is_read_as_written_first(fresh_db):
    fx = Fixture()
    written = fx.plain_tup("93010000OQ0025", X, Y)
    fx.plain_tup("930100000Q0025", X + 30, Y)
    fx.registration("AA0000001", x=X + 22, y=Y, idpar=["93010000OQ0025"])
    fx.write(fresh_db)
    build_referential(fresh_db)
    assert match(fresh_db, "AA0000001")[:3] == (written, "idpar", "idpar_point_a_moins_de_100m")


def test_lower_case_and_components_only_references_match_their_parcels(fresh_db):
    fx = Fixture()
    lower = fx.plain_tup("93010000AT0094", X, Y)
    parts = fx.plain_tup("930100000E0121", X + 300, Y)
    fx.registration("AA0000001", x=X, y=Y + 40, idpar=[normalise_idpar("93010000at0094")])
    fx.registration("AA0000002", x=X + 300, y=Y + 40,
                    idpar=[normalise_ref_or_parts("", "93010", "000", "E", "121")])
    fx.write(fresh_db)
    build_referential(fresh_db)
    assert match(fresh_db, "AA0000001")[:2] == (lower, "idpar")
    assert match(fresh_db, "AA0000002")[:2] == (parts, "idpar")


# -- absent references fall through to location -----------------------------------------------------


def test_a_reference_absent_from_the_parcels_falls_through_to_location_and_says_so(fresh_db):
    fx = Fixture()
    daughter = fx.plain_tup("930100000L0412", X, Y)  # the parcel was divided: 0L0300 is gone
    fx.registration("AA0000001", x=X + 16, y=Y, idpar=["930100000L0300"])
    fx.write(fresh_db)
    build_referential(fresh_db)
    assert match(fresh_db, "AA0000001")[:3] == (daughter, "geoloc", "geoloc_facade_reference_absente")


def test_a_section_typo_whose_numero_exists_at_the_point_is_a_clue(fresh_db):
    fx = Fixture()
    fx.plain_tup("930100000T0130", X, Y)  # nearer to the point
    typo = fx.plain_tup("930100000T0131", X + 37, Y)  # 6 m away, the numéro the registry gives
    fx.plain_tup("930100000Y0131", X + 757, Y)  # what the reference names, 757 m away
    fx.registration("AA0000001", x=X + 16, y=Y, idpar=["930100000Y0131"])
    fx.write(fresh_db)
    build_referential(fresh_db)
    assert match(fresh_db, "AA0000001")[:3] == (typo, "geoloc", "geoloc_facade_indice_numero_reference_lointaine")


def test_a_clue_never_matches_by_itself(fresh_db):
    fx = Fixture()
    fx.plain_tup("930100000T0131", X, Y)  # the numéro of the reference, 35 m from the point
    fx.registration("AA0000001", x=X + 50, y=Y, idpar=["930100000Y0131"])
    fx.write(fresh_db)
    build_referential(fresh_db)
    assert match(fresh_db, "AA0000001")[:3] == (None, "none", "none_references_absentes_des_parcelles_aucune_tup_au_point")


def test_a_division_in_the_points_section_is_a_clue_among_facade_tups(fresh_db):
    fx = Fixture()
    fx.plain_tup("930100000K0007", X, Y)  # nearer, another section
    same_section = fx.plain_tup("930100000L0412", X + 37, Y)
    fx.registration("AA0000001", x=X + 16, y=Y, idpar=["930100000L0300"])
    fx.write(fresh_db)
    build_referential(fresh_db)
    assert match(fresh_db, "AA0000001")[:3] == (
        same_section, "geoloc", "geoloc_facade_indice_section_reference_absente")


def test_every_reason_code_of_the_matching_is_in_both_dictionaries():
    import re
    from pathlib import Path

    import yaml

    models = Path(__file__).resolve().parents[1] / "dbt_like_sql" / "models"
    sql = (models / "intermediate" / "tup_match.sql").read_text(encoding="utf-8")
    codes = set(re.findall(r"'((?:idpar|geoloc|none)_[a-z0-9_]+|_[a-z][a-z0-9_]+)'", sql))
    assert {"geoloc_facade", "_reference_absente", "idpar_lettre_o_lue_zero", "_indice_numero"} <= codes
    for dictionary in (models / "intermediate" / "tup_match.yml", models / "marts" / "appariement.yml"):
        doc = yaml.safe_load(dictionary.read_text(encoding="utf-8"))
        motif = next(c["description"] for c in doc["columns"] if c["name"] == "motif")
        assert not [c for c in sorted(codes) if c not in motif], dictionary.name


def test_idpar_reference_absente_tup_au_point_takes_the_tup_at_the_point_over_a_row_neighbour(fresh_db):
    fx = Fixture()
    at_point = fx.plain_tup("930100000L0412", X, Y)  # the address parcel, renumbered: 0L0411 is gone
    neighbour = fx.plain_tup("930100000L0413", X + 30, Y)  # the next parcel of the row, listed too
    fx.plain_tup("930100000L0414", X + 60, Y)
    # the point fronts 0L0412 (1 m outside its south side); the first reference is absent
    fx.registration("AA0000001", x=X, y=Y - 16, idpar=["930100000L0411", neighbour])
    # the same without the absent reference: the listed neighbour is taken (rule 1a)
    fx.registration("AA0000002", x=X, y=Y - 16, idpar=[neighbour])
    # an absent reference of another section is no clue: the listed neighbour stays
    fx.registration("AA0000003", x=X, y=Y - 16, idpar=["930100000K0411", neighbour])
    fx.write(fresh_db)
    build_referential(fresh_db)
    idtup, methode, motif, nb, distance = match(fresh_db, "AA0000001")
    assert (idtup, methode, motif, nb) == (at_point, "idpar", "idpar_reference_absente_tup_au_point", 2)
    assert 0.5 <= float(distance) <= 1.5
    assert match(fresh_db, "AA0000002")[:3] == (neighbour, "idpar", "idpar_point_a_moins_de_100m")
    assert match(fresh_db, "AA0000003")[:3] == (neighbour, "idpar", "idpar_point_a_moins_de_100m")


def test_idpar_reference_lointaine_tup_au_point_reads_a_section_typo_at_the_point(fresh_db):
    fx = Fixture()
    at_point = fx.plain_tup("930100000T0131", X, Y)  # the point is inside it
    neighbour = fx.plain_tup("930100000T0132", X + 30, Y)
    fx.plain_tup("930100000Y0131", X + 757, Y)  # what the first reference names, 757 m away
    fx.registration("AA0000001", x=X, y=Y, idpar=["930100000Y0131", neighbour])
    fx.write(fresh_db)
    build_referential(fresh_db)
    assert match(fresh_db, "AA0000001")[:4] == (at_point, "idpar", "idpar_reference_lointaine_tup_au_point", 2)
