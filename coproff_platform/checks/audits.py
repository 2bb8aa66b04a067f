"""Audits: rules on a freshly built millésime, one SQL file each, run before it is published.

An audit of the model `<folder>/<table>.sql` is a file `<folder>/<table>.audits/<name>.sql`: a
header, then ONE query returning the offending rows (a key column and what explains the offence;
a share or rate rule returns one summary row when it fails). Nothing to register: every file of
the folder is a check of the model's asset.

    -- audit: idcopro_unique_and_well_formed
    -- severity: blocking                        (or warning)
    -- threshold: none                           (or ref.parametres codes, comma-separated)
    -- description: idcopro n'est jamais NULL, ... (French; continuation lines start with "--   ")
    select idcopro, count(*) as nb_lignes, ...
    from coproff.coproff
    where millesime = :millesime
    ...

The query is written as an analyst runs it on the published table. The runner rewrites (sqlglot
transform) every reference to the model's own table into that table *as it will be once the fresh
millésime is published*: the fresh, not yet published table for this millésime, the published
partitions for the others (so a comparison with the previous millésime still reads it). When an
environment variable overrides a threshold (`checks/thresholds.py`), `ref.parametres` is read
through an overlay with that value. The result is a Dagster check of the asset, on the same
partition, blocking or not, with the offending count and a sample of the rows (Markdown).

A malformed header, a query that is not one SELECT, an audit folder without its model: errors at
load time, naming the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlglot
from sqlalchemy.engine import Connection
from sqlglot import exp
from sqlglot.dialects.postgres import Postgres
from sqlglot.errors import SqlglotError

from coproff_platform.checks import thresholds
from coproff_platform.models import parse_cache

AUDITS_SUFFIX = ".audits"
SAMPLE_SIZE = 20
HEADER_KEYS = ("audit", "severity", "threshold", "description")
SEVERITIES = {"blocking": True, "warning": False}
PARAMETERS = "ref.parametres"

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


class AuditDefinitionError(ValueError):
    """An audit file is malformed; the message names the file."""


class _Postgres(Postgres):
    """PostgreSQL, with bound parameters written back as `:name` (SQLAlchemy's text() style)."""

    class Generator(Postgres.Generator):
        TRANSFORMS = {**Postgres.Generator.TRANSFORMS, exp.Placeholder: lambda self, e: f":{e.name}"}


@dataclass(frozen=True)
class Audit:
    path: Path  # the .sql file
    table: str  # the audited model's table, e.g. coproff.coproff
    name: str
    blocking: bool
    thresholds: tuple[str, ...]  # ref.parametres codes the query reads
    description: str  # French, shown in the UI
    sql: str  # the query as written (header included: it is a comment)
    reads: tuple[str, ...] = ()  # schema-qualified tables the query reads

    @property
    def asset(self) -> str:
        return self.table.replace(".", "/")

    @property
    def relative_path(self) -> str:
        """The file from the repository's root when it is in the repository (else as given)."""
        from coproff_platform.models.project import PROJECT_DIR

        try:
            return str(self.path.relative_to(PROJECT_DIR.parents[1]))
        except ValueError:
            return str(self.path)

    @property
    def severity(self) -> str:
        return "blocking" if self.blocking else "warning"


@dataclass(frozen=True)
class AuditResult:
    passed: bool
    offending: int
    columns: list[str] = field(default_factory=list)
    sample: list[tuple[Any, ...]] = field(default_factory=list)
    thresholds: list[tuple[str, str, str]] = field(default_factory=list)  # (code, value, source)
    error: str | None = None  # the audit's query itself failed


# -- definition -------------------------------------------------------------------------------

def parse_header(path: Path, text: str) -> dict[str, str]:
    """The `-- key: value` lines opening the file (continuations: `--` then two spaces or more)."""
    header: dict[str, str] = {}
    last = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            break
        body = stripped[2:]
        match = re.match(r"^ ?([a-z_]+):\s*(.*)$", body)
        if match and match.group(1) in HEADER_KEYS:
            key = match.group(1)
            if key in header:
                raise AuditDefinitionError(f"{path}:{lineno}: header key `{key}` given twice")
            header[key], last = match.group(2).strip(), key
        elif last is not None and body.startswith("  ") and body.strip():
            header[last] = f"{header[last]} {body.strip()}".strip()
        else:
            break  # the header ends at the first other comment
    missing = [k for k in HEADER_KEYS if not header.get(k)]
    if missing:
        raise AuditDefinitionError(
            f"{path}: header lacks {', '.join(f'`-- {k}:`' for k in missing)} "
            f"(an audit opens with {', '.join(f'-- {k}:' for k in HEADER_KEYS)})"
        )
    return header


def _single_select(path: Path, sql: str) -> exp.Expression:
    try:
        statements = [s for s in sqlglot.parse(sql, read="postgres") if s is not None]
    except SqlglotError as exc:
        raise AuditDefinitionError(f"{path}: SQL does not parse: {exc}") from exc
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise AuditDefinitionError(f"{path}: an audit is ONE select statement returning the offending rows")
    return statements[0]


def _tables(expression: exp.Expression) -> set[str]:
    return {f"{t.db}.{t.name}" for t in expression.find_all(exp.Table) if t.db}


def load_audit(path: Path, table: str) -> Audit:
    text = path.read_text(encoding="utf-8")
    header = parse_header(path, text)
    name = header["audit"]
    if name != path.stem or not _NAME.match(name):
        raise AuditDefinitionError(f"{path}: `-- audit: {name}` must be the file name ({path.stem}), "
                                   "a lower-case SQL identifier")
    severity = header["severity"]
    if severity not in SEVERITIES:
        raise AuditDefinitionError(f"{path}: `-- severity: {severity}`: expected blocking or warning")
    codes = () if header["threshold"] == "none" else tuple(c.strip() for c in header["threshold"].split(","))
    unknown = [c for c in codes if c not in thresholds.units()]
    if unknown:
        raise AuditDefinitionError(f"{path}: `-- threshold:` names {unknown}, not codes of {PARAMETERS} "
                                   f"(dbt_like_sql/reference/parametres.csv), nor `none`")
    sql = text.strip().rstrip(";").strip()
    # parsed once per text and sqlglot version (models/parse_cache.py): most loads only read the cache
    reads = parse_cache.tables_read("audit", sql, lambda query: _tables(_single_select(path, query)))
    if ":millesime" not in sql:
        raise AuditDefinitionError(f"{path}: an audit reads the millésime under audit (:millesime)")
    if table not in reads:
        raise AuditDefinitionError(f"{path}: an audit of {table} reads {table}")
    if codes and PARAMETERS not in reads:
        raise AuditDefinitionError(f"{path}: declares thresholds {list(codes)} but never reads {PARAMETERS}")
    return Audit(path=path, table=table, name=name, blocking=SEVERITIES[severity], thresholds=codes,
                 description=header["description"], sql=sql, reads=reads)


def audits_of(model) -> list[Audit]:
    """The audits of one model (`models.project.Model`): `<model>.audits/*.sql`, by name."""
    folder = model.path.with_name(model.path.stem + AUDITS_SUFFIX)
    return [load_audit(p, model.table) for p in sorted(folder.glob("*.sql"))] if folder.is_dir() else []


def check_audit_folders(models) -> None:
    """Every `<name>.audits` folder sits beside its model `<name>.sql` (else the rules would be
    lost), and every audit reads only tables the project knows: models, staged sources and
    reference tables (they become upstream assets of the audited model)."""
    from coproff_platform.models.project import SOURCE_TABLES

    roots = {m.path.parent for m in models}
    stems = {(m.path.parent, m.path.stem) for m in models}
    for root in roots:
        for folder in sorted(root.glob(f"*{AUDITS_SUFFIX}")):
            stem = folder.name[: -len(AUDITS_SUFFIX)]
            if (root, stem) not in stems:
                raise AuditDefinitionError(f"{folder}: audit folder without a model {root / (stem + '.sql')}")
    known = {m.table for m in models} | SOURCE_TABLES
    for model in models:
        for audit in audits_of(model):
            unknown = sorted(set(audit.reads) - known)
            if unknown:
                raise AuditDefinitionError(
                    f"{audit.path}: reads {', '.join(unknown)}, neither a model nor a staged source "
                    "or reference table")


def audits_for(asset: str) -> list[Audit]:
    """The audits of the project's model whose asset key is `asset` (e.g. "coproff/coproff")."""
    from coproff_platform.models.project import project

    return next((audits_of(m) for m in project() if "/".join(m.asset_key_path) == asset), [])


# -- evaluation -------------------------------------------------------------------------------

def _columns_of(conn: Connection, table: str) -> list[str]:
    result = conn.execute(sa.text(f"select * from {table} limit 0"))
    names = list(result.keys())
    result.close()
    return names


def rewrite(audit: Audit, fresh: str, parameters_overlay: exp.Subquery | None = None) -> str:
    """The audit's query on the table as it will be once `fresh` is published (see module doc)."""
    schema, name = audit.table.split(".")

    def as_published(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Table):
            return node
        if node.db == schema and node.name == name:
            fresh_schema, fresh_name = fresh.split(".")
            others = (
                sqlglot.select("*").from_(exp.table_(name, db=schema))
                .where(exp.NEQ(this=exp.column("millesime"), expression=exp.Placeholder(this="millesime")))
            )
            this_one = sqlglot.select("*").from_(exp.table_(fresh_name, db=fresh_schema))
            return exp.union(this_one, others, distinct=False).subquery(node.alias_or_name)
        if parameters_overlay is not None and f"{node.db}.{node.name}" == PARAMETERS:
            return parameters_overlay.copy().as_(node.alias_or_name)
        return node

    expression = _single_select(audit.path, audit.sql)
    return expression.transform(as_published).sql(dialect=_Postgres)


def _threshold_values(conn: Connection, audit: Audit, millesime: int,
                      found: list[thresholds.Override]) -> list[tuple[str, str, str]]:
    by_code = {o.code: o for o in found}
    stored = dict(conn.execute(
        sa.text(f"select code, valeur from {PARAMETERS} where code = any(:codes)"),
        {"codes": list(audit.thresholds)},
    ).all()) if audit.thresholds else {}
    return [
        (c, by_code[c].value, by_code[c].variable) if c in by_code else (c, str(stored.get(c)), PARAMETERS)
        for c in audit.thresholds
    ]


def run_audit(conn: Connection, audit: Audit, fresh: str, millesime: int) -> AuditResult:
    """Runs one audit on `fresh` in a savepoint: a broken audit fails alone, with its error."""
    try:
        with conn.begin_nested():
            found = thresholds.overrides(audit.thresholds)
            overlay = thresholds.overlay_sql(_columns_of(conn, PARAMETERS), found) if found else None
            sql = rewrite(audit, fresh, overlay)
            # One execution: the count of every offending row rides along the first SAMPLE_SIZE.
            result = conn.execute(
                sa.text(f"select o.*, count(*) over () as audit_lignes_en_faute from ({sql}\n) as o "
                        f"limit {SAMPLE_SIZE}"),
                {"millesime": millesime},
            )
            columns = [c for c in result.keys() if c != "audit_lignes_en_faute"]
            rows = result.all()
            used = _threshold_values(conn, audit, millesime, found)
    except Exception as exc:  # the rule could not be evaluated: it fails, saying why
        return AuditResult(False, 0, error=f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    offending = int(rows[0][-1]) if rows else 0
    return AuditResult(
        passed=offending == 0,
        offending=offending,
        columns=columns,
        sample=[tuple(r[:-1]) for r in rows],
        thresholds=used,
    )
