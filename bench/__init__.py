"""`make bench`: every benchmark on the running system, one report with charts.

Run from the repository root: `.venv/bin/python -m bench [--quick]` (see bench/README.md).
"""
