"""Builds one millésime of one SQL model in PostGIS: fill a fresh table, audit it, swap it in.

Write-audit-publish inside one transaction (`PostGISResource.replace_millesime`):
  1. the parent table `<schema>.<table>` is created from the query's shape on first build
     (`PARTITION BY LIST (millesime)`, primary key and indexes from the model's dictionary);
  2. `INSERT INTO <fresh> SELECT ... FROM (<model sql>)` with the millésime as the bound
     parameter `:millesime` (never formatted into the SQL);
  3. every audit of the model (`<model>.audits/*.sql`, `checks/audits.py`) runs on the fresh table,
     each in a savepoint;
  4. when no blocking audit failed, the fresh table replaces the millésime's partition; otherwise
     `AuditFailed` is raised and everything rolls back: the previous version stays published.

When a model gains or loses columns, the parent is altered (ADD/DROP COLUMN, all millésimes): an
added column is NULL in the other millésimes until they are rebuilt. A changed column type stops
with `SchemaChanged` naming the columns: drop the parent and rebuild every millésime (the error
says how); nothing is dropped automatically, other millésimes would be lost with it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from coproff_platform.checks.audits import Audit, AuditResult, audits_of, run_audit
from coproff_platform.checks.metadata_hooks import metadata_for
from coproff_platform.contracts.tables import literal
from coproff_platform.metadata import markdown_table
from coproff_platform.models.project import Model
from coproff_platform.resources.postgis import PostGISResource, ident, with_lock_retry

PREVIEW_ROWS = 5


class SchemaChanged(RuntimeError):
    """The query's columns no longer match the published table."""


class AuditFailed(RuntimeError):
    """A blocking audit failed: the millésime was not published."""

    def __init__(self, message: str, audits: list[AuditOutcome]):
        super().__init__(message)
        self.audits = audits


@dataclass(frozen=True)
class AuditOutcome:
    audit: Audit
    result: AuditResult


@dataclass
class BuildReport:
    table: str
    millesime: int
    row_count: int
    duration_s: float
    columns: list[tuple[str, str]]  # (name, PostgreSQL type)
    preview_markdown: str
    audits: list[AuditOutcome] = field(default_factory=list)
    undocumented: list[str] = field(default_factory=list)
    extra_metadata: dict[str, Any] = field(default_factory=dict)  # from checks.metadata_hooks
    schema_changes: list[str] = field(default_factory=list)  # parent created or evolved


def _normalise_type(t: str) -> str:
    return t.replace(" ", "").lower()


def query_columns(conn: Connection, model: Model, millesime: int) -> list[tuple[str, str]]:
    """The query's output columns and their PostgreSQL types, without running it (LIMIT 0)."""
    result = conn.execute(sa.text(f"select * from ({model.sql}\n) as q limit 0"), {"millesime": millesime})
    pgresult = result.cursor.pgresult
    names = [c[0] for c in result.cursor.description]
    types = [(pgresult.ftype(i), pgresult.fmod(i)) for i in range(len(names))]
    result.close()
    columns = []
    for name, (oid, mod) in zip(names, types, strict=True):
        declared = model.dictionary.column(name)
        if declared is not None and declared.data_type:
            pg_type = declared.data_type
        else:
            pg_type = conn.execute(sa.text("select format_type(:o, :m)"), {"o": oid, "m": mod}).scalar_one()
        columns.append((name, pg_type))
    seen = [n for n, _ in columns]
    duplicates = sorted({n for n in seen if seen.count(n) > 1})
    if duplicates:
        raise ValueError(f"{model.path}: the query returns duplicate column names {duplicates}")
    for name in seen:
        ident(name)
    if "millesime" not in seen:
        raise ValueError(f"{model.path}: the query must return a `millesime` column (the partition key)")
    return columns


def table_columns(conn: Connection, table: str) -> list[tuple[str, str]] | None:
    rows = conn.execute(
        sa.text(
            "select attname, format_type(atttypid, atttypmod) from pg_attribute "
            "where attrelid = to_regclass(:t) and attnum > 0 and not attisdropped order by attnum"
        ),
        {"t": table},
    ).all()
    exists = conn.execute(sa.text("select to_regclass(:t) is not null"), {"t": table}).scalar()
    return [(r[0], r[1]) for r in rows] if exists else None


