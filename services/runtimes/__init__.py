"""The runtimes, which keep the read side in step with the write side: `base` (what both share),
`embedded` (SQLite, fed in-process) and `postgres` (one process leads the projections). The
composition root (services/bootstrap.py) builds them."""
