"""Benchmarks: each module prints figures next to a baseline measured in the same run.

Run one with `python3 dev.py bench <name>` (e.g. `progress`), or all with `python3 dev.py bench all`.
"""
