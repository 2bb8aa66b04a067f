"""A source read from a restored PostgreSQL schema instead of files (the Fichiers fonciers dumps).

`<landing>/<millesime>/<folder>/source.yml` names the tables, e.g. for `ff/`:

    database_url: postgresql://user@host:5432/ff   # optional: this warehouse when absent
    parcelle: ff_2023.pnb10_parcelle
    tup: ff_2023.tup

The table is streamed with `COPY (select * from <table>) TO STDOUT (format csv, header)` into a
temporary file (bounded memory), then read by the same row path as a landing file: same
normalisers, quarantine and reconciliation. Its "file" is named `pg:<schema>.<table>` and its line
is the row number (1 = first row).
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg
import yaml

from coproff_platform.loading.reader import SourceFileError

CONFIG_FILE = "source.yml"
_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class DatabaseTable:
    """A table of a restored schema, read like a landing file."""

    qualified: str  # schema.table
    database_url: str | None  # libpq or SQLAlchemy URL; None = the warehouse
    config: Path  # the source.yml naming it

    @property
    def display(self) -> str:
        return f"pg:{self.qualified}"

    @property
    def name(self) -> str:
        return self.display


def configured_table(folder: Path, key: str) -> DatabaseTable | None:
    """The table `source.yml` of `folder` names under `key`, if any."""
    config = folder / CONFIG_FILE
    if not config.is_file():
        return None
    try:
        content = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SourceFileError(str(config), f"not valid YAML: {exc}") from None
    value = content.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not _TABLE.match(value):
        raise SourceFileError(str(config), f"field {key}: {value!r} is not a schema.table name")
    return DatabaseTable(value, content.get("database_url"), config)


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL (`postgresql+psycopg://`) as libpq takes it."""
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


def export_csv(table: DatabaseTable, warehouse_url: str, directory: str) -> Path:
    """Streams the table as CSV (header first) into a temporary file of `directory`."""
    url = libpq_url(table.database_url or warehouse_url)
    schema, name = table.qualified.split(".")
    out = Path(tempfile.mkstemp(prefix=f"{schema}.{name}.", suffix=".csv", dir=directory)[1])
    try:
        with psycopg.connect(url) as conn, conn.cursor() as cur, open(out, "wb") as f:
            sql = psycopg.sql.SQL("COPY (select * from {}.{}) TO STDOUT (format csv, header)").format(
                psycopg.sql.Identifier(schema), psycopg.sql.Identifier(name))
            with cur.copy(sql) as copy:
                for chunk in copy:
                    f.write(chunk)
    except psycopg.Error as exc:
        out.unlink(missing_ok=True)
        raise SourceFileError(table.display, f"cannot read the table ({table.config}): "
                                             f"{str(exc).splitlines()[0]}") from None
    return out
