"""scripts/compare_millesime.py: two real PostGIS databases compared row for row, as the lead uses
it at merge (before/after a refactoring)."""

import importlib.util
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from coproff_platform.resources.postgis import PostGISResource

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "compare_millesime.py"
spec = importlib.util.spec_from_file_location("compare_millesime", SCRIPT)
compare_millesime = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = compare_millesime  # dataclasses look their module up there
spec.loader.exec_module(compare_millesime)

SCHEMA = "cmp"


@pytest.fixture
def two_databases(postgis):
    """The test database (left) and a second one beside it (right), each with an empty schema cmp."""
    right_url = make_url(postgis.database_url)
    right_url = right_url.set(database=f"{right_url.database}_droite").render_as_string(hide_password=False)
    right = PostGISResource(database_url=right_url)
    right.ensure_database()
    for db in (postgis, right):
        with db.engine.begin() as conn:
            conn.execute(sa.text(f"drop schema if exists {SCHEMA} cascade"))
            conn.execute(sa.text(f"create schema {SCHEMA}"))
    yield postgis, right
    for db in (postgis, right):
        with db.engine.begin() as conn:
            conn.execute(sa.text(f"drop schema if exists {SCHEMA} cascade"))


def _run(db, sql: str) -> None:
    with db.engine.begin() as conn:
        conn.execute(sa.text(sql))


def _table(db, columns: str, rows: str) -> None:
    _run(db, f"create table {SCHEMA}.t ({columns})")
    if rows:
        _run(db, f"insert into {SCHEMA}.t values {rows}")


def _diffs(left, right, millesime=2023):
    diffs, only_left, only_right = compare_millesime.compare(
        left.database_url, right.database_url, millesime, [SCHEMA], set()
    )
    return {d.table: d for d in diffs}, only_left, only_right


def test_same_rows_in_another_column_order_are_identical(two_databases):
    left, right = two_databases
    _table(left, "millesime smallint, id text, geom geometry(Point, 4326)",
           "(2023, 'a', 'SRID=4326;POINT(2.3 48.8)'), (2023, 'b', null), (2022, 'z', null)")
    # other column order, and another millésime that must not count
    _table(right, "geom geometry(Point, 4326), id text, millesime smallint",
           "('SRID=4326;POINT(2.3 48.8)', 'a', 2023), (null, 'b', 2023), (null, 'y', 2022)")
    diffs, only_left, only_right = _diffs(left, right)
    d = diffs[f"{SCHEMA}.t"]
    assert d.identical and (d.left_rows, d.right_rows) == (2, 2)
    assert only_left == only_right == []


def test_duplicates_srid_and_nulls_make_rows_differ(two_databases):
    left, right = two_databases
    _table(left, "millesime smallint, id text, n integer, geom geometry",
           "(2023, 'a', 1, 'SRID=4326;POINT(1 2)'), (2023, 'a', 1, 'SRID=4326;POINT(1 2)'), (2023, 'b', null, null)")
    # one copy of the duplicate only, the same point in another SRID, an empty string instead of NULL
    _table(right, "millesime smallint, id text, n integer, geom geometry",
           "(2023, 'a', 1, 'SRID=4326;POINT(1 2)'), (2023, 'a', 1, 'SRID=2154;POINT(1 2)'), (2023, 'b', 0, null)")
    d = _diffs(left, right)[0][f"{SCHEMA}.t"]
    assert not d.identical
    assert (d.left_only, d.right_only) == (2, 2)
    assert any("0101000020e6100000" in s for s in d.samples_left)  # EWKB hex of SRID 4326
    assert any("0101000020" in s and "6a08" in s for s in d.samples_right)  # SRID 2154 = 0x086a


def test_extra_column_and_tables_on_one_side_are_reported(two_databases):
    left, right = two_databases
    _table(left, "millesime smallint, id text", "(2023, 'a')")
    _table(right, "millesime smallint, id text, nouvelle boolean", "(2023, 'a', true)")
    _run(left, f"create table {SCHEMA}.seulement_gauche (id int)")
    diffs, only_left, only_right = _diffs(left, right)
    d = diffs[f"{SCHEMA}.t"]
    assert d.identical and d.columns_right_only == ["nouvelle"]
    assert only_left == [f"{SCHEMA}.seulement_gauche"] and only_right == []


def test_command_line_exit_status(two_databases, capsys):
    left, right = two_databases
    _table(left, "millesime smallint, id text", "(2023, 'a')")
    _table(right, "millesime smallint, id text", "(2023, 'b')")
    args = ["--left", left.database_url, "--right", right.database_url, "--millesime", "2023", "--schemas", SCHEMA]
    assert compare_millesime.main(args) == 1
    out = capsys.readouterr().out
    assert "cmp.t" in out and "DIFFERENT" in out and "1 different, 2 differing rows" in out
    _run(right, f"update {SCHEMA}.t set id = 'a'")
    assert compare_millesime.main(args) == 0
