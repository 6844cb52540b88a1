"""Deterministic aggregate ids: the same business key always names the same aggregate, which makes
commands idempotent (O1, S2) and singletons (roster, price list, calendar) addressable."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5


def named_id(*parts: object) -> UUID:
    return uuid5(NAMESPACE_URL, "channel-ledger:/" + "/".join(str(p) for p in parts))


ROSTER_ID = named_id("roster")
PRICE_LIST_ID = named_id("price-list")
CALENDAR_ID = named_id("calendar")
POLICY_ID = named_id("policy")
NATIONAL_POOL = "national"
