"""Thresholds of the warning checks, read from the environment.

Defaults are the documented national CoproFF figures (millésime 2023): 67% of registered
copropriétés matched 1-1 show no gap or a one-dwelling gap between FF dwellings and RNIC dwelling
lots (48% + 19%), and ~70% have an FF construction year within the RNIC period widened by 4 years.
A territory or a sample legitimately differs a little, hence the tolerance: a warning is raised
when the observed share is below `minimum - tolerance`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


def _fraction(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw.strip().rstrip("%"))
    except ValueError as exc:
        raise ValueError(f"{name}={raw!r}: expected a fraction (0.67) or a percentage (67%)") from exc
    # "67" and "67%" both mean 67 %; "0.67" is already a fraction.
    return value / 100 if value > 1 else value


@dataclass(frozen=True)
class Thresholds:
    gap_share_min: float  # share of "Aucun écart" + "Ecart de 1 logement" among filled rows
    coherence_rate_min: float  # coherent / (coherent + incoherent)
    tolerance: float  # subtracted from both minima
    max_change: float  # relative change of a count vs the previous millésime
    max_change_min_rows: int  # changes on smaller counts are not judged (noise)

    @classmethod
    def from_env(cls) -> "Thresholds":
        return cls(
            gap_share_min=_fraction("COPROFF_GAP_SHARE_MIN", 0.67),
            coherence_rate_min=_fraction("COPROFF_COHERENCE_RATE_MIN", 0.70),
            tolerance=_fraction("COPROFF_THRESHOLD_TOLERANCE", 0.05),
            max_change=_fraction("COPROFF_MAX_CHANGE", 0.20),
            max_change_min_rows=int(os.environ.get("COPROFF_MAX_CHANGE_MIN_ROWS", "50")),
        )
