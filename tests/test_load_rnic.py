"""Loading RNIC files: the real Bondy extract, older headers, and bad inputs (nothing lost)."""

import csv
import io
from pathlib import Path

import pytest
import sqlalchemy as sa

from coproff_platform.contracts.sources import RNIC_COLUMNS_72, RNIC_LABELS
from coproff_platform.loading import SourceFileError, load_source


def q(db, sql, **params):
    with db.engine.connect() as conn:
        return conn.execute(sa.text(sql), params).all()


def bondy_rows(realdata: Path, n: int | None = None) -> list[dict[str, str]]:
    with open(realdata / "rnic_extract_bondy.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return rows[:n] if n else rows


def write_rnic(path: Path, rows: list[dict[str, str]], header: list[str] | None = None, *,
               encoding="utf-8", newline="\n") -> Path:
    header = header or list(RNIC_COLUMNS_72)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=newline)
    w.writerow(header)
    for r in rows:
        w.writerow([r.get(h, "") for h in header])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def test_real_bondy_extract_loads_completely_with_types_and_normalised_references(fresh_db, realdata):
    report = load_source(fresh_db, "rnic", 2023, [realdata / "rnic_extract_bondy.csv"])
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (332, 332, 0)
    assert q(fresh_db, "select count(*) from quality.quarantine") == [(0,)]
    # Types: the staging columns are typed, the values normalised.
    (row,) = q(fresh_db, """select num_immat, date_immat, date_maj, lots_total, syndicat_principal, copro_dans_pdp,
                                   type_syndic, code_postal, st_srid(geom), round(st_x(geom)::numeric, 5)::float, p_constr
                            from staging.rnic where num_immat = 'AA0652685'""")
    import datetime as dt
    assert row == ("AA0652685", dt.date(2016, 12, 22), dt.date(2025, 8, 23), 234, True, False,
                   "professionnel", "93140", 4326, pytest.approx(2.48111), "DE_1994_A_2000")
    # Reference built from unpadded components (section E, numéro 121) and padded sections kept.
    assert q(fresh_db, "select idpar_1, l_idpar from staging.rnic where num_immat = 'AI6210371'") == [
        ("930100000E0121", ["930100000E0121"])]
    assert q(fresh_db, "select count(*) from staging.rnic where idpar_1 is not null") == [(208,)]
    assert q(fresh_db, "select count(*) from staging.rnic where length(idpar_1) <> 14 or idpar_1 !~ '^93010000'") == [(0,)]
    # NA postcodes and 'non connu' are NULL, never the literal text.
    assert q(fresh_db, "select count(*) from staging.rnic where code_postal is null") == [(3,)]
    assert q(fresh_db, "select count(*) from staging.rnic where syndic_siret is null") == [(173,)]
    # Quirks are soft: one registration updated before it was registered.
    assert q(fresh_db, "select num_immat, controles from staging.rnic where controles <> '{}'") == [
        ("AJ3967395", ["maj_avant_immat"])]
    assert q(fresh_db, "select rows_read, rows_loaded, rows_quarantined from quality.load_log") == [(332, 332, 0)]


def test_older_french_label_header_with_french_dates_loads_the_same(fresh_db, realdata, tmp_path):
    rows = bondy_rows(realdata, 20)
    for r in rows:  # the older release wrote dd/mm/YYYY dates
        for key in ("date_d_immatriculation", "date_de_la_derniere_maj"):
            y, m, d = r[key].split("-")
            r[key] = f"{d}/{m}/{y}"
    labels = [RNIC_LABELS.get(c, c) for c in RNIC_COLUMNS_72]
    path = tmp_path / "rnic_labels.csv"
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(labels)
    for r in rows:
        w.writerow([r[c] for c in RNIC_COLUMNS_72])
    path.write_text(buf.getvalue(), encoding="utf-8")
    report = load_source(fresh_db, "rnic", 2022, [path])
    assert report.rows_loaded == 20 and report.files[0].unknown_columns == []
    load_source(fresh_db, "rnic", 2023, [write_rnic(tmp_path / "current.csv", bondy_rows(realdata, 20))])
    cols = "num_immat, date_immat, date_maj, lots_hab, idpar_1, p_constr, st_astext(geom)"
    assert q(fresh_db, f"select {cols} from staging.rnic where millesime = 2022 order by 1") == \
        q(fresh_db, f"select {cols} from staging.rnic where millesime = 2023 order by 1")


