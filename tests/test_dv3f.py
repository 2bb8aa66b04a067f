"""DV3F (Cerema, restricted, optional): loading a tiny export, a millésime without DV3F, and the
sales indicators taking DV3F when present and DVF otherwise (docs/rules.md "Indicateurs"). Real PostGIS."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from dagster import DagsterInstance, materialize

from coproff_platform import labels as L
from coproff_platform.assets.sources import SOURCE_ASSETS
from coproff_platform.checks.sources import SOURCE_CHECKS, recount
from coproff_platform.contracts.tables import ensure_partition
from coproff_platform.loading import load_source
from coproff_platform.loading.load import source_files
from coproff_platform.models.build import build_all
from coproff_platform.models.fixtures import PARIS, Fixture
from coproff_platform.models.project import project
from coproff_platform.partitions import millesime_partitions
from coproff_platform.resources.landing import LandingZone

M = 2023
X, Y = PARIS
P1A, P1B, T2, T3 = "75115000DF0001", "75115000DF0011", "75115000DF0002", "75115000DF0003"

# Semicolon-separated, as a PostgreSQL `COPY ... CSV DELIMITER ';'` export; arrays as `{a,b}` literals.
DV3F_CSV = (
    "idmutation;datemut;anneemut;valeurfonc;l_idpar;l_idlocmut;nblocapt;sbatapt;codtypbien;libtypbien;vefa\n"
    "1001;2022-03-01;2022;200000.00;{75115000DF0001,75115000DF0011};{751150000001,751150000002};1;40;121;UN APPARTEMENT;f\n"
    "1002;2021-06-01;;360000;\"{75115000DF0001}\";{};2;60.5;122;DEUX APPARTEMENTS;t\n"
    "1003;pas-une-date;2021;1;{75115000DF0001};;0;;111;UNE MAISON;f\n"
    "1001;2022-03-01;2022;1;{75115000DF0002};;1;10;121;UN APPARTEMENT;f\n"
    "1005;2020-01-01;2020;5;75115000DF0001;;1;10;121;UN APPARTEMENT;f\n"
)


def write_dv3f(landing, millesime: int = M) -> None:
    folder = landing / str(millesime) / "dv3f"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dv3f_mutation_75.csv").write_text(DV3F_CSV, encoding="utf-8")


def test_dv3f_export_loads_typed_arrays_parsed_bad_rows_quarantined(fresh_db, tmp_path):
    write_dv3f(tmp_path)
    report = load_source(fresh_db, "dv3f", M, source_files(tmp_path, M, "dv3f"))
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (5, 2, 3)
    assert report.files[0].delimiter == ";" and report.reconciled
    assert dict(report.reasons) == {"date_invalide": 1, "tableau_invalide": 1, "cle_dupliquee": 1}
    with fresh_db.engine.connect() as conn:
        rows = {r.idmutation: r for r in conn.execute(sa.text(
            "select * from staging.dv3f where millesime = :m"), {"m": M})}
        quarantined = conn.execute(sa.text(
            "select source_line, reason from quality.quarantine where source = 'dv3f' order by source_line")).all()
    assert set(rows) == {"1001", "1002"}
    first = rows["1001"]  # the first occurrence of the duplicated key is kept
    assert first.l_idpar == [P1A, P1B] and first.l_idlocmut == ["751150000001", "751150000002"]
    assert (first.datemut, first.anneemut, first.valeurfonc) == (dt.date(2022, 3, 1), 2022, Decimal("200000.00"))
    assert (first.nblocapt, first.sbatapt, first.codtypbien, first.vefa) == (1, Decimal("40"), "121", False)
    second = rows["1002"]
    assert second.anneemut == 2021  # absent: taken from datemut
    assert second.l_idpar == [P1A] and second.l_idlocmut == [] and second.vefa is True
    assert quarantined == [(4, "date_invalide"), (5, "cle_dupliquee"), (6, "tableau_invalide")]
    assert recount(fresh_db, "dv3f", M) == {"rows_read": 5, "rows_loaded": 2, "rows_quarantined": 3, "files": 1}


@pytest.mark.parametrize("empty_folder", [False, True])
def test_a_millesime_without_dv3f_publishes_zero_rows_and_succeeds(fresh_db, tmp_path, empty_folder):
    landing = tmp_path / "landing"
    write_dv3f(landing)
    load_source(fresh_db, "dv3f", M, source_files(landing, M, "dv3f"))  # a previous delivery
    for f in (landing / str(M) / "dv3f").iterdir():
        f.unlink()
    if not empty_folder:
        (landing / str(M) / "dv3f").rmdir()
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(millesime_partitions.name, [str(M)])
    asset = [a for a in SOURCE_ASSETS if a.key.path[-1] == "dv3f"]
    checks = [c for c in SOURCE_CHECKS if next(iter(c.check_keys)).asset_key == asset[0].key]
    result = materialize([*asset, *checks], resources={"postgis": fresh_db, "landing": LandingZone(path=str(landing))},
                         partition_key=str(M), instance=instance)
    assert result.success
    md = result.get_asset_materialization_events()[0].event_specific_data.materialization.metadata
    assert (md[L.LIGNES_LUES].value, md[L.LIGNES_CHARGEES].value, md[L.SOURCE_PRESENTE].value) == (0, 0, False)
    assert md[L.RECONCILIE].value is True
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.passed
    # The withdrawn delivery's rows and quarantine are gone with it; the partition exists, empty.
    assert recount(fresh_db, "dv3f", M) == {"rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0, "files": 0}
    with fresh_db.engine.connect() as conn:
        assert conn.execute(sa.text("select to_regclass('staging.dv3f_m2023') is not null")).scalar()
    logs = [e.message for e in instance.all_logs(result.run_id) if e.message]
    assert any("optional source" in m and "0 rows" in m for m in logs)


# -- indicators -----------------------------------------------------------------------------------
MODELS = {
    "intermediate.tup", "intermediate.parcelle", "intermediate.tup_match", "intermediate.coproff_base",
    "intermediate.tup_referentiel", "intermediate.synthese",
    "intermediate.indicateurs_dpe", "intermediate.indicateurs_dvf", "intermediate.indicateurs_dv3f",
    "intermediate.indicateurs_lovac", "intermediate.indicateurs",
}


def _dv3f(conn, rows) -> None:
    for i, (idmutation, date, value, l_idpar, nblocapt, sbatapt, codtypbien) in enumerate(rows):
        conn.execute(sa.text(
            "insert into staging.dv3f (millesime, idmutation, datemut, anneemut, valeurfonc, l_idpar, nblocapt, "
            "sbatapt, codtypbien, source_file, source_line) values (:m, :i, :d, :a, :v, :p, :n, :s, :c, 'dv3f.csv', :l)"),
            {"m": M, "i": idmutation, "d": dt.date.fromisoformat(date), "a": int(date[:4]), "v": value,
             "p": l_idpar, "n": nblocapt, "s": sbatapt, "c": codtypbien, "l": i + 2})


def _build(db) -> dict[str, dict]:
    chosen = [m for m in project() if m.table in MODELS]
    assert len(chosen) == len(MODELS)
    build_all(db, M, chosen, with_audits=False)
    with db.engine.connect() as conn:
        rows = conn.execute(sa.text("select * from intermediate.indicateurs where millesime = :m"), {"m": M}).mappings()
        return {r["idcopro"]: dict(r) for r in rows}


@pytest.fixture
def referential(fresh_db):
    fx = Fixture()
    fx.parcel(P1A, X, Y, ctpdl="CL", nlogh=10)
    fx.parcel(P1B, X + 30, Y, ctpdl="CL", nlogh=10)
    fx.tup("uf" + P1A, [P1A, P1B], typetup="UF", ctpdl="CL", nloghcopro=20, nlogh=20)  # a two-parcel TUP
    fx.copro_tup(T2, X + 100, Y)
    fx.copro_tup(T3, X + 200, Y)  # FF-only copropriété
    fx.registration("AA0000001", x=X, y=Y, idpar=[P1A])
    fx.registration("AA0000002", x=X + 100, y=Y, idpar=[T2])
    fx.registration("AA0000004")  # unmatched: no TUP
    fx.write(fresh_db)
    with fresh_db.engine.begin() as conn:
        for t in ("staging.dpe", "staging.dvf", "staging.dv3f", "staging.lovac"):
            ensure_partition(conn, t, M)
        # DVF: one apartment sale on the first TUP, 200000 / 40 m² Carrez = 5000 €/m².
        conn.execute(sa.text(
            "insert into staging.dvf (millesime, id_mutation, date_mutation, nature_mutation, valeur_fonciere, "
            "id_parcelle, code_type_local, surface_carrez, line_hash, source_file, source_line) "
            "values (:m, 'M1', '2022-03-01', 'Vente', 200000, :p, 2, 40, 'h1', 'dvf.csv', 2)"), {"m": M, "p": P1A})
    return fresh_db


def test_sales_come_from_dvf_when_the_millesime_has_no_dv3f(referential):
    rows = _build(referential)
    r1 = rows["RNC_AA0000001"]
    assert (r1["nb_ventes_appartements"], r1["prix_m2_median"], r1["date_derniere_vente"], r1["source_ventes"]) == \
        (1, Decimal("5000"), dt.date(2022, 3, 1), "dvf")
    assert (rows["RNC_AA0000002"]["nb_ventes_appartements"], rows["RNC_AA0000002"]["source_ventes"]) == (0, "dvf")
    assert (rows["RNC_AA0000004"]["nb_ventes_appartements"], rows["RNC_AA0000004"]["source_ventes"]) == (None, None)


def test_sales_come_from_dv3f_when_present_a_mutation_counted_once(referential):
    with referential.engine.begin() as conn:
        _dv3f(conn, [
            # D1: both parcels of the first TUP -> one sale; 300000 / 50 m² = 6000
            ("D1", "2022-05-01", 300000, [P1A, P1B], 1, 50, "121"),
            # D2: two apartments, 140000 / 70 m² = 2000
            ("D2", "2023-01-15", 140000, [P1A], 2, 70, "122"),
            # D3: apartments within a mixed building (codtypbien 15): a sale, no apartment price
            ("D3", "2023-03-01", 500000, [P1B], 1, 40, "15"),
            # D4: older than five years; D5: a house, no apartment
            ("D4", "2017-01-01", 100000, [P1A], 1, 20, "121"),
            ("D5", "2022-01-01", 100000, [P1A], 0, None, "111"),
            # D6: one apartment on T2, 90000 / 45 m² = 2000
            ("D6", "2020-02-01", 90000, [T2], 1, 45, "121"),
        ])
    rows = _build(referential)
    r1 = rows["RNC_AA0000001"]
    assert (r1["nb_ventes_appartements"], r1["prix_m2_median"], r1["date_derniere_vente"], r1["source_ventes"]) == \
        (3, Decimal("4000"), dt.date(2023, 3, 1), "dv3f")  # D1, D2, D3; median(6000, 2000); DVF's M1 not used
    r2 = rows["RNC_AA0000002"]
    assert (r2["nb_ventes_appartements"], r2["prix_m2_median"], r2["source_ventes"]) == (1, Decimal("2000"), "dv3f")
    assert (rows["FF_" + T3]["nb_ventes_appartements"], rows["FF_" + T3]["source_ventes"]) == (0, "dv3f")
    with referential.engine.connect() as conn:
        per_tup = dict(conn.execute(sa.text(
            "select idtup, nb_ventes_prix_m2 from intermediate.indicateurs_dv3f where millesime = :m"), {"m": M}).all())
    assert per_tup == {"uf" + P1A: 2, T2: 1}
