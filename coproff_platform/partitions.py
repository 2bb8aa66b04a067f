"""The one partitions definition shared by every asset, check, job, schedule and sensor.

A millésime is a year (RNIC export of September N × Fichiers fonciers N). Partitions are dynamic:
a folder appearing in the landing zone is registered by the CLI or the landing sensor, so a new
millésime needs no code change.
"""

from __future__ import annotations

from pathlib import Path

from dagster import DagsterInstance, DynamicPartitionsDefinition

millesime_partitions = DynamicPartitionsDefinition(name="millesime")


def landed_millesimes(landing: Path) -> list[str]:
    """Millésimes present in the landing zone: four-digit folders `<landing>/<YYYY>/`."""
    if not landing.is_dir():
        return []
    return sorted(p.name for p in landing.iterdir() if p.is_dir() and p.name.isdigit() and len(p.name) == 4)


def register_millesime(instance: DagsterInstance, millesime: str | int) -> bool:
    """Adds the partition if it is new; returns True when it was added."""
    key = str(millesime)
    if instance.has_dynamic_partition(millesime_partitions.name, key):
        return False
    instance.add_dynamic_partitions(millesime_partitions.name, [key])
    return True