def test_paris_references_and_hyphenated_numbers_are_normalised(fresh_db, realdata, tmp_path):
    r = bondy_rows(realdata, 1)[0] | {
        "numero_d_immatriculation": "AB2-351-013", "commune": "75056",
        "reference_cadastrale_1": "75056115DF0112",
        "reference_cadastrale_2": "", "code_insee_commune_2": "69123", "prefixe_2": "383", "section_2": "DH",
        "numero_parcelle_2": "10", "code_postal_adresse_de_reference": "75015", "code_officiel_departement": "75",
        "code_officiel_arrondissement_commune": "75115", "long": "2.29", "lat": "48.84",
    }
    load_source(fresh_db, "rnic", 2023, [write_rnic(tmp_path / "paris.csv", [r])])
    assert q(fresh_db, "select num_immat, idpar_1, idpar_2, l_idpar, controles from staging.rnic") == [
        ("AB2351013", "75115000DF0112", "69383000DH0010", ["75115000DF0112", "69383000DH0010"], [])]


def test_hard_failures_are_quarantined_with_reason_line_and_raw(fresh_db, realdata, tmp_path):
    rows = bondy_rows(realdata, 6)
    rows[1]["numero_d_immatriculation"] = "A-12"  # malformed number
    rows[2]["numero_d_immatriculation"] = rows[0]["numero_d_immatriculation"]  # duplicate in the millésime
    rows[3]["date_d_immatriculation"] = "2019-13-45"  # unparseable date
    rows[4]["nombre_total_de_lots"] = "douze"  # unparseable number
    path = write_rnic(tmp_path / "bad.csv", rows)
    with open(path, "a", encoding="utf-8") as f:
        f.write('"1","2","AA9999999"\n')  # a malformed line: 3 fields for 72
    report = load_source(fresh_db, "rnic", 2023, [path])
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (7, 2, 5)
    got = q(fresh_db, "select source_line, reason, field from quality.quarantine order by source_line")
    assert got == [
        (3, "num_immat_invalide", "numero_d_immatriculation"),
        (4, "cle_dupliquee", "num_immat"),
        (5, "date_invalide", "date_d_immatriculation"),
        (6, "nombre_invalide", "nombre_total_de_lots"),
        (8, "ligne_malformee", None),
    ]
    raws = dict(q(fresh_db, "select source_line, raw from quality.quarantine"))
    # The duplicate keeps its own raw line and names the occurrence that was kept.
    assert rows[2]["nom_d_usage_de_la_copropriete"] in raws[4] and rows[0]["numero_d_immatriculation"] in raws[4]
    assert q(fresh_db, "select detail from quality.quarantine where source_line = 4") == [
        ("num_immat already loaded from bad.csv, line 2",)]
    assert "A-12" in raws[3] and raws[8].startswith('"1","2","AA9999999"') and "douze" in raws[6]
    assert q(fresh_db, "select source_file, count(*) from quality.quarantine group by 1") == [("bad.csv", 5)]


def test_soft_registry_controls_flag_but_load(fresh_db, realdata, tmp_path):
    r = bondy_rows(realdata, 1)[0] | {
        "date_d_immatriculation": "2015-06-01",  # before the registry opened
        "nombre_de_lots_a_usage_d_habitation": "500",  # more dwelling lots than lots for dwellings/shops
        "siret_du_representant_legal": "34863116900046",  # checksum wrong
        "code_postal_adresse_de_reference": "75015",  # not in département 93
        "long": "-40.0", "lat": "10.0",  # in the Atlantic
    }
    load_source(fresh_db, "rnic", 2023, [write_rnic(tmp_path / "soft.csv", [r])])
    (flags,) = q(fresh_db, "select controles from staging.rnic")[0]
    assert set(flags) == {"immat_avant_2016_11", "lots_incoherents", "siret_cle_invalide",
                          "cp_hors_departement", "point_hors_france"}


