"""Exports of a published millésime: GeoPackage read back with GDAL's ogrinfo, CSVs, and the CLI."""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from dagster import DagsterInstance, materialize

from coproff_platform.assets.exports import EXPORT_ASSETS
from coproff_platform.assets.publication import publish
from coproff_platform.cli import EXIT_NOT_FOUND, main as coproff
from coproff_platform.partitions import register_millesime
from coproff_platform.resources.postgis import PostGISResource

POINTS = {  # idcopro -> (lon, lat): Paris, Bondy, Saint-Denis de La Réunion
    "RNC_AA0000001": (2.3522219, 48.8566140),
    "RNC_AA0000002": (2.4828, 48.9022),
    "FF_97411000AB0001": (55.4504, -20.8823),
}


@pytest.fixture
def published(fresh_db: PostGISResource, document_coproff) -> PostGISResource:
    with fresh_db.engine.begin() as conn:
        conn.execute(sa.text(
            "create table coproff.coproff (idcopro text not null, millesime smallint not null, "
            "situation text, lots_hab integer, l_idpar text[], code_commune char(5), indicatif boolean, "
            "geom geometry(Point, 4326)) partition by list (millesime)"))
        conn.execute(sa.text("comment on table coproff.coproff is 'Référentiel CoproFF'"))
        conn.execute(sa.text("comment on column coproff.coproff.code_commune is 'Code INSEE de la commune'"))
        conn.execute(sa.text("comment on column coproff.coproff.l_idpar is 'Parcelles de la TUP'"))
        conn.execute(sa.text(
            "create table coproff.stats_situations (millesime smallint not null, situation text, nb_copro integer) "
            "partition by list (millesime)"))
    for millesime in (2022, 2023):
        with fresh_db.replace_millesime("coproff.coproff", millesime) as swap:
            swap.copy_rows(["idcopro", "millesime", "situation", "lots_hab", "l_idpar"], [
                (idcopro, millesime, "ff_only" if idcopro.startswith("FF_") else "rnic_1_1", 12, ["75101000AB0001"])
                for idcopro in POINTS
            ])
            for idcopro, (lon, lat) in POINTS.items():
                swap.conn.execute(sa.text(f"update {swap.table} set geom = st_setsrid(st_makepoint(:x, :y), 4326) "
                                          "where idcopro = :i"), {"x": lon, "y": lat, "i": idcopro})
            # A commune code with a leading zero (Ain) and a boolean, to see them survive the exports.
            swap.conn.execute(sa.text(f"update {swap.table} set code_commune = '01053', indicatif = true "
                                      "where idcopro = 'RNC_AA0000001'"))
        with fresh_db.replace_millesime("coproff.stats_situations", millesime) as swap:
            swap.copy_rows(["millesime", "situation", "nb_copro"], [(millesime, "rnic_1_1", 2), (millesime, "ff_only", 1)])
    with fresh_db.engine.begin() as conn:
        document_coproff(conn)  # publication blocks on undocumented relations
        publish(conn, 2023)
    return fresh_db


