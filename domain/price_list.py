"""The unified price list (P1): versions by effective-from date, each with list, floor and tier
prices per SKU; a version is refused unless the tier prices keep their distance (P2)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidInputError, RuleViolationError
from domain.ids import PRICE_LIST_ID
from domain.values import Tier, money

PRICED_TIERS = (Tier.A, Tier.AA, Tier.SI, Tier.END)


@dataclass(frozen=True)
class PriceItem:
    sku: str
    name: str
    list_price: Decimal
    floor_price: Decimal
    tier_prices: Mapping[str, Decimal]

    def tier_price(self, tier: Tier) -> Decimal:
        return self.tier_prices[tier.value]


@dataclass(frozen=True)
class PriceListVersion:
    number: int
    effective_from: date
    policy_version: str
    items: Mapping[str, PriceItem]


def price_items(
    items: list[dict[str, Any]], discounts: Mapping[Tier, Decimal]
) -> list[dict[str, Any]]:
    """Check P2 for every SKU and compute its tier prices; returns the event's item records."""
    if not items:
        raise InvalidInputError("items: a price list needs at least one item", field="items")
    seen: set[str] = set()
    records = []
    for index, item in enumerate(items):
        sku = str(item["sku"]).strip()
        if not sku:
            raise InvalidInputError(f"items[{index}].sku: must not be empty", field="items")
        if sku in seen:
            raise InvalidInputError(f"items[{index}].sku: {sku} appears twice", field="items")
        seen.add(sku)
        list_price, floor = money(item["list_price"]), money(item["floor_price"])
        if list_price <= 0 or floor <= 0:
            raise InvalidInputError(
                f"items[{index}]: prices must be positive ({sku})", field="items"
            )
        tiers = {t.value: money(list_price * (1 - discounts.get(t, Decimal(0)))) for t in PRICED_TIERS}
        a, aa, si = tiers["A"], tiers["AA"], tiers["SI"]
        if not (floor <= a < aa < si <= list_price):
            raise RuleViolationError(
                "P2",
                f"{sku}: prices must keep their distance, floor ≤ A < AA < SI ≤ list; "
                f"got floor {floor}, A {a}, AA {aa}, SI {si}, list {list_price}",
                field="items",
            )
        records.append(
            {
                "sku": sku,
                "name": str(item.get("name", "")),
                "list_price": list_price,
                "floor_price": floor,
                "tier_prices": tiers,
            }
        )
    return records


class PriceList(Aggregate):
    @staticmethod
    def create_id() -> UUID:
        return PRICE_LIST_ID

    @event("Opened")
    def __init__(self) -> None:
        self.versions: list[PriceListVersion] = []

    def publish(
        self,
        effective_from: date,
        items: list[dict[str, Any]],
        discounts: Mapping[Tier, Decimal],
        policy_version: str,
    ) -> int:
        records = price_items(items, discounts)
        number = len(self.versions) + 1
        self._publish(
            number=number,
            effective_from=effective_from,
            policy_version=policy_version,
            items=records,
        )
        return number

    @event("VersionPublished")
    def _publish(
        self, number: int, effective_from: date, policy_version: str, items: list[dict[str, Any]]
    ) -> None:
        version = PriceListVersion(
            number=number,
            effective_from=effective_from,
            policy_version=policy_version,
            items={
                r["sku"]: PriceItem(
                    sku=r["sku"],
                    name=r["name"],
                    list_price=r["list_price"],
                    floor_price=r["floor_price"],
                    tier_prices=dict(r["tier_prices"]),
                )
                for r in items
            },
        )
        # A later publication for the same day supersedes the earlier one (P1: every change
        # is an event); orders keep the prices they were confirmed at.
        self.versions = [v for v in self.versions if v.effective_from != effective_from]
        self.versions.append(version)
        self.versions.sort(key=lambda v: v.effective_from)

    def version_on(self, day: date) -> PriceListVersion | None:
        """P4: the version in force on a day."""
        index = bisect_right([v.effective_from for v in self.versions], day) - 1
        return self.versions[index] if index >= 0 else None
