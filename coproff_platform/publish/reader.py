"""The read-only group role `coproff_lecteur`: the published relations of schema coproff, nothing else.

Give an analyst read access with `GRANT coproff_lecteur TO alice;` (alice being a LOGIN role).

What a member can do, and why:
- USAGE on schema coproff, SELECT on the published tables (partitioned parents), their views and
  the registry `coproff.millesimes`; no privilege on the partitions (`coproff_m2023`...): rows are
  read through the parent, and a client that lists what it may read (QGIS) lists only the
  published layers;
- nothing on schemas staging, intermediate, quality, ref;
- no TEMP on the database, no advisory-lock or large-object function (taken from PUBLIC by
  `resources.postgis.harden_database`): a reader cannot hold the builder's locks nor store data.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from coproff_platform.publish.catalog import SCHEMA
from coproff_platform.resources.postgis import harden_database, ident, literal

READER_ROLE = "coproff_lecteur"
ROLE_COMMENT = "Lecture seule du référentiel CoproFF publié (schéma coproff)"
PRIVATE_SCHEMAS = ("staging", "intermediate", "quality", "ref")


def ensure_reader_role(conn: Connection, readable: list[str]) -> None:
    """Creates the role when missing and grants it SELECT on exactly `readable` (schema-qualified
    relations of schema coproff), revoking everything else it held in the warehouse.

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
        conn.execute(sa.text(f"comment on role {READER_ROLE} is {literal(ROLE_COMMENT)}"))
    harden_database(conn)
    conn.execute(sa.text(f"grant usage on schema {SCHEMA} to {READER_ROLE}"))
    # Earlier versions granted SELECT on every future table of the schema, partitions included.
    conn.execute(sa.text(f"alter default privileges in schema {SCHEMA} revoke select on tables from {READER_ROLE}"))
    held = set(conn.execute(
        sa.text(
            "select n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = :s and c.relkind in ('r', 'p', 'v', 'm') "
            "and has_table_privilege(:r, c.oid, 'select')"
        ),
        {"s": SCHEMA, "r": READER_ROLE},
    ).scalars())
    wanted = set(readable)
    for relation in sorted(held - wanted):
        conn.execute(sa.text(f"revoke all on {_qualified(relation)} from {READER_ROLE}"))
    for relation in sorted(wanted - held):
        conn.execute(sa.text(f"grant select on {_qualified(relation)} to {READER_ROLE}"))
    for schema in PRIVATE_SCHEMAS:
        if conn.execute(sa.text("select 1 from pg_namespace where nspname = :s"), {"s": schema}).scalar():
            conn.execute(sa.text(f"revoke all on schema {schema} from {READER_ROLE}"))
            conn.execute(sa.text(f"revoke all on all tables in schema {schema} from {READER_ROLE}"))


def _qualified(relation: str) -> str:
    schema, _, name = relation.partition(".")
    return f"{ident(schema)}.{ident(name)}"
