"""Benchmarks, each runnable as ``python -m benchmarks <name>`` (see benchmarks/__main__.py)."""