def test_bom_crlf_and_unknown_extra_column(fresh_db, realdata, tmp_path):
    header = ["colonne_inconnue", *RNIC_COLUMNS_72]
    rows = [r | {"colonne_inconnue": "x"} for r in bondy_rows(realdata, 5)]
    path = write_rnic(tmp_path / "bom.csv", rows, header, encoding="utf-8-sig", newline="\r\n")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf") and b"\r\n" in path.read_bytes()
    report = load_source(fresh_db, "rnic", 2023, [path])
    assert report.rows_loaded == 5 and report.files[0].unknown_columns == ["colonne_inconnue"]
    assert "BOM" in report.files[0].encoding
    assert q(fresh_db, "select count(*) from staging.rnic where code_region = '11' and epci = '200057875'") == [(5,)]


def test_latin1_file_is_read_with_the_cp1252_fallback(fresh_db, realdata, tmp_path):
    rows = [r for r in bondy_rows(realdata) if r["type_de_syndic_benevole_professionnel_non_connu"] == "bénévole"][:3]
    path = write_rnic(tmp_path / "latin1.csv", rows, encoding="latin-1")
    report = load_source(fresh_db, "rnic", 2023, [path])
    assert report.rows_loaded == 3 and "fallback" in report.files[0].encoding
    assert q(fresh_db, "select distinct type_syndic from staging.rnic") == [("bénévole",)]


def test_a_latin1_line_after_the_first_mib_is_read_with_the_fallback_not_failed(fresh_db, realdata, tmp_path,
                                                                                 monkeypatch):
    # Encoding is decided per line: a Latin-1 line far into a UTF-8 file costs nothing.
    monkeypatch.setattr("coproff_platform.loading.reader.SNIFF_BYTES", 2000)
    rows = bondy_rows(realdata, 4)
    rows[3]["type_de_syndic_benevole_professionnel_non_connu"] = "bénévole"
    path = write_rnic(tmp_path / "mixed.csv", rows[:3])
    with open(path, "ab") as f:
        f.write(write_rnic(tmp_path / "l1.csv", rows[3:], encoding="latin-1").read_bytes().split(b"\n", 1)[1])
    report = load_source(fresh_db, "rnic", 2023, [path])
    assert (report.rows_loaded, report.files[0].lines_fallback) == (4, 1)
    assert q(fresh_db, "select type_syndic from staging.rnic where source_line = 5") == [("bénévole",)]


def test_missing_required_column_fails_and_keeps_the_published_millesime(fresh_db, realdata, tmp_path):
    good = write_rnic(tmp_path / "good.csv", bondy_rows(realdata, 4))
    load_source(fresh_db, "rnic", 2023, [good])
    header = [c for c in RNIC_COLUMNS_72 if c != "numero_d_immatriculation"]
    bad = write_rnic(tmp_path / "nonum.csv", bondy_rows(realdata, 4), header)
    with pytest.raises(SourceFileError, match=r"nonum\.csv, line 1: missing required column\(s\) numero_d_immatriculation"):
        load_source(fresh_db, "rnic", 2023, [good, bad])
    assert q(fresh_db, "select count(*) from staging.rnic where millesime = 2023") == [(4,)]


