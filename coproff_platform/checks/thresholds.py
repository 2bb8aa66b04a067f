"""Thresholds of the audits: a row of `ref.parametres`, which an environment variable may override.

An audit declares in its header the `ref.parametres` codes it reads (`threshold:`) and reads them
in SQL from `ref.parametres`, so the file runs as is on the published tables. When the documented
environment variable of one of those codes is set, the runner shows the audit an overlay of
`ref.parametres` where that code has the variable's value (`overlay_sql`); nothing else changes.

The defaults are the documented national CoproFF figures (millésime 2023; `docs/audits.md`): a
territory or a sample legitimately differs a little, hence `tolerance_seuils`, subtracted from
both minima by the audits that use it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from coproff_platform import reference

# The environment variable that overrides a parameter (each is named in the parameter's description).
ENVIRONMENT: dict[str, str] = {
    "part_ecart_faible_min": "COPROFF_GAP_SHARE_MIN",
    "taux_coherence_construction_min": "COPROFF_COHERENCE_RATE_MIN",
    "tolerance_seuils": "COPROFF_THRESHOLD_TOLERANCE",
    "variation_max": "COPROFF_MAX_CHANGE",
    "variation_effectif_min": "COPROFF_MAX_CHANGE_MIN_ROWS",
}


def units() -> dict[str, str]:
    """Code → unit of every parameter of the reference layer (`dbt_like_sql/reference/parametres.csv`)."""
    return {row.code: row.unite for row in reference.table("parametres")}


def _fraction(name: str, raw: str) -> str:
    try:
        value = float(raw.strip().rstrip("%"))
    except ValueError as exc:
        raise ValueError(f"{name}={raw!r}: expected a fraction (0.67) or a percentage (67%)") from exc
    # "67" and "67%" both mean 67 %; "0.67" is already a fraction.
    return repr(value / 100 if value > 1 or raw.strip().endswith("%") else value)


def _count(name: str, raw: str) -> str:
    try:
        return str(int(raw.strip()))
    except ValueError as exc:
        raise ValueError(f"{name}={raw!r}: expected a whole number") from exc


@dataclass(frozen=True)
class Override:
    code: str
    variable: str
    value: str  # as ref.parametres stores it (text)


def overrides(codes: tuple[str, ...] | list[str]) -> list[Override]:
    """The overrides set in the environment for `codes`; a malformed value names its variable."""
    found = []
    for code in codes:
        variable = ENVIRONMENT.get(code)
        raw = os.environ.get(variable, "") if variable else ""
        if not raw.strip():
            continue
        value = _fraction(variable, raw) if units()[code] == "part" else _count(variable, raw)
        found.append(Override(code, variable, value))
    return found


def overlay_sql(columns: list[str], found: list[Override]) -> exp.Subquery:
    """`(select ... from ref.parametres)` with `valeur` replaced for the overridden codes."""
    case = exp.Case(default=exp.column("valeur"))
    for o in found:
        case = case.when(exp.EQ(this=exp.column("code"), expression=exp.Literal.string(o.code)),
                         exp.Literal.string(o.value))
    projections = [exp.alias_(case, "valeur") if c == "valeur" else exp.column(c) for c in columns]
    query = sqlglot.select(*projections).from_(exp.table_("parametres", db="ref"))
    return query.subquery()
