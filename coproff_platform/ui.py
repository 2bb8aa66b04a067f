"""What every asset shows in the Dagster UI, written once: owner and group naming."""

from __future__ import annotations

import re

from dagster import AssetKey

# One team owns every asset of the code location.
OWNERS = ["team:coproff"]


def group_of(key: AssetKey) -> str:
    """Groups are named after the schema (first part of the key): staging, intermediate, coproff,
    ref, exports, evaluation, ... so that a group holds exactly the keys sharing its prefix."""
    return key.path[0]


# A millésime's partition (`coproff.coproff_m2023`) or the table a build fills (`..._m2023_new`).
_INTERNAL_TABLE = re.compile(r"\b(\w+)_m(\d{4})(?:_new)?\b")


def public_names(text: str) -> str:
    """Internal table names in a message (a database error, say) replaced by the public relation
    and its millésime: `coproff.coproff_m2023_new` → `coproff.coproff (millésime 2023)`."""
    return _INTERNAL_TABLE.sub(lambda m: f"{m.group(1)} (millésime {m.group(2)})", text)
