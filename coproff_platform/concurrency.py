"""How the steps of one run share the machine: Dagster's multiprocess executor, forkserver start.

Independent steps (the sources, their checks, the indicators, the exports) run side by side, at
most `COPROFF_MAX_CONCURRENT` at once (default 2: one per core of the reference machine; the
PostgreSQL backend of a step uses the other core while Python waits on it). Steps write different
tables; two writers of one table are still serialised by the advisory lock of
`PostGISResource.replace_millesime`.

Each step runs in its own process, forked from a server that has already imported the code
location and Great Expectations: a step starts in a fraction of a second instead of re-importing
Dagster, pandas and GX (several seconds each time). Several runs on one host are bounded by the
instance's run queue (`deploy/*.yaml`), see docs/scaling.md.
"""

from __future__ import annotations

import os

from dagster import ExecutorDefinition, multiprocess_executor

DEFAULT_MAX_CONCURRENT = 2
# Imported once in the forkserver, inherited by every step process.
PRELOAD_MODULES = ["coproff_platform.definitions", "coproff_platform.checks.preload"]


def max_concurrent() -> int:
    raw = os.environ.get("COPROFF_MAX_CONCURRENT", "").strip()
    if not raw:
        return DEFAULT_MAX_CONCURRENT
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"COPROFF_MAX_CONCURRENT={raw!r}: expected a whole number of steps (e.g. 2)") from None
    if value < 1:
        raise ValueError(f"COPROFF_MAX_CONCURRENT={raw!r}: at least 1 step must run")
    return value


def executor_config(limit: int | None = None) -> dict:
    return {
        "max_concurrent": limit or max_concurrent(),
        "start_method": {"forkserver": {"preload_modules": PRELOAD_MODULES}},
    }


def build_executor() -> ExecutorDefinition:
    return multiprocess_executor.configured(executor_config(), name="coproff_multiprocess")


def start_forkserver() -> None:
    """Starts the executor's forkserver now, so that its imports (the code location, GX: tens of
    seconds on a loaded machine) overlap with the parent's own start instead of delaying the
    first step. The executor later finds it running (same preload list)."""
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD_MODULES)
    from multiprocessing import forkserver

    forkserver.ensure_running()
