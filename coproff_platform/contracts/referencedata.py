"""Reference rows the source contracts read: `dbt_like_sql/reference/<table>.csv`, read once.

The contracts take their code lists and rule parameters from the reference layer, never from
literals. (`coproff_platform.reference` is the typed accessor of the same files.)
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "dbt_like_sql" / "reference"


@functools.cache
def rows(name: str) -> dict[str, dict[str, str]]:
    """Rows of a reference CSV keyed by their first column."""
    with open(REFERENCE_DIR / f"{name}.csv", encoding="utf-8", newline="") as f:
        return {next(iter(r.values())): r for r in csv.DictReader(f)}


def codes(name: str, column: str | None = None) -> list[str]:
    """The first column (or `column`) of a reference table, in file order."""
    return [r[column] for r in rows(name).values()] if column else list(rows(name))


def parameter(code: str) -> str:
    """A rule parameter of `parametres.csv`, as text."""
    return rows("parametres")[code]["valeur"]
