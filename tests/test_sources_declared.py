"""Sources declared once; optional sources optional; the open cadastre; one bad value costs one row;
encoding decided per line. Against real PostgreSQL/PostGIS and the real files of tests/data/realdata."""

import gzip
import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from coproff_platform.contracts.sources import SOURCES, required_folders
from coproff_platform.loading import SourceFileError, load_source
from coproff_platform.loading.load import plan_source
from test_load_rnic import bondy_rows, write_rnic
from test_load_sources import write_ff


def q(db, sql, **params):
    with db.engine.connect() as conn:
        return conn.execute(sa.text(sql), params).all()


def load_planned(db, landing: Path, source: str, millesime: int = 2023):
    plan = plan_source(landing, millesime, source)
    return load_source(db, source, millesime, plan.files, note=plan.note)


def feature(idpar: str, ring: list, **props) -> str:
    return json.dumps({"type": "Feature", "id": idpar,
                       "geometry": {"type": "Polygon", "coordinates": [ring]},
                       "properties": {"id": idpar, "commune": idpar[:5], "prefixe": idpar[5:8],
                                      "section": idpar[8:10].lstrip("0"), "numero": idpar[10:].lstrip("0"),
                                      "contenance": 100, "created": "2007-07-01", "updated": "2024-01-02", **props}},
                      separators=(",", ":"))


def square(x: float, y: float, d: float = 0.0002) -> list:
    return [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]


def etalab_file(path: Path, features: list[str], compress: bool = True) -> Path:
    """The layout cadastre.data.gouv.fr publishes: one feature per line, `]}` after the last."""
    text = '{"type":"FeatureCollection","features":[\n' + ",\n".join(features) + "]}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(text.encode()) if compress else text.encode())
    return path


# -- sources declared once --------------------------------------------------------------------------

def test_every_declared_source_has_its_asset_reconciliation_and_expectation_check():
    from coproff_platform.assets.sources import SOURCE_ASSETS
    from coproff_platform.checks.expectations import EXPECTATION_CHECKS
    from coproff_platform.checks.sources import SOURCE_CHECKS

    declared = {("staging", name) for name in SOURCES}
    assert {tuple(k.path) for a in SOURCE_ASSETS for k in a.keys} == declared
    for checks, name in ((SOURCE_CHECKS, "rows_reconcile"), (EXPECTATION_CHECKS, "great_expectations")):
        keys = {(tuple(k.asset_key.path), k.name) for c in checks for k in c.check_keys}
        assert keys == {(d, name) for d in declared}  # DV3F and the cadastre included
    assert required_folders() == (("rnic",), ("ff", "cadastre"))


def test_rnic_depends_on_every_parcel_source_it_controls_against():
    from coproff_platform.assets.sources import SOURCE_ASSETS

    rnic = next(a for a in SOURCE_ASSETS if a.key.path == ["staging", "rnic"])
    # its own landing files, and the parcels its reference controls read
    assert {tuple(k.path) for k in rnic.asset_deps[rnic.key]} == {("landing", "rnic"), ("staging", "ff_parcelle"),
                                                                  ("staging", "cadastre_parcelle")}


# -- optional sources are optional ------------------------------------------------------------------

@pytest.mark.parametrize("source", ["dpe", "dvf", "lovac", "dv3f"])
def test_missing_optional_source_gives_zero_rows_and_a_note(fresh_db, tmp_path, source):
    report = load_planned(fresh_db, tmp_path, source)
    assert (report.present, report.rows_loaded) == (False, 0)
    assert "optionnelle absente" in report.note
    assert q(fresh_db, f"select count(*) from staging.{source} where millesime = 2023") == [(0,)]


def test_header_only_optional_source_gives_zero_rows_and_a_note(fresh_db, tmp_path):
    folder = tmp_path / "2023" / "lovac"
    folder.mkdir(parents=True)
    (folder / "lovac.csv").write_text("ff_idlocal|ff_idpar|debutvacance\n", encoding="utf-8")
    report = load_planned(fresh_db, tmp_path, "lovac")
    assert (report.present, report.rows_read) == (False, 0) and "en-tête seul" in report.note
    assert q(fresh_db, "select count(*) from staging.lovac_m2023") == [(0,)]


