"""The reference layer, read from Python: `dbt_like_sql/reference/<table>.csv` + `<table>.yml`.

The same files are loaded into PostgreSQL schema `ref` (asset module `assets/reference.py`), so a
SQL model joins `ref.<table>` and Python code reads this module: the code lists and parameters of
the rules are written once, in those files. Everything here is pure (no database) and cached.

    reference.table("territoires")                  # typed rows (named tuples), in file order
    reference.parameter("reference_distance_max_m") # an int: typed by its `unite` (m)
    reference.period_bounds()["AVANT_1949"]         # (None, 1948)
    reference.local_srid("974")                     # 2975
    reference.in_france(-63.08, 18.07)              # True: Saint-Martin is covered by the registry

A malformed CSV, or a CSV that does not match its dictionary, raises `ReferenceDataError` naming
the file and the line.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections import namedtuple
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import yaml

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "dbt_like_sql" / "reference"

# PostgreSQL types a reference column may have, and how a CSV cell becomes a Python value.
_TRUE = frozenset({"true", "t", "1"})
_FALSE = frozenset({"false", "f", "0"})


def _boolean(value: str) -> bool:
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ValueError(f"{value!r} is not a boolean (true/false)")


PARSERS: dict[str, Any] = {
    "text": str,
    "integer": int,
    "smallint": int,
    "bigint": int,
    "double precision": float,
    "numeric": float,
    "boolean": _boolean,
    "date": dt.date.fromisoformat,
}


class ReferenceDataError(ValueError):
    """A reference file is malformed or does not match its dictionary; names file and line."""


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    description: str


@dataclass(frozen=True)
class Table:
    """One reference table: its dictionary and its typed rows."""

    name: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    rows: tuple[NamedTuple, ...]
    raw_rows: tuple[tuple[str | None, ...], ...]  # the CSV cells (None for empty), for COPY
    csv_path: Path
    yml_path: Path

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def qualified(self) -> str:
        return f"ref.{self.name}"

    @property
    def content_hash(self) -> str:
        """sha256 of the CSV and its dictionary: changes exactly when the table's content does."""
        h = hashlib.sha256()
        h.update(self.csv_path.read_bytes())
        h.update(b"\0")
        h.update(self.yml_path.read_bytes())
        return h.hexdigest()


def table_names(root: Path = REFERENCE_DIR) -> tuple[str, ...]:
    """Every reference table (a CSV with its yml beside it), sorted."""
    names = []
    for csv_path in sorted(root.glob("*.csv")):
        if not csv_path.with_suffix(".yml").exists():
            raise ReferenceDataError(f"{csv_path}: no dictionary {csv_path.with_suffix('.yml').name} beside it")
        names.append(csv_path.stem)
    return tuple(names)


# libyaml's safe loader when PyYAML was built with it: the same documents, read about 10× faster
# (the dictionaries are read at every code-location load).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_dictionary(path: Path) -> tuple[str, tuple[Column, ...], tuple[str, ...]]:
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}
    except yaml.YAMLError as exc:
        raise ReferenceDataError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(raw, dict) or not raw.get("columns"):
        raise ReferenceDataError(f"{path}: expected a mapping with description, primary_key and columns")
    columns = []
    for i, col in enumerate(raw["columns"], start=1):
        if not isinstance(col, dict) or not col.get("name"):
            raise ReferenceDataError(f"{path}: column entry {i} needs a name")
        data_type = str(col.get("data_type", "")).strip()
        if data_type not in PARSERS:
            raise ReferenceDataError(
                f"{path}: column {col['name']!r}: data_type {data_type!r} is not one of {sorted(PARSERS)}"
            )
        columns.append(Column(str(col["name"]), data_type, str(col.get("description", "")).strip()))
    names = [c.name for c in columns]
    key = tuple(raw.get("primary_key") or ())
    if not key or any(k not in names for k in key):
        raise ReferenceDataError(f"{path}: primary_key {list(key)} must name columns of {names}")
    return str(raw.get("description", "")).strip(), tuple(columns), key


def load_table(name: str, root: Path = REFERENCE_DIR) -> Table:
    """Reads and validates one table (uncached: `table()` and `reference_table()` cache it)."""
    csv_path, yml_path = root / f"{name}.csv", root / f"{name}.yml"
    if not csv_path.exists() or not yml_path.exists():
        raise ReferenceDataError(f"{csv_path}: no reference table {name!r} (known: {', '.join(table_names(root))})")
    description, columns, key = _read_dictionary(yml_path)
    names = [c.name for c in columns]
    Row = namedtuple(name, names)  # noqa: PYI024 - one row type per table, built from the yml
    rows, raw_rows, seen = [], [], {}
    with csv_path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header != names:
            raise ReferenceDataError(
                f"{csv_path}:1: header {header} does not match the columns of {yml_path.name} {names}"
            )
        for cells in reader:
            line = reader.line_num
            if not cells:
                continue
            if len(cells) != len(names):
                raise ReferenceDataError(f"{csv_path}:{line}: {len(cells)} fields, expected {len(names)} ({', '.join(names)})")
            values, raw = [], []
            for col, cell in zip(columns, cells):
                if cell == "":
                    values.append(None)
                    raw.append(None)
                    continue
                try:
                    values.append(PARSERS[col.data_type](cell))
                except ValueError as exc:
                    raise ReferenceDataError(
                        f"{csv_path}:{line}: field {col.name}: {cell!r} is not a valid {col.data_type} ({exc})"
                    ) from exc
                raw.append(cell)
            row = Row(*values)
            pk = tuple(getattr(row, k) for k in key)
            if any(v is None for v in pk):
                raise ReferenceDataError(f"{csv_path}:{line}: primary key {list(key)} must be filled")
            if pk in seen:
                raise ReferenceDataError(f"{csv_path}:{line}: primary key {pk} already on line {seen[pk]}")
            seen[pk] = line
            rows.append(row)
            raw_rows.append(tuple(raw))
    return Table(name, description, columns, key, tuple(rows), tuple(raw_rows), csv_path, yml_path)


