"""Synthesis variables, gap classes, construction coherence and the statistics models, computed on
hand-made rows and compared with hand-computed values (real PostGIS, the models' own SQL)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from coproff_platform import reference

M = 2023
MODELS = Path(__file__).resolve().parents[1] / "dbt_like_sql" / "models"
# gap-class labels by code, and the construction period holding a year (dbt_like_sql/reference/)
GAP = {c.code: c.libelle for c in reference.gap_classes()}


def period_of(year: int) -> str:
    return next(code for code, (lo, hi) in reference.period_bounds().items()
                if (lo is None or year >= lo) and (hi is None or year <= hi))


def query_model(conn, relative: str, millesime: int) -> list[dict]:
    """The model's query on hand-made tables, bound as the model runner binds it."""
    sql = (MODELS / relative).read_text()
    return [dict(r) for r in conn.execute(sa.text(f"select * from ({sql}\n) as q"), {"millesime": millesime}).mappings()]


def _tables(conn) -> None:
    conn.execute(sa.text("create schema if not exists intermediate"))
    conn.execute(sa.text(
        "create table intermediate.tup_match (millesime smallint, num_immat char(9), idtup text, "
        "methode text, motif text, distance_m numeric)"))
    # the columns the rules read first; the other columns intermediate.coproff_base reads stay NULL
    conn.execute(sa.text(
        "create table intermediate.tup (millesime smallint, idtup text, copro_ff boolean, "
        "nloghcopro integer, an_const integer, geomtup geometry(MultiPolygon, 4326), idcom char(5), "
        "code_departement text, typetup text, ctpdl text, nlogh integer, nlocal integer, "
        "geompoint geometry(Point, 4326), source_parcelles text)"))


def _build_population(conn, millesime: int) -> None:
    """intermediate.coproff_base from the hand-made tables, by its own SQL (synthese reads it)."""
    sql = (MODELS / "intermediate/coproff_base.sql").read_text().replace(":millesime", str(int(millesime)))
    conn.execute(sa.text(f"create table intermediate.coproff_base as select * from ({sql}\n) as q"))


# num_immat, idtup, lots_hab, nloghcopro, p_constr, an_const, date_immat, expected class, expected coherence
REGISTRATIONS = [
    ("AA0000001", "T01", 10, 10, period_of(1961), 1957, "2010-01-01", GAP["aucun_ecart"], "coherent"),
    ("AA0000002", "T02", 10, 11, period_of(1961), 1956, "2010-01-01", GAP["ecart_1"], "incoherent"),
    ("AA0000003", "T03", 100, 95, period_of(1961), 1978, "2010-01-01", GAP["moins_10"], "coherent"),
    ("AA0000004", "T04", 100, 102, period_of(1961), 1979, "2010-01-01", GAP["moins_10"], "incoherent"),
    ("AA0000005", "T05", 100, 120, period_of(1900), 1952, "2010-01-01", GAP["moins_25"], "coherent"),
    ("AA0000006", "T06", 10, 12, period_of(1900), 1953, "2010-01-01", GAP["moins_25"], "incoherent"),
    ("AA0000007", "T07", 10, 14, period_of(2011), 2007, "2010-01-01", GAP["moins_50"], "coherent"),
    ("AA0000008", "T08", 10, 19, period_of(2011), 2006, "2010-01-01", GAP["moins_100"], "incoherent"),
    ("AA0000009", "T09", 10, 20, None, 1990, "2010-01-01", GAP["plus_100"], "non_comparable"),
    ("AA0000010", "T10", 10, 0, "NON_CONNUE", 1990, "2010-01-01", GAP["plus_100"], "non_comparable"),
    ("AA0000011", "T11", 10, None, period_of(1994), None, "2010-01-01", GAP["non_renseigne"], "non_comparable"),
    # out of scope: unmatched, shared TUP, TUP where FF shows no copropriété
    ("AA0000012", None, 10, None, period_of(1994), None, "2010-01-01", None, None),
    ("AA0000013", "T13", 10, 12, period_of(1994), 1995, "2010-01-01", None, None),
    ("AA0000014", "T13", 5, 12, period_of(1994), 1995, "2010-01-01", None, None),
    ("AA0000018", "T18", 10, 1, period_of(1994), 1950, "2010-01-01", None, None),
    ("AA0000015", "T15", None, 12, period_of(2001), 2005, "2010-01-01", GAP["non_renseigne"], "coherent"),
    # recent: registered in 2022 (after 30/09/2020) or built 2021+ (N-2)
    ("AA0000016", "T16", 40, 30, period_of(2011), 2012, "2022-03-01", GAP["moins_50"], "coherent"),
    ("AA0000017", "T17", 40, 30, period_of(1975), 2022, "2015-03-01", GAP["moins_50"], "incoherent"),
]