def test_header_only_required_source_still_fails_clearly(fresh_db, tmp_path):
    (tmp_path / "2023" / "rnic").mkdir(parents=True)
    write_rnic(tmp_path / "2023" / "rnic" / "rnic.csv", [])
    with pytest.raises(SourceFileError, match=r"rnic\.csv: no data row in any file \(header only\)"):
        load_planned(fresh_db, tmp_path, "rnic")


def test_with_ff_and_cadastre_the_cadastre_is_set_aside_with_a_note(fresh_db, tmp_path, realdata):
    write_ff(tmp_path / "2023" / "ff")
    (tmp_path / "2023" / "cadastre").mkdir(parents=True)
    shutil.copy(realdata / "cadastre-36174-parcelles.json.gz", tmp_path / "2023" / "cadastre")
    report = load_planned(fresh_db, tmp_path, "cadastre_parcelle")
    assert report.rows_loaded == 0 and report.note.startswith("Dossier cadastre/ ignoré")
    assert load_planned(fresh_db, tmp_path, "ff_parcelle").rows_loaded == 4  # the FF files load as usual


def test_with_cadastre_only_the_ff_sources_are_empty_not_failed(fresh_db, tmp_path, realdata):
    (tmp_path / "2023" / "cadastre").mkdir(parents=True)
    shutil.copy(realdata / "cadastre-36174-parcelles.json.gz", tmp_path / "2023" / "cadastre")
    for source in ("ff_parcelle", "ff_tup"):
        report = load_planned(fresh_db, tmp_path, source)
        assert report.rows_loaded == 0 and "construit sur les parcelles de cadastre/" in report.note
    assert load_planned(fresh_db, tmp_path, "cadastre_parcelle").rows_loaded == 4163


def test_without_any_parcel_source_the_parcel_assets_fail_naming_both_folders(fresh_db, tmp_path):
    with pytest.raises(SourceFileError, match=r"no parcel source: a millésime needs one of ff/, cadastre/"):
        plan_source(tmp_path, 2023, "ff_tup")


# -- the open cadastre ------------------------------------------------------------------------------

def test_real_etalab_cadastres_load_completely_with_padded_sections(fresh_db, realdata):
    files = [realdata / "cadastre-75118-parcelles.json.gz", realdata / "cadastre-36174-parcelles.json.gz"]
    report = load_source(fresh_db, "cadastre_parcelle", 2023, files)
    assert [(f.rows_read, f.rows_loaded + f.rows_quarantined) for f in report.files] == [(6906, 6906), (4163, 4163)]
    assert report.rows_loaded == 6906 + 4163 - report.rows_quarantined and report.reconciled
    assert q(fresh_db, "select idpar, code_commune, prefixe, section, numero, contenance, date_creation::text, "
                       "source_line from staging.cadastre_parcelle where idpar = '361740000A0049'") == [
        ("361740000A0049", "36174", "000", "0A", "0049", 721430, "2007-07-01", 1)]
    assert q(fresh_db, "select count(*) from staging.cadastre_parcelle where idpar <> code_commune || prefixe "
                       "|| section || numero or st_srid(geom) <> 4326 or geom is null") == [(0,)]
    assert q(fresh_db, "select sum(rows_read) from quality.load_log where source = 'cadastre_parcelle'") == [(11069,)]


def test_compression_is_decided_on_magic_bytes_not_the_name(fresh_db, tmp_path, realdata):
    renamed = tmp_path / "cadastre-36174-parcelles.geojson"  # gzip inside, despite the name
    shutil.copy(realdata / "cadastre-36174-parcelles.json.gz", renamed)
    plain = etalab_file(tmp_path / "cadastre-75056-parcelles.json.gz", [feature("75056000AB0001", square(2.3, 48.8))],
                        compress=False)  # plain JSON, despite .gz
    report = load_source(fresh_db, "cadastre_parcelle", 2023, [renamed, plain])
    assert [f.rows_loaded for f in report.files] == [4163, 1]


