"""Publication of a millésime in schema `coproff`: what consumers (QGIS, SQL, Python) rely on.

`coproff/publication` runs after every `coproff/*` model of the millésime succeeded, in one
transaction:
1. refuses to publish personal data of natural persons (a volunteer syndic's identity, owners);
2. adds the primary keys and indexes consumers need when the model runner has not (GiST on
   geometries, btree on idcopro, idtup, num_immat and commune codes);
3. records the millésime as complete in `coproff.millesimes` (with row counts);
4. (re)creates the views `coproff.<table>_dernier` (latest complete millésime) and
   `coproff.coproff_<millesime>` (one per published millésime), commented like their tables;
5. maintains the read-only group role `coproff_lecteur` (SELECT on schema coproff, nothing else).
It then reports whether every published table and column carries a French COMMENT.

Give an analyst read access with `GRANT coproff_lecteur TO alice;` (alice being a LOGIN role).
"""

# No `from __future__ import annotations` here: Dagster 1.13 then rejects the `context:
# AssetExecutionContext` annotation of the asset ("must be annotated with AssetExecutionContext").
import json
import re
from dataclasses import dataclass

import sqlalchemy as sa
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    asset,
)
from sqlalchemy.engine import Connection

from coproff_platform.assets.models import MODEL_ASSETS
from coproff_platform.partitions import millesime_partitions
from coproff_platform.resources.postgis import PostGISResource, ident

SCHEMA = "coproff"
READER_ROLE = "coproff_lecteur"
REGISTRY = f"{SCHEMA}.millesimes"
MAIN_TABLE = "coproff"

# Key of each published table when the model's .yml does not declare one (millesime first: the
# primary key of a table partitioned by millesime must include it).
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "coproff": ("millesime", "idcopro"),
    "appariement": ("millesime", "num_immat"),
}
# Columns consumers filter or join on.
INDEXED_COLUMNS = ("idcopro", "idcopro_a", "idcopro_b", "idtup", "num_immat", "code_commune", "commune", "idcom", "code_insee")
# Column names that would carry the identity of a natural person. A volunteer syndic's "raison
# sociale" is a person's name; it may be published only when NULL for every non-professional syndic.
PERSONAL_COLUMN = re.compile(r"(proprietaire|owner|ddenom|dnomus|dprnus|representant|raison_sociale|nom_syndic)")
SYNDIC_NAME_COLUMN = re.compile(r"raison_sociale")


def sql_literal(text: str) -> str:
    """A string literal for statements that take no bind parameters (COMMENT ON)."""
    return "'" + text.replace("'", "''") + "'"


class PublicationError(RuntimeError):
    """The millésime cannot be published; nothing was changed."""


@dataclass(frozen=True)
class PublishedTable:
    name: str
    columns: tuple[str, ...]
    geometry_columns: tuple[str, ...]