def test_export_assets_write_a_point_geopackage_and_csvs(published, tmp_path, monkeypatch):
    monkeypatch.setenv("COPROFF_EXPORT_DIR", str(tmp_path))
    with DagsterInstance.ephemeral() as instance:
        register_millesime(instance, "2023")
        result = materialize(EXPORT_ASSETS, partition_key="2023", resources={"postgis": published}, instance=instance)
        assert result.success
    out = tmp_path / "2023"
    assert sorted(p.name for p in out.iterdir()) == [
        "coproff_2023.csv", "coproff_2023.csvt", "coproff_2023.gpkg", "coproff_2023.prj",
        "dictionnaire_2023.csv", "dictionnaire_2023.csvt", "stats_situations_2023.csv", "stats_situations_2023.csvt"]

    info = subprocess.run(["ogrinfo", "-so", "-al", str(out / "coproff_2023.gpkg")], capture_output=True, text=True, check=True).stdout
    assert "Layer name: coproff" in info
    assert "Geometry: Point" in info
    assert "Feature Count: 3" in info
    assert 'ID["EPSG",4326]' in info
    # The Réunion point comes back where it was (no axis swap, no reprojection).
    feature = subprocess.run(
        ["ogrinfo", "-q", str(out / "coproff_2023.gpkg"), "-sql", "select * from coproff where idcopro = 'FF_97411000AB0001'"],
        capture_output=True, text=True, check=True).stdout
    assert "POINT (55.4504 -20.8823)" in feature

    with (out / "coproff_2023.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["idcopro"] for r in rows] == sorted(POINTS)
    assert "geom" not in rows[0] and {r["millesime"] for r in rows} == {"2023"}
    paris = next(r for r in rows if r["idcopro"] == "RNC_AA0000001")
    assert (float(paris["longitude"]), float(paris["latitude"])) == pytest.approx(POINTS["RNC_AA0000001"], abs=1e-7)

    stats = (out / "stats_situations_2023.csv").read_text().splitlines()
    assert stats[0] == "millesime,situation,nb_copro" and len(stats) == 3  # only 2023's rows


def test_cli_exports_a_published_millesime_and_refuses_an_unpublished_one(published, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COPROFF_DATABASE_URL", published.database_url)
    assert coproff(["export", "--millesime", "2023", "--format", "csv", "--output", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.csv")) == [
        "coproff_2023.csv", "dictionnaire_2023.csv", "stats_situations_2023.csv"]
    assert "coproff_2023.csv" in capsys.readouterr().out

    # 2022 is in the table but was never published: it is not exported.
    assert coproff(["export", "--millesime", "2022", "--format", "gpkg", "--output", str(tmp_path)]) == EXIT_NOT_FOUND
    assert "millésime 2022 is not published" in capsys.readouterr().err
    assert not list(tmp_path.glob("*2022*"))


@pytest.mark.parametrize("command", ["export", "status"])
def test_cli_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        coproff([command, "--help"])
    assert exit_.value.code == 0
    assert "--millesime" in capsys.readouterr().out


def _ogrinfo(*args: str) -> str:
    return subprocess.run(["ogrinfo", *args], capture_output=True, text=True, check=True).stdout


def test_csv_export_declares_its_types_and_opens_as_points_in_gdal(published, tmp_path):
    from coproff_platform.exports import export_csv

    exported = export_csv(published.engine, 2023, tmp_path)
    info = _ogrinfo("-so", "-al", str(exported.path))
    # GDAL reads the .csvt and .prj: a point layer in EPSG:4326, codes as text, booleans as booleans.
    assert "Geometry: Point" in info and "Feature Count: 3" in info and 'ID["EPSG",4326]' in info
    assert "code_commune: String" in info and "lots_hab: Integer" in info
    assert "indicatif: Integer(Boolean)" in info and "l_idpar: String" in info
    paris = _ogrinfo("-q", str(exported.path), "-sql", "select * from coproff_2023 where idcopro = 'RNC_AA0000001'")
    assert "code_commune (String) = 01053" in paris  # the leading zero survives
    assert "indicatif (Integer(Boolean)) = 1" in paris
    assert "l_idpar (String) = 75101000AB0001" in paris  # a plain list, not {..}
    assert "POINT (2.3522219 48.856614)" in paris
    text = exported.path.read_text()
    assert "{" not in text and ",t," not in text and ",true," in text


def test_geopackage_carries_layer_and_column_descriptions(published, tmp_path):
    from coproff_platform.exports import export_gpkg

    exported = export_gpkg(published.engine, published.database_url, 2023, tmp_path)
    info = _ogrinfo("-so", str(exported.path), "coproff")
    assert "DESCRIPTION=Référentiel CoproFF (millésime 2023)" in info
    assert "code_commune: String" in info and "l_idpar: String" in info
    columns = _ogrinfo("-q", str(exported.path), "-sql",
                       "select column_name, description from gpkg_data_columns where table_name = 'coproff'")
    assert "column_name (String) = code_commune" in columns and "description (String) = Code INSEE de la commune" in columns
    extension = _ogrinfo("-q", str(exported.path), "-sql", "select extension_name from gpkg_extensions "
                         "where table_name = 'gpkg_data_columns'")
    assert "gpkg_schema" in extension
    paris = _ogrinfo("-q", str(exported.path), "-sql", "select l_idpar, code_commune from coproff where idcopro = 'RNC_AA0000001'")
    assert "l_idpar (String) = 75101000AB0001" in paris and "code_commune (String) = 01053" in paris


def test_data_dictionary_lists_every_exported_column_with_type_and_description(published, tmp_path):
    from coproff_platform.exports import export_dictionary

    exported = export_dictionary(published.engine, 2023, tmp_path)
    with exported.path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    by_key = {(r["fichier"], r["colonne"]): r for r in rows}
    assert by_key[("coproff_2023.csv", "code_commune")]["type"] == "String"
    assert by_key[("coproff_2023.csv", "code_commune")]["description"] == "Code INSEE de la commune"
    assert by_key[("coproff_2023.csv", "longitude")]["type"] == "CoordX"
    assert by_key[("coproff_2023.gpkg", "geom")]["type"] == "Point (EPSG:4326)"
    assert by_key[("stats_situations_2023.csv", "nb_copro")]["type"] == "Integer"
    assert ("coproff_2023.csv", "geom") not in by_key
