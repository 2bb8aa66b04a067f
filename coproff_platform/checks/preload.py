"""Imported once by the executor's forkserver (`concurrency.PRELOAD_MODULES`): every step process
is forked with these already imported. Without them each step re-imported Great Expectations
(several seconds per GX check) and Dagster's storage layer (alembic, SQLAlchemy dialects: about
1.5 s per step on the 2-core machine)."""

import importlib

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
