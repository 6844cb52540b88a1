"""Benchmarks, run on demand with `python -m bench NAME`; each prints its figure next to a raw
baseline measured in the same run, and their ratio."""
