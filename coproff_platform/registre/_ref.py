"""Rows of the reference layer (`dbt_like_sql/reference/*.csv`) read by the registry's controls.

The reference accessor of the platform (`coproff_platform.reference`) is being written in parallel;
until it lands, this reads the same CSV files with the same calls (`table`, `parameter`), so the
controls never re-type a code list or a threshold. At merge, these two functions delegate to it.
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "dbt_like_sql" / "reference"


@functools.cache
def table(name: str) -> tuple[dict[str, str], ...]:
    with (REFERENCE_DIR / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return tuple(csv.DictReader(f))


@functools.cache
def parameter(code: str) -> float | str:
    """A row of `parametres.csv`: a number when it reads as one, else the text (dates)."""
    for row in table("parametres"):
        if row["code"] == code:
            try:
                return float(row["valeur"])
            except ValueError:
                return row["valeur"]
    raise KeyError(f"parameter {code!r} is not in {REFERENCE_DIR / 'parametres.csv'}")