# -- catalog helpers ------------------------------------------------------------------------------
def published_tables(conn: Connection) -> list[PublishedTable]:
    """Tables of schema coproff holding millésimes: partitioned parents (or plain tables) with a
    `millesime` column, partitions and our own registry excluded."""
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
              and c.relname <> 'millesimes'
            group by c.relname
            having bool_or(a.attname = 'millesime')
            order by c.relname
            """
        ),
        {"schema": SCHEMA},
    ).all()
    return [PublishedTable(r.relname, tuple(r.columns), tuple(r.geoms or ())) for r in rows]


def _has_primary_key(conn: Connection, table: str) -> bool:
    return bool(
        conn.execute(
            sa.text("select 1 from pg_constraint where conrelid = to_regclass(:t) and contype = 'p'"),
            {"t": f"{SCHEMA}.{table}"},
        ).scalar()
    )


def _leading_index_columns(conn: Connection, table: str) -> set[str]:
    """Columns that already lead an index of the table (created by the runner's .yml or by us)."""
    rows = conn.execute(
        sa.text(
            """
            select a.attname
            from pg_index i
            join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
            where i.indrelid = to_regclass(:t)
            """
        ),
        {"t": f"{SCHEMA}.{table}"},
    ).scalars()
    return set(rows)


def ensure_keys_and_indexes(conn: Connection, tables: list[PublishedTable]) -> list[str]:
    """Adds the missing primary keys and indexes; returns the statements it ran."""
    done: list[str] = []
    for t in tables:
        pk = PRIMARY_KEYS.get(t.name)
        if pk and set(pk) <= set(t.columns) and not _has_primary_key(conn, t.name):
            stmt = f"alter table {SCHEMA}.{ident(t.name)} add primary key ({', '.join(pk)})"
            conn.execute(sa.text(stmt))
            done.append(stmt)
        indexed = _leading_index_columns(conn, t.name)
        # A (millesime, key) primary key leads with millesime: the key column still gets its own index.
        wanted = [(c, "gist") for c in t.geometry_columns] + [
            (c, "btree") for c in INDEXED_COLUMNS if c in t.columns
        ]
        for column, method in wanted:
            if column in indexed:
                continue
            stmt = (
                f"create index if not exists {ident(t.name)}_{ident(column)}_idx "
                f"on {SCHEMA}.{ident(t.name)} using {method} ({ident(column)})"
            )
            conn.execute(sa.text(stmt))
            done.append(stmt)
    return done


def personal_data_findings(conn: Connection, tables: list[PublishedTable]) -> list[str]:
    """Columns of published tables that carry (or could carry) a natural person's identity."""
    findings: list[str] = []
    for t in tables:
        for column in t.columns:
            if not PERSONAL_COLUMN.search(column):
                continue
            if SYNDIC_NAME_COLUMN.search(column) and "type_syndic" in t.columns:
                leaked = conn.execute(
                    sa.text(
                        f"select count(*) from {SCHEMA}.{ident(t.name)} "
                        f"where {ident(column)} is not null and type_syndic is distinct from 'professionnel'"
                    )
                ).scalar_one()
                if leaked:
                    findings.append(f"{SCHEMA}.{t.name}.{column}: {leaked} rows name a non-professional syndic")
            else:
                findings.append(f"{SCHEMA}.{t.name}.{column}: personal data column")
    return findings


def missing_comments(conn: Connection) -> list[str]:
    """Tables, views and columns of schema coproff (partitions excluded) without a COMMENT."""
    rows = conn.execute(
        sa.text(
            """
            select c.relname, null::text as attname
            from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = :schema and c.relkind in ('r', 'p', 'v') and not c.relispartition
              and coalesce(obj_description(c.oid, 'pg_class'), '') = ''
            union all
            select c.relname, a.attname
            from pg_class c join pg_namespace n on n.oid = c.relnamespace
            join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
            where n.nspname = :schema and c.relkind in ('r', 'p', 'v') and not c.relispartition
              and coalesce(col_description(c.oid, a.attnum), '') = ''
            order by 1, 2 nulls first
            """
        ),
        {"schema": SCHEMA},
    ).all()
    return [f"{SCHEMA}.{r.relname}" + (f".{r.attname}" if r.attname else "") for r in rows]


# -- publication steps ---------------------------------------------------------------------------
def ensure_registry(conn: Connection) -> None:
    conn.execute(
        sa.text(
            f"""
            create table if not exists {REGISTRY} (
                millesime smallint primary key,
                published_at timestamptz not null default now(),
                row_counts jsonb not null,
                run_id text
            )
            """
        )
    )
    conn.execute(sa.text(f"comment on table {REGISTRY} is 'Millésimes publiés complets (toutes les tables du schéma coproff construites)'"))
    for column, comment in (
        ("millesime", "Millésime CoproFF (année N : RNIC de septembre N × Fichiers fonciers N)"),
        ("published_at", "Date et heure de la publication"),
        ("row_counts", "Nombre de lignes publiées par table pour ce millésime"),
        ("run_id", "Identifiant de l'exécution Dagster qui a publié le millésime"),
    ):
        conn.execute(sa.text(f"comment on column {REGISTRY}.{column} is {sql_literal(comment)}"))


def _copy_comments(conn: Connection, source: str, view: str, table_comment: str) -> None:
    conn.execute(sa.text(f"comment on view {SCHEMA}.{view} is {sql_literal(table_comment)}"))
    for name, comment in conn.execute(
        sa.text(
            "select a.attname, col_description(a.attrelid, a.attnum) from pg_attribute a "
            "where a.attrelid = to_regclass(:t) and a.attnum > 0 and not a.attisdropped"
        ),
        {"t": f"{SCHEMA}.{source}"},
    ).all():
        if comment:
            conn.execute(sa.text(f"comment on column {SCHEMA}.{view}.{ident(name)} is {sql_literal(comment)}"))


def recreate_views(conn: Connection, tables: list[PublishedTable]) -> list[str]:
    """`<table>_dernier` for every published table; `coproff_<millesime>` per published millésime.

    Dropped and recreated: a view freezes its column list, and models may gain columns.
    """
    views: list[str] = []
    names = {t.name for t in tables}
    existing = conn.execute(
        sa.text(
            "select viewname from pg_views where schemaname = :s "
            "and (viewname like '%\\_dernier' or viewname ~ '^coproff_[0-9]{4}$')"
        ),
        {"s": SCHEMA},
    ).scalars().all()
    for view in existing:
        conn.execute(sa.text(f"drop view if exists {SCHEMA}.{ident(view)}"))
    for t in tables:
        view = f"{t.name}_dernier"
        conn.execute(
            sa.text(
                f"create view {SCHEMA}.{ident(view)} as select * from {SCHEMA}.{ident(t.name)} "
                f"where millesime = (select max(millesime) from {REGISTRY})"
            )
        )
        _copy_comments(conn, t.name, view, f"{SCHEMA}.{t.name} du dernier millésime publié complet")
        views.append(f"{SCHEMA}.{view}")
    if MAIN_TABLE in names:
        for (millesime,) in conn.execute(sa.text(f"select millesime from {REGISTRY} order by 1")).all():
            view = f"{MAIN_TABLE}_{int(millesime)}"
            conn.execute(
                sa.text(
                    f"create view {SCHEMA}.{view} as select * from {SCHEMA}.{MAIN_TABLE} "
                    f"where millesime = {int(millesime)}"
                )
            )
            _copy_comments(conn, MAIN_TABLE, view, f"Référentiel CoproFF, millésime {int(millesime)}")
            views.append(f"{SCHEMA}.{view}")
    return views


def ensure_reader_role(conn: Connection) -> None:
    """Group role `coproff_lecteur`: SELECT on schema coproff and nothing else.

    The role is cluster-wide and several databases may create it at once, hence the guarded DO.
    """
    conn.execute(
        sa.text(
            f"""
            do $$ begin
              if not exists (select from pg_roles where rolname = '{READER_ROLE}') then
                create role {READER_ROLE} nologin;
              end if;
            exception when duplicate_object or unique_violation then null;
            end $$
            """
        )
    )
    # Role comments live in a cluster-wide catalog: write it once, so that publications running in
    # several databases at the same moment do not update the same row.
    described = conn.execute(
        sa.text("select shobj_description(oid, 'pg_authid') from pg_roles where rolname = :r"), {"r": READER_ROLE}
    ).scalar()
    if not described:
        conn.execute(sa.text(f"comment on role {READER_ROLE} is 'Lecture seule du référentiel CoproFF publié (schéma coproff)'"))
    conn.execute(sa.text(f"grant usage on schema {SCHEMA} to {READER_ROLE}"))
    conn.execute(sa.text(f"grant select on all tables in schema {SCHEMA} to {READER_ROLE}"))
    # Tables later created in coproff by the role that runs the pipeline are readable too.
    conn.execute(sa.text(f"alter default privileges in schema {SCHEMA} grant select on tables to {READER_ROLE}"))
    for schema in ("staging", "intermediate", "quality"):
        if conn.execute(sa.text("select 1 from pg_namespace where nspname = :s"), {"s": schema}).scalar():
            conn.execute(sa.text(f"revoke all on schema {schema} from {READER_ROLE}"))
            conn.execute(sa.text(f"revoke all on all tables in schema {schema} from {READER_ROLE}"))


@dataclass
class Publication:
    millesime: int
    row_counts: dict[str, int]
    ddl: list[str]
    views: list[str]
    missing_comments: list[str]


def publish(conn: Connection, millesime: int, run_id: str | None = None) -> Publication:
    """Publishes one millésime on `conn` (the caller's transaction). Raises PublicationError,
    leaving everything as it was, when the millésime is empty or would publish personal data."""
    conn.execute(sa.text("select pg_advisory_xact_lock(hashtext('coproff.publication'))"))
    # Replacing views waits for readers' queries on them; give up (nothing changed) rather than
    # queue every new reader behind us for ever.
    conn.execute(sa.text("set local lock_timeout = '5min'"))
    tables = published_tables(conn)
    if MAIN_TABLE not in {t.name for t in tables}:
        raise PublicationError(f"{SCHEMA}.{MAIN_TABLE} does not exist: build the referential first")
    row_counts = {
        t.name: conn.execute(
            sa.text(f"select count(*) from {SCHEMA}.{ident(t.name)} where millesime = :m"), {"m": millesime}
        ).scalar_one()
        for t in tables
    }
    if not row_counts[MAIN_TABLE]:
        raise PublicationError(f"{SCHEMA}.{MAIN_TABLE} holds no row for millésime {millesime}: nothing to publish")
    leaks = personal_data_findings(conn, tables)
    if leaks:
        raise PublicationError("personal data would be published: " + "; ".join(leaks))
    ddl = ensure_keys_and_indexes(conn, tables)
    ensure_registry(conn)
    conn.execute(
        sa.text(
            f"insert into {REGISTRY} (millesime, published_at, row_counts, run_id) "
            "values (:m, now(), cast(:counts as jsonb), :run) "
            "on conflict (millesime) do update set published_at = excluded.published_at, "
            "row_counts = excluded.row_counts, run_id = excluded.run_id"
        ),
        {"m": millesime, "counts": _json(row_counts), "run": run_id},
    )
    views = recreate_views(conn, tables)
    ensure_reader_role(conn)
    return Publication(millesime, row_counts, ddl, views, missing_comments(conn))


def _json(value: dict) -> str:
    return json.dumps(value, sort_keys=True)


# -- the asset ------------------------------------------------------------------------------------
PUBLISHED_MODEL_KEYS = [k for a in MODEL_ASSETS for k in a.keys if k.path[0] == SCHEMA]


@asset(
    key=AssetKey([SCHEMA, "publication"]),
    deps=PUBLISHED_MODEL_KEYS,
    partitions_def=millesime_partitions,
    group_name="publication",
    check_specs=[
        AssetCheckSpec(
            "every_table_and_column_commented",
            asset=AssetKey([SCHEMA, "publication"]),
            partitions_def=millesime_partitions,
            description="Chaque table, vue et colonne publiée porte un commentaire (dictionnaire de données).",
        ),
    ],
    description="Publishes a complete millésime: registry, views, keys and indexes, read-only role.",
)
def publication(context: AssetExecutionContext, postgis: PostGISResource):
    millesime = int(context.partition_key)
    with postgis.engine.begin() as conn:
        result = publish(conn, millesime, context.run.run_id)
    context.log.info(f"millésime {millesime} published: {result.row_counts}")
    yield MaterializeResult(
        metadata={
            "row_counts": MetadataValue.json(result.row_counts),
            "dagster/row_count": result.row_counts[MAIN_TABLE],
            "views": MetadataValue.json(result.views),
            "ddl_added": MetadataValue.json(result.ddl),
        }
    )
    yield AssetCheckResult(
        check_name="every_table_and_column_commented",
        passed=not result.missing_comments,
        severity=AssetCheckSeverity.ERROR,
        metadata={"missing": MetadataValue.json(result.missing_comments[:200]), "count": len(result.missing_comments)},
    )


PUBLICATION_ASSETS = [publication]
