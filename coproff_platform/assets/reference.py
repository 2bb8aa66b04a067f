"""The reference layer in PostgreSQL: one asset `ref/<table>` per `dbt_like_sql/reference/<table>.csv`.

Each materialization creates `ref.<table>` when missing (column types, primary key and French
comments from the `.yml`; recreated when the dictionary's columns changed) and replaces its
content in one transaction: DELETE + COPY. The tables are tiny, and a DELETE keeps concurrent
readers consistent (they see the old rows until the commit), where a TRUNCATE would block them.
The assets are partitioned by millésime like every other asset so that they belong to the
millésime job; their content does not depend on the millésime.
"""


from dataclasses import dataclass

import sqlalchemy as sa
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    DataVersion,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableSchema,
    asset,
)
from psycopg import sql as pgsql
from sqlalchemy.engine import Connection

from coproff_platform import labels as L
from coproff_platform import reference
from coproff_platform.concurrency import step_tags
from coproff_platform.metadata import markdown_table
from coproff_platform.partitions import millesime_partitions
from coproff_platform.resources.postgis import PostGISResource, copy_rows, ident
from coproff_platform.ui import OWNERS, group_of
from coproff_platform.versions import python_code_version

SCHEMA = "ref"


@dataclass(frozen=True)
class Loaded:
    table: str
    row_count: int
    recreated: bool  # the table was created (or its columns changed) by this load


def _literal(conn: Connection, value: str) -> str:
    # The driver's own quoting: COMMENT ON takes no bound parameters.
    return pgsql.Literal(value).as_string(conn.connection.driver_connection)


def _existing_columns(conn: Connection, name: str) -> list[tuple[str, str]]:
    return [
        (r[0], r[1])
        for r in conn.execute(
            sa.text(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = :s and table_name = :t order by ordinal_position"
            ),
            {"s": SCHEMA, "t": name},
        )
    ]


def ensure_table(conn: Connection, table: reference.Table) -> bool:
    """Creates `ref.<table>` from its dictionary when missing or when its columns changed."""
    name = ident(table.name)
    wanted = [(c.name, c.data_type) for c in table.columns]
    existing = _existing_columns(conn, name)
    if existing == wanted:
        created = False
    else:
        if existing:
            conn.execute(sa.text(f"drop table {SCHEMA}.{name}"))
        columns = ", ".join(f"{ident(c.name)} {c.data_type}" for c in table.columns)
        key = ", ".join(ident(k) for k in table.primary_key)
        conn.execute(sa.text(f"create table {SCHEMA}.{name} ({columns}, primary key ({key}))"))
        created = True
    # Comments are refreshed on every load: a reworded description needs no new table.
    conn.execute(sa.text(f"comment on table {SCHEMA}.{name} is {_literal(conn, table.description)}"))
    for c in table.columns:
        conn.execute(sa.text(f"comment on column {SCHEMA}.{name}.{ident(c.name)} is {_literal(conn, c.description)}"))
    return created


def load_reference_table(conn: Connection, table: reference.Table) -> Loaded:
    """Creates if needed and replaces the content of `ref.<table>`, inside the caller's transaction."""
    conn.execute(sa.text(f"create schema if not exists {SCHEMA}"))
    # Two millésimes loading the same table at once: the second waits, then replaces the first's rows
    # (without the lock its DELETE would not see them, and its COPY would break the primary key).
    conn.execute(sa.text("select pg_advisory_xact_lock(hashtext(:k))"), {"k": f"coproff.ref:{table.name}"})
    created = ensure_table(conn, table)
    conn.execute(sa.text(f"delete from {SCHEMA}.{ident(table.name)}"))
    n = copy_rows(conn, f"{SCHEMA}.{table.name}", table.column_names, table.raw_rows)
    # Too small for autovacuum to ever analyse: without statistics the planner guesses thousands of
    # rows per code list (bad joins, JIT compilation in models that read them).
    conn.execute(sa.text(f"analyze {SCHEMA}.{ident(table.name)}"))
    return Loaded(table.qualified, n, created)


def load_reference_layer(conn: Connection) -> list[Loaded]:
    """Loads every reference table (what materializing all `ref/*` assets does), in one transaction."""
    return [load_reference_table(conn, reference.load_table(n)) for n in reference.table_names()]


def reference_asset(name: str) -> AssetsDefinition:
    table = reference.reference_table(name)
    key = AssetKey([SCHEMA, name])

    @asset(
        key=key,
        partitions_def=millesime_partitions,
        group_name=group_of(key),
        owners=OWNERS,
        kinds={"postgres", "csv"},
        op_tags=step_tags(f"{SCHEMA}/{name}"),
        code_version=python_code_version("assets/reference.py", "reference.py", reference=[name]),
        description=f"{table.description}\n\nChargée depuis `dbt_like_sql/reference/{name}.csv` "
        f"dans `{table.qualified}` (contenu identique pour tous les millésimes).",
        metadata={
            L.FICHIER_CSV: MetadataValue.path(f"dbt_like_sql/reference/{name}.csv"),
            L.TABLE: table.qualified,
            "dagster/column_schema": TableSchema(
                columns=[TableColumn(c.name, c.data_type, c.description) for c in table.columns]
            ),
        },
    )
    def _reference(context: AssetExecutionContext, postgis: PostGISResource) -> MaterializeResult:
        postgis.ensure_database()
        # Read the files again: a materialization loads what the repository holds now.
        fresh = reference.load_table(name)
        with postgis.engine.begin() as conn:
            loaded = load_reference_table(conn, fresh)
        if loaded.recreated:
            context.log.info(f"{loaded.table}: created from {fresh.yml_path.name}")
        digest = fresh.content_hash
        return MaterializeResult(
            metadata={
                "dagster/row_count": loaded.row_count,
                L.CONTENU: MetadataValue.md(markdown_table(fresh.column_names, fresh.raw_rows, max_chars=80)),
                L.EMPREINTE_SHA256: digest,
            },
            data_version=DataVersion(digest[:16]),
        )

    return _reference


REFERENCE_ASSETS: list[AssetsDefinition] = [reference_asset(n) for n in reference.table_names()]
