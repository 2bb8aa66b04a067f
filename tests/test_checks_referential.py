"""Coherence rules of coproff.coproff (`dbt_like_sql/models/marts/coproff.audits/*.sql`): each audit
passes on a clean millésime and fails on a fixture built to break it. The audits run through the
runner (`checks.audits.run_audit`) against a tiny fresh table in real PostGIS, as before a swap."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from coproff_platform import reference
from coproff_platform.checks.audits import audits_for, run_audit
from coproff_platform.contracts.tables import ensure_partition

M = 2023
FRESH = "coproff.coproff_m2023_new"  # what the runner hands to audits: the unpublished millésime

# Paris 1er, Réunion (Saint-Denis)
PARIS = "st_setsrid(st_makepoint(2.3400, 48.8600), 4326)"
PARIS_2 = "st_setsrid(st_makepoint(2.3410, 48.8610), 4326)"
REUNION = "st_setsrid(st_makepoint(55.4500, -20.8800), 4326)"

COLUMNS = """
    idcopro text, millesime smallint, situation text, copro_tup integer, indicatif boolean,
    num_immat char(9), idtup text, lots_hab integer, nloghcopro integer, p_constr text, an_const integer,
    classe_ecart_logements text, coherence_construction text, geom geometry(Point, 4326)
"""

# idcopro, situation, copro_tup, num_immat, idtup, geom (SQL expression)
CLEAN_ROWS = [
    ("RNC_AA0000001", "rnic_1_1", 1, "AA0000001", "75101000AB0001", PARIS),
    ("RNC_AA0000002", "rnic_1_n", 2, "AA0000002", "75101000AB0002", PARIS_2),
    ("RNC_AA0000003", "rnic_1_n", 2, "AA0000003", "75101000AB0002", PARIS_2),
    ("RNC_AA0000004", "rnic_unmatched", 0, "AA0000004", None, "null"),  # registry has no point
    ("FF_97411000AB0003", "ff_only", 0, None, "97411000AB0003", REUNION),
    ("FF_75101000AB0004", "ff_only", 0, None, "75101000AB0004", "null"),  # TUP without point
]


def _lit(v):
    return "null" if v is None else ("'" + str(v) + "'")


def build(db, rows=CLEAN_ROWS, extra_sql: str = "") -> None:
    with db.engine.begin() as conn:
        for t in ("staging.rnic", "staging.ff_tup"):
            ensure_partition(conn, t, M)
        conn.execute(sa.text(f"""
            insert into staging.rnic (millesime, num_immat, geom, source_file, source_line) values
              ({M}, 'AA0000001', {PARIS}, 'f', 2), ({M}, 'AA0000002', {PARIS_2}, 'f', 3),
              ({M}, 'AA0000003', {PARIS_2}, 'f', 4), ({M}, 'AA0000004', null, 'f', 5)"""))
        conn.execute(sa.text(f"""
            insert into staging.ff_tup (millesime, idtup, typetup, idcom, ccodep, l_idpar, nparcel, srid,
                                        geompoint_4326, source_file, source_line)
            select {M}, idtup, 'SIMPLE', substr(idtup, 1, 5), substr(idtup, 1, 2), array[idtup], 1, 2154,
                   g, 't', n
            from (values ('75101000AB0001', {PARIS}, 2), ('75101000AB0002', {PARIS_2}, 3),
                         ('97411000AB0003', {REUNION}, 4),
                         ('75101000AB0004', null::geometry(Point, 4326), 5)) v(idtup, g, n)"""))
        conn.execute(sa.text(f"create table coproff.coproff ({COLUMNS}) partition by list (millesime)"))
        conn.execute(sa.text(f"create table {FRESH} (like coproff.coproff)"))
        values = ", ".join(
            f"({_lit(i)}, {M}, {_lit(s)}, {c}, {str(c > 1).lower()}, {_lit(n)}, {_lit(t)}, {g})"
            for i, s, c, n, t, g in rows
        )
        conn.execute(sa.text(
            f"insert into {FRESH} (idcopro, millesime, situation, copro_tup, indicatif, num_immat, idtup, geom) "
            f"values {values}"))
        if extra_sql:
            conn.execute(sa.text(extra_sql))


AUDITS = {a.name: a for a in audits_for("coproff/coproff")}


def run(db, name):
    with db.engine.connect() as conn:
        return run_audit(conn, AUDITS[name], FRESH, M)


def sample(result) -> str:
    """The sample rows as text, as the check's Markdown table shows them."""
    return "\n".join(" | ".join(str(v) for v in row) for row in result.sample)


BLOCKING = [
    "idcopro_unique_and_well_formed",
    "idcopro_prefix_matches_registration",
    "copro_tup_counts_registrations",
    "geometry_srid_4326_in_france",
    "geometry_null_only_without_source_point",
    "every_registration_once",
]


