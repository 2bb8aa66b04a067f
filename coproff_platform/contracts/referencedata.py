"""Reference rows the source contracts read, through `coproff_platform.reference` (the typed
accessor of `dbt_like_sql/reference/<table>.csv`): code lists and rule parameters, never literals.
"""

from __future__ import annotations

from typing import Any

from coproff_platform import reference


def rows(name: str) -> dict[Any, dict[str, Any]]:
    """Rows of a reference table keyed by their first column, as dicts."""
    out: dict[Any, dict[str, Any]] = {}
    for row in reference.table(name):
        values = row._asdict()
        out[next(iter(values.values()))] = values
    return out


def codes(name: str, column: str | None = None) -> list[Any]:
    """The first column (or `column`) of a reference table, in file order."""
    return [getattr(r, column) if column else r[0] for r in reference.table(name)]


def parameter(code: str) -> Any:
    """A rule parameter of `parametres.csv`, typed by its unit."""
    return reference.parameter(code)
