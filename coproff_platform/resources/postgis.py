"""The warehouse: PostgreSQL + PostGIS.

Every table that holds millésime data is natively partitioned `PARTITION BY LIST (millesime)`.
A millésime is replaced inside one transaction (`replace_millesime`): a fresh table is filled
(COPY or INSERT ... SELECT), then swapped in. Readers see the old complete millésime or the new
complete one, never a mix, and a failure leaves the previous version in place.

Two ways of swapping, chosen by schema:
- `staging`, `intermediate`, `quality` (read by the pipeline only): DETACH / DROP / ATTACH
  PARTITION. Fast, but the DETACH needs an ACCESS EXCLUSIVE lock on the parent, and a REPEATABLE
  READ snapshot taken before the swap reads the new partition as empty.
- `coproff` (read by analysts, QGIS, `pg_dump`): the partition's rows are replaced by DELETE +
  INSERT ... SELECT from the fresh table in the same transaction. Only ROW EXCLUSIVE locks, which
  never conflict with readers, and MVCC keeps the old rows visible to every snapshot older than the
  commit: a reader in any isolation level sees the old complete millésime or the new one for its
  whole transaction. See `docs/publication.md`.

Every lock a swap takes on a table readers use is requested with a short `lock_timeout`
(`COPROFF_LOCK_TIMEOUT_MS`, default 2000) inside a savepoint and retried with backoff, so a waiting
swap never queues readers behind it for longer than that; after `COPROFF_LOCK_WAIT_MAX_S` (default
600) the build fails with `LockWaitTimeout`, naming the sessions that held the table.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
import sqlalchemy as sa
from dagster import ConfigurableResource, EnvVar
from sqlalchemy.engine import Connection, Engine, make_url

from coproff_platform.config import DEFAULT_DATABASE_URL
from coproff_platform.sqltext import literal  # noqa: F401  (re-exported: the one literal helper)

SCHEMAS = ("staging", "ref", "intermediate", "coproff", "quality")
# Schemas whose tables consumers read: their millésimes are replaced row-wise (MVCC-safe).
PUBLISHED_SCHEMAS = frozenset({"coproff"})

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")

T = TypeVar("T")


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


# -- locks: short timeout, retry with backoff, name the blocker ---------------------------------
@dataclass(frozen=True)
class LockPolicy:
    """How long one lock request may wait, and how long a step keeps retrying."""

    timeout_ms: int = 2000
    max_wait_s: float = 600.0
    first_backoff_s: float = 0.2
    max_backoff_s: float = 5.0

    @classmethod
    def from_env(cls) -> LockPolicy:
        return cls(
            timeout_ms=int(os.environ.get("COPROFF_LOCK_TIMEOUT_MS", cls.timeout_ms)),
            max_wait_s=float(os.environ.get("COPROFF_LOCK_WAIT_MAX_S", cls.max_wait_s)),
        )


@dataclass(frozen=True)
class BlockingSession:
    pid: int
    role: str | None
    application_name: str | None
    since: Any  # transaction start (timestamptz) of the holder, or its backend start
    state: str | None
    relation: str  # the relations it holds among those asked about, comma-separated
    mode: str

    def describe(self) -> str:
        return (f"pid {self.pid} (role {self.role}, application_name {self.application_name!r}, "
                f"{self.state}, transaction open since {self.since}) holds {self.mode} on {self.relation}")


class LockWaitTimeout(RuntimeError):
    """A swap or publication step could not take its locks within the allowed wait; nothing changed."""

    def __init__(self, what: str, waited_s: float, blockers: list[BlockingSession]):
        who = "; ".join(b.describe() for b in blockers) or "no session holds it any more"
        super().__init__(
            f"{what}: gave up after waiting {waited_s:.1f} s for locks held by another session: {who}. "
            "The previous version stays published. Ask that session to end its transaction "
            "(or pg_terminate_backend(pid)) and rerun."
        )
        self.blockers = blockers


def is_lock_timeout(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", exc)
    return isinstance(orig, psycopg.errors.LockNotAvailable)


def blocking_sessions(conn: Connection, relations: Sequence[str]) -> list[BlockingSession]:
    """Other sessions holding a lock on one of `relations` (schema-qualified names)."""
    rows = conn.execute(
        sa.text(
            """
            select a.pid, a.usename, a.application_name, coalesce(a.xact_start, a.backend_start) as since,
                   a.state, string_agg(distinct l.relation::regclass::text, ', ') as relation,
                   string_agg(distinct l.mode, ', ') as mode
            from pg_locks l join pg_stat_activity a on a.pid = l.pid
            where l.granted and l.pid <> pg_backend_pid() and l.locktype = 'relation'
              and l.relation = any(cast(:oids as oid[]))
            group by a.pid, a.usename, a.application_name, a.xact_start, a.backend_start, a.state
            order by since, a.pid
            """
        ),
        {"oids": [o for o in (_oid(conn, r) for r in relations) if o is not None]},
    ).all()
    return [BlockingSession(*r) for r in rows]


def _oid(conn: Connection, relation: str) -> int | None:
    return conn.execute(sa.text("select to_regclass(:r)::oid"), {"r": relation}).scalar()


def with_lock_retry(
    conn: Connection,
    step: Callable[[], T],
    *,
    relations: Sequence[str],
    what: str,
    policy: LockPolicy | None = None,
) -> T:
    """Runs `step` on `conn` (inside the caller's transaction) in a savepoint with a short
    lock_timeout; when a lock is not granted in time the savepoint is rolled back (releasing what
    the step took, so nobody queues behind us), and the step is retried after a growing pause."""
    policy = policy or LockPolicy.from_env()
    started = time.monotonic()
    backoff = policy.first_backoff_s
    while True:
        try:
            with conn.begin_nested():
                conn.execute(sa.text(f"set local lock_timeout = {int(policy.timeout_ms)}"))
                result = step()
                conn.execute(sa.text("set local lock_timeout = 0"))
                return result
        except sa.exc.DBAPIError as exc:
            if not is_lock_timeout(exc):
                raise
            waited = time.monotonic() - started
            if waited + backoff > policy.max_wait_s:
                raise LockWaitTimeout(what, waited, blocking_sessions(conn, relations)) from exc
            time.sleep(backoff)
            backoff = min(backoff * 2, policy.max_backoff_s)


def run_transaction_with_lock_retry(
    engine: Engine,
    step: Callable[[Connection], T],
    *,
    relations: Sequence[str],
    what: str,
    policy: LockPolicy | None = None,
) -> T:
    """Runs `step` in a transaction of its own with a short lock_timeout, retrying the whole
    transaction with backoff when a lock is not granted in time (for short steps: publication)."""
    policy = policy or LockPolicy.from_env()
    started = time.monotonic()
    backoff = policy.first_backoff_s
    while True:
        try:
            with engine.begin() as conn:
                conn.execute(sa.text(f"set local lock_timeout = {int(policy.timeout_ms)}"))
                return step(conn)
        except sa.exc.DBAPIError as exc:
            if not is_lock_timeout(exc):
                raise
            waited = time.monotonic() - started
            if waited + backoff > policy.max_wait_s:
                with engine.connect() as conn:
                    blockers = blocking_sessions(conn, relations)
                raise LockWaitTimeout(what, waited, blockers) from exc
            time.sleep(backoff)
            backoff = min(backoff * 2, policy.max_backoff_s)


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


# Functions PostgreSQL grants to PUBLIC that a reader must not have in the warehouse: advisory
# locks (a reader holding the builder's lock would stall every build) and large objects (storage
# outside any schema, never cleaned up by us).
_PUBLIC_FUNCTIONS_REVOKED = r"""
    select p.oid::regprocedure::text
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'pg_catalog'
      and (p.proname like 'pg\_advisory%' or p.proname like 'pg\_try\_advisory%'
           or p.proname like 'lo\_%' or p.proname in ('loread', 'lowrite'))
      and has_function_privilege('public', p.oid, 'execute')
"""


def harden_database(conn: Connection) -> list[str]:
    """Takes from PUBLIC what PostgreSQL grants it by default and a reader must not have: TEMP on
    the database, advisory-lock and large-object functions. The role running the pipeline (the
    current user) keeps them explicitly. Idempotent; returns what it could not do.

    Revoking needs the database's owner (TEMP) and a superuser (functions of pg_catalog). A role
    without them gets a warning naming the statements to run once as a superuser, not a failure.
    """
    database = ident(conn.execute(sa.text("select current_database()")).scalar_one())
    me = conn.execute(sa.text("select current_user")).scalar_one()
    statements: list[str] = []
    if conn.execute(sa.text("select has_database_privilege('public', current_database(), 'temporary')")).scalar():
        statements += [f'grant temporary on database "{database}" to "{me}"',
                       f'revoke temporary on database "{database}" from public']
    for signature in conn.execute(sa.text(_PUBLIC_FUNCTIONS_REVOKED)).scalars():
        statements += [f'grant execute on function {signature} to "{me}"',
                       f"revoke execute on function {signature} from public"]
    for statement in statements:
        try:
            with conn.begin_nested():
                conn.execute(sa.text(statement))
        except sa.exc.DBAPIError as exc:
            if not isinstance(getattr(exc, "orig", None), psycopg.errors.InsufficientPrivilege):
                raise
    # A REVOKE by a role that is not the grantor only warns: check what PUBLIC still holds.
    not_done = [f"revoke execute on function {f} from public"
                for f in conn.execute(sa.text(_PUBLIC_FUNCTIONS_REVOKED)).scalars()]
    if conn.execute(sa.text("select has_database_privilege('public', current_database(), 'temporary')")).scalar():
        not_done.insert(0, f'revoke temporary on database "{database}" from public')
    if not_done:
        logging.getLogger(__name__).warning(
            "readers of %s may still create temporary tables, large objects or take the builder's advisory "
            "locks: role %s may not revoke them; run once as a superuser: %s",
            database, me, "; ".join(not_done))
    return not_done


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
        """Creates the database, the postgis extension and our schemas when they are missing, and
        takes from PUBLIC the privileges a reader must not have (`harden_database`)."""
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
            harden_database(conn)

    # -- atomic millésime replacement ----------------------------------------------------------
    @contextmanager
    def replace_millesime(self, table: str, millesime: int) -> Iterator[Swap]:
        """Fills a fresh copy of one millésime of `table` and swaps it in atomically.

        The parent `table` must exist and be partitioned by LIST (millesime). The caller fills
        `swap.table` (COPY or INSERT ... SELECT); on leaving the block, in the same transaction,
        the fresh rows replace the millésime's (`swap_in`). An exception rolls everything back:
        the previous millésime stays published, other millésimes are untouched.
        """
        millesime = int(millesime)
        schema, name = split_table(table)
        new = f"{schema}.{name}_m{millesime}_new"
        with self.engine.begin() as conn:
            # Serialise writers of the table, whatever their millésime: two swaps on one parent would
            # deadlock (each holds it in ACCESS SHARE from CREATE ... LIKE while the other's DETACH
            # needs ACCESS EXCLUSIVE). Readers cannot take this lock (`harden_database`).
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


def _attached(conn: Connection, partition: str) -> bool:
    return bool(conn.execute(
        sa.text("select exists (select 1 from pg_inherits where inhrelid = to_regclass(:p))"), {"p": partition}
    ).scalar())


def swap_in(conn: Connection, table: str, millesime: int, new: str, policy: LockPolicy | None = None) -> None:
    """Puts the rows of the fresh table `new` in place of `table`'s millésime, in the caller's
    transaction: row-wise in a published schema (MVCC-safe), by partition exchange elsewhere."""
    schema, name = split_table(table)
    final = partition_name(table, millesime)
    # Partitions are named <table>_m<millesime> by construction, so the old one is found by name.
    if _attached(conn, final) and schema in PUBLISHED_SCHEMAS:
        _replace_rows(conn, table, final, new, policy)
        return
    _exchange_partition(conn, table, millesime, final, new, policy)


def _replace_rows(conn: Connection, table: str, final: str, new: str, policy: LockPolicy | None) -> None:
    """DELETE + INSERT in the partition: ROW EXCLUSIVE only (no reader waits), and the deleted rows
    stay visible to every snapshot taken before the commit."""
    columns = conn.execute(
        sa.text("select string_agg(quote_ident(attname), ', ' order by attnum) from pg_attribute "
                "where attrelid = to_regclass(:t) and attnum > 0 and not attisdropped"),
        {"t": table},
    ).scalar_one()

    def step() -> None:
        conn.execute(sa.text(f"delete from {final}"))
        conn.execute(sa.text(f"insert into {final} ({columns}) select {columns} from {new}"))

    with_lock_retry(conn, step, relations=[table, final], what=f"replacing {final}", policy=policy)
    conn.execute(sa.text(f"drop table {new}"))
    # The model runner analyzed the fresh table; the partition's statistics now describe old rows.
    conn.execute(sa.text(f"analyze {final}"))


def _exchange_partition(conn: Connection, table: str, millesime: int, final: str, new: str,
                        policy: LockPolicy | None) -> None:
    """Detaches and drops the current partition of `millesime`, attaches `new` in its place."""
    schema, name = split_table(table)

    def step() -> None:
        if _attached(conn, final):
            conn.execute(sa.text(f"alter table {schema}.{name} detach partition {final}"))
        conn.execute(sa.text(f"drop table if exists {final}"))
        conn.execute(sa.text(f"alter table {new} rename to {final.split('.')[1]}"))
        conn.execute(
            sa.text(f"alter table {schema}.{name} attach partition {final} for values in ({int(millesime)})")
        )

    with_lock_retry(conn, step, relations=[table, final], what=f"swapping in {final}", policy=policy)