def test_every_blocking_rule_passes_on_a_clean_millesime(fresh_db):
    build(fresh_db)
    for name in BLOCKING:
        result = run(fresh_db, name)
        assert result.passed, (name, result)
        assert result.offending == 0 and result.error is None


def test_blocking_rules_are_blocking_audits_of_coproff():
    for name in BLOCKING:
        assert AUDITS[name].blocking, name
    assert not AUDITS["dwelling_gap_share"].blocking
    assert not AUDITS["construction_coherence_rate"].blocking
    assert not AUDITS["no_sudden_change_from_previous_millesime"].blocking


def test_duplicated_idcopro_fails_with_the_key_in_the_sample(fresh_db):
    build(fresh_db, extra_sql=f"update {FRESH} set idcopro = 'RNC_AA0000001' where num_immat = 'AA0000002'")
    result = run(fresh_db, "idcopro_unique_and_well_formed")
    assert not result.passed
    assert result.offending == 1
    assert "RNC_AA0000001" in sample(result) and "doublon" in sample(result)


@pytest.mark.parametrize("bad", ["RNC_123", "rnc_AA0000001", "XX_75101000AB0001"])
def test_malformed_idcopro_fails(fresh_db, bad):
    build(fresh_db, extra_sql=f"update {FRESH} set idcopro = '{bad}' where num_immat = 'AA0000001'")
    assert not run(fresh_db, "idcopro_unique_and_well_formed").passed


def test_ff_prefix_on_a_registered_copropriete_fails(fresh_db):
    build(fresh_db, extra_sql=f"update {FRESH} set idcopro = 'FF_75101000AB0001' where num_immat = 'AA0000001'")
    result = run(fresh_db, "idcopro_prefix_matches_registration")
    assert not result.passed and result.offending == 1
    assert "AA0000001" in sample(result)


def test_rnc_prefix_with_another_number_fails(fresh_db):
    build(fresh_db, extra_sql=f"update {FRESH} set idcopro = 'RNC_AA0000009' where num_immat = 'AA0000001'")
    assert not run(fresh_db, "idcopro_prefix_matches_registration").passed


def test_copro_tup_not_matching_registrations_on_the_tup_fails(fresh_db):
    build(fresh_db, extra_sql=f"update {FRESH} set copro_tup = 1 where num_immat = 'AA0000003'")
    result = run(fresh_db, "copro_tup_counts_registrations")
    assert not result.passed and result.offending == 1


def test_situation_1_1_on_a_shared_tup_fails(fresh_db):
    build(fresh_db, extra_sql=f"update {FRESH} set situation = 'rnic_1_1' where num_immat = 'AA0000002'")
    assert not run(fresh_db, "copro_tup_counts_registrations").passed


def test_unmatched_registration_with_a_copro_tup_fails(fresh_db):
    build(fresh_db, extra_sql=f"update {FRESH} set copro_tup = 1 where num_immat = 'AA0000004'")
    assert not run(fresh_db, "copro_tup_counts_registrations").passed


def test_point_outside_france_fails(fresh_db):
    # Lon/lat swapped: a classic, lands in the Gulf of Aden.
    build(fresh_db, extra_sql=f"update {FRESH} set geom = st_setsrid(st_makepoint(48.86, 2.34), 4326) "
                              "where num_immat = 'AA0000001'")
    result = run(fresh_db, "geometry_srid_4326_in_france")
    assert not result.passed and "RNC_AA0000001" in sample(result)


def test_points_in_every_drom_pass(fresh_db):
    drom = [(-61.53, 16.24), (-61.07, 14.61), (-52.33, 4.93), (55.45, -20.88), (45.23, -12.78)]
    rows = [(f"FF_9710000000{i:04d}", "ff_only", 0, None, f"9710000000{i:04d}",
             f"st_setsrid(st_makepoint({x}, {y}), 4326)") for i, (x, y) in enumerate(drom)]
    build(fresh_db, rows=rows)
    assert run(fresh_db, "geometry_srid_4326_in_france").passed


def test_geometry_in_another_srid_fails(fresh_db):
    build(fresh_db, extra_sql=f"alter table {FRESH} alter column geom type geometry(Point) "
                              "using st_setsrid(geom, 4326); "
                              f"update {FRESH} set geom = st_setsrid(st_makepoint(652000, 6862000), 2154) "
                              "where num_immat = 'AA0000001'")
    result = run(fresh_db, "geometry_srid_4326_in_france")
    assert not result.passed and "2154" in sample(result)