@pytest.fixture
def synthese(fresh_db):
    with fresh_db.engine.begin() as conn:
        _tables(conn)
        for num, idtup, lots, nlog, period, year, date_immat, *_ in REGISTRATIONS:
            conn.execute(sa.text(
                "insert into staging.rnic (millesime, num_immat, lots_hab, p_constr, date_immat, source_file, source_line) "
                "values (:m, :n, :l, :p, :d, 'f', 2)"), {"m": M, "n": num, "l": lots, "p": period,
                                                       "d": dt.date.fromisoformat(date_immat)})
            conn.execute(sa.text("insert into intermediate.tup_match values (:m, :n, :t)"),
                         {"m": M, "n": num, "t": idtup})
            if idtup and idtup != "T13" or (idtup == "T13" and num == "AA0000013"):
                conn.execute(sa.text("insert into intermediate.tup values (:m, :t, :ff, :nl, :y, null)"),
                             {"m": M, "t": idtup, "nl": nlog, "y": year, "ff": idtup != "T18"})
        # an FF-only copropriété, a TUP with a one-dwelling divided property (not a copropriété)
        conn.execute(sa.text(
            "insert into intermediate.tup values (:m, 'F01', true, 8, 1930, null), (:m, 'F02', false, 1, 1930, null)"),
            {"m": M})
        _build_population(conn, M)
        rows = query_model(conn, "intermediate/synthese.sql", M)
    return {r["idcopro"]: r for r in rows}


@pytest.fixture(autouse=True)
def _partitions(fresh_db):
    from coproff_platform.contracts.tables import ensure_partition

    with fresh_db.engine.begin() as conn:
        for t in ("staging.rnic", "staging.dpe", "staging.dvf", "staging.lovac", "staging.ff_parcelle"):
            ensure_partition(conn, t, M)


def test_gap_classes_and_construction_coherence_equal_hand_computed_values(synthese):
    for num, *_, classe, coherence in REGISTRATIONS:
        row = synthese["RNC_" + num]
        assert (row["classe_ecart_logements"], row["coherence_construction"]) == (classe, coherence), num


def test_ff_only_copropriete_is_out_of_the_comparisons_and_keeps_ff_values(synthese):
    assert set(synthese) == {"RNC_" + r[0] for r in REGISTRATIONS} | {"FF_F01"}
    ff = synthese["FF_F01"]
    assert ff["classe_ecart_logements"] is None and ff["coherence_construction"] is None
    assert (ff["nb_logements"], ff["source_nb_logements"]) == (8, "ff")
    assert (ff["annee_construction"], ff["periode_construction"], ff["source_construction"]) == (1930, period_of(1900), "ff")


def test_ff_values_kept_on_conflict_except_for_recent_coproprietes(synthese):
    old = synthese["RNC_AA0000005"]  # lots_hab 100 vs FF 120, registered 2010
    assert (old["nb_logements"], old["source_nb_logements"], old["copro_recente"]) == (120, "ff", False)
    recent_registration = synthese["RNC_AA0000016"]  # registered 2022: RNIC dwellings kept
    assert (recent_registration["nb_logements"], recent_registration["source_nb_logements"]) == (40, "rnic")
    assert recent_registration["copro_recente"] is True
    # built 2022 (FF) but RNIC says 1975-1993: recent, conflict -> the RNIC period is kept
    recent_build = synthese["RNC_AA0000017"]
    assert recent_build["annee_construction"] is None
    assert (recent_build["periode_construction"], recent_build["source_construction"]) == (period_of(1975), "rnic")
    # old and incoherent: the FF year wins, published with its own period
    old_incoherent = synthese["RNC_AA0000002"]
    assert (old_incoherent["annee_construction"], old_incoherent["periode_construction"],
            old_incoherent["source_construction"]) == (1956, period_of(1949), "ff")


