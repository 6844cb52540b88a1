"""The HTTP intake of Channel Ledger (DESIGN.md's HTTP contract): Flask + flask-smorest, served by
gunicorn."""

from __future__ import annotations

from services.http.app import create_app

__all__ = ["create_app"]
