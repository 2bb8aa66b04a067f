"""Configuration read from the environment. No credentials live in code."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/coproff"
DEFAULT_LANDING_DIR = "data/landing"
DEFAULT_TRUTH_DIR = "data/truth"


def database_url() -> str:
    return os.environ.get("COPROFF_DATABASE_URL", DEFAULT_DATABASE_URL)


def landing_dir() -> Path:
    return Path(os.environ.get("COPROFF_LANDING_DIR", DEFAULT_LANDING_DIR))


def truth_dir() -> Path:
    """Ground truth of generated samples. Only evaluation code reads it, never a pipeline asset."""
    return Path(os.environ.get("COPROFF_TRUTH_DIR", DEFAULT_TRUTH_DIR))


def dagster_home() -> Path:
    return Path(os.environ.get("DAGSTER_HOME", ".dagster_home")).resolve()