def test_a_single_source_is_kept_with_its_name(synthese):
    only_rnic = synthese["RNC_AA0000012"]  # unmatched
    assert (only_rnic["nb_logements"], only_rnic["source_nb_logements"]) == (10, "rnic")
    assert (only_rnic["periode_construction"], only_rnic["source_construction"]) == (period_of(1994), "rnic")
    only_ff = synthese["RNC_AA0000015"]  # lots_hab not declared
    assert (only_ff["nb_logements"], only_ff["source_nb_logements"]) == (12, "ff")


# -- statistics models on a hand-made coproff.coproff ---------------------------------------------

def _coproff(conn, rows, millesime=M, source_parcelles="ff"):
    # the parcel source of the millésime, which every statistics row carries (one TUP says it)
    conn.execute(sa.text("create schema if not exists intermediate"))
    conn.execute(sa.text(
        "create table if not exists intermediate.tup (millesime smallint, idtup text, source_parcelles text)"))
    conn.execute(sa.text("insert into intermediate.tup values (:m, 'T_SOURCE', :s)"),
                 {"m": millesime, "s": source_parcelles})
    conn.execute(sa.text("""
        create table if not exists coproff.coproff (
            idcopro text, millesime smallint, num_immat char(9), situation text, tup_sans_copro_ff boolean,
            code_commune char(5), code_departement text, epci text, lots_total integer, nlocal integer,
            classe_ecart_logements text, coherence_construction text)"""))
    # the coherence classes live in intermediate.synthese, joined on idcopro by the statistics
    conn.execute(sa.text("create schema if not exists intermediate"))
    conn.execute(sa.text("""
        create table if not exists intermediate.synthese (
            idcopro text, millesime smallint, classe_ecart_logements text, coherence_construction text)"""))
    for r in rows:
        params = {"m": millesime, "tsc": False, "epci": None, "lots": None, "nlocal": None, "classe": None,
                  "coherence": None, "num_immat": None, **r}
        conn.execute(sa.text("""
            insert into coproff.coproff values (:idcopro, :m, :num_immat, :situation, :tsc, :commune, :dep,
                                                :epci, :lots, :nlocal, :classe, :coherence)"""), params)
        conn.execute(sa.text("insert into intermediate.synthese values (:idcopro, :m, :classe, :coherence)"), params)


def _ghost(conn, classe=None, coherence=None):
    """A synthesis row whose copropriété is not published: the statistics must ignore it."""
    conn.execute(sa.text("insert into intermediate.synthese values ('RNC_ZZ9999999', :m, :c, :k)"),
                 {"m": M, "c": classe, "k": coherence})


def test_gap_class_table_counts_and_shares(fresh_db):
    classes = ([GAP["aucun_ecart"]] * 5 + [GAP["ecart_1"]] * 2 + [GAP["moins_10"]] + [GAP["plus_100"]] * 2
               + [GAP["non_renseigne"]] * 2 + [None] * 3)
    with fresh_db.engine.begin() as conn:
        _coproff(conn, [{"idcopro": f"RNC_AA{i:07d}", "situation": "rnic_1_1", "commune": "75101", "dep": "75",
                         "classe": c} for i, c in enumerate(classes)])
        _ghost(conn, classe=GAP["aucun_ecart"])
        rows = query_model(conn, "marts/stats_ecart_logements.sql", M)
    got = {r["classe"]: (r["nb"], r["part"], r["part_renseignes"]) for r in rows}
    assert [r["classe"] for r in sorted(rows, key=lambda r: r["ordre"])] == [
        GAP["aucun_ecart"], GAP["ecart_1"], GAP["moins_10"], GAP["moins_25"], GAP["moins_50"],
        GAP["moins_100"], GAP["plus_100"], GAP["non_renseigne"]]
    assert got[GAP["aucun_ecart"]] == (5, Decimal("0.4167"), Decimal("0.5000"))  # 5/12, 5/10
    assert got[GAP["ecart_1"]] == (2, Decimal("0.1667"), Decimal("0.2000"))
    assert got[GAP["moins_50"]] == (0, Decimal("0"), Decimal("0"))
    assert got[GAP["non_renseigne"]] == (2, Decimal("0.1667"), None)


