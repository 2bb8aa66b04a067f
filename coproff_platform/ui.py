"""What every asset shows in the Dagster UI, written once: owner and group naming."""

from __future__ import annotations

from dagster import AssetKey

# One team owns every asset of the code location.
OWNERS = ["team:coproff"]


def group_of(key: AssetKey) -> str:
    """Groups are named after the schema (first part of the key): staging, intermediate, coproff,
    ref, exports, evaluation, ... so that a group holds exactly the keys sharing its prefix."""
    return key.path[0]