def test_one_bad_feature_costs_one_row_with_file_feature_field_and_reason(fresh_db, tmp_path):
    ok = feature("93010000AB0001", square(2.48, 48.9))
    bow_tie = feature("93010000AB0002", [[2.48, 48.9], [2.4802, 48.9002], [2.4802, 48.9], [2.48, 48.9002], [2.48, 48.9]])
    unclosed = feature("93010000AB0003", square(2.481, 48.9)[:-1])
    lambert = feature("93010000AB0004", square(661956.0, 6866358.0, 20))  # Lambert-93 numbers in WGS84
    huge = feature("93010000AB0005", square(2.482, 48.9), contenance=2147483648)
    unknown_srid = json.loads(feature("93010000AB0006", square(2.483, 48.9)))
    unknown_srid["geometry"]["crs"] = {"type": "name", "properties": {"name": "EPSG:999999"}}
    features = [ok, '{"type":"Feature","geometry":', bow_tie, unclosed, lambert, huge,
                json.dumps(unknown_srid), feature("93010000AB0008", square(2.485, 48.9)),
                feature("bad", square(2.484, 48.9)), ok]
    path = etalab_file(tmp_path / "cadastre-93010-parcelles.json.gz", features)
    report = load_source(fresh_db, "cadastre_parcelle", 2023, [path])
    assert (report.rows_read, report.rows_loaded) == (10, 3) and report.reconciled
    rejected = q(fresh_db, "select source_line, reason, field from quality.quarantine order by 1")
    assert rejected == [(2, "objet_illisible", None), (4, "geometrie_non_fermee", "geometry"),
                        (5, "srid_incoherent", "geometry"), (6, "nombre_hors_limites", "contenance"),
                        (7, "srid_inconnu", "geometry"), (9, "identifiant_parcelle_invalide", "id"),
                        (10, "cle_dupliquee", "id")]
    # The bow tie is repaired by ST_MakeValid, kept and flagged.
    assert q(fresh_db, "select source_line, anomalies, st_isvalid(geom) from staging.cadastre_parcelle order by 1") == [
        (1, [], True), (3, ["geometrie_reparee"], True), (8, [], True)]
    assert report.soft["geometrie_reparee"] == 1


def test_a_nul_byte_in_a_feature_quarantines_that_feature(fresh_db, tmp_path):
    good = feature("93010000AB0001", square(2.48, 48.9))
    nul = feature("93010000AB0002", square(2.481, 48.9)).replace('"AB"', '"A\x00B"')
    path = etalab_file(tmp_path / "cadastre-93010-parcelles.json.gz", [good, nul])
    report = load_source(fresh_db, "cadastre_parcelle", 2023, [path])
    assert (report.rows_loaded, report.reasons["caractere_nul"]) == (1, 1)


def test_rnic_far_from_commune_control_uses_the_cadastre_when_there_is_no_ff(fresh_db, tmp_path, realdata):
    load_source(fresh_db, "cadastre_parcelle", 2023, [realdata / "cadastre-36174-parcelles.json.gz"])
    rows = bondy_rows(realdata, 2)
    for r in rows:
        r["commune"] = r["code_officiel_arrondissement_commune"] = "36174"
    rows[1]["long"], rows[1]["lat"] = "1.37", "46.47"  # inside Roussines
    report = load_source(fresh_db, "rnic", 2023, [write_rnic(tmp_path / "rnic.csv", rows)])
    assert report.soft["point_loin_commune"] == 1  # the Bondy point is 250 km from Roussines' parcels
    assert q(fresh_db, "select 'point_loin_commune' = any(controles) from staging.rnic order by source_line") == [
        (True,), (False,)]


# -- one bad value costs one row (CSV sources) ------------------------------------------------------

def test_bad_values_quarantine_their_row_and_absurd_counts_are_flagged(fresh_db, realdata, tmp_path):
    rows = bondy_rows(realdata, 6)
    rows[1]["nom_d_usage_de_la_copropriete"] = "Résidence\x00 Hélène"
    rows[2]["nombre_total_de_lots"] = "2147483648"
    rows[3]["nombre_de_lots_a_usage_d_habitation"] = "-1"
    rows[4]["nombre_total_de_lots"] = "999999"
    report = load_source(fresh_db, "rnic", 2023, [write_rnic(tmp_path / "rnic.csv", rows)])
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (6, 3, 3)
    assert q(fresh_db, "select source_line, reason, field from quality.quarantine order by 1") == [
        (3, "caractere_nul", "nom_d_usage_de_la_copropriete"),
        (4, "nombre_hors_limites", "nombre_total_de_lots"),
        (5, "nombre_negatif", "nombre_de_lots_a_usage_d_habitation")]
    assert q(fresh_db, "select lots_total, 'lots_improbables' = any(controles) from staging.rnic "
                       "where source_line = 6") == [(999999, True)]


