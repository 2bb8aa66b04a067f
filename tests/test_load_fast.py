"""The loader's fast path (`loading.fast`): raw COPY + SQL gives exactly the Python path's rows,
quarantine and load log; a file it cannot vouch for falls back to Python with the same result."""

from pathlib import Path

import pytest
import sqlalchemy as sa

from coproff_platform.contracts.sources import SOURCES
from coproff_platform.loading import fast, load_source
from coproff_platform.loading.load import source_files

DPE_HEADER = ("numero_dpe,date_etablissement_dpe,etiquette_dpe,etiquette_ges,type_batiment,annee_construction,"
              "surface_habitable_logement,numero_immatriculation_copropriete,code_insee_ban,code_postal_ban,"
              "code_departement_ban,coordonnee_cartographique_x_ban,coordonnee_cartographique_y_ban\n")
DPE_ROWS = (
    "2393E0000001A,2023-03-01,D,C,appartement,1965,81.5,AB1234567,93010,93140,93,661956.12,6866358.4\n"
    "2393E0000002B,2023-03-02,z,C,appartement,1970,\"70,0\",ab7654321,1053,1000,1,661900,6866300\n"  # soft: label
    "2393E0000003C,2023-02-30,B,B,maison,1990,100,,93010,93140,93,0,0\n"  # hard: no 30 February
    "2393E0000004D,2023-04-01,A,A,maison,NA,non connu,AB-123-4567,97411,97400,974,338767,7690355\n"
    "2393E0000005E,2023-04-02,C,C,maison,1 980,55,,93010,93140,93,661956,6866358\n"  # '1 980': Python's form only
    "2393E0000006F,2023-04-03,E,E,appartement,2001,40,,93010,93140,93,661956,99999999999\n"  # outside every territory
    "2393E0000008H,2023-04-04,D,D,appartement\u00a0 neuf,2001,40,,93010,93140,93,661956,6866358\n"  # no-break space
    "2393E0000009I,2023-04-05,D,D,\tmaison,2001,40,,93010,93140,93,661956,6866358\n"  # tab: Python strips it
    "2393E0000001A,2023-05-01,F,F,appartement,1965,81.5,,93010,93140,93,661956,6866358\n"  # duplicate key
)
LOVAC_HEADER = "ff_idlocal|ff_idpar|invariant|ff_ctpdl|debutvacance|ff_ccthp|ff_jannath|ff_stoth|ff_x|ff_y|proprietaire\n"
LOVAC_ROWS = (
    "930100000001|930100000P0206|0000001|CL|2021|V|1962|55|661956.5|6866358.5|Mme X\n"
    "930100000002|93010000P206|0000002||2020|V|0|40|661960|6866360|M. Y\n"  # 13 characters: Python
    "930100000003|bad|0000003||abc|V|1990|40||6866360|Z\n"  # hard: debutvacance
    "751010000001|75056101AB0001|0000004||2019|V|1900|30|652000|6862000|W\n"  # Paris: Python
    "974110000001||0000005||2019|V|2000|30.25|338767|7690355|V\n"
)


def snapshot(db, millesime: int = 2023) -> dict[str, list]:
    with db.engine.connect() as conn:
        return {
            name: sorted(conn.execute(sa.text(
                f"select (to_jsonb(t) - 'loaded_at')::text from {table} t where millesime = :m"), {"m": millesime})
                .scalars())
            for name, table in (("dpe", "staging.dpe"), ("lovac", "staging.lovac"),
                                ("quarantine", "quality.quarantine"), ("load_log", "quality.load_log"))
        }


def load_both(db, root: Path, monkeypatch, source: str):
    """The reports and snapshots of the same files loaded with the fast path, then without."""
    out = []
    for enabled in (True, False):
        monkeypatch.setattr(fast, "ENABLED", enabled)
        report = load_source(db, source, 2023, source_files(root, 2023, source), display=lambda p: p.name)
        out.append((report, snapshot(db)))
    return out


def test_clean_and_value_defect_files_take_the_fast_path_with_the_python_paths_rows(fresh_db, tmp_path, monkeypatch):
    (tmp_path / "2023" / "dpe").mkdir(parents=True)
    (tmp_path / "2023" / "dpe" / "dpe_93.csv").write_text(DPE_HEADER + DPE_ROWS, encoding="utf-8")
    (tmp_path / "2023" / "lovac").mkdir(parents=True)
    (tmp_path / "2023" / "lovac" / "lovac_93.csv").write_text(LOVAC_HEADER + LOVAC_ROWS, encoding="utf-8")
    for source in ("dpe", "lovac"):
        (fast_report, fast_rows), (py_report, py_rows) = load_both(fresh_db, tmp_path, monkeypatch, source)
        assert [f.fast_path for f in fast_report.files] == [True]
        assert [f.fast_path for f in py_report.files] == [False]
        assert fast_rows == py_rows
        assert fast_report.reasons == py_report.reasons and fast_report.soft == py_report.soft
        assert fast_report.rows_read == fast_report.rows_loaded + fast_report.rows_quarantined
    # The defects really reached the quarantine through the fast path's Python rows.
    reasons = {(r["source"], r["source_line"], r["reason"]) for r in map(eval_json, fast_rows["quarantine"])}
    assert ("dpe", 4, "date_invalide") in reasons
    assert ("dpe", 10, "cle_dupliquee") in reasons
    assert ("dpe", 7, "srid_incoherent") in reasons
    assert ("lovac", 4, "nombre_invalide") in reasons


