"""A GIS analyst, member of coproff_lecteur, opens the published layers in QGIS as they are.

QGIS 3.22's own Python bindings (Debian's python3-qgis, installed by scripts/ensure_qgis.sh from
`make test`) run headless in a subprocess with /usr/bin/python3 (tests/qgis_open_layers.py): the
layers are listed and opened through QGIS's browser items, so the key is the one QGIS picks
without a manual choice. The GeoPackage export is opened too (valid, feature count, CRS; its
layer and column descriptions are the export's business, not asserted here).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from coproff_platform.contracts.tables import create_all
from coproff_platform.exports import export_gpkg
from coproff_platform.publish import READER_ROLE, publish
from coproff_platform.resources.postgis import SCHEMAS, PostGISResource, literal

PROBE = Path(__file__).with_name("qgis_open_layers.py")
DEBIAN_PYTHON = "/usr/bin/python3"

COMMENTS = {
    "coproff": ("Référentiel des copropriétés", {
        "millesime": "Millésime", "idcopro": "Identifiant CoproFF", "nom_copro": "Nom d'usage",
        "geom": "Point de la copropriété (WGS84)"}),
    "doublons": ("Paires de doublons probables", {
        "millesime": "Millésime", "idcopro_a": "Première copropriété", "idcopro_b": "Seconde copropriété",
        "score": "Score"}),
}


def _fill(db: PostGISResource, millesime: int, n: int) -> None:
    with db.replace_millesime("coproff.coproff", millesime) as swap:
        swap.copy_rows(["millesime", "idcopro", "nom_copro"], [(millesime, f"FF_{i:04d}", f"Résidence {i}") for i in range(n)])
        swap.conn.execute(sa.text(f"update {swap.table} set geom = "
                                  "st_setsrid(st_makepoint(2.35 + right(idcopro, 4)::int / 1000.0, 48.85), 4326)"))
    with db.replace_millesime("coproff.doublons", millesime) as swap:
        swap.copy_rows(["millesime", "idcopro_a", "idcopro_b", "score"],
                       [(millesime, "FF_0000", f"FF_{i:04d}", 0.5) for i in range(1, n)])


@pytest.fixture(scope="module")
def published(postgis: PostGISResource, tmp_path_factory) -> dict:
    """One QGIS session for the module (it takes seconds): schemas reset as `fresh_db` does."""
    tmp_path = tmp_path_factory.mktemp("qgis")
    with postgis.engine.begin() as conn:
        for schema in SCHEMAS:
            conn.execute(sa.text(f"drop schema if exists {schema} cascade"))
    postgis.ensure_database()
    with postgis.engine.begin() as conn:
        create_all(conn)
    fresh_db = postgis
    with fresh_db.engine.begin() as conn:
        conn.execute(sa.text(
            "create table coproff.coproff (millesime smallint not null, idcopro text not null, nom_copro text, "
            "geom geometry(Point, 4326), primary key (millesime, idcopro)) partition by list (millesime)"))
        conn.execute(sa.text(
            "create table coproff.doublons (millesime smallint not null, idcopro_a text not null, "
            "idcopro_b text not null, score real, primary key (millesime, idcopro_a, idcopro_b)) "
            "partition by list (millesime)"))
        # Not published: a pipeline table with a geometry the reader must not even see listed.
        conn.execute(sa.text("create table intermediate.tup (millesime smallint, idtup text, "
                             "geomtup geometry(MultiPolygon, 4326)) partition by list (millesime)"))
        conn.execute(sa.text("create table intermediate.tup_m2023 partition of intermediate.tup for values in (2023)"))
        for table, (comment, columns) in COMMENTS.items():
            conn.execute(sa.text(f"comment on table coproff.{table} is {literal(comment)}"))
            for column, text in columns.items():
                conn.execute(sa.text(f"comment on column coproff.{table}.{column} is {literal(text)}"))
    _fill(fresh_db, 2022, 4)
    _fill(fresh_db, 2023, 6)
    publish(fresh_db.engine, 2022, "run-2022")
    publish(fresh_db.engine, 2023, "run-2023")
    gpkg = export_gpkg(fresh_db.engine, fresh_db.database_url, 2023, tmp_path / "exports")
    url = make_url(fresh_db.database_url)
    login = f"{url.database}_qgis"
    with fresh_db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f"drop role if exists {login}"))
        conn.execute(sa.text(f"create role {login} login in role {READER_ROLE}"))
    conninfo = f"dbname='{url.database}' host={url.host or '127.0.0.1'} port={url.port or 5432} user='{login}'"
    home = tmp_path / "home"  # QGIS writes its profile (the saved connection) under $HOME
    runtime = tmp_path / "runtime"
    home.mkdir()
    runtime.mkdir(mode=0o700)
    proc = subprocess.run(
        [DEBIAN_PYTHON, str(PROBE), conninfo, str(gpkg.path)],
        capture_output=True, text=True, timeout=300,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "QT_QPA_PLATFORM": "offscreen",
             "XDG_RUNTIME_DIR": str(runtime)},
    )
    try:
        assert proc.returncode == 0, f"QGIS probe failed ({proc.returncode}): {proc.stderr[-3000:]}"
        yield json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        with fresh_db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f"drop role if exists {login}"))


def test_a_reader_lists_exactly_the_published_layers(published):
    ours = {name for name in published["postgis"] if not name.startswith("public.")}
    assert ours == {
        "coproff.coproff", "coproff.doublons", "coproff.millesimes",
        "coproff.coproff_dernier", "coproff.doublons_dernier", "coproff.coproff_2022", "coproff.coproff_2023",
    }  # no partition (coproff_m2023), no staging, intermediate or quality table
    # The provider connection API lists the same relations.
    assert {name for name in published["listed"] if not name.startswith("public.")} == ours


def test_every_published_layer_opens_with_a_key_qgis_chose(published):
    layers = published["postgis"]
    broken = {name: layer["uri"] for name, layer in layers.items() if name.startswith("coproff.") and not layer["valid"]}
    assert not broken, (broken, published["log"])
    assert layers["coproff.coproff_dernier"]["key"] == ["idcopro"]
    assert layers["coproff.coproff_2022"]["key"] == ["idcopro"]
    assert layers["coproff.doublons_dernier"]["key"] == ["cle"]
    assert layers["coproff.coproff"]["key"] == ["millesime", "idcopro"]
    assert not [m for m in published["log"] if "not unique" in m or "No key field" in m]


def test_layers_have_the_right_counts_crs_and_comments(published):
    layers = published["postgis"]
    assert layers["coproff.coproff_dernier"]["count"] == 6
    assert layers["coproff.coproff_2022"]["count"] == 4
    assert layers["coproff.coproff"]["count"] == 10
    assert layers["coproff.doublons_dernier"]["count"] == 5
    for name in ("coproff.coproff", "coproff.coproff_dernier", "coproff.coproff_2023"):
        assert layers[name]["crs"] == "EPSG:4326", name
        assert layers[name]["comments"]["idcopro"] == "Identifiant CoproFF", name
    assert layers["coproff.coproff"]["description"] == "Référentiel des copropriétés"
    assert layers["coproff.coproff_2023"]["description"] == "Référentiel CoproFF, millésime 2023"
    assert layers["coproff.doublons_dernier"]["comments"]["cle"].startswith("Clé unique de la ligne")


def test_the_geopackage_export_opens(published):
    gpkg = published["gpkg"]
    assert gpkg["valid"] and gpkg["count"] == 6 and gpkg["crs"] == "EPSG:4326"
