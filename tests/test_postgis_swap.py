"""The atomic millésime swap every table relies on."""

import psycopg
import pytest
import sqlalchemy as sa

COLS = ["millesime", "ff_idlocal", "source_file", "source_line"]


def rows(db, table="staging.lovac"):
    with db.engine.connect() as conn:
        return conn.execute(sa.text(f"select millesime, ff_idlocal from {table} order by 1, 2")).all()


def test_replacing_a_millesime_leaves_the_others_untouched(fresh_db):
    with fresh_db.replace_millesime("staging.lovac", 2022) as swap:
        swap.copy_rows(COLS, [(2022, "750000000001", "a", 2)])
    with fresh_db.replace_millesime("staging.lovac", 2023) as swap:
        swap.copy_rows(COLS, [(2023, "750000000002", "a", 2)])
    with fresh_db.replace_millesime("staging.lovac", 2023) as swap:
        swap.copy_rows(COLS, [(2023, "750000000003", "a", 2), (2023, "750000000004", "a", 3)])
    assert rows(fresh_db) == [(2022, "750000000001"), (2023, "750000000003"), (2023, "750000000004")]


def test_a_failed_replacement_keeps_the_published_millesime(fresh_db):
    with fresh_db.replace_millesime("staging.lovac", 2023) as swap:
        swap.copy_rows(COLS, [(2023, "750000000001", "a", 2)])
    with pytest.raises(RuntimeError):
        with fresh_db.replace_millesime("staging.lovac", 2023) as swap:
            swap.copy_rows(COLS, [(2023, "750000000009", "a", 2)])
            raise RuntimeError("load failed half-way")
    assert rows(fresh_db) == [(2023, "750000000001")]


def test_a_reader_never_sees_a_half_loaded_millesime(fresh_db):
    with fresh_db.replace_millesime("staging.lovac", 2023) as swap:
        swap.copy_rows(COLS, [(2023, "750000000001", "a", 2)])
    with fresh_db.replace_millesime("staging.lovac", 2023) as swap:
        swap.copy_rows(COLS, [(2023, f"75000000010{i}", "a", i + 2) for i in range(5)])
        # Another session reads while the new version is being filled: it sees the old one whole.
        assert rows(fresh_db) == [(2023, "750000000001")]
    assert len(rows(fresh_db)) == 5


def test_rows_with_another_millesime_cannot_enter_the_partition(fresh_db):
    with pytest.raises(psycopg.errors.CheckViolation):
        with fresh_db.replace_millesime("staging.lovac", 2023) as swap:
            swap.copy_rows(COLS, [(2024, "750000000001", "a", 2)])


def test_two_millesimes_of_one_table_swap_concurrently(fresh_db):
    """Loads of several millésimes of one table at once (a backfill) both publish: no deadlock."""
    from concurrent.futures import ThreadPoolExecutor

    def load(millesime: int) -> None:
        with fresh_db.replace_millesime("staging.lovac", millesime) as swap:
            swap.copy_rows(COLS, [(millesime, f"{millesime}00000001", "a", 2)])
            swap.conn.execute(sa.text("select pg_sleep(0.3)"))  # overlap the two transactions

    for _ in range(2):  # twice, so the second round replaces existing partitions
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(load, (2022, 2023)))
    assert rows(fresh_db) == [(2022, "202200000001"), (2023, "202300000001")]
