"""Shared fixtures. Tests talk to a real PostgreSQL/PostGIS, never to a mock of it.

`COPROFF_TEST_DATABASE_URL` names the test database (created if missing); its schemas are dropped
and recreated by `fresh_db`, so never point it at a database you care about.

Under pytest-xdist (`pytest -n 2`, what `make test` runs) each worker gets a database of its own,
`<database>_gw0`, `<database>_gw1`, ... and a Dagster home of its own: two workers never drop each
other's schemas. The modules that start servers, `make dev`, QGIS or a killed build (`ALONE`
below) share one `xdist_group`: they run one after the other on one worker.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url


def _per_worker_environment() -> None:
    """Set before any test module reads the environment (this file is imported first)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1, ... only under `pytest -n N`
    if not worker:
        return
    url = make_url(os.environ.get("COPROFF_TEST_DATABASE_URL",
                                  "postgresql+psycopg://postgres@127.0.0.1:5432/coproff_test"))
    if not url.database.endswith(f"_{worker}"):
        os.environ["COPROFF_TEST_DATABASE_URL"] = url.set(database=f"{url.database}_{worker}").render_as_string(
            hide_password=False)
    if os.environ.get("DAGSTER_HOME") and not os.environ["DAGSTER_HOME"].endswith(f"/{worker}"):
        home = Path(os.environ["DAGSTER_HOME"]) / "xdist" / worker
        home.mkdir(parents=True, exist_ok=True)
        config = Path(os.environ["DAGSTER_HOME"]) / "dagster.yaml"
        if config.is_file() and not (home / "dagster.yaml").exists():
            (home / "dagster.yaml").write_text(config.read_text(encoding="utf-8"), encoding="utf-8")
        os.environ["DAGSTER_HOME"] = str(home)


_per_worker_environment()

# after the per-worker environment: nothing below may read it earlier
from coproff_platform.assets.reference import load_reference_layer  # noqa: E402
from coproff_platform.contracts.tables import create_all  # noqa: E402
from coproff_platform.resources.postgis import SCHEMAS, PostGISResource  # noqa: E402

TEST_DATABASE_URL = os.environ.get(
    "COPROFF_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/coproff_test"
)
# Real public rows (open data, provenance in the folder's README): part of the repository.
REALDATA = Path(__file__).resolve().parent / "data" / "realdata"


@pytest.fixture(scope="session")
def postgis() -> PostGISResource:
    resource = PostGISResource(database_url=TEST_DATABASE_URL)
    resource.ensure_database()
    return resource


@pytest.fixture
def fresh_db(postgis: PostGISResource) -> PostGISResource:
    """Empty schemas with the staging tables created and the reference layer (`ref.*`) loaded:
    each test starts from nothing but the repository's own reference tables."""
    with postgis.engine.begin() as conn:
        for schema in SCHEMAS:
            conn.execute(sa.text(f"drop schema if exists {schema} cascade"))
    postgis.ensure_database()
    with postgis.engine.begin() as conn:
        create_all(conn)
        load_reference_layer(conn)
    return postgis


@pytest.fixture
def realdata() -> Path:
    assert REALDATA.is_dir(), f"real data not found at {REALDATA}"
    return REALDATA


@pytest.fixture
def document_coproff():
    """Returns a function that gives every undocumented table, view and column of schema coproff a
    placeholder COMMENT: hand-made marts can then be published (publication blocks without them)."""

    def document(conn) -> None:
        conn.execute(sa.text("""
            do $$ declare r record; begin
              for r in select c.relname, c.relkind from pg_class c
                       where c.relnamespace = 'coproff'::regnamespace and c.relkind in ('r', 'p', 'v')
                         and not c.relispartition and obj_description(c.oid, 'pg_class') is null loop
                execute format('comment on %s coproff.%I is %L',
                               case r.relkind when 'v' then 'view' else 'table' end, r.relname, 'Table ' || r.relname);
              end loop;
              for r in select c.relname, a.attname from pg_class c join pg_attribute a on a.attrelid = c.oid
                       where c.relnamespace = 'coproff'::regnamespace and c.relkind in ('r', 'p', 'v')
                         and not c.relispartition and a.attnum > 0 and not a.attisdropped
                         and col_description(c.oid, a.attnum) is null loop
                execute format('comment on column coproff.%I.%I is %L', r.relname, r.attname, 'Colonne ' || r.attname);
              end loop;
            end $$"""))

    return document


# Under `pytest -n N --dist loadgroup`: these modules start servers, whole `make` targets, QGIS or
# a killed build, and wait on them with deadlines; they run one after the other on one worker
# (the other worker keeps running the rest), never two of them at once.
ALONE = frozenset({
    "test_make_dev.py", "test_ui_smoke.py", "test_registre_service.py", "test_qgis_layers.py",
    "test_dead_runs.py", "test_readers_during_swap.py", "test_concurrency.py",
})


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        if item.path.name in ALONE:
            item.add_marker(pytest.mark.xdist_group("alone"))
