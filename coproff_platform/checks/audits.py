"""Audits: coherence rules evaluated on a freshly built millésime *before* it is swapped in.

Write-audit-publish inside one asset: the SQL model runner builds the new partition table, runs
every audit registered for that asset against it, reports each as a Dagster asset check result
(same partition), and swaps the new version in only when no blocking audit failed. A failed
blocking audit fails the asset, so the previously published millésime stays as it was and
downstream assets do not run.

Register an audit with the decorator:

    @audit("coproff/coproff", blocking=True)
    def idcopro_unique(conn: Connection, table: str, millesime: int) -> AuditResult:
        '''idcopro is unique.'''
        ...

`table` is the schema-qualified table holding only the millésime under audit (not yet published);
other tables are read as usual (e.g. `staging.rnic where millesime = :m`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection

# Modules whose import registers audits. Add yours here.
AUDIT_MODULES = ("coproff_platform.checks.referential", "coproff_platform.registre.checks")


@dataclass(frozen=True)
class AuditResult:
    passed: bool
    metadata: dict[str, Any] = field(default_factory=dict)
    description: str | None = None


AuditFn = Callable[[Connection, str, int], AuditResult]


@dataclass(frozen=True)
class Audit:
    asset: str  # asset key as a user string, e.g. "coproff/coproff"
    name: str
    description: str
    blocking: bool
    fn: AuditFn


_REGISTRY: dict[tuple[str, str], Audit] = {}


def audit(asset: str, *, blocking: bool, name: str | None = None) -> Callable[[AuditFn], AuditFn]:
    def register(fn: AuditFn) -> AuditFn:
        key = (asset, name or fn.__name__)
        _REGISTRY[key] = Audit(asset, key[1], (fn.__doc__ or "").strip(), blocking, fn)
        return fn

    return register


def audits_for(asset: str) -> list[Audit]:
    for module in AUDIT_MODULES:
        importlib.import_module(module)
    return [a for a in _REGISTRY.values() if a.asset == asset]