def test_construction_coherence_table_rate_among_comparable_rows(fresh_db):
    values = ["coherent"] * 7 + ["incoherent"] * 3 + ["non_comparable"] * 5 + [None] * 2
    with fresh_db.engine.begin() as conn:
        _coproff(conn, [{"idcopro": f"X{i}", "situation": "rnic_1_1", "commune": "75101", "dep": "75",
                         "coherence": v} for i, v in enumerate(values)])
        _ghost(conn, coherence="incoherent")
        rows = {r["coherence_construction"]: r for r in query_model(conn, "marts/stats_coherence_construction.sql", M)}
    assert rows["coherent"]["nb"] == 7 and rows["coherent"]["taux"] == Decimal("0.7000")
    assert rows["incoherent"]["taux"] == Decimal("0.3000")
    assert rows["non_comparable"]["nb"] == 5 and rows["non_comparable"]["taux"] is None
    assert rows["coherent"]["part"] == Decimal("0.4667")  # 7/15


def test_situations_by_territory_with_epci_borrowed_for_ff_only(fresh_db):
    rows = [
        {"idcopro": "RNC_AA0000001", "num_immat": "AA0000001", "situation": "rnic_1_1", "commune": "93010", "dep": "93", "epci": "200054781"},
        {"idcopro": "RNC_AA0000002", "num_immat": "AA0000002", "situation": "rnic_1_n", "commune": "93010", "dep": "93", "epci": "200054781", "tsc": True},
        {"idcopro": "RNC_AA0000003", "num_immat": "AA0000003", "situation": "rnic_1_n", "commune": "93010", "dep": "93", "epci": "200054781"},
        {"idcopro": "FF_93010000AB0001", "situation": "ff_only", "commune": "93010", "dep": "93"},
        {"idcopro": "FF_97411000AB0001", "situation": "ff_only", "commune": "97411", "dep": "974"},
        {"idcopro": "RNC_AA0000004", "num_immat": "AA0000004", "situation": "rnic_unmatched", "commune": "97411", "dep": "974", "epci": "249740119"},
    ]
    with fresh_db.engine.begin() as conn:
        _coproff(conn, rows)
        got = {(r["niveau"], r["code_territoire"]): r for r in query_model(conn, "marts/stats_situations.sql", M)}
    france = got[("france", "FR")]
    assert (france["nb_copro"], france["nb_rnic_1_1"], france["nb_rnic_1_n"], france["nb_ff_only"],
            france["nb_rnic_unmatched"], france["nb_tup_sans_copro_ff"]) == (6, 1, 2, 2, 1, 1)
    assert france["part_ff_only"] == Decimal("0.3333")
    assert got[("departement", "974")]["nb_copro"] == 2
    assert got[("epci", "200054781")]["nb_copro"] == 4  # the FF-only copropriété of Bondy included
    assert got[("epci", "249740119")]["nb_ff_only"] == 1
    assert got[("commune", "93010")]["nb_rnic_1_n"] == 2
    assert set(k[0] for k in got) == {"france", "departement", "epci", "commune"}


