"""The warehouse: PostgreSQL + PostGIS.

Every table that holds millésime data is natively partitioned `PARTITION BY LIST (millesime)`.
A millésime is replaced by filling a fresh table and swapping it in with DETACH/ATTACH PARTITION
inside one transaction (`replace_millesime`): readers see the old complete millésime or the new
complete one, never a mix, and a failure leaves the previous version in place.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from dagster import ConfigurableResource, EnvVar
from sqlalchemy.engine import Connection, Engine, make_url

from coproff_platform.config import DEFAULT_DATABASE_URL

SCHEMAS = ("staging", "ref", "intermediate", "coproff", "quality")

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def ident(name: str) -> str:
    """Validates a SQL identifier we build statements from (schema, table, column names)."""
    if not _IDENT.match(name):
        raise ValueError(f"not a safe SQL identifier: {name!r}")
    return name


def split_table(qualified: str) -> tuple[str, str]:
    schema, _, table = qualified.partition(".")
    if not table:
        raise ValueError(f"table name must be schema-qualified: {qualified!r}")
    return ident(schema), ident(table)


def partition_name(qualified: str, millesime: int) -> str:
    schema, table = split_table(qualified)
    return f"{schema}.{table}_m{int(millesime)}"


@functools.cache
def _engine(url: str) -> Engine:
    return sa.create_engine(url, pool_pre_ping=True, future=True)


@dataclass
class Swap:
    """What `replace_millesime` hands to the code that fills the new partition."""

    conn: Connection
    table: str  # schema-qualified name of the fresh table to fill
    millesime: int

    def copy_rows(self, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        return copy_rows(self.conn, self.table, columns, rows)


def copy_rows(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Streams rows into `table` with COPY FROM STDIN (psycopg 3), in bounded memory.

    Runs on the SQLAlchemy connection's own psycopg connection, so it belongs to the caller's
    transaction.
    """
    schema, name = split_table(table)
    cols = ", ".join(ident(c) for c in columns)
    raw = conn.connection.driver_connection
    n = 0
    with raw.cursor() as cur, cur.copy(f"COPY {schema}.{name} ({cols}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


class PostGISResource(ConfigurableResource):
    """Connection to the warehouse, configured by `COPROFF_DATABASE_URL` (a SQLAlchemy URL)."""

    database_url: str = DEFAULT_DATABASE_URL
    create_database: bool = True

    @classmethod
    def from_env(cls) -> "PostGISResource":
        return cls(database_url=EnvVar("COPROFF_DATABASE_URL").get_value(DEFAULT_DATABASE_URL))

    @property
    def engine(self) -> Engine:
        return _engine(self.database_url)

    # -- set-up -------------------------------------------------------------------------------
    def ensure_database(self) -> None:
        """Creates the database, the postgis extension and our schemas when they are missing."""
        url = make_url(self.database_url)
        if self.create_database:
            admin = _engine(url.set(database="postgres").render_as_string(hide_password=False))
            with admin.connect() as conn:
                exists = conn.execute(
                    sa.text("select 1 from pg_database where datname = :d"), {"d": url.database}
                ).scalar()
            if not exists:
                with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(sa.text(f'create database "{ident(url.database)}"'))
        with self.engine.begin() as conn:
            # Two concurrent first runs must not race on CREATE EXTENSION / SCHEMA.
            conn.execute(sa.text("select pg_advisory_xact_lock(hashtext('coproff.setup'))"))
            conn.execute(sa.text("create extension if not exists postgis"))
            for schema in SCHEMAS:
                conn.execute(sa.text(f"create schema if not exists {schema}"))

    # -- atomic millésime replacement ----------------------------------------------------------
    @contextmanager
    def replace_millesime(self, table: str, millesime: int) -> Iterator[Swap]:
        """Fills a fresh copy of one millésime of `table` and swaps it in atomically.

        The parent `table` must exist and be partitioned by LIST (millesime). The caller fills
        `swap.table` (COPY or INSERT ... SELECT); on leaving the block, in the same transaction,
        the old partition is detached and dropped and the new one attached. An exception rolls
        everything back: the previous millésime stays published, other millésimes are untouched.
        """
        millesime = int(millesime)
        schema, name = split_table(table)
        new = f"{schema}.{name}_m{millesime}_new"
        with self.engine.begin() as conn:
            # Serialise writers of the table, whatever their millésime: two swaps on one parent would
            # deadlock (each holds it in ACCESS SHARE from CREATE ... LIKE while the other's DETACH
            # needs ACCESS EXCLUSIVE). Readers never take this lock.
            conn.execute(sa.text("select pg_advisory_xact_lock(hashtext(:k))"), {"k": f"coproff.swap:{table}"})
            conn.execute(sa.text(f"drop table if exists {new}"))
            conn.execute(sa.text(f"create table {new} (like {schema}.{name} including defaults)"))
            # The CHECK lets ATTACH skip its validation scan.
            conn.execute(
                sa.text(f"alter table {new} add constraint {name}_m{millesime}_millesime "
                        f"check (millesime is not null and millesime = {millesime})")
            )
            swap = Swap(conn=conn, table=new, millesime=millesime)
            yield swap
            swap_in(conn, table, millesime, new)


def swap_in(conn: Connection, table: str, millesime: int, new: str) -> None:
    """Detaches and drops the current partition of `millesime`, attaches `new` in its place."""
    schema, name = split_table(table)
    final = partition_name(table, millesime)
    # Partitions are named <table>_m<millesime> by construction, so the old one is found by name.
    old_attached = conn.execute(
        sa.text("select exists (select 1 from pg_inherits where inhrelid = to_regclass(:p))"),
        {"p": final},
    ).scalar()
    if old_attached:
        conn.execute(sa.text(f"alter table {schema}.{name} detach partition {final}"))
    conn.execute(sa.text(f"drop table if exists {final}"))
    conn.execute(sa.text(f"alter table {new} rename to {final.split('.')[1]}"))
    conn.execute(
        sa.text(f"alter table {schema}.{name} attach partition {final} for values in ({int(millesime)})")
    )
