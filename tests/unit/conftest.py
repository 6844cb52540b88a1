"""Fixtures of the unit tests: an application in memory (no I/O) with the price list published."""

from __future__ import annotations

import pytest

from services.application import ChannelLedger
from tests.builders import memory_app, publish_prices


@pytest.fixture
def app() -> ChannelLedger:
    ledger = memory_app()
    publish_prices(ledger)
    return ledger