def ensure_parent(conn: Connection, model: Model, columns: list[tuple[str, str]]) -> list[str]:
    """Creates the partitioned parent from the query's shape, or evolves it; returns the changes.

    Columns are matched by name (rows are inserted by name, so order does not matter). A column
    the query gained is added, one it lost is dropped; a changed type stops with `SchemaChanged`.
    """
    existing = table_columns(conn, model.table)
    if existing is None:
        cols = [f"{name} {pg_type}" for name, pg_type in columns]
        pk = model.dictionary.primary_key
        if pk:
            if "millesime" not in pk:
                raise ValueError(f"{model.path.with_suffix('.yml')}: primary_key must include millesime")
            cols.append(f"primary key ({', '.join(ident(c) for c in pk)})")
        conn.execute(sa.text(f"create table {model.table} ({', '.join(cols)}) partition by list (millesime)"))
        return [f"created {model.table}"]
    want = {n: _normalise_type(t) for n, t in columns}
    have = {n: _normalise_type(t) for n, t in existing}
    if want == have:
        return []
    added = [n for n in want if n not in have]
    removed = [n for n in have if n not in want]
    retyped = [f"{n} {have[n]}→{want[n]}" for n in want if n in have and want[n] != have[n]]
    if retyped or "millesime" in removed:
        millesimes = conn.execute(
            sa.text(
                "select string_agg(pg_get_expr(c.relpartbound, c.oid), '; ') from pg_inherits i "
                "join pg_class c on c.oid = i.inhrelid where i.inhparent = to_regclass(:t)"
            ),
            {"t": model.table},
        ).scalar()
        raise SchemaChanged(
            f"{model.path}: column types changed since {model.table} was created ({', '.join(retyped)}). "
            f"Published partitions: {millesimes or 'none'}. To rebuild: `drop table {model.table} cascade;` "
            f"then rematerialize every millésime of {'/'.join(model.asset_key_path)} and its downstream assets."
        )
    # Added columns are appended (NULL in the other millésimes until they are rebuilt); removed
    # columns are dropped from every millésime. Both apply to the parent and all its partitions.
    types = dict(columns)
    for name in added:
        conn.execute(sa.text(f"alter table {model.table} add column {name} {types[name]}"))
    for name in removed:
        # A publication view (`<table>_dernier`, `coproff_<millesime>`) freezes its columns and would
        # block the drop: drop it, publication recreates the missing views. Any other view still blocks.
        for view in conn.execute(sa.text(
                "select distinct v.oid::regclass::text from pg_depend d join pg_rewrite r on r.oid = d.objid "
                "join pg_class v on v.oid = r.ev_class join pg_attribute a on a.attrelid = d.refobjid "
                "and a.attnum = d.refobjsubid where d.refobjid = to_regclass(:t) and a.attname = :c "
                "and v.relkind = 'v' and (v.relname like '%\\_dernier' or v.relname ~ '^coproff_[0-9]{4}$')"),
                {"t": model.table, "c": name}).scalars():
            conn.execute(sa.text(f"drop view {view}"))
        conn.execute(sa.text(f"alter table {model.table} drop column {name}"))
    return [f"added {n}" for n in added] + [f"removed {n}" for n in removed]


def apply_dictionary(conn: Connection, model: Model, columns: list[tuple[str, str]]) -> list[str]:
    """COMMENT ON TABLE/COLUMN and indexes from the dictionary; returns undocumented columns."""
    d = model.dictionary
    schema, name = model.schema, model.name
    comment = d.description or f"Modèle SQL {model.relative_path}"
    conn.execute(sa.text(f"comment on table {model.table} is {literal(comment)}"))
    types = dict(columns)
    undocumented = []
    for col, _ in columns:
        doc = d.column(col)
        if doc is None or not doc.description:
            undocumented.append(col)
            continue
        conn.execute(sa.text(f"comment on column {model.table}.{col} is {literal(doc.description)}"))
    for col in d.indexes:
        if col not in types:
            raise ValueError(f"{model.path.with_suffix('.yml')}: index on unknown column {col!r}")
        using = "gist" if types[col].startswith("geometry") or types[col].startswith("geography") else "btree"
        conn.execute(sa.text(f"create index if not exists {name}_{ident(col)}_idx on {schema}.{name} using {using} ({col})"))
    return undocumented


def preview(conn: Connection, table: str, columns: list[tuple[str, str]]) -> str:
    """The first rows as a Markdown table (geometries as short WKT)."""
    exprs = [
        f"left(ST_AsText({n}), 60)" if t.startswith("geometry") else f"{n}::text" for n, t in columns
    ]
    rows = conn.execute(sa.text(f"select {', '.join(exprs)} from {table} limit {PREVIEW_ROWS}")).all()
    return markdown_table([n for n, _ in columns], rows)


def run_audits(conn: Connection, audits: list[Audit], table: str, millesime: int) -> list[AuditOutcome]:
    """Runs each audit on the fresh `table`, each in its own savepoint (a broken audit fails alone)."""
    return [AuditOutcome(a, run_audit(conn, a, table, millesime)) for a in audits]


