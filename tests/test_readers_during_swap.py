"""Readers and the builder: no reader waits behind a swap, a REPEATABLE READ reader sees one
complete version for its whole transaction, a reader cannot hold the builder's locks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from coproff_platform.publish.reader import READER_ROLE, ensure_reader_role
from coproff_platform.resources.postgis import LockPolicy, LockWaitTimeout, PostGISResource

LOVAC = ["millesime", "ff_idlocal", "source_file", "source_line"]
QUICK = LockPolicy(timeout_ms=300, max_wait_s=2.0, first_backoff_s=0.1, max_backoff_s=0.3)


def dsn(db: PostGISResource, user: str = "postgres", application: str = "pytest") -> str:
    url = make_url(db.database_url)
    return (f"postgresql://{user}@{url.host or '127.0.0.1'}:{url.port or 5432}/{url.database}"
            f"?application_name={application}")


def load_lovac(db: PostGISResource, millesime: int, n: int, policy: LockPolicy | None = None) -> None:
    from coproff_platform.resources import postgis as pg

    with db.engine.begin() as conn:
        new = f"staging.lovac_m{millesime}_new"
        conn.execute(sa.text(f"drop table if exists {new}"))
        conn.execute(sa.text(f"create table {new} (like staging.lovac including defaults)"))
        conn.execute(sa.text(f"alter table {new} add constraint lovac_m{millesime}_millesime check (millesime = {millesime})"))
        pg.copy_rows(conn, new, LOVAC, [(millesime, f"75{i:010d}", "a", i + 2) for i in range(n)])
        pg.swap_in(conn, "staging.lovac", millesime, new, policy=policy)


@pytest.fixture
def coproff_table(fresh_db: PostGISResource) -> PostGISResource:
    with fresh_db.engine.begin() as conn:
        conn.execute(sa.text("create table coproff.coproff (millesime smallint not null, idcopro text not null, "
                             "primary key (millesime, idcopro)) partition by list (millesime)"))
        conn.execute(sa.text("create table coproff.doublons (millesime smallint not null, idcopro_a text) "
                             "partition by list (millesime)"))
    fill_coproff(fresh_db, 2023, "old", 3)
    fill_coproff(fresh_db, 2022, "other", 2)
    with fresh_db.replace_millesime("coproff.doublons", 2023) as swap:
        swap.copy_rows(["millesime", "idcopro_a"], [(2023, "old_0")])
    return fresh_db


def fill_coproff(db: PostGISResource, millesime: int, prefix: str, n: int) -> None:
    with db.replace_millesime("coproff.coproff", millesime) as swap:
        swap.copy_rows(["millesime", "idcopro"], [(millesime, f"{prefix}_{i}") for i in range(n)])


@pytest.mark.parametrize("isolation", ["repeatable read", "serializable"])
def test_a_repeatable_read_reader_keeps_the_old_complete_millesime_across_a_rebuild(coproff_table, isolation):
    """Its snapshot is taken on another published table before the swap; after the swap commits it
    still reads the old millésime whole (a DETACH/ATTACH swap showed it 0 rows)."""
    with psycopg.connect(dsn(coproff_table)) as reader:
        reader.execute(f"begin isolation level {isolation}")
        assert reader.execute("select count(*) from coproff.doublons").fetchone() == (1,)  # snapshot taken
        fill_coproff(coproff_table, 2023, "new", 5)
        old = reader.execute("select array_agg(idcopro order by idcopro) from coproff.coproff where millesime = 2023").fetchone()
        assert old == (["old_0", "old_1", "old_2"],)
        assert reader.execute("select count(*) from coproff.coproff where millesime = 2022").fetchone() == (2,)
        reader.execute("commit")
        assert reader.execute("select count(*) from coproff.coproff where millesime = 2023").fetchone() == (5,)
    # The fresh table is gone, the partition kept its name and its index.
    with coproff_table.engine.connect() as conn:
        tables = conn.execute(sa.text("select array_agg(relname::text order by relname) from pg_class "
                                      "where relnamespace = 'coproff'::regnamespace and relkind = 'r'")).scalar()
        assert tables == ["coproff_m2022", "coproff_m2023", "doublons_m2023"]


def test_an_open_reader_does_not_delay_a_published_rebuild(coproff_table):
    """Row-wise replacement takes ROW EXCLUSIVE locks only: a reader's open transaction is no obstacle."""
    with psycopg.connect(dsn(coproff_table)) as reader:
        reader.execute("begin")
        reader.execute("select count(*) from coproff.coproff").fetchone()
        started = time.monotonic()
        fill_coproff(coproff_table, 2023, "new", 4)
        assert time.monotonic() - started < 1.5
        reader.execute("commit")


