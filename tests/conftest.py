"""Shared fixtures. Tests talk to a real PostgreSQL/PostGIS, never to a mock of it.

`COPROFF_TEST_DATABASE_URL` names the test database (created if missing); its schemas are dropped
and recreated by `fresh_db`, so never point it at a database you care about.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from coproff_platform.assets.reference import load_reference_layer
from coproff_platform.contracts.tables import create_all
from coproff_platform.resources.postgis import SCHEMAS, PostGISResource

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
