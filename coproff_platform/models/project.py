"""The SQL model project: `dbt_like_sql/models/<folder>/<table>.sql` files and their dictionaries.

Each `.sql` file is one model building one table. Its schema comes from the folder
(`staging` → staging, `intermediate` → intermediate, `marts` → coproff), its table name from the
file name. Upstream tables are read from the SQL with sqlglot scopes; a reference to a table that
is neither another model nor a staged source is an error at load time naming the file.

Beside each model, `<table>.yml` is its data dictionary (dbt schema.yml style):

    description: Une ligne par copropriété et millésime ...
    primary_key: [millesime, idcopro]      # optional
    indexes: [idtup, geom]                 # optional; geometry columns get GiST
    columns:
      - name: idcopro
        description: Identifiant de la copropriété ...
        data_type: text                    # optional: overrides the type read from the query
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import sqlglot
import yaml
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.scope import build_scope

from coproff_platform.contracts.declarations import STAGING_TABLES as DECLARATION_TABLES
from coproff_platform.contracts.tables import STAGING_TABLES
from coproff_platform.models import parse_cache
from coproff_platform.reference import SAFE_LOADER
from coproff_platform.reference import table_names as reference_table_names

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_like_sql" / "models"

# Folder → PostgreSQL schema (and Dagster group).
FOLDER_SCHEMAS = {"staging": "staging", "intermediate": "intermediate", "marts": "coproff"}

# Tables a model may read without building them: the staged sources (assets `staging/<table>`) and
# the reference layer (`dbt_like_sql/reference/<table>.csv`, assets `ref/<table>`).
REFERENCE_TABLES = frozenset(f"ref.{name}" for name in reference_table_names())
SOURCE_TABLES = frozenset(t.qualified for t in (*STAGING_TABLES.values(), *DECLARATION_TABLES.values())) | REFERENCE_TABLES

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


class ModelProjectError(ValueError):
    """A model file or dictionary is invalid; the message names the file."""


@dataclass(frozen=True)
class ColumnDoc:
    name: str
    description: str = ""
    data_type: str | None = None


@dataclass(frozen=True)
class Dictionary:
    """The data dictionary of one model (`<model>.yml`)."""

    description: str = ""
    columns: tuple[ColumnDoc, ...] = ()
    primary_key: tuple[str, ...] = ()
    indexes: tuple[str, ...] = ()

    def column(self, name: str) -> ColumnDoc | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class Model:
    path: Path  # the .sql file
    folder: str  # staging, intermediate, marts
    schema: str
    name: str
    sql: str
    upstream: tuple[str, ...]  # schema-qualified tables read by the query, sorted
    dictionary: Dictionary = field(default_factory=Dictionary)

    @property
    def table(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def asset_key_path(self) -> list[str]:
        return [self.schema, self.name]

    @property
    def relative_path(self) -> str:
        try:
            return str(self.path.relative_to(PROJECT_DIR.parents[1]))
        except ValueError:
            return str(self.path)


def referenced_tables(sql: str, where: str = "<sql>") -> set[str]:
    """Schema-qualified tables a query reads, from sqlglot scopes (CTE names are not tables)."""
    try:
        expression = sqlglot.parse_one(sql, read="postgres")
    except SqlglotError as exc:
        raise ModelProjectError(f"{where}: SQL does not parse: {exc}") from exc
    root = build_scope(expression)
    if root is None:
        raise ModelProjectError(f"{where}: not a query (a model is one SELECT statement)")
    tables: set[str] = set()
    for scope in root.traverse():
        for _alias, (_node, source) in scope.selected_sources.items():
            if isinstance(source, exp.Table):
                if not source.db:
                    raise ModelProjectError(
                        f"{where}: table {source.name!r} must be schema-qualified "
                        "(staging., ref., intermediate. or coproff.)"
                    )
                tables.add(f"{source.db}.{source.name}")
    return tables


def read_dictionary(path: Path) -> Dictionary:
    if not path.exists():
        return Dictionary()
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}
    except yaml.YAMLError as exc:
        raise ModelProjectError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ModelProjectError(f"{path}: expected a mapping with description and columns")
    columns = []
    for i, col in enumerate(raw.get("columns") or []):
        if not isinstance(col, dict) or not _NAME.match(str(col.get("name", ""))):
            raise ModelProjectError(f"{path}: column entry {i + 1} needs a lower-case `name`")
        columns.append(ColumnDoc(col["name"], str(col.get("description", "")).strip(), col.get("data_type")))
    return Dictionary(
        description=str(raw.get("description", "")).strip(),
        columns=tuple(columns),
        primary_key=tuple(raw.get("primary_key") or ()),
        indexes=tuple(raw.get("indexes") or ()),
    )


def load_model(path: Path, root: Path) -> Model:
    rel = path.relative_to(root)
    if len(rel.parts) != 2 or rel.parts[0] not in FOLDER_SCHEMAS:
        raise ModelProjectError(
            f"{path}: a model lives in one of {sorted(FOLDER_SCHEMAS)} folders directly under {root}"
        )
    name = path.stem
    if not _NAME.match(name):
        raise ModelProjectError(f"{path}: file name must be a lower-case SQL identifier")
    sql = path.read_text(encoding="utf-8").strip().rstrip(";").strip()
    if ":millesime" not in sql:
        raise ModelProjectError(f"{path}: a model must filter its sources on the bound parameter :millesime")
    return Model(
        path=path,
        folder=rel.parts[0],
        schema=FOLDER_SCHEMAS[rel.parts[0]],
        name=name,
        sql=sql,
        upstream=parse_cache.tables_read("model", sql, lambda text: referenced_tables(text, str(path))),
        dictionary=read_dictionary(path.with_suffix(".yml")),
    )


def load_project(root: Path = PROJECT_DIR) -> list[Model]:
    """Every model under `root`, with its upstream tables validated."""
    models = [load_model(p, root) for p in sorted(root.glob("*/*.sql"))]
    by_table = {m.table: m for m in models}
    for model in models:
        for table in model.upstream:
            if table == model.table:
                raise ModelProjectError(f"{model.path}: a model cannot read its own table {table}")
            if table not in by_table and table not in SOURCE_TABLES:
                raise ModelProjectError(
                    f"{model.path}: reads {table}, which is neither a model in {root} "
                    f"nor a staged source or reference table ({', '.join(sorted(SOURCE_TABLES))})"
                )
    _check_acyclic(models)
    return models


def _check_acyclic(models: list[Model]) -> None:
    by_table = {m.table: m for m in models}
    state: dict[str, int] = {}

    def visit(table: str, chain: list[str]) -> None:
        if state.get(table) == 2:
            return
        if state.get(table) == 1:
            cycle = " → ".join([*chain[chain.index(table):], table])
            raise ModelProjectError(f"{by_table[table].path}: models form a cycle: {cycle}")
        state[table] = 1
        for up in by_table[table].upstream:
            if up in by_table:
                visit(up, [*chain, table])
        state[table] = 2

    for m in models:
        visit(m.table, [])


@cache
def project() -> tuple[Model, ...]:
    return tuple(load_project())


def topological_order(models: tuple[Model, ...] | list[Model]) -> list[Model]:
    """Models ordered so that each comes after the models it reads (stable by table name)."""
    by_table = {m.table: m for m in models}
    done: dict[str, Model] = {}

    def visit(m: Model) -> None:
        if m.table in done:
            return
        for up in m.upstream:
            if up in by_table:
                visit(by_table[up])
        done[m.table] = m

    for m in sorted(models, key=lambda m: m.table):
        visit(m)
    return list(done.values())