def test_an_open_reader_delays_a_partition_swap_but_no_other_reader_waits(fresh_db):
    load_lovac(fresh_db, 2023, 2)
    outcome: dict = {}

    def build() -> None:
        try:
            load_lovac(fresh_db, 2023, 3, policy=QUICK)
            outcome["ok"] = True
        except LockWaitTimeout as exc:
            outcome["error"] = exc

    with psycopg.connect(dsn(fresh_db, application="analyste_qgis")) as holder:
        holder.execute("begin")
        holder.execute("select count(*) from staging.lovac").fetchone()  # ACCESS SHARE until commit
        holder_pid = holder.info.backend_pid
        builder = threading.Thread(target=build)
        builder.start()
        # While the builder retries, another reader's plain query never waits more than one lock_timeout.
        waits = []
        with psycopg.connect(dsn(fresh_db)) as other:
            for _ in range(8):
                started = time.monotonic()
                assert other.execute("select count(*) from staging.lovac where millesime = 2023").fetchone() == (2,)
                waits.append(time.monotonic() - started)
                time.sleep(0.1)
        builder.join(10)
        holder.execute("commit")
    assert max(waits) < QUICK.timeout_ms / 1000 + 0.5, waits
    error = outcome["error"]
    assert f"pid {holder_pid}" in str(error) and "application_name 'analyste_qgis'" in str(error)
    assert "transaction open since" in str(error) and "staging.lovac" in str(error)
    with fresh_db.engine.connect() as conn:  # nothing changed, no fresh table left behind
        assert conn.execute(sa.text("select count(*) from staging.lovac where millesime = 2023")).scalar() == 2
        assert conn.execute(sa.text("select to_regclass('staging.lovac_m2023_new')")).scalar() is None


def test_a_swap_waits_for_a_reader_that_ends_in_time(fresh_db):
    load_lovac(fresh_db, 2023, 2)
    with psycopg.connect(dsn(fresh_db)) as holder:
        holder.execute("begin")
        holder.execute("select count(*) from staging.lovac").fetchone()
        threading.Timer(0.8, lambda: holder.execute("commit")).start()
        load_lovac(fresh_db, 2023, 3, policy=LockPolicy(timeout_ms=300, max_wait_s=10, first_backoff_s=0.1))
    with fresh_db.engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from staging.lovac where millesime = 2023")).scalar() == 3


@pytest.fixture
def analyst(fresh_db: PostGISResource):
    login = f"{make_url(fresh_db.database_url).database}_analyste"
    with fresh_db.engine.begin() as conn:
        ensure_reader_role(conn, [])
    with fresh_db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f"drop role if exists {login}"))
        conn.execute(sa.text(f"create role {login} login in role {READER_ROLE}"))
    yield login
    with fresh_db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f"drop role if exists {login}"))


@pytest.mark.parametrize("statement", [
    "select pg_advisory_lock(hashtext('coproff.swap:staging.lovac'))",
    "select pg_advisory_xact_lock(hashtext('coproff.publication'))",
    "select pg_try_advisory_lock(1)",
    "select pg_advisory_lock_shared(1, 2)",
    "create temporary table mine (a int)",
    "select lo_create(0)",
    "select lo_from_bytea(0, 'x')",
])
def test_a_reader_cannot_hold_the_builders_locks_nor_store_data(fresh_db, analyst, statement):
    with psycopg.connect(dsn(fresh_db, user=analyst), autocommit=True) as reader:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            reader.execute(statement)
    # The pipeline's role keeps them.
    with fresh_db.engine.begin() as conn:
        assert conn.execute(sa.text("select pg_try_advisory_xact_lock(1)")).scalar() is True


KILLED_BUILD = textwrap.dedent("""
    import sys, time
    from coproff_platform.resources.postgis import PostGISResource
    db = PostGISResource(database_url=sys.argv[1], create_database=False)
    with db.replace_millesime("coproff.coproff", 2023) as swap:
        swap.copy_rows(["millesime", "idcopro"], [(2023, f"half_{i}") for i in range(1000)])
        print("filled", flush=True)
        time.sleep(60)
""")


