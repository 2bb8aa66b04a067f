"""`coproff.millesimes`: the registry of published millésimes.

One row per millésime published complete: when, by which Dagster run, how many rows per table,
and where its parcel units came from (`source_parcelles`: `ff`, `cadastre`). The `_dernier` views
select the latest millésime of this table; a row exists only once every table of the millésime
was built and passed its checks. The registry is an ordinary table, read through MVCC like the
data: a reader's snapshot sees the registry and the rows that belong together.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from coproff_platform.publish.catalog import REGISTRY_TABLE, SCHEMA
from coproff_platform.resources.postgis import literal

REGISTRY = f"{SCHEMA}.{REGISTRY_TABLE}"

COLUMNS: dict[str, tuple[str, str]] = {
    "millesime": ("smallint primary key", "Millésime CoproFF (année N : RNIC de septembre N × Fichiers fonciers N)"),
    "published_at": ("timestamptz not null default now()", "Date et heure de la publication"),
    "row_counts": ("jsonb not null", "Nombre de lignes publiées par table pour ce millésime"),
    "run_id": ("text", "Identifiant de l'exécution Dagster qui a publié le millésime"),
    "source_parcelles": (
        "text",
        "Origine des unités foncières (TUP) du millésime : ff (Fichiers fonciers), cadastre (cadastre "
        "ouvert Etalab, une TUP par parcelle) ; plusieurs valeurs séparées par une virgule ; vide si "
        "l'origine n'était pas tracée",
    ),
}
TABLE_COMMENT = "Millésimes publiés complets (toutes les tables du schéma coproff construites et contrôlées)"


@dataclass(frozen=True)
class PublishedVersion:
    """The published version of one millésime, as the registry records it."""

    millesime: int
    published_at: datetime
    run_id: str | None
    row_counts: dict[str, int]
    source_parcelles: str | None


def registry_exists(conn: Connection) -> bool:
    return conn.execute(sa.text("select to_regclass(:r) is not null"), {"r": REGISTRY}).scalar_one()


def ensure_registry(conn: Connection) -> list[str]:
    """Creates the registry, or adds the columns an older registry lacks; returns what it did.

    ALTER TABLE takes an ACCESS EXCLUSIVE lock: run only when a column is missing (the caller
    holds a short lock_timeout)."""
    done: list[str] = []
    if not registry_exists(conn):
        cols = ", ".join(f"{name} {ddl}" for name, (ddl, _) in COLUMNS.items())
        conn.execute(sa.text(f"create table {REGISTRY} ({cols})"))
        done.append(f"created {REGISTRY}")
    else:
        have = set(conn.execute(
            sa.text("select attname from pg_attribute where attrelid = to_regclass(:r) and attnum > 0 and not attisdropped"),
            {"r": REGISTRY},
        ).scalars())
        for name, (ddl, _) in COLUMNS.items():
            if name not in have:
                conn.execute(sa.text(f"alter table {REGISTRY} add column {name} {ddl}"))
                done.append(f"added {REGISTRY}.{name}")
    if done:
        conn.execute(sa.text(f"comment on table {REGISTRY} is {literal(TABLE_COMMENT)}"))
        for name, (_, comment) in COLUMNS.items():
            conn.execute(sa.text(f"comment on column {REGISTRY}.{name} is {literal(comment)}"))
    return done


def source_parcelles(conn: Connection, millesime: int) -> str | None:
    """Where the millésime's TUPs came from: the distinct `intermediate.tup.source_parcelles`
    (sorted, comma-separated), or None when the column does not exist (FF-only builds)."""
    has_column = conn.execute(
        sa.text("select exists (select 1 from pg_attribute where attrelid = to_regclass('intermediate.tup') "
                "and attname = 'source_parcelles' and not attisdropped)")
    ).scalar_one()
    if not has_column:
        return None
    return conn.execute(
        sa.text("select string_agg(distinct source_parcelles, ',' order by source_parcelles) "
                "from intermediate.tup where millesime = :m"),
        {"m": millesime},
    ).scalar()


def record(conn: Connection, millesime: int, counts: dict[str, int], run_id: str | None, parcelles: str | None) -> None:
    conn.execute(
        sa.text(
            f"insert into {REGISTRY} (millesime, published_at, row_counts, run_id, source_parcelles) "
            "values (:m, now(), cast(:counts as jsonb), :run, :src) "
            "on conflict (millesime) do update set published_at = excluded.published_at, "
            "row_counts = excluded.row_counts, run_id = excluded.run_id, source_parcelles = excluded.source_parcelles"
        ),
        {"m": millesime, "counts": json.dumps(counts, sort_keys=True), "run": run_id, "src": parcelles},
    )


def published_millesimes(conn: Connection) -> list[int]:
    if not registry_exists(conn):
        return []
    return [int(m) for m in conn.execute(sa.text(f"select millesime from {REGISTRY} order by 1")).scalars()]


def published_version(conn: Connection, millesime: int) -> PublishedVersion | None:
    """The version of `millesime` consumers read now, or None when it was never published."""
    if not registry_exists(conn):
        return None
    row = conn.execute(
        sa.text(f"select millesime, published_at, run_id, row_counts, source_parcelles from {REGISTRY} where millesime = :m"),
        {"m": int(millesime)},
    ).one_or_none()
    if row is None:
        return None
    return PublishedVersion(int(row.millesime), row.published_at, row.run_id, dict(row.row_counts), row.source_parcelles)