@cache
def reference_table(name: str) -> Table:
    """The whole reference table (dictionary + rows), cached."""
    return load_table(name)


def table(name: str) -> list[NamedTuple]:
    """The typed rows of a reference table, in file order."""
    return list(reference_table(name).rows)


# -- parameters ------------------------------------------------------------------------------------

@cache
def _parameters() -> dict[str, Any]:
    t = reference_table("parametres")
    out: dict[str, Any] = {}
    for row, line in zip(t.rows, range(2, 2 + len(t.rows))):
        try:
            out[row.code] = _typed_parameter(row.valeur, row.unite)
        except ValueError as exc:
            raise ReferenceDataError(
                f"{t.csv_path}:{line}: field valeur: {row.valeur!r} is not a valid value in {row.unite!r} ({exc})"
            ) from exc
    return out


def _typed_parameter(value: str, unite: str) -> int | float | dt.date | str:
    if unite == "date":
        return dt.date.fromisoformat(value)
    if unite == "part":
        return float(value)
    if unite in QUANTITY_UNITS:
        number = float(value)
        return int(number) if number.is_integer() and "." not in value else number
    # A unit the code does not know would hand a rule a string where it computes with a number.
    raise ValueError(f"unit {unite!r} is not one of date, part, {', '.join(QUANTITY_UNITS)}")


# Units of `parametres.csv` whose values are quantities: an int when written without a decimal point.
QUANTITY_UNITS = ("m", "ans", "année", "mois", "logements", "lots", "lignes", "décimales", "caractères", "euros",
                  "copropriétés")


def parameter(code: str) -> int | float | dt.date | str:
    """A rule parameter of `parametres.csv`, typed by its unit (date, part → float, quantities → int
    or float); a unit outside `QUANTITY_UNITS`, date and part is a `ReferenceDataError`."""
    params = _parameters()
    if code not in params:
        raise KeyError(f"{reference_table('parametres').csv_path}: no parameter {code!r} (known: {', '.join(params)})")
    return params[code]


# -- helpers the rules use -----------------------------------------------------------------------

def _ordered(name: str) -> list[NamedTuple]:
    return sorted(table(name), key=lambda r: r.ordre)


@cache
def periods() -> tuple[str, ...]:
    """Construction period codes of the registry, in chronological order."""
    return tuple(r.code for r in _ordered("periodes_construction"))


@cache
def period_bounds() -> dict[str, tuple[int | None, int | None]]:
    """Period code → (first year, last year); None for an open bound."""
    return {r.code: (r.annee_min, r.annee_max) for r in _ordered("periodes_construction")}


@cache
def unknown_period_values() -> frozenset[str]:
    """Values the registry writes for an unknown period (read as NULL)."""
    return frozenset(r.valeur for r in table("valeurs_periode_inconnue"))


@cache
def gap_classes() -> tuple[NamedTuple, ...]:
    """Dwelling-gap classes in order (code, libelle, ordre, ecart_exact, part_max, ...)."""
    return tuple(_ordered("classes_ecart_logements"))


def _metropole() -> NamedTuple:
    return next(r for r in table("territoires") if r.code_departement is None)


def territory_of_departement(departement_code: str | None) -> NamedTuple:
    """The territory of a département code: its DROM/COM row (97x, 98x), else metropolitan France."""
    code = (departement_code or "").strip().upper()
    for row in table("territoires"):
        if row.code_departement is not None and code[:3] == row.code_departement:
            return row
    return _metropole()


def local_srid(departement_code: str | None) -> int:
    """Local projection (EPSG) of the FF, BAN and LOVAC geometries of a département."""
    return territory_of_departement(departement_code).srid_local


@cache
def france_boxes() -> dict[str, tuple[float, float, float, float]]:
    """(lon_min, lat_min, lon_max, lat_max) of each territory covered by the registry."""
    return {
        r.code: (r.lon_min, r.lat_min, r.lon_max, r.lat_max)
        for r in table("territoires")
        if r.couvert_registre
    }


def in_france(lon: float, lat: float) -> bool:
    """A WGS84 point falls in the box of a territory covered by the registry."""
    return any(x0 <= lon <= x1 and y0 <= lat <= y1 for x0, y0, x1, y1 in france_boxes().values())


@cache
def _postcode_prefixes() -> tuple[tuple[str, str], ...]:
    return tuple(
        (prefix, r.code_departement)
        for r in table("territoires")
        if r.prefixes_code_postal
        for prefix in r.prefixes_code_postal.split()
    )


@lru_cache(maxsize=16384)  # called once per loaded RNIC row; France has about 6,000 postcodes
def departements_of_postcode(code: str) -> frozenset[str]:
    """Départements or collectivités a postcode can belong to.

    Overseas: every territory one of whose prefixes starts the postcode (97133 → 971 and 977:
    Saint-Barthélemy's postcodes are Guadeloupe's 971xx, and registrations made before 2007 may
    still carry 971). Metropolitan France: the first two digits, Corsica's 20xxx → 2A or 2B.
    """
    overseas = frozenset(dep for prefix, dep in _postcode_prefixes() if code.startswith(prefix))
    if overseas:
        return overseas
    if code.startswith("20"):
        return frozenset({"2A", "2B"})
    return frozenset({code[:2]})