@pytest.mark.parametrize("defect, reason", [
    ("2393E0000009Z,2023-04-02,C\x00,C,maison,1980,55,,93010,93140,93,661956,6866358\n", "caractere_nul"),
    ("2393E0000009Z,2023-04-02,C,C\n", "ligne_malformee"),
    ('2393E0000009Z,2023-04-02,C,C,mai"so"n,1980,55,,93010,93140,93,661956,6866358\n', "none"),  # odd quotes
    ("2393E0000009Z,2023-04-02,C,C,maison Hélène,1980,55,,93010,93140,93,661956,6866358\n", None),  # Latin-1
])
def test_a_planted_defect_sends_the_file_to_python_with_the_same_quarantine(fresh_db, tmp_path, monkeypatch,
                                                                           defect, reason):
    folder = tmp_path / "2023" / "dpe"
    folder.mkdir(parents=True)
    clean = (DPE_HEADER + DPE_ROWS).encode("utf-8")
    planted = defect.encode("latin-1") if reason is None else defect.encode("utf-8")
    (folder / "dpe_93.csv").write_bytes(clean + planted)
    (fast_report, fast_rows), (py_report, py_rows) = load_both(fresh_db, tmp_path, monkeypatch, "dpe")
    assert [f.fast_path for f in fast_report.files] == [False]
    assert fast_rows == py_rows
    if reason == "none":  # the quotes stay characters, as Python's csv reads them
        with fresh_db.engine.connect() as conn:
            assert conn.execute(sa.text("select type_batiment from staging.dpe where numero_dpe = '2393E0000009Z'"
                                        )).scalar() == 'mai"so"n'
        assert not {"ligne_malformee", "csv_invalide"} & set(fast_report.reasons)
    elif reason:
        assert fast_report.reasons[reason] == 1
    else:
        assert fast_report.files[0].lines_fallback == 1


DVF_HEADER = ("id_mutation,date_mutation,numero_disposition,nature_mutation,valeur_fonciere,code_commune,"
              "id_parcelle,code_type_local,type_local,surface_reelle_bati,lot1_surface_carrez,lot2_surface_carrez,"
              "nombre_lots,nombre_pieces_principales,longitude,latitude\n")
DVF_ROWS = (
    "2023-1,2023-01-05,000001,Vente,250000,93010,930100000P0206,2,Appartement,45,44.5,10.25,2,2,2.48,48.9\n"
    "2023-1,2023-01-05,000001,Vente,250000,93010,930100000P0206,2,Appartement,45,44.5,10.25,2,2,2.48,48.9\n"  # same line
    '2023-2,2023-01-06,000001,"Vente, adjudication",120000,93010,930100000P0207,2,Appartement,30,,,1,1,2.48,48.9\n'
    "2023-3,2023-01-07,000001,Vente,90000,93010,bad,2,Appartement,30,,,1,1,,\n"  # soft: id_parcelle
)


def test_dvf_line_hashes_match_whether_a_line_is_hashed_in_sql_or_in_python(fresh_db, tmp_path, monkeypatch):
    (tmp_path / "2023" / "dvf").mkdir(parents=True)
    (tmp_path / "2023" / "dvf" / "dvf_93.csv").write_text(DVF_HEADER + DVF_ROWS, encoding="utf-8")
    runs = []
    for enabled in (True, False):
        monkeypatch.setattr(fast, "ENABLED", enabled)
        report = load_source(fresh_db, "dvf", 2023, source_files(tmp_path, 2023, "dvf"), display=lambda p: p.name)
        with fresh_db.engine.connect() as conn:
            rows = sorted(conn.execute(sa.text("select (to_jsonb(t))::text from staging.dvf t")).scalars())
            hashes = conn.execute(sa.text("select count(distinct line_hash) from staging.dvf")).scalar()
        runs.append((report.files[0].fast_path, rows, hashes, report.soft))
    assert runs[0][0] and not runs[1][0]
    assert runs[0][1:] == runs[1][1:]
    assert runs[0][2] == 3  # the exact copy shares its hash


def test_every_converted_source_has_a_plan_and_the_others_keep_python():
    from coproff_platform.loading.transform import map_header

    planned = set()
    for name, source in SOURCES.items():
        spec = source.spec
        if spec.reader != "csv":
            continue
        hm, _ = map_header(spec, [f.name for f in spec.fields])
        if fast.plan(spec, hm) is not None:
            planned.add(name)
    assert planned == {"dpe", "lovac", "rnic", "dvf"}


def eval_json(text: str) -> dict:
    import json

    return json.loads(text)
