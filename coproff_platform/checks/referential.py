"""Coherence rules of the published referential (blocking and warning)."""

REFERENTIAL_CHECKS: list = []
