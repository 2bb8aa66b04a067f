"""TUP indicators (DPE, DVF, LOVAC) and their attachment to copropriétés, built by the model runner
on a tiny hand-made map in real PostGIS; expected values are computed by hand in the comments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from coproff_platform.contracts.tables import ensure_partition
from coproff_platform.models.build import build_all
from coproff_platform.models.fixtures import PARIS, Fixture
from coproff_platform.models.project import project

X, Y = PARIS
M = 2023
INDICATOR_MODELS = {
    "intermediate.tup", "intermediate.tup_match", "intermediate.coproff_base", "intermediate.tup_referentiel",
    "intermediate.synthese",
    "intermediate.indicateurs_dpe", "intermediate.indicateurs_dvf", "intermediate.indicateurs_dv3f",
    "intermediate.indicateurs_lovac",
    "intermediate.indicateurs",
}
T1, T2, T3 = "75115000DF0001", "75115000DF0002", "75115000DF0003"


def _point(dx: float) -> str:
    return f"ST_Transform(ST_SetSRID(ST_MakePoint({X + dx}, {Y}), 2154), 4326)"


def _dpe(conn, rows) -> None:
    for i, (numero, dx, etiquette, date, num_immat) in enumerate(rows):
        conn.execute(sa.text(
            "insert into staging.dpe (millesime, numero_dpe, date_etablissement_dpe, etiquette_dpe, num_immat, "
            f"geom, source_file, source_line) values (:m, :n, :d, :e, :i, {_point(dx)}, 'dpe.csv', :l)"),
            {"m": M, "n": numero, "d": dt.date.fromisoformat(date), "e": etiquette, "i": num_immat, "l": i + 2})


def _dvf(conn, rows) -> None:
    for i, (mutation, date, value, idpar, code, bati, carrez, line_hash) in enumerate(rows):
        conn.execute(sa.text(
            "insert into staging.dvf (millesime, id_mutation, date_mutation, nature_mutation, valeur_fonciere, "
            "id_parcelle, code_type_local, surface_reelle_bati, surface_carrez, line_hash, source_file, source_line) "
            "values (:m, :mu, :d, 'Vente', :v, :p, :c, :b, :ca, :h, 'dvf.csv', :l)"),
            {"m": M, "mu": mutation, "d": dt.date.fromisoformat(date), "v": value, "p": idpar, "c": code,
             "b": bati, "ca": carrez, "h": line_hash, "l": i + 2})


def _lovac(conn, rows) -> None:
    for i, (idlocal, idpar, ccthp, debut) in enumerate(rows):
        conn.execute(sa.text(
            "insert into staging.lovac (millesime, ff_idlocal, ff_idpar, ff_ccthp, debutvacance, source_file, source_line) "
            "values (:m, :i, :p, :c, :d, 'lovac.csv', :l)"),
            {"m": M, "i": idlocal, "p": idpar, "c": ccthp, "d": debut, "l": i + 2})


@pytest.fixture
def indicateurs(fresh_db):
    fx = Fixture()
    fx.copro_tup(T1, X, Y)
    fx.copro_tup(T2, X + 100, Y)
    fx.copro_tup(T3, X + 200, Y)  # no registration: FF-only copropriété
    fx.registration("AA0000001", x=X, y=Y, idpar=[T1])
    fx.registration("AA0000002", x=X + 100, y=Y, idpar=[T2])  # two registrations on T2: indicative
    fx.registration("AA0000003", x=X + 101, y=Y, idpar=[T2])
    fx.registration("AA0000004")  # no point, no reference: unmatched
    fx.write(fresh_db)
    with fresh_db.engine.begin() as conn:
        for t in ("staging.dpe", "staging.dvf", "staging.lovac"):
            ensure_partition(conn, t, M)
        _dpe(conn, [
            ("d1", 0, "F", "2022-05-01", None),
            ("d2", 5, "C", "2023-01-10", None),
            ("d3", 0, "G", "2017-01-01", None),          # older than five years: ignored
            ("d4", 200, "E", "2021-01-01", "AA0000004"),  # in T3, but names a registration: goes to it
            ("d5", 100, "G", "2022-01-01", None),         # T2: both registrations
            ("d6", 200, "A", "2022-01-01", None),         # T3: the FF-only copropriété
            ("d7", 3, "D", "2020-01-01", "ZZ9999999"),    # unknown number: attached by location to T1
            ("d8", 5000, "B", "2022-01-01", None),        # in no TUP
        ])
        _dvf(conn, [
            # M1: one apartment, Carrez 40 m², the raw line repeated exactly -> 200000 / 40 = 5000
            ("M1", "2022-03-01", 200000, T1, 2, 42, 40, "h1"),
            ("M1", "2022-03-01", 200000, T1, 2, 42, 40, "h1"),
            # M2: two apartments (no Carrez: built 30 + 30) and a dependency; price once -> 360000 / 60 = 6000
            ("M2", "2021-06-01", 360000, T1, 2, 30, None, "h2"),
            ("M2", "2021-06-01", 360000, T1, 2, 30, None, "h3"),
            ("M2", "2021-06-01", 360000, T1, 3, None, None, "h4"),
            # M3: an apartment and a house: a sale, but no apartment price
            ("M3", "2023-02-01", 100000, T1, 2, 50, None, "h5"),
            ("M3", "2023-02-01", 100000, T1, 1, 90, None, "h6"),
            # M4: too old; M5: a house only
            ("M4", "2015-01-01", 100000, T1, 2, 20, None, "h7"),
            ("M5", "2022-01-01", 100000, T1, 1, 80, None, "h8"),
            # M6: an apartment on T2 -> 90000 / 30 = 3000
            ("M6", "2020-01-01", 90000, T2, 2, 30, 30, "h9"),
        ])
        _lovac(conn, [
            ("750000000001", T1, "V", 2022),  # 1 year
            ("750000000002", T1, "V", 2020),  # 3 years: more than two
            ("750000000003", T1, "V", 2021),  # 2 years: not more than two
            ("750000000004", T1, "L", 2010),  # occupied
            ("750000000005", T2, "V", 2010),
        ])
    chosen = [m for m in project() if m.table in INDICATOR_MODELS]
    assert len(chosen) == len(INDICATOR_MODELS)
    build_all(fresh_db, M, chosen, with_audits=False)
    with fresh_db.engine.connect() as conn:
        rows = conn.execute(sa.text("select * from intermediate.indicateurs where millesime = :m"), {"m": M}).mappings()
        return {r["idcopro"]: dict(r) for r in rows}


def test_dpe_attach_by_registration_number_else_by_location(indicateurs):
    r1 = indicateurs["RNC_AA0000001"]
    assert (r1["nb_dpe"], r1["nb_dpe_immat"], r1["nb_dpe_c"], r1["nb_dpe_d"], r1["nb_dpe_f"]) == (3, 0, 1, 1, 1)
    assert r1["part_dpe_fg"] == Decimal("0.3333") and r1["date_dernier_dpe"] == dt.date(2023, 1, 10)
    unmatched = indicateurs["RNC_AA0000004"]
    assert (unmatched["nb_dpe"], unmatched["nb_dpe_immat"], unmatched["nb_dpe_e"]) == (1, 1, 1)
    ff_only = indicateurs["FF_" + T3]
    assert (ff_only["nb_dpe"], ff_only["nb_dpe_a"], ff_only["nb_dpe_e"]) == (1, 1, 0)  # d4 went to its registration
    for shared in ("RNC_AA0000002", "RNC_AA0000003"):  # the TUP's DPE cover both (indicative)
        assert (indicateurs[shared]["nb_dpe"], indicateurs[shared]["part_dpe_fg"]) == (1, Decimal("1.0000"))


def test_dvf_sales_dedupe_lines_and_count_a_mutation_price_once(indicateurs):
    r1 = indicateurs["RNC_AA0000001"]
    assert r1["nb_ventes_appartements"] == 3  # M1, M2, M3
    assert r1["prix_m2_median"] == Decimal("5500")  # median(5000, 6000)
    assert r1["date_derniere_vente"] == dt.date(2023, 2, 1)
    assert indicateurs["RNC_AA0000002"]["prix_m2_median"] == Decimal("3000")
    assert indicateurs["FF_" + T3]["nb_ventes_appartements"] == 0
    assert indicateurs["RNC_AA0000004"]["nb_ventes_appartements"] is None  # no TUP: unknown, not zero


def test_lovac_vacant_and_vacant_for_more_than_two_years(indicateurs):
    r1 = indicateurs["RNC_AA0000001"]
    assert (r1["nb_logements_vacants"], r1["nb_logements_vacants_2ans"]) == (3, 1)
    assert (indicateurs["RNC_AA0000003"]["nb_logements_vacants"],
            indicateurs["RNC_AA0000003"]["nb_logements_vacants_2ans"]) == (1, 1)
    assert indicateurs["FF_" + T3]["nb_logements_vacants"] == 0


def test_every_copropriete_has_one_indicator_row(indicateurs):
    assert set(indicateurs) == {"RNC_AA0000001", "RNC_AA0000002", "RNC_AA0000003", "RNC_AA0000004", "FF_" + T3}
