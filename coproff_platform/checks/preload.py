"""Imported once by the executor's forkserver (`concurrency.PRELOAD_MODULES`): every step process
is forked with these already imported. Without them each step re-imported Great Expectations
(several seconds per GX check) and Dagster's storage layer (alembic, SQLAlchemy dialects: about
1.5 s per step on the 2-core machine)."""

import importlib
import multiprocessing
import multiprocessing.util
import os
import threading
import time

from coproff_platform.checks.expectations import _gx

_gx()

for _module in (
    "alembic",
    "dagster._core.storage.sqlite_storage",
    "dagster._core.storage.event_log.sqlite",
    "dagster._core.storage.runs.sqlite",
    "dagster._core.storage.schedules.sqlite",
    "dagster._core.storage.local_compute_log_manager",
    "dagster._core.execution.api",
    "dagster._core.execution.backfill",
    "dagster._core.executor.child_process_executor",
    "coproff_platform.runner",  # the step processes rebuild the job from runner.build_millesime_job
    "upath",
    "dotenv",
    "dagster_postgres",  # deploy/dagster.postgres.yaml
    "sqlalchemy.dialects.postgresql",
    "sqlalchemy.dialects.sqlite",
):
    try:
        importlib.import_module(_module)
    except ImportError:  # an optional storage backend that is not installed
        pass

# The job resolved once (asset graph, resources, config schema): each step process would
# otherwise resolve it again before running its step.
from coproff_platform.runner import build_millesime_job  # noqa: E402

build_millesime_job()


# A step process ends when the run's process is gone (`kill -9` of `coproff materialize`): it is a
# child of the forkserver, which outlives the run while its children hold its pipe, so nothing
# else would stop the step from writing on for a run already dead.
def _watch_run_process(_: object) -> None:
    parent = multiprocessing.parent_process()  # the process that started the step: the run's
    if parent is None or parent.pid is None:
        return

    def watch(pid: int) -> None:
        while True:
            time.sleep(2.0)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(70)
            except PermissionError:
                pass

    threading.Thread(target=watch, args=(parent.pid,), daemon=True, name="coproff-run-watch").start()


class _AfterFork:
    pass


_AFTER_FORK = _AfterFork()  # kept alive: multiprocessing holds after-fork hooks by weak reference
multiprocessing.util.register_after_fork(_AFTER_FORK, _watch_run_process)
