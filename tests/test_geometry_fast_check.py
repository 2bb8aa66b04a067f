"""The set-based geometry check (`geometry_checks.sql`, `fast_check`) is valid SQL and judges rows.

The loader falls back to the row-by-row check when `fast_check` raises, with the same results:
a broken `fast_check` (it once rendered to a syntax error) is invisible in the staged rows and only
costs time. This runs the rendered statement itself.
"""

from __future__ import annotations

import sqlalchemy as sa

from coproff_platform.contracts import referencedata
from coproff_platform.loading.load import _geometry_sql
from coproff_platform.resources.postgis import copy_rows


def test_fast_check_renders_and_judges_each_geometry(postgis):
    sql = _geometry_sql()
    per = {k: sql[f"fast_{k}"].format(c="geompar", default_srid="t.srid") for k in ("parsed", "judged", "verdict")}
    statement = sql["fast_check"].format(checked="_fast_test", temp="pg_temp._geom_test", **per)
    with postgis.engine.begin() as conn:
        conn.execute(sa.text("create temp table _geom_test (source_line integer, geompar text, srid integer) "
                             "on commit drop"))
        conn.execute(sa.text(sql["territory_boxes"]))
        boxes = [(r["code"], float(r["lon_min"]), float(r["lat_min"]), float(r["lon_max"]), float(r["lat_max"]))
                 for r in referencedata.rows("territoires").values()]
        copy_rows(conn, "pg_temp._territory_boxes", ["code", "lon_min", "lat_min", "lon_max", "lat_max"], boxes)
        square = "SRID=2154;MULTIPOLYGON(((652000 6862000,652010 6862000,652010 6862010,652000 6862010,652000 6862000)))"
        bowtie = "SRID=2154;MULTIPOLYGON(((652000 6862000,652010 6862010,652010 6862000,652000 6862010,652000 6862000)))"
        wrong_srid = "SRID=4326;MULTIPOLYGON(((652000 6862000,652010 6862000,652010 6862010,652000 6862000)))"
        conn.execute(sa.text("insert into _geom_test values (1, :a, 2154), (2, :b, 2154), (3, :c, 2154)"),
                     {"a": square, "b": bowtie, "c": wrong_srid})
        conn.execute(sa.text(statement))
        rows = conn.execute(sa.text(
            "select source_line, _invalid_geompar, _v_geompar from pg_temp._fast_test order by 1")).all()
    assert rows == [(1, False, None), (2, True, None), (3, False, "srid_incoherent")]
