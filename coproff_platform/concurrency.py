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
from pathlib import Path

from dagster import ExecutorDefinition, Field, Int, Selector, multi_or_in_process_executor

DEFAULT_MAX_CONCURRENT = 2
# Dagster's executors start the ready steps highest `dagster/priority` first (op tag, default 0).
PRIORITY_TAG = "dagster/priority"
# The critical path of a national build: the FF parcels (the RNIC's post-load control reads them)
# and TUPs, then the RNIC, then the matching and synthesis chain (tup → parcelle → tup_match →
# … → coproff → fragilite → publication → exports). Without priorities the ready steps start in
# name order: the national FF parcels began after DPE and DVF. The reference tables go first:
# about a second each, and every model waits for them (as gap-fillers they ran only once the
# sources were staged, and held intermediate/tup back by two minutes, national build of
# 2026-12-01). The models come before the other sources, which run beside the matching chain on
# the second core; the warn-only GX suites, which nothing waits for, run last. A blocking check
# has its asset's priority: what is downstream waits for it.
STEP_PRIORITIES = {
    "ref": 9,
    "staging/cadastre_parcelle": 8, "staging/ff_parcelle": 8, "staging/ff_tup": 7, "staging/rnic": 6,
    "intermediate": 4, "coproff": 4, "exports": 4,
    "staging": 3,
}
WARN_CHECK_PRIORITY = -1
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


def step_tags(key: str, check: str | None = None) -> dict[str, str]:
    """Op tags of the step that materializes asset `key` ("schema/table"), or of its check `check`
    when that check runs in a step of its own: warn-only checks last, blocking ones with their asset."""
    if check == "warn":
        return {PRIORITY_TAG: str(WARN_CHECK_PRIORITY)}
    priority = STEP_PRIORITIES.get(key, STEP_PRIORITIES.get(key.split("/")[0], 0))
    return {PRIORITY_TAG: str(priority)}


def executor_config(limit: int | None = None) -> dict:
    return {
        "max_concurrent": limit or max_concurrent(),
        "start_method": {"forkserver": {"preload_modules": PRELOAD_MODULES}},
    }


# Same choice as Dagster's default executor: `execution: {config: {in_process: {}}}` in a run's
# config runs it in one process (tiny millésimes, tests); otherwise our multiprocess settings.
RUN_CONFIG_SCHEMA = Field(
    Selector({
        "multiprocess": Field({"max_concurrent": Field(Int, is_required=False)}),
        "in_process": Field({}),
    }),
    default_value={"multiprocess": {}},
)


def _from_run_config(config: dict) -> dict:
    if "in_process" in config:
        return {"in_process": {}}
    limit = config["multiprocess"].get("max_concurrent") or max_concurrent()
    if limit == 1:  # one step at a time gains nothing from a process per step
        return {"in_process": {}}
    return {"multiprocess": executor_config(limit)}


def build_executor() -> ExecutorDefinition:
    return multi_or_in_process_executor.configured(_from_run_config, name="coproff_executor",
                                                   config_schema=RUN_CONFIG_SCHEMA)


_started_with: dict[str, str] | None = None  # environment the running forkserver was started with


def start_forkserver(output: Path | None = None) -> None:
    """Starts the executor's forkserver now, so that its imports (the code location, GX: tens of
    seconds on a loaded machine) overlap with the parent's own start instead of delaying the
    first step; the executor then finds it running (same preload list). Step processes inherit
    the forkserver's environment and output: a server started under another environment (a test
    that changed it) is replaced, and with `output` the steps' console goes to that file (quiet
    CLI) instead of the terminal."""
    global _started_with
    import multiprocessing
    from multiprocessing import forkserver

    server = forkserver._forkserver
    env = dict(os.environ)
    if server._forkserver_pid is not None and _started_with != env:
        server._stop()
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD_MODULES)
    if server._forkserver_pid is not None:
        return
    _started_with = env
    if output is None:
        forkserver.ensure_running()
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    saved = [os.dup(1), os.dup(2)]
    try:
        with open(output, "ab") as f:
            os.dup2(f.fileno(), 1)
            os.dup2(f.fileno(), 2)
            forkserver.ensure_running()
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)
