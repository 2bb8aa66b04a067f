"""Proof that a SQL speed-up keeps the built tables: snapshot one millésime, rebuild, EXCEPT ALL.

    .venv/bin/python -m benchmarks.models_equivalence snapshot --as base   # before the change
    (rebuild the millésime with the change: coproff materialize --millesime 2023 --force)
    .venv/bin/python -m benchmarks.models_equivalence compare --with base  # 0 rows both ways, or exit 1

Works on `$COPROFF_DATABASE_URL`. `snapshot` copies the millésime's rows of every partitioned
table of `intermediate` and `coproff` (and `coproff.millesimes` without its run id and time) into
schema `cmp_<name>` as jsonb (geometries compare by their EWKB text); `compare` counts the rows
of each table missing on either side (EXCEPT ALL both ways) against the current tables.
"""

from __future__ import annotations

import argparse
import sys

import sqlalchemy as sa

from coproff_platform.config import database_url
from coproff_platform.resources.postgis import ident

SCHEMAS = ("intermediate", "coproff")
# Columns that differ between two builds of the same data by construction.
VOLATILE = {"coproff.millesimes": ("published_at", "run_id")}


def tables(conn: sa.Connection) -> list[str]:
    rows = conn.execute(sa.text(
        "select n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = any(:s) and not c.relispartition and (c.relkind = 'p' "
        "or (n.nspname, c.relname) = ('coproff', 'millesimes')) order by 1"), {"s": list(SCHEMAS)}).scalars()
    return list(rows)


def rows_query(table: str, millesime: int) -> str:
    dropped = "".join(f" - '{c}'" for c in VOLATILE.get(table, ()))
    return f"select to_jsonb(t){dropped} as row from {table} t where millesime = {int(millesime)}"


def snapshot(conn: sa.Connection, name: str, millesime: int) -> dict[str, int]:
    schema = f"cmp_{ident(name)}"
    conn.execute(sa.text(f"drop schema if exists {schema} cascade; create schema {schema}"))
    counts = {}
    for table in tables(conn):
        copy = f"{schema}.{table.replace('.', '__')}"
        conn.execute(sa.text(f"create table {copy} as {rows_query(table, millesime)}"))
        counts[table] = conn.execute(sa.text(f"select count(*) from {copy}")).scalar_one()
    return counts


def compare(conn: sa.Connection, name: str, millesime: int) -> dict[str, tuple[int, int, int]]:
    """table -> (rows now, rows only in the snapshot, rows only now)."""
    schema = f"cmp_{ident(name)}"
    out = {}
    for table in tables(conn):
        copy = f"{schema}.{table.replace('.', '__')}"
        if conn.execute(sa.text("select to_regclass(:t) is null"), {"t": copy}).scalar():
            out[table] = (-1, -1, -1)
            continue
        now = rows_query(table, millesime)
        out[table] = conn.execute(sa.text(
            f"select (select count(*) from {table} where millesime = {int(millesime)}), "
            f"(select count(*) from (select row from {copy} except all {now}) a), "
            f"(select count(*) from ({now} except all select row from {copy}) b)")).one()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("snapshot", "compare"))
    parser.add_argument("--as", "--with", dest="name", default="base", help="snapshot name (schema cmp_<name>)")
    parser.add_argument("--millesime", type=int, default=2023)
    args = parser.parse_args()
    engine = sa.create_engine(database_url())
    with engine.begin() as conn:
        if args.action == "snapshot":
            for table, n in snapshot(conn, args.name, args.millesime).items():
                print(f"{table:<45} {n:>10,} rows")
            return 0
        result = compare(conn, args.name, args.millesime)
    bad = 0
    for table, (n, gone, new) in result.items():
        flag = "" if (gone, new) == (0, 0) else "  <-- differs" if gone >= 0 else "  <-- not in the snapshot"
        bad += flag != ""
        print(f"{table:<45} {n:>10,} rows, only before {gone:>7,}, only now {new:>7,}{flag}")
    print("identical" if not bad else f"{bad} table(s) differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
