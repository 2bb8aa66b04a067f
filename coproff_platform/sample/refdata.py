"""The reference layer as the generator sees it: periods, gap classes, situations, deadlines, parameters.

Everything is read from `dbt_like_sql/reference/` through `coproff_platform.reference` when that
accessor exists; until it lands, the same CSV files are read here with the types of their `.yml`
dictionaries. Nothing in `sample/` re-types one of these lists.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import namedtuple
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import yaml

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "dbt_like_sql" / "reference"

_PARSERS: dict[str, Any] = {
    "text": str, "integer": int, "smallint": int, "bigint": int, "double precision": float,
    "numeric": float, "boolean": lambda v: v.strip().lower() in {"true", "t", "1"},
    "date": dt.date.fromisoformat,
}


@cache
def table(name: str) -> tuple[NamedTuple, ...]:
    """Typed rows of `ref.<name>`, in file order."""
    try:
        from coproff_platform import reference  # type: ignore[attr-defined]
    except ImportError:
        reference = None
    if reference is not None and hasattr(reference, "table"):
        return tuple(reference.table(name))
    doc = yaml.safe_load((REFERENCE_DIR / f"{name}.yml").read_text(encoding="utf-8"))
    types = {c["name"]: c["data_type"] for c in doc["columns"]}
    with open(REFERENCE_DIR / f"{name}.csv", encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        row_type = namedtuple(name, reader.fieldnames or [])  # type: ignore[misc]
        return tuple(row_type(**{k: (_PARSERS[types.get(k, "text")](v) if v != "" else None)
                                 for k, v in r.items()}) for r in reader)


def parameter(code: str) -> Any:
    """A row of `parametres`, typed by its unit (dates, integers, shares)."""
    for row in table("parametres"):
        if row.code == code:
            if row.unite == "date":
                return dt.date.fromisoformat(row.valeur)
            value = float(row.valeur)
            return int(value) if value.is_integer() and row.unite != "part" else value
    raise KeyError(f"dbt_like_sql/reference/parametres.csv: no parameter {code!r}")


def periods() -> tuple[tuple[str, int | None, int | None], ...]:
    """Construction periods (code, first year, last year), in order; open ends are None."""
    rows = sorted(table("periodes_construction"), key=lambda r: r.ordre)
    return tuple((r.code, r.annee_min, r.annee_max) for r in rows)


def situation_counts() -> dict[str, int]:
    """CoproFF 2023 rows per situation (`rnic_1_1`, `rnic_1_n`, `ff_only`, `rnic_unmatched`)."""
    return {r.code: r.nb_coproff_2023 for r in table("situations")}


def gap_classes() -> tuple[NamedTuple, ...]:
    """Gap classes between FF dwellings and RNIC dwelling lots, with their CoproFF 2023 shares."""
    return tuple(sorted(table("classes_ecart_logements"), key=lambda r: r.ordre))


def registration_deadlines() -> tuple[tuple[int, int | None, dt.date], ...]:
    """ALUR deadlines (lots_min, lots_max, date_limite), biggest copropriétés first."""
    rows = sorted(table("echeances_immatriculation"), key=lambda r: r.ordre)
    return tuple((r.lots_min, r.lots_max, r.date_limite) for r in rows)
