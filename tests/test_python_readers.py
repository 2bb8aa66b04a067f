"""The README's Python reader, run as written: a published view read into a GeoDataFrame with
nullable integers, booleans and a real EPSG:4326 point geometry (needs the `geo` extra)."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa

from coproff_platform.assets.publication import publish

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_reader_block() -> str:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- python-reader -->\s*```python\n(.*?)```", text, re.S)
    assert block, "README lost its python-reader block"
    return "\n".join(line[2:] if line.startswith("  ") else line for line in block.group(1).splitlines())


def test_readme_reads_coproff_dernier_into_a_geodataframe_with_nullable_integers(fresh_db, document_coproff):
    with fresh_db.engine.begin() as conn:
        conn.execute(sa.text(
            "create table coproff.coproff (idcopro text not null, millesime smallint not null, situation text, "
            "code_departement text, nb_dpe integer, nb_dpe_f integer, indicatif boolean, controles text[], "
            "date_immat date, date_dernier_dpe date, geom geometry(Point, 4326)) partition by list (millesime)"))
    with fresh_db.replace_millesime("coproff.coproff", 2023) as swap:
        swap.conn.execute(sa.text(
            f"insert into {swap.table} values "
            "('RNC_AA0000001', 2023, 'rnic_1_1', '93', 2, 1, false, '{cp_hors_departement}', '2017-10-06', "
            " '2022-05-01', st_setsrid(st_makepoint(2.4828, 48.9022), 4326)), "
            "('RNC_AA0000002', 2023, 'rnic_unmatched', '93', null, null, null, '{}', '2019-01-02', null, null), "
            "('FF_93010000AB0001', 2023, 'ff_only', '93', 0, 0, false, null, null, null, "
            " st_setsrid(st_makepoint(2.45, 48.91), 4326)), "
            "('RNC_AA0000009', 2023, 'rnic_1_1', '75', 5, 0, false, null, null, null, null)"))
    with fresh_db.engine.begin() as conn:
        document_coproff(conn)
        publish(conn, 2023)

    code = readme_reader_block().replace("postgresql+psycopg://alice@dbhost:5432/coproff", fresh_db.database_url)
    namespace: dict = {}
    exec(compile(code, "README.md (python-reader)", "exec"), namespace)
    gdf = namespace["gdf"]

    import geopandas as gpd
    import pandas as pd

    assert isinstance(gdf, gpd.GeoDataFrame) and gdf.crs.to_epsg() == 4326
    assert sorted(gdf["idcopro"]) == ["FF_93010000AB0001", "RNC_AA0000001", "RNC_AA0000002"]  # département 93 only
    by_id = gdf.set_index("idcopro")
    assert str(gdf["nb_dpe"].dtype) == "Int64" and str(gdf["nb_dpe_f"].dtype) == "Int64"
    assert by_id.loc["FF_93010000AB0001", "nb_dpe"] == 0 and by_id.loc["RNC_AA0000001", "nb_dpe"] == 2
    assert by_id.loc["RNC_AA0000002", "nb_dpe"] is pd.NA  # missing stays missing, not NaN
    assert str(gdf["indicatif"].dtype) == "boolean"
    assert pd.api.types.is_datetime64_any_dtype(gdf["date_immat"])
    point = by_id.loc["RNC_AA0000001", "geometry"]
    assert point.geom_type == "Point" and (point.x, point.y) == (2.4828, 48.9022)
    assert by_id.loc["RNC_AA0000002", "geometry"] is None