def test_empty_file_fails_with_its_name(fresh_db, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(SourceFileError, match=r"empty\.csv: empty file"):
        load_source(fresh_db, "rnic", 2023, [empty])


def test_reloading_a_millesime_is_atomic_and_leaves_other_millesimes(fresh_db, realdata, tmp_path):
    rows = bondy_rows(realdata, 10)
    rows[0]["numero_d_immatriculation"] = "bad"
    load_source(fresh_db, "rnic", 2022, [write_rnic(tmp_path / "a.csv", rows)])
    load_source(fresh_db, "rnic", 2023, [write_rnic(tmp_path / "b.csv", rows[:5])])
    load_source(fresh_db, "rnic", 2023, [write_rnic(tmp_path / "c.csv", rows[:8])])
    assert q(fresh_db, "select millesime, count(*) from staging.rnic group by 1 order by 1") == [(2022, 9), (2023, 7)]
    assert q(fresh_db, "select millesime, source_file, count(*) from quality.quarantine group by 1, 2 order by 1") == [
        (2022, "a.csv", 1), (2023, "c.csv", 1)]
    assert q(fresh_db, "select millesime, source_file, rows_read from quality.load_log order by 1") == [
        (2022, "a.csv", 10), (2023, "c.csv", 8)]


def test_header_only_files_fail_rather_than_publish_an_empty_millesime(fresh_db, realdata, tmp_path):
    load_source(fresh_db, "rnic", 2023, [write_rnic(tmp_path / "full.csv", bondy_rows(realdata, 3))])
    with pytest.raises(SourceFileError, match="no data row"):
        load_source(fresh_db, "rnic", 2023, [write_rnic(tmp_path / "header_only.csv", [])])
    assert q(fresh_db, "select count(*) from staging.rnic") == [(3,)]


def test_56_column_release_maps_qp_aliases_and_knows_the_arretes_columns(fresh_db, realdata, tmp_path):
    dropped = {"nom_qp_2024", "code_qp_2024", "copro_dans_acv", "copro_dans_pvd", "code_de_pdp", "copro_dans_pdp",
               "copro_aidee", "code_officiel_epci", "nom_officiel_epci", "code_officiel_region", "nom_officiel_region",
               "nombre_d_unions_de_syndicats_auxquelles_est_rattache_le_syndica",
               "nom_officiel_arrondissement_commune", "nom_officiel_departement", "adresse_complementaire_3",
               "nombre_d_aful_auxquelles_est_rattache_le_syndicat_de_copropriet", "nom_officiel_commune",
               "identification_du_representant_legal_raison_sociale_et_le_numer", "commune_du_representant_legal"}
    rename = {"nom_qp_2015": "nom_qp", "code_qp_2015": "code_qp"}
    arretes = ["nombre_arretes_code_sante_publique_en_cours", "nombre_arretes_peril_parties_communes_en_cours",
               "nombre_arretes_equipements_communs_en_cours"]
    header = [rename.get(c, c) for c in RNIC_COLUMNS_72 if c not in dropped] + arretes
    assert len(header) == 56
    rows = [{rename.get(k, k): v for k, v in r.items()} | {a: "0" for a in arretes}
            for r in bondy_rows(realdata) if r["code_qp_2015"]][:5]
    report = load_source(fresh_db, "rnic", 2023, [write_rnic(tmp_path / "rnic56.csv", rows, header)])
    assert report.rows_loaded == 5 and report.files[0].unknown_columns == []
    assert "code_qp_2024" in report.files[0].missing_optional
    assert q(fresh_db, "select count(*) from staging.rnic where code_qp_2015 like 'QP093%' and code_qp_2024 is null") == [(5,)]


def test_line_numbers_count_physical_lines_of_quoted_multiline_fields(fresh_db, realdata, tmp_path):
    rows = bondy_rows(realdata, 3)
    rows[0]["adresse_de_reference"] = "12 rue X\nBâtiment B\n93140 Bondy"  # a quoted field on 3 lines
    rows[2]["numero_d_immatriculation"] = "XX"
    load_source(fresh_db, "rnic", 2023, [write_rnic(tmp_path / "multi.csv", rows)])
    assert q(fresh_db, "select source_line, adresse from staging.rnic order by 1") == [
        (2, "12 rue X Bâtiment B 93140 Bondy"), (5, rows[1]["adresse_de_reference"].strip())]
    assert q(fresh_db, "select source_line, reason from quality.quarantine") == [(6, "num_immat_invalide")]
