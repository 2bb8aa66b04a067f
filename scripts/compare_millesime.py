"""Compares one millésime of two warehouses row for row (EXCEPT ALL both ways, in effect).

    python scripts/compare_millesime.py --left URL --right URL --millesime 2023 \
        [--schemas staging,intermediate,coproff] [--ignore-columns published_at,run_id,loaded_at]

Every table (partitioned parent or plain table, not partitions, not views) present in both
databases under the given schemas is compared: rows of the millésime when the table has a
`millesime` column, all rows otherwise. Columns are matched by name (order ignored); columns
present on one side only are reported and left out of the comparison. A row is its text
(`row(...)::text` of its columns sorted by name, geometries as EWKB hex); each side is reduced to
a multiset of row hashes (md5, counted), so that duplicates count. For each table the script
prints the row counts and how many rows are only on the left / only on the right, with a few
of those rows. Exit status 0 when every compared table is identical, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection

DEFAULT_SCHEMAS = "staging,intermediate,coproff"
# Columns that record when or by which run a row was written, not what it says.
DEFAULT_IGNORED = "published_at,run_id,loaded_at"


@dataclass
class TableDiff:
    table: str
    left_rows: int
    right_rows: int
    left_only: int
    right_only: int
    columns_left_only: list[str] = field(default_factory=list)
    columns_right_only: list[str] = field(default_factory=list)
    samples_left: list[str] = field(default_factory=list)
    samples_right: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return self.left_only == 0 and self.right_only == 0


def tables(conn: Connection, schemas: list[str]) -> dict[str, dict[str, str]]:
    """schema.table → {column: udt name} for tables and partitioned parents (not partitions)."""
    rows = conn.execute(
        sa.text(
            """
            select n.nspname, c.relname, a.attname, t.typname
            from pg_class c
            join pg_namespace n on n.oid = c.relnamespace
            join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
            join pg_type t on t.oid = a.atttypid
            where n.nspname = any(:schemas) and c.relkind in ('r', 'p') and not c.relispartition
            order by n.nspname, c.relname, a.attnum
            """
        ),
        {"schemas": schemas},
    )
    out: dict[str, dict[str, str]] = {}
    for schema, table, column, typ in rows:
        out.setdefault(f"{schema}.{table}", {})[column] = typ
    return out


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def row_text_sql(columns: dict[str, str]) -> str:
    parts = []
    for name in sorted(columns):
        col = _quote(name)
        # geometry/geography as EWKB hex: exact, SRID included
        parts.append(f"encode(ST_AsEWKB({col}), 'hex')" if columns[name] in ("geometry", "geography") else f"{col}::text")
    return f"row({', '.join(parts)})::text"


def _where(columns_left: dict[str, str], columns_right: dict[str, str], millesime: int) -> str:
    if "millesime" in columns_left and "millesime" in columns_right:
        return f"where millesime = {int(millesime)}"
    return ""


def multiset(conn: Connection, table: str, text_sql: str, where: str) -> Counter:
    counts: Counter = Counter()
    result = conn.execution_options(stream_results=True).execute(
        sa.text(f"select md5({text_sql}) as h, count(*) from {table} {where} group by 1")
    )
    for h, n in result:
        counts[h] = n
    return counts


def sample_rows(conn: Connection, table: str, text_sql: str, where: str, hashes: list[str], limit: int) -> list[str]:
    if not hashes:
        return []
    cond = ("and" if where else "where") + f" md5({text_sql}) = any(:h)"
    return [
        r[0]
        for r in conn.execute(
            sa.text(f"select {text_sql} from {table} {where} {cond} order by 1 limit {int(limit)}"),
            {"h": hashes[:1000]},
        )
    ]


def compare_table(left: Connection, right: Connection, table: str, cols_left: dict[str, str],
                  cols_right: dict[str, str], millesime: int, ignored: set[str], samples: int) -> TableDiff:
    common = {c: t for c, t in cols_left.items() if c in cols_right and c not in ignored}
    text_sql = row_text_sql(common)
    where = _where(cols_left, cols_right, millesime)
    schema, name = table.split(".")
    qualified = f"{_quote(schema)}.{_quote(name)}"
    lm = multiset(left, qualified, text_sql, where)
    rm = multiset(right, qualified, text_sql, where)
    left_extra, right_extra = lm - rm, rm - lm
    return TableDiff(
        table=table,
        left_rows=sum(lm.values()),
        right_rows=sum(rm.values()),
        left_only=sum(left_extra.values()),
        right_only=sum(right_extra.values()),
        columns_left_only=sorted(set(cols_left) - set(cols_right) - ignored),
        columns_right_only=sorted(set(cols_right) - set(cols_left) - ignored),
        samples_left=sample_rows(left, qualified, text_sql, where, sorted(left_extra), samples),
        samples_right=sample_rows(right, qualified, text_sql, where, sorted(right_extra), samples),
    )


def compare(left_url: str, right_url: str, millesime: int, schemas: list[str],
            ignored: set[str], samples: int = 3) -> tuple[list[TableDiff], list[str], list[str]]:
    """Diffs of the tables present on both sides, and the tables present only left / only right."""
    left_engine, right_engine = sa.create_engine(left_url), sa.create_engine(right_url)
    try:
        with left_engine.connect() as left, right_engine.connect() as right:
            lt, rt = tables(left, schemas), tables(right, schemas)
            diffs = [
                compare_table(left, right, t, lt[t], rt[t], millesime, ignored, samples)
                for t in sorted(set(lt) & set(rt))
            ]
        return diffs, sorted(set(lt) - set(rt)), sorted(set(rt) - set(lt))
    finally:
        left_engine.dispose()
        right_engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--left", required=True, help="SQLAlchemy URL of the left database (before)")
    parser.add_argument("--right", required=True, help="SQLAlchemy URL of the right database (after)")
    parser.add_argument("--millesime", required=True, type=int)
    parser.add_argument("--schemas", default=DEFAULT_SCHEMAS, help=f"comma-separated (default {DEFAULT_SCHEMAS})")
    parser.add_argument("--ignore-columns", default=DEFAULT_IGNORED,
                        help=f"columns left out everywhere (default {DEFAULT_IGNORED}; '' for none)")
    parser.add_argument("--samples", type=int, default=3, help="differing rows shown per side and table")
    args = parser.parse_args(argv)
    schemas = [s.strip() for s in args.schemas.split(",") if s.strip()]
    ignored = {c.strip() for c in args.ignore_columns.split(",") if c.strip()}

    diffs, only_left, only_right = compare(args.left, args.right, args.millesime, schemas, ignored, args.samples)
    width = max((len(d.table) for d in diffs), default=10)
    print(f"millésime {args.millesime}, schemas {', '.join(schemas)}; ignored columns: {', '.join(sorted(ignored)) or 'none'}")
    print(f"{'table':<{width}}  {'left':>8}  {'right':>8}  {'left only':>9}  {'right only':>10}")
    for d in diffs:
        flag = "" if d.identical else "  DIFFERENT"
        print(f"{d.table:<{width}}  {d.left_rows:>8}  {d.right_rows:>8}  {d.left_only:>9}  {d.right_only:>10}{flag}")
        if d.columns_left_only or d.columns_right_only:
            print(f"    columns only left: {d.columns_left_only or '-'}; only right: {d.columns_right_only or '-'} (not compared)")
        for s in d.samples_left:
            print(f"    < {s[:300]}")
        for s in d.samples_right:
            print(f"    > {s[:300]}")
    for t in only_left:
        print(f"{t}: only in left (not compared)")
    for t in only_right:
        print(f"{t}: only in right (not compared)")
    different = [d.table for d in diffs if not d.identical]
    total = sum(d.left_only + d.right_only for d in diffs)
    print(f"{len(diffs)} tables compared, {len(different)} different, {total} differing rows in all")
    return 1 if different else 0


if __name__ == "__main__":
    sys.exit(main())