def analyze_sources(conn: Connection, model: Model, millesime: int) -> list[str]:
    """ANALYZEs what the planner needs to read the model's upstream tables well.

    A partition freshly filled by COPY has no statistics until autovacuum passes, and autovacuum
    never analyzes a partitioned parent, whose (inherited) statistics drive join estimates. Without
    them the planner assumes 200 distinct keys, expects millions of rows from a join of a few
    thousand, and picks nested loops that make the matching quadratic. So: the millésime's
    partition when it was never analyzed, and the parent when it was analyzed before that partition.
    """
    analyzed = []
    for table in model.upstream:
        partition = f"{table}_m{int(millesime)}"
        stats = conn.execute(
            sa.text(
                "select coalesce(p.last_analyze, p.last_autoanalyze), t.last_analyze from pg_stat_user_tables p "
                "cross join pg_stat_user_tables t where p.relid = to_regclass(:p) and t.relid = to_regclass(:t)"
            ),
            {"p": partition, "t": table},
        ).one_or_none()
        if stats is None:
            continue
        partition_at, parent_at = stats
        if partition_at is None:
            conn.execute(sa.text(f"analyze {partition}"))
            analyzed.append(partition)
        if partition_at is None or parent_at is None or parent_at < partition_at:
            conn.execute(sa.text(f"analyze {table}"))
            analyzed.append(table)
    return analyzed


def build_model(postgis: PostGISResource, model: Model, millesime: int, audits: list[Audit] = ()) -> BuildReport:
    """Builds one millésime of `model`, audits it and publishes it atomically (see module doc).

    Builds of one model are serialised across millésimes (session advisory lock): two swap
    transactions on one parent would otherwise deadlock (each holds the parent in ACCESS SHARE
    from `CREATE TABLE ... LIKE` while the other's DETACH needs ACCESS EXCLUSIVE).
    """
    millesime = int(millesime)
    started = time.monotonic()
    with postgis.engine.connect() as lock_conn:
        key = {"k": f"coproff.model:{model.table}"}
        lock_conn.execute(sa.text("select pg_advisory_lock(hashtext(:k))"), key)
        lock_conn.commit()
        try:
            return _build_model(postgis, model, millesime, audits, started)
        finally:
            lock_conn.execute(sa.text("select pg_advisory_unlock(hashtext(:k))"), key)
            lock_conn.commit()


def _build_model(
    postgis: PostGISResource, model: Model, millesime: int, audits: list[Audit], started: float
) -> BuildReport:
    with postgis.engine.begin() as conn:
        # Serialise the first build of a parent (two millésimes built in parallel).
        conn.execute(sa.text("select pg_advisory_xact_lock(hashtext(:k))"), {"k": model.table})
        analyze_sources(conn, model, millesime)
        columns = query_columns(conn, model, millesime)
        # ALTER TABLE takes ACCESS EXCLUSIVE: short lock_timeout and retries, so readers never queue.
        schema_changes = with_lock_retry(conn, lambda: ensure_parent(conn, model, columns),
                                         relations=[model.table], what=f"evolving {model.table}")
    with postgis.replace_millesime(model.table, millesime) as swap:
        # JIT compiles the large matching plans for seconds and saves nothing at this scale
        swap.conn.execute(sa.text("set local jit = off"))
        names = ", ".join(n for n, _ in columns)
        inserted = swap.conn.execute(
            sa.text(f"insert into {swap.table} ({names}) select {names} from ({model.sql}\n) as q"),
            {"millesime": millesime},
        ).rowcount
        swap.conn.execute(sa.text(f"analyze {swap.table}"))
        outcomes = run_audits(swap.conn, list(audits), swap.table, millesime)
        failed = [o.audit.name for o in outcomes if o.audit.blocking and not o.result.passed]
        if failed:
            raise AuditFailed(
                f"{model.table} millésime {millesime} not published: blocking audit(s) failed: "
                f"{', '.join(failed)}; the previous version stays in place",
                outcomes,
            )
        undocumented = apply_dictionary(swap.conn, model, columns)
        shown = preview(swap.conn, swap.table, columns)
        # model-specific metadata (Markdown tables, plots) computed on the fresh table
        extra = metadata_for("/".join(model.asset_key_path), swap.conn, swap.table, millesime)
    return BuildReport(
        table=model.table,
        millesime=millesime,
        row_count=inserted,
        duration_s=time.monotonic() - started,
        columns=columns,
        preview_markdown=shown,
        audits=outcomes,
        undocumented=undocumented,
        extra_metadata=extra,
        schema_changes=schema_changes,
    )


def build_all(
    postgis: PostGISResource,
    millesime: int,
    models: list[Model] | None = None,
    *,
    with_audits: bool = True,
) -> dict[str, BuildReport]:
    """Builds every model (or `models`) of a millésime in dependency order, outside Dagster.

    For tests and benchmarks; Dagster runs the same `build_model` per asset.
    """
    from coproff_platform.models.project import project, topological_order

    chosen = topological_order(models if models is not None else list(project()))
    reports = {}
    for model in chosen:
        reports[model.table] = build_model(postgis, model, millesime, audits_of(model) if with_audits else [])
    return reports