def test_a_polygon_inside_france_fails_as_not_a_point_without_breaking_the_audit(fresh_db):
    build(fresh_db, extra_sql=f"alter table {FRESH} alter column geom type geometry(Geometry, 4326); "
                              f"update {FRESH} set geom = st_buffer(geom, 0.001) where num_immat = 'AA0000001'")
    result = run(fresh_db, "geometry_srid_4326_in_france")
    assert result.error is None and not result.passed and result.offending == 1
    assert result.sample[0][:3] == ("RNC_AA0000001", 4326, "POLYGON")


def test_null_geometry_while_the_registry_has_a_point_fails(fresh_db):
    build(fresh_db, extra_sql=f"update {FRESH} set geom = null where num_immat = 'AA0000001'")
    result = run(fresh_db, "geometry_null_only_without_source_point")
    assert not result.passed and result.offending == 1
    assert result.columns[:3] == ["idcopro", "num_immat", "idtup"] and result.sample[0][0] == "RNC_AA0000001"


def test_null_geometry_of_ff_only_row_whose_tup_has_a_point_fails(fresh_db):
    build(fresh_db, extra_sql=f"update {FRESH} set geom = null where idtup = '97411000AB0003'")
    assert not run(fresh_db, "geometry_null_only_without_source_point").passed


def test_missing_registration_fails(fresh_db):
    build(fresh_db, rows=[row for row in CLEAN_ROWS if row[3] != "AA0000004"])
    result = run(fresh_db, "every_registration_once")
    assert not result.passed
    assert "AA0000004" in sample(result)
    assert "absente du référentiel" in sample(result)


def test_registration_in_two_rows_fails(fresh_db):
    build(fresh_db, rows=[*CLEAN_ROWS, ("RNC_AA0000001", "rnic_1_1", 1, "AA0000001", "75101000AB0001", PARIS)])
    result = run(fresh_db, "every_registration_once")
    assert not result.passed and "en plusieurs lignes" in sample(result)


def test_registration_that_was_never_staged_fails(fresh_db):
    build(fresh_db, rows=[*CLEAN_ROWS, ("RNC_ZZ9999999", "rnic_unmatched", 0, "ZZ9999999", None, "null")])
    result = run(fresh_db, "every_registration_once")
    assert not result.passed and "absente de staging.rnic" in sample(result)


# -- warning rules ----------------------------------------------------------------------------

def _set_classes(classes: list[str | None], coherence: list[str | None]) -> str:
    ids = [row[0] for row in CLEAN_ROWS]
    sql = []
    for i, c, k in zip(ids, classes, coherence):
        sql.append(f"update {FRESH} set classe_ecart_logements = {_lit(c)}, "
                   f"coherence_construction = {_lit(k)} where idcopro = '{i}'")
    return "; ".join(sql)


def test_gap_share_passes_at_the_documented_level_and_fails_below(fresh_db, monkeypatch):
    label = {c.code: c.libelle for c in reference.gap_classes()}
    share_min = reference.parameter("part_ecart_faible_min")
    tolerance = reference.parameter("tolerance_seuils")
    assert share_min - tolerance < 2 / 3 < share_min  # what the fixture is built on
    # 2 good of 3 filled (the unfilled row is left out): 66.7% >= minimum - tolerance.
    build(fresh_db, extra_sql=_set_classes(
        [label["aucun_ecart"], label["ecart_1"], label["moins_50"], label["non_renseigne"], None, None],
        [None] * 6))
    result = run(fresh_db, "dwelling_gap_share")
    assert result.passed and result.offending == 0
    assert [(code, float(value), source) for code, value, source in result.thresholds] == [
        ("part_ecart_faible_min", share_min, "ref.parametres"), ("tolerance_seuils", tolerance, "ref.parametres")]
    monkeypatch.setenv("COPROFF_THRESHOLD_TOLERANCE", "0")
    result = run(fresh_db, "dwelling_gap_share")
    assert not result.passed and result.offending == 1  # one summary row
    summary = dict(zip(result.columns, result.sample[0]))
    assert float(summary["part"]) == pytest.approx(0.6667, abs=1e-4) and summary["nb_comparees"] == 3
    assert float(summary["seuil"]) == pytest.approx(share_min)
    assert ("tolerance_seuils", "0.0", "COPROFF_THRESHOLD_TOLERANCE") in result.thresholds


def test_coherence_rate_counts_only_comparable_rows(fresh_db, monkeypatch):
    build(fresh_db, extra_sql=_set_classes(
        [None] * 6, ["coherent", "coherent", "coherent", "incoherent", "non_comparable", None]))
    assert run(fresh_db, "construction_coherence_rate").passed  # 3 of 4 comparable: 75% >= minimum - tolerance
    monkeypatch.setenv("COPROFF_COHERENCE_RATE_MIN", "80%")
    monkeypatch.setenv("COPROFF_THRESHOLD_TOLERANCE", "0.01")
    result = run(fresh_db, "construction_coherence_rate")
    assert not result.passed
    summary = dict(zip(result.columns, result.sample[0]))
    assert float(summary["taux"]) == 0.75 and summary["nb_comparables"] == 4
    assert float(summary["seuil"]) == pytest.approx(0.79)


