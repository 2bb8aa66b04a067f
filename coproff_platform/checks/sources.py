"""Checks on the staged sources: row-count reconciliation and Great Expectations suites."""

SOURCE_CHECKS: list = []
