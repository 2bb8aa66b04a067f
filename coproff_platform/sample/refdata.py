"""The reference layer as the generator sees it: periods, gap classes, situations, deadlines, parameters.

Everything is read from `dbt_like_sql/reference/` through `coproff_platform.reference`; nothing in
`sample/` re-types one of these lists.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from coproff_platform import reference


def table(name: str) -> tuple[NamedTuple, ...]:
    """Typed rows of `ref.<name>`, in file order."""
    return tuple(reference.table(name))


def parameter(code: str) -> Any:
    """A row of `parametres`, typed by its unit (dates, integers, shares)."""
    return reference.parameter(code)


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