def test_sudden_change_is_flagged_against_the_previous_published_millesime(fresh_db, monkeypatch):
    build(fresh_db)
    monkeypatch.setenv("COPROFF_MAX_CHANGE_MIN_ROWS", "1")
    assert run(fresh_db, "no_sudden_change_from_previous_millesime").passed  # nothing before
    with fresh_db.engine.begin() as conn:
        conn.execute(sa.text("create table coproff.coproff_m2022 partition of coproff.coproff for values in (2022)"))
        conn.execute(sa.text(f"insert into coproff.coproff (idcopro, millesime, situation) "
                             f"select idcopro, 2022, situation from {FRESH}"))
    assert run(fresh_db, "no_sudden_change_from_previous_millesime").passed  # same counts
    with fresh_db.engine.begin() as conn:
        conn.execute(sa.text(f"delete from {FRESH} where situation = 'ff_only'"))
    result = run(fresh_db, "no_sudden_change_from_previous_millesime")
    assert not result.passed
    assert result.offending == 1  # one summary row
    summary = dict(zip(result.columns, result.sample[0]))
    assert summary["millesime_precedent"] == 2022 and summary["nb_effectifs_signales"] == 2
    assert summary["effectifs_signales"] == "total : 6 → 4 (-33.3 %) ; ff_only : 2 → 0 (-100.0 %)"
    monkeypatch.delenv("COPROFF_MAX_CHANGE_MIN_ROWS")  # the reference minimum: counts this small are not judged
    assert run(fresh_db, "no_sudden_change_from_previous_millesime").passed


def test_the_published_millesime_under_rebuild_is_not_read_by_the_audit(fresh_db):
    # The old published version of 2023 holds a duplicate; the fresh table does not: the audit
    # judges the fresh one only (the rewrite replaces the published partition of the millésime).
    build(fresh_db)
    with fresh_db.engine.begin() as conn:
        conn.execute(sa.text("create table coproff.coproff_m2023 partition of coproff.coproff for values in (2023)"))
        conn.execute(sa.text(f"insert into coproff.coproff select * from {FRESH}"))
        conn.execute(sa.text(f"insert into coproff.coproff select * from {FRESH} where num_immat = 'AA0000001'"))
        published = conn.execute(sa.text(
            "select count(*) from coproff.coproff where millesime = 2023 and idcopro = 'RNC_AA0000001'")).scalar()
    assert published == 2
    assert run(fresh_db, "idcopro_unique_and_well_formed").passed


def test_null_geometry_when_the_tup_has_only_a_polygon_fails(fresh_db):
    build(fresh_db, extra_sql=(
        "update staging.ff_tup set geomtup_4326 = st_multi(st_buffer(st_setsrid(st_makepoint(2.35, 48.85), 4326), 0.001)) "
        "where idtup = '75101000AB0004'"))
    result = run(fresh_db, "geometry_null_only_without_source_point")
    assert not result.passed and "FF_75101000AB0004" in sample(result)


@pytest.mark.parametrize("raw, expected", [("0.6", 0.6), ("60%", 0.6), ("60", 0.6), (" 0.675 ", 0.675)])
def test_thresholds_accept_fractions_and_percentages(monkeypatch, raw, expected):
    from coproff_platform.checks.thresholds import overrides

    monkeypatch.setenv("COPROFF_GAP_SHARE_MIN", raw)
    [o] = overrides(["part_ecart_faible_min"])
    assert o.variable == "COPROFF_GAP_SHARE_MIN" and float(o.value) == pytest.approx(expected)


def test_a_malformed_threshold_names_the_variable(monkeypatch):
    from coproff_platform.checks.thresholds import overrides

    monkeypatch.setenv("COPROFF_COHERENCE_RATE_MIN", "seventy")
    with pytest.raises(ValueError, match="COPROFF_COHERENCE_RATE_MIN"):
        overrides(["taux_coherence_construction_min"])


def test_a_malformed_threshold_fails_the_audit_with_the_variable_named(fresh_db, monkeypatch):
    build(fresh_db)
    monkeypatch.setenv("COPROFF_MAX_CHANGE_MIN_ROWS", "beaucoup")
    result = run(fresh_db, "no_sudden_change_from_previous_millesime")
    assert not result.passed and "COPROFF_MAX_CHANGE_MIN_ROWS" in result.error


def test_every_overridable_parameter_names_its_variable_in_the_reference_layer():
    from coproff_platform import reference
    from coproff_platform.checks.thresholds import ENVIRONMENT

    descriptions = {p.code: p.description for p in reference.table("parametres")}
    for code, variable in ENVIRONMENT.items():
        assert variable in descriptions[code], code
