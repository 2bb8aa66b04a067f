"""The one partitions definition shared by every asset, check, job, schedule and sensor.

A millésime is a year (RNIC export of September N × Fichiers fonciers N). Partitions are dynamic:
a folder appearing in the landing zone is registered by the CLI or the landing sensor, so a new
millésime needs no code change.

A partition key is a millésime only when it is four ASCII digits between the year the registry
opened (`ouverture_registre` in `dbt_like_sql/reference/parametres.csv`) and next year
(`validate_millesime`); the CLI, the schedule and the landing sensor all apply that one rule, and
a key is registered only once its landing folder exists (`register_millesime`).
"""

from __future__ import annotations

import csv
import re
import warnings
from datetime import date
from pathlib import Path

from dagster import DagsterInstance, DynamicPartitionsDefinition, PreviewWarning

millesime_partitions = DynamicPartitionsDefinition(name="millesime")

# Checks carry this partitions definition on purpose (each evaluation then names its millésime):
# Dagster flags `partitions_def` on an AssetCheckSpec as a preview at every
# code load, once per check module. Silenced here, where the shared definition is made, and only
# that notice.
warnings.filterwarnings(
    "ignore", message=r"Specifying a partitions_def on an AssetCheckSpec", category=PreviewWarning
)

# `str.isdigit` accepts "²⁰²⁴", "２０２３" and "٢٠٢٣"; `$` accepts a trailing newline: only this.
_FOUR_ASCII_DIGITS = re.compile(r"[0-9]{4}\Z")
_PARAMETERS_CSV = Path(__file__).resolve().parent.parent / "dbt_like_sql" / "reference" / "parametres.csv"


class InvalidMillesime(ValueError):
    """A partition key that is not a millésime, or whose landing folder is missing."""


def registry_opening_year() -> int:
    """Year the registration registry opened (`ouverture_registre` of the reference parameters)."""
    try:  # the accessor of the reference layer, when present: a date, or its ISO text
        from coproff_platform.reference import parameter  # type: ignore[attr-defined]

        value = parameter("ouverture_registre")
        return int(value.year if hasattr(value, "year") else str(value)[:4])
    except (ImportError, AttributeError, KeyError, TypeError, ValueError):
        with _PARAMETERS_CSV.open(encoding="utf-8", newline="") as f:
            value = next(row["valeur"] for row in csv.DictReader(f) if row["code"] == "ouverture_registre")
        return int(str(value)[:4])


def millesime_range(today: date | None = None) -> tuple[int, int]:
    """First and last acceptable millésime: the registry's opening year to next year."""
    return registry_opening_year(), (today or date.today()).year + 1


def millesime_problem(key: object, today: date | None = None) -> str | None:
    """Why `key` is not a millésime, or None when it is one."""
    text = str(key)
    first, last = millesime_range(today)
    if not _FOUR_ASCII_DIGITS.match(text):
        return (
            f"invalid millésime {text!r}: expected four ASCII digits, a year from {first} to {last} "
            "(no space, sign or other character)"
        )
    if not first <= int(text) <= last:
        return f"millésime {text} out of range: the registry opened in {first}; expected {first} to {last}"
    return None


def is_millesime(key: object, today: date | None = None) -> bool:
    return millesime_problem(key, today) is None


def validate_millesime(key: object, today: date | None = None) -> str:
    """The key itself when it is a millésime; raises InvalidMillesime saying why otherwise."""
    problem = millesime_problem(key, today)
    if problem:
        raise InvalidMillesime(problem)
    return str(key)


def landed_millesimes(landing: Path) -> list[str]:
    """Millésimes present in the landing zone: folders `<landing>/<YYYY>/` whose name is a millésime."""
    if not landing.is_dir():
        return []
    return sorted(p.name for p in landing.iterdir() if p.is_dir() and is_millesime(p.name))


def register_millesime(instance: DagsterInstance, millesime: str | int, landing: Path | None = None) -> bool:
    """Adds the partition if it is new; returns True when it was added.

    The key must be a millésime and, when `landing` is given, its folder `<landing>/<key>/` must
    exist: a typo never becomes a partition.
    """
    key = validate_millesime(millesime)
    if landing is not None and not (landing / key).is_dir():
        raise InvalidMillesime(
            f"millésime {key} has no landing folder {landing / key}: drop its files there "
            f"(or generate a sample: coproff sample --millesime {key})"
        )
    if instance.has_dynamic_partition(millesime_partitions.name, key):
        return False
    instance.add_dynamic_partitions(millesime_partitions.name, [key])
    return True