def test_alur_registration_rate_by_size_class_with_deadlines(fresh_db):
    rows = [
        {"idcopro": "R1", "num_immat": "AA0000001", "situation": "rnic_1_1", "lots": 250},
        {"idcopro": "R2", "num_immat": "AA0000002", "situation": "rnic_1_1", "lots": 201},
        {"idcopro": "F1", "situation": "ff_only", "nlocal": 300},
        {"idcopro": "R3", "num_immat": "AA0000003", "situation": "rnic_1_1", "lots": 200},
        {"idcopro": "R4", "num_immat": "AA0000004", "situation": "rnic_unmatched", "lots": 50},
        {"idcopro": "F2", "situation": "ff_only", "nlocal": 12},
        {"idcopro": "F3", "situation": "ff_only", "nlocal": 3},
        {"idcopro": "F4", "situation": "ff_only", "nlocal": None},
    ]
    with fresh_db.engine.begin() as conn:
        _coproff(conn, [{"commune": "75101", "dep": "75", **r} for r in rows])
        got = {r["classe_taille"]: r for r in query_model(conn, "marts/stats_immatriculation_alur.sql", M)}
    big = got["> 200 lots"]
    assert (big["nb_immatriculees"], big["nb_ff_seules"], big["taux_immatriculation"]) == (2, 1, Decimal("0.6667"))
    assert big["date_limite_immatriculation"] == dt.date(2016, 12, 31) and big["delai_echu"] is True
    assert (got["51 à 200 lots"]["nb_immatriculees"], got["51 à 200 lots"]["nb_ff_seules"]) == (1, 0)
    small = got["≤ 50 lots"]
    assert (small["nb_immatriculees"], small["nb_ff_seules"], small["taux_immatriculation"]) == (1, 2, Decimal("0.3333"))
    assert small["date_limite_immatriculation"] == dt.date(2018, 12, 31)
    assert got["Non renseigné"]["nb_ff_seules"] == 1


def test_year_over_year_new_gone_and_changed(fresh_db):
    before = [("A", "rnic_1_1"), ("B", "rnic_1_1"), ("C", "ff_only"), ("D", "rnic_unmatched")]
    now = [("A", "rnic_1_1"), ("B", "rnic_1_n"), ("D", "rnic_1_1"), ("E", "rnic_1_n"), ("F", "ff_only")]
    with fresh_db.engine.begin() as conn:
        _coproff(conn, [{"idcopro": i, "situation": s, "commune": "75101", "dep": "75"} for i, s in now])
        first = query_model(conn, "marts/stats_evolution.sql", M)
        _coproff(conn, [{"idcopro": i, "situation": s, "commune": "75101", "dep": "75"} for i, s in before], 2022)
        _coproff(conn, [{"idcopro": "Z", "situation": "ff_only", "commune": "75101", "dep": "75"}], 2020)
        second = query_model(conn, "marts/stats_evolution.sql", M)
    assert first == [{"millesime": M, "source_parcelles": "ff", "millesime_precedent": None, "nb_copro": 5, "nb_copro_precedent": None,
                      "nb_nouvelles": None, "nb_disparues": None, "nb_situation_changee": None, "nb_inchangees": None}]
    assert second == [{"millesime": M, "source_parcelles": "ff", "millesime_precedent": 2022, "nb_copro": 5, "nb_copro_precedent": 4,
                       "nb_nouvelles": 2, "nb_disparues": 1, "nb_situation_changee": 2, "nb_inchangees": 1}]


def test_every_statistics_table_says_which_parcel_source_the_millesime_was_built_from(fresh_db):
    rows = [{"idcopro": "RNC_AA0000001", "num_immat": "AA0000001", "situation": "rnic_1_1", "commune": "36174",
             "dep": "36", "lots": 12, "classe": GAP["aucun_ecart"], "coherence": "coherent"},
            {"idcopro": "RNC_AA0000002", "num_immat": "AA0000002", "situation": "rnic_unmatched", "commune": "36174",
             "dep": "36", "lots": 4}]
    with fresh_db.engine.begin() as conn:
        _coproff(conn, rows, source_parcelles="cadastre")  # open-cadastre millésime
        _coproff(conn, rows[:1], 2022)  # an FF millésime beside it
        for model in ("stats_situations", "stats_ecart_logements", "stats_coherence_construction",
                      "stats_immatriculation_alur", "stats_evolution"):
            now = query_model(conn, f"marts/{model}.sql", M)
            before = query_model(conn, f"marts/{model}.sql", 2022)
            assert now and {r["source_parcelles"] for r in now} == {"cadastre"}, model
            assert before and {r["source_parcelles"] for r in before} == {"ff"}, model
    # every stats_* model of the project, stats_fragilite included, documents the column
    for path in sorted((MODELS / "marts").glob("stats_*.yml")):
        columns = [c["name"] for c in yaml.safe_load(path.read_text())["columns"]]
        assert "source_parcelles" in columns, path.name
