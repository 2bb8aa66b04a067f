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
from coproff_platform.cli import main as coproff
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
            "situation text, lots_hab integer, l_idpar text[], geom geometry(Point, 4326)) "
            "partition by list (millesime)"))
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
    assert sorted(p.name for p in out.iterdir()) == ["coproff_2023.csv", "coproff_2023.gpkg", "stats_situations_2023.csv"]

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
    assert sorted(p.name for p in tmp_path.iterdir()) == ["coproff_2023.csv", "stats_situations_2023.csv"]
    assert "coproff_2023.csv" in capsys.readouterr().out

    # 2022 is in the table but was never published: it is not exported.
    assert coproff(["export", "--millesime", "2022", "--format", "gpkg", "--output", str(tmp_path)]) == 1
    assert "millésime 2022 is not published" in capsys.readouterr().err
    assert not list(tmp_path.glob("*2022*"))


@pytest.mark.parametrize("command", ["export", "status"])
def test_cli_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        coproff([command, "--help"])
    assert exit_.value.code == 0
    assert "--millesime" in capsys.readouterr().out