# -- encoding decided per line ----------------------------------------------------------------------

def test_a_file_mixing_utf8_and_latin1_lines_is_read_without_mojibake(fresh_db, realdata, tmp_path):
    rows = bondy_rows(realdata, 4)
    for r in rows:
        r["nom_d_usage_de_la_copropriete"] = "Résidence Hélène"
    utf8 = write_rnic(tmp_path / "a.csv", rows[:2]).read_bytes()
    latin1 = write_rnic(tmp_path / "b.csv", rows[2:], encoding="latin-1").read_bytes().split(b"\n", 1)[1]
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes(utf8 + latin1)
    report = load_source(fresh_db, "rnic", 2023, [mixed])
    assert report.rows_loaded == 4 and report.files[0].lines_fallback == 2
    assert "2 line(s)" in report.files[0].encoding
    assert q(fresh_db, "select distinct nom_copro from staging.rnic") == [("Résidence Hélène",)]
    assert q(fresh_db, "select lines_fallback from quality.load_log") == [(2,)]


# -- Fichiers fonciers read from a restored PostgreSQL schema ---------------------------------------

def test_ff_read_from_a_restored_schema_loads_like_files_with_quarantine_and_reconciliation(fresh_db, tmp_path):
    csv_landing = tmp_path / "csv"
    write_ff(csv_landing / "2023" / "ff")
    from_files = load_source(fresh_db, "ff_parcelle", 2023, plan_source(csv_landing, 2023, "ff_parcelle").files)
    expected = q(fresh_db, "select idpar, idcom, dcntpa, st_astext(geompar_4326) from staging.ff_parcelle order by 1")
    # The same parcels restored as a PostgreSQL table (geometry typed, as in the FF dumps).
    with fresh_db.engine.begin() as conn:
        conn.execute(sa.text("drop schema if exists ff_2023 cascade"))
        conn.execute(sa.text("create schema ff_2023"))
        conn.execute(sa.text(
            "create table ff_2023.pnb10_parcelle (idpar text, idtup text, idcom text, ccodep text, ccocom text, "
            "ccopre text, ccosec text, dnupla text, dcntpa integer, jannatmin integer, nlocal integer, "
            "nlogh integer, ctpdl text, geompar geometry)"))
    for f in sorted((csv_landing / "2023" / "ff").glob("pnb10*.csv")):
        raw = fresh_db.engine.raw_connection()
        try:
            with raw.cursor() as cur, cur.copy("copy ff_2023.pnb10_parcelle from stdin (format csv, header)") as cp:
                cp.write(f.read_bytes())
            raw.commit()
        finally:
            raw.close()
    landing = tmp_path / "pg"
    (landing / "2023" / "ff").mkdir(parents=True)
    (landing / "2023" / "ff" / "source.yml").write_text("parcelle: ff_2023.pnb10_parcelle\n", encoding="utf-8")
    plan = plan_source(landing, 2023, "ff_parcelle")
    assert [p.display for p in plan.files] == ["pg:ff_2023.pnb10_parcelle"]
    report = load_source(fresh_db, "ff_parcelle", 2023, plan.files)
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (
        from_files.rows_read, from_files.rows_loaded, from_files.rows_quarantined) and report.reconciled
    assert q(fresh_db, "select idpar, idcom, dcntpa, st_astext(geompar_4326) from staging.ff_parcelle order by 1") == expected
    # The bad row of the CSV is quarantined naming the table and its row number.
    assert q(fresh_db, "select source_file, source_line, reason from quality.quarantine") == [
        ("pg:ff_2023.pnb10_parcelle", 4, "reference_cadastrale_invalide")]
    assert q(fresh_db, "select source_file, rows_read from quality.load_log") == [("pg:ff_2023.pnb10_parcelle", 5)]


def test_a_misnamed_table_in_source_yml_fails_naming_the_table_and_the_config(fresh_db, tmp_path):
    (tmp_path / "2023" / "ff").mkdir(parents=True)
    (tmp_path / "2023" / "ff" / "source.yml").write_text("tup: ff_2023.absent\n", encoding="utf-8")
    plan = plan_source(tmp_path, 2023, "ff_tup")
    with pytest.raises(SourceFileError, match=r"pg:ff_2023\.absent: cannot read the table .*source\.yml"):
        load_source(fresh_db, "ff_tup", 2023, plan.files)
