"""Benchmark scripts: each prints the figures recorded in BENCHMARKS.md."""
