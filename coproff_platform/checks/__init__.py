"""Asset checks: the coherence rules of CoproFF and the data contracts of the sources."""

ALL_CHECKS: list = []
