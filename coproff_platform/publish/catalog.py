"""What schema `coproff` publishes, read from the catalog: tables, their columns, their comments."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

SCHEMA = "coproff"
MAIN_TABLE = "coproff"
REGISTRY_TABLE = "millesimes"


@dataclass(frozen=True)
class PublishedTable:
    name: str
    columns: tuple[str, ...]
    geometry_columns: tuple[str, ...]

    @property
    def qualified(self) -> str:
        return f"{SCHEMA}.{self.name}"


def published_tables(conn: Connection) -> list[PublishedTable]:
    """Tables of schema coproff holding millésimes: partitioned parents (or plain tables) with a
    `millesime` column; partitions, fresh tables of a swap in progress and the registry excluded."""
    rows = conn.execute(
        sa.text(
            """
            select c.relname,
                   array_agg(a.attname::text order by a.attnum) as columns,
                   array_agg(a.attname::text order by a.attnum)
                     filter (where format_type(a.atttypid, a.atttypmod) like 'geometry%') as geoms
            from pg_class c
            join pg_namespace n on n.oid = c.relnamespace
            join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
            where n.nspname = :schema and c.relkind in ('r', 'p') and not c.relispartition
              and c.relname <> :registry and c.relname !~ '_m[0-9]+_new$'
            group by c.relname
            having bool_or(a.attname = 'millesime')
            order by c.relname
            """
        ),
        {"schema": SCHEMA, "registry": REGISTRY_TABLE},
    ).all()
    return [PublishedTable(r.relname, tuple(r.columns), tuple(r.geoms or ())) for r in rows]


def missing_comments(conn: Connection) -> list[str]:
    """Tables, views and columns of schema coproff (partitions excluded) without a COMMENT."""
    rows = conn.execute(
        sa.text(
            """
            select c.relname, null::text as attname
            from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = :schema and c.relkind in ('r', 'p', 'v') and not c.relispartition
              and c.relname !~ '_m[0-9]+_new$'
              and coalesce(obj_description(c.oid, 'pg_class'), '') = ''
            union all
            select c.relname, a.attname
            from pg_class c join pg_namespace n on n.oid = c.relnamespace
            join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
            where n.nspname = :schema and c.relkind in ('r', 'p', 'v') and not c.relispartition
              and c.relname !~ '_m[0-9]+_new$'
              and coalesce(col_description(c.oid, a.attnum), '') = ''
            order by 1, 2 nulls first
            """
        ),
        {"schema": SCHEMA},
    ).all()
    return [f"{SCHEMA}.{r.relname}" + (f".{r.attname}" if r.attname else "") for r in rows]


def row_counts(conn: Connection, tables: list[PublishedTable], millesime: int) -> dict[str, int]:
    return {
        t.name: conn.execute(
            sa.text(f"select count(*) from {t.qualified} where millesime = :m"), {"m": millesime}
        ).scalar_one()
        for t in tables
    }
