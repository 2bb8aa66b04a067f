"""Publication of a millésime in schema `coproff`: what consumers (QGIS, SQL, Python) rely on.

`publish` runs after every `coproff/*` model of the millésime succeeded, in one short transaction
whose locks are taken with a short lock_timeout and retried (`resources.postgis`):
1. refuses to publish personal data of natural persons (`privacy`);
2. records the millésime as complete in `coproff.millesimes` (`registry`);
3. creates the views `coproff.<table>_dernier` and `coproff.coproff_<millesime>` that are missing
   or stale, commented like their tables (`views`);
4. grants the read-only role `coproff_lecteur` SELECT on exactly the published relations (`reader`);
5. refuses to commit when a published table, view or column has no COMMENT (the data dictionary
   is part of what is published): nothing changes, the previous version stays published.

Keys and indexes of the published tables come from the models' dictionaries (`<table>.yml`,
`primary_key` and `indexes`), applied by the model runner: nothing here adds any.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from coproff_platform.publish.catalog import MAIN_TABLE, SCHEMA, PublishedTable, missing_comments, published_tables, row_counts
from coproff_platform.publish.privacy import personal_data_findings
from coproff_platform.publish.reader import READER_ROLE, ensure_reader_role
from coproff_platform.publish.registry import (
    REGISTRY,
    PublishedVersion,
    ensure_registry,
    published_millesimes,
    published_version,
    record,
    source_parcelles,
)
from coproff_platform.publish.views import ensure_views
from coproff_platform.resources.postgis import LockPolicy, run_transaction_with_lock_retry

__all__ = [
    "MAIN_TABLE", "READER_ROLE", "REGISTRY", "SCHEMA", "CommentsMissing", "Publication", "PublicationError",
    "PublishedTable", "PublishedVersion", "publish", "publish_in", "published_version",
]


class PublicationError(RuntimeError):
    """The millésime cannot be published; nothing was changed."""


class CommentsMissing(PublicationError):
    """Published relations or columns lack a COMMENT: the millésime is not published."""

    def __init__(self, millesime: int, missing: list[str]):
        shown = ", ".join(missing[:20]) + (f" … ({len(missing)} in all)" if len(missing) > 20 else "")
        super().__init__(
            f"millésime {millesime} not published: {len(missing)} published relation(s) or column(s) have no "
            f"COMMENT ({shown}); describe them in the model's .yml dictionary and rebuild"
        )
        self.missing = missing


@dataclass
class Publication:
    millesime: int
    row_counts: dict[str, int]
    views: list[str]
    view_changes: list[str]
    source_parcelles: str | None
    registry_changes: list[str] = field(default_factory=list)


def publish_in(conn: Connection, millesime: int, run_id: str | None = None) -> Publication:
    """Publishes one millésime on `conn` (the caller's transaction). Raises PublicationError,
    leaving everything as it was, when the millésime is empty, would publish personal data, or
    leaves a published relation or column without a comment."""
    millesime = int(millesime)
    conn.execute(sa.text("select pg_advisory_xact_lock(hashtext('coproff.publication'))"))
    tables = published_tables(conn)
    if MAIN_TABLE not in {t.name for t in tables}:
        raise PublicationError(f"{SCHEMA}.{MAIN_TABLE} does not exist: build the referential first")
    counts = row_counts(conn, tables, millesime)
    if not counts[MAIN_TABLE]:
        raise PublicationError(f"{SCHEMA}.{MAIN_TABLE} holds no row for millésime {millesime}: nothing to publish")
    leaks = personal_data_findings(conn, tables, millesime)
    if leaks:
        raise PublicationError("personal data would be published: " + "; ".join(leaks))
    registry_changes = ensure_registry(conn)
    parcelles = source_parcelles(conn, millesime)
    record(conn, millesime, counts, run_id, parcelles)
    views, view_changes = ensure_views(conn, tables, published_millesimes(conn))
    ensure_reader_role(conn, [t.qualified for t in tables] + views + [REGISTRY])
    missing = missing_comments(conn)
    if missing:
        raise CommentsMissing(millesime, missing)
    return Publication(millesime, counts, views, view_changes, parcelles, registry_changes)


def publish(engine: Engine | Connection, millesime: int, run_id: str | None = None,
            policy: LockPolicy | None = None) -> Publication:
    """`publish_in` in a transaction of its own, retried when a lock is not granted quickly (a
    reader holding a view that must be recreated): readers never queue behind the publication.

    Given a Connection instead of an Engine, publishes in the caller's transaction (no retry)."""
    if isinstance(engine, Connection):
        return publish_in(engine, millesime, run_id)
    with engine.connect() as conn:  # what a blocking reader may hold: any relation of the schema
        relations = list(conn.execute(
            sa.text("select n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                    "where n.nspname = :s and c.relkind in ('r', 'p', 'v')"), {"s": SCHEMA}).scalars())
    return run_transaction_with_lock_retry(
        engine,
        lambda conn: publish_in(conn, millesime, run_id),
        relations=relations,
        what=f"publishing millésime {millesime}",
        policy=policy,
    )
