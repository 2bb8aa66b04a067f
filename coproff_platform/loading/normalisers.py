"""Installs the SQL normalisers (`norm.*`, dbt_like_sql/normalisers/*.sql) into the warehouse.

The files run in name order. A `{{ query }}` in a file is replaced by the text the query returns,
run against the reference layer: `ref.<table>` in such a query reads a temporary copy of
`dbt_like_sql/reference/<table>.csv` — the very rows `normalise.py` reads — so the installed
functions never depend on whether the `ref/*` assets were materialized yet, and a code list is
baked into the function as a constant (the planner then inlines the function into the caller).

    with engine.begin() as conn:
        install_normalisers(conn)   # idempotent; a no-op when files and reference rows are unchanged
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from coproff_platform import reference
from coproff_platform.resources.postgis import copy_rows, ident

NORMALISERS_DIR = Path(__file__).resolve().parents[2] / "dbt_like_sql" / "normalisers"
SCHEMA = "norm"
_TEMPLATE = re.compile(r"\{\{\s*(select\b.*?)\}\}", re.S | re.I)
_REF = re.compile(r"\bref\.([a-z_][a-z0-9_]*)")


def _driver(conn: Connection):
    # psycopg itself, same transaction: no parameters, so `%` (modulo) and `:` stay as written.
    return conn.connection.driver_connection


def sql_files(root: Path = NORMALISERS_DIR) -> list[Path]:
    return sorted(root.glob("*.sql"))


def _reference_tables(texts: list[str]) -> list[str]:
    names = {m for text in texts for query in _TEMPLATE.findall(text) for m in _REF.findall(query)}
    return sorted(names)


def fingerprint(root: Path = NORMALISERS_DIR) -> str:
    """sha256 of the SQL files and of the reference tables their templates read."""
    texts = [p.read_text(encoding="utf-8") for p in sql_files(root)]
    h = hashlib.sha256()
    for path, text in zip(sql_files(root), texts):
        h.update(path.name.encode() + b"\0" + text.encode() + b"\0")
    for name in _reference_tables(texts):
        h.update(reference.reference_table(name).content_hash.encode())
    return h.hexdigest()


def render(conn: Connection, text: str, path: Path) -> str:
    """The file with each `{{ query }}` replaced by its result (one row, one text column)."""

    def one(m: re.Match[str]) -> str:
        query = _REF.sub(lambda r: f"pg_temp.{ident(r.group(1))}", m.group(1))
        rows = _driver(conn).execute(query).fetchall()
        if len(rows) != 1 or rows[0][0] is None:
            line = text[: m.start()].count("\n") + 1
            raise ValueError(f"{path}:{line}: template {m.group(1).strip()!r} returned {rows!r}, expected one text")
        return str(rows[0][0])

    return _TEMPLATE.sub(one, text)


def install_normalisers(conn: Connection, root: Path = NORMALISERS_DIR, force: bool = False) -> bool:
    """Creates or replaces every `norm.*` function, inside the caller's transaction.

    Returns False (and does nothing) when the installed version has the same fingerprint.
    """
    digest = fingerprint(root)
    # Two loads installing at once would collide on pg_proc ("tuple concurrently updated").
    conn.execute(sa.text("select pg_advisory_xact_lock(hashtext('coproff.norm.install'))"))
    installed = conn.execute(sa.text(
        "select obj_description(oid, 'pg_namespace') from pg_namespace where nspname = :s"), {"s": SCHEMA}).scalar()
    if not force and installed is not None and installed.endswith(digest):
        return False
    texts = [p.read_text(encoding="utf-8") for p in sql_files(root)]
    for name in _reference_tables(texts):
        table = reference.reference_table(name)
        cols = ", ".join(f"{ident(c.name)} {c.data_type}" for c in table.columns)
        conn.execute(sa.text(f"drop table if exists pg_temp.{ident(name)}"))
        conn.execute(sa.text(f"create temporary table {ident(name)} ({cols}) on commit drop"))
        copy_rows(conn, f"pg_temp.{name}", table.column_names, table.raw_rows)
    for path, text in zip(sql_files(root), texts):
        _driver(conn).execute(render(conn, text, path))
    for name in _reference_tables(texts):
        conn.execute(sa.text(f"drop table pg_temp.{ident(name)}"))
    # The digest is hex: safe inside the literal (COMMENT takes no bind parameter).
    _driver(conn).execute(f"comment on schema {SCHEMA} is 'Normaliseurs SQL (jumeaux de normalise.py, "
                          f"dbt_like_sql/normalisers/) {digest}'")
    return True
