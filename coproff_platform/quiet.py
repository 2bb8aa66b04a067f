"""What the CLI hides unless `--verbose`: library log chatter that buries the one line that matters."""

from __future__ import annotations

import logging
import warnings


def quiet_library_noise() -> None:
    # Dagster's preview/beta notices concern APIs we chose on purpose (checks partitioned by millésime).
    from dagster import BetaWarning, PreviewWarning

    warnings.filterwarnings("ignore", category=PreviewWarning)
    warnings.filterwarnings("ignore", category=BetaWarning)
    # Great Expectations and Dagster's own Python loggers: errors only (their events stay in the run log).
    for name in ("great_expectations", "dagster", "alembic"):
        logging.getLogger(name).setLevel(logging.ERROR)