def test_a_build_killed_mid_swap_leaves_the_published_millesime_and_no_orphan(coproff_table):
    proc = subprocess.Popen([sys.executable, "-c", KILLED_BUILD, coproff_table.database_url],
                            stdout=subprocess.PIPE, text=True, env={**os.environ})
    assert proc.stdout.readline().strip() == "filled"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    deadline = time.monotonic() + 10
    with coproff_table.engine.connect() as conn:
        while conn.execute(sa.text("select to_regclass('coproff.coproff_m2023_new')")).scalar() is not None:
            assert time.monotonic() < deadline, "the killed build's fresh table is still there"
            conn.rollback()
            time.sleep(0.2)
        rows = conn.execute(sa.text("select array_agg(idcopro order by idcopro) from coproff.coproff "
                                    "where millesime = 2023")).scalar()
    assert rows == ["old_0", "old_1", "old_2"]
    fill_coproff(coproff_table, 2023, "rerun", 2)  # the next build is not blocked by anything left over


def test_a_new_warehouse_database_is_hardened_and_a_weaker_pipeline_role_is_warned(postgis, caplog):
    """PostgreSQL grants TEMP, advisory locks and large objects to PUBLIC in a new database; set-up
    takes them back. A pipeline role that may not (not a superuser) gets a warning, not a failure."""
    from coproff_platform.resources.postgis import harden_database

    url = make_url(postgis.database_url)
    scratch = f"{url.database}_harden"
    weak = f"{url.database}_weak_builder"
    with postgis.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f'drop database if exists "{scratch}"'))
        conn.execute(sa.text(f'create database "{scratch}"'))
        conn.execute(sa.text(f"drop role if exists {weak}"))
        conn.execute(sa.text(f"create role {weak} login"))
    try:
        def public_can(engine, what: str) -> bool:
            with engine.connect() as c:
                return c.execute(sa.text(f"select {what}")).scalar()

        admin = sa.create_engine(url.set(database=scratch).render_as_string(hide_password=False))
        advisory = "has_function_privilege('public', 'pg_advisory_lock(bigint)', 'execute')"
        temp = "has_database_privilege('public', current_database(), 'temporary')"
        assert public_can(admin, advisory) and public_can(admin, temp)  # PostgreSQL's defaults
        weak_engine = sa.create_engine(url.set(database=scratch, username=weak).render_as_string(hide_password=False))
        with weak_engine.begin() as conn:
            not_done = harden_database(conn)
        assert any("pg_advisory_lock(bigint)" in s for s in not_done)
        assert "run once as a superuser" in caplog.text and "revoke execute on function" in caplog.text
        with admin.begin() as conn:
            assert harden_database(conn) == []
        assert not public_can(admin, advisory) and not public_can(admin, temp)
        with admin.begin() as conn:
            assert harden_database(conn) == []  # idempotent
        weak_engine.dispose()
        admin.dispose()
    finally:
        with postgis.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f'drop database if exists "{scratch}" with (force)'))
            conn.execute(sa.text(f"drop role if exists {weak}"))


def test_pg_dump_whose_snapshot_predates_a_rebuild_dumps_the_old_complete_millesime(coproff_table):
    """pg_dump works from one REPEATABLE READ snapshot: given one taken before the rebuild (as a
    dump started before it would hold), it writes the old rows, whole."""
    with psycopg.connect(dsn(coproff_table)) as holder:
        holder.execute("begin isolation level repeatable read")
        [snapshot] = holder.execute("select pg_export_snapshot()").fetchone()
        fill_coproff(coproff_table, 2023, "new", 5)
        url = make_url(coproff_table.database_url)
        dump = subprocess.run(
            ["pg_dump", "--data-only", "--table=coproff.coproff*", f"--snapshot={snapshot}",
             "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres", url.database],
            capture_output=True, text=True, timeout=60)
        holder.execute("commit")
    assert dump.returncode == 0, dump.stderr
    rows = [line for line in dump.stdout.splitlines() if line.startswith("2023\t")]
    assert sorted(rows) == ["2023\told_0", "2023\told_1", "2023\told_2"]
