"""The unified price list (P1): versions by effective-from date, each with list, floor and tier
prices per SKU; a version is refused unless the tier prices keep their distance (P2)."""

from __future__ import annotations

import hashlib
import json
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
from domain.limits import MAX_PRICE_ITEMS, PRICE_ITEMS_PER_EVENT
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
    items: list[dict[str, Any]], discounts: Mapping[Tier, Decimal], max_list_price: Decimal
) -> list[dict[str, Any]]:
    """Check P2 for every SKU and compute its tier prices; returns the event's item records.
    O1: at most `limits.MAX_PRICE_ITEMS` items, no list price above the policy's bound."""
    if not items:
        raise InvalidInputError("items: a price list needs at least one item", field="items")
    if len(items) > MAX_PRICE_ITEMS:
        raise InvalidInputError(
            f"items: a price-list version holds at most {MAX_PRICE_ITEMS} items", field="items"
        )
    seen: set[str] = set()
    records = []
    for index, item in enumerate(items):
        sku = str(item["sku"]).strip()
        if not sku:
            raise InvalidInputError(f"items[{index}].sku: must not be empty", field="items")
        if sku in seen:  # P1: one list price and one floor per SKU in a version
            raise RuleViolationError(
                "P1", f"items[{index}].sku: {sku} appears twice", field=f"items[{index}].sku"
            )
        seen.add(sku)
        if item["list_price"] > max_list_price:
            where = f"items[{index}].list_price"
            raise RuleViolationError(
                "O1", f"{where}: {item['list_price']} for {sku} is above the highest list price "
                f"{max_list_price}", field=where,
            )
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


def publication_id(effective_from: date, policy_version: str, records: list[dict[str, Any]]) -> str:
    """Names a publication by what it publishes, so that a retried publication finds the parts it
    recorded before and records only the rest."""
    content = json.dumps(
        [str(effective_from), policy_version, records], default=str, sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(content.encode()).hexdigest()


class PriceList(Aggregate):
    """P1: the versions. A version of more than `PRICE_ITEMS_PER_EVENT` items is recorded in
    parts: `ItemsStaged` events (each saved on its own, so that no event and no save outgrows a
    Kafka message or PostgreSQL's pipeline), then `StagedVersionPublished` with the last part,
    which puts the version in force; until then the staged items price nothing."""

    @staticmethod
    def create_id() -> UUID:
        return PRICE_LIST_ID

    @event("Opened")
    def __init__(self) -> None:
        self.versions: list[PriceListVersion] = []
        self.staged: dict[str, list[list[dict[str, Any]]]] = {}

    def publish(self, effective_from: date, records: list[dict[str, Any]], policy_version: str) -> int:
        """A version of at most `PRICE_ITEMS_PER_EVENT` items (checked by `price_items`), in one
        event; returns its number."""
        assert len(records) <= PRICE_ITEMS_PER_EVENT, "a larger version is recorded in parts"
        number = len(self.versions) + 1
        self._publish(
            number=number,
            effective_from=effective_from,
            policy_version=policy_version,
            items=records,
        )
        return number

    def stage(self, publication: str, part: int, items: list[dict[str, Any]]) -> bool:
        """Record one part of a large version (not yet in force); a part staged already (the
        publication is being retried) is not recorded again. Returns whether it was recorded."""
        staged = self.staged.get(publication, [])
        if part < len(staged):
            return False
        assert part == len(staged), "parts are staged in order"
        self._stage(publication=publication, part=part, items=items)
        return True

    def publish_staged(
        self, effective_from: date, publication: str, parts: int, items: list[dict[str, Any]],
        policy_version: str,
    ) -> int:
        """Put a large version in force: its staged parts and the last part `items`."""
        assert len(self.staged.get(publication, [])) == parts, "stage every part first"
        number = len(self.versions) + 1
        self._publish_staged(
            number=number,
            effective_from=effective_from,
            policy_version=policy_version,
            publication=publication,
            parts=parts,
            items=items,
        )
        return number

    @event("VersionPublished")
    def _publish(
        self, number: int, effective_from: date, policy_version: str, items: list[dict[str, Any]]
    ) -> None:
        self._install(number, effective_from, policy_version, items)

    @event("ItemsStaged")
    def _stage(self, publication: str, part: int, items: list[dict[str, Any]]) -> None:
        self.staged.setdefault(publication, []).append(items)

    @event("StagedVersionPublished")
    def _publish_staged(
        self, number: int, effective_from: date, policy_version: str, publication: str,
        parts: int, items: list[dict[str, Any]],
    ) -> None:
        staged = self.staged.pop(publication, [])
        records = [record for part in staged[:parts] for record in part] + list(items)
        self._install(number, effective_from, policy_version, records)

    def _install(
        self, number: int, effective_from: date, policy_version: str, records: list[dict[str, Any]]
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
                for r in records
            },
        )
        # A later publication for the same day supersedes the earlier one (P1: every change
        # is an event); orders keep the prices they were confirmed at.
        # Built whole, then assigned: a reader sharing a cached price list never sees it halfway.
        kept = [v for v in self.versions if v.effective_from != effective_from]
        self.versions = sorted([*kept, version], key=lambda v: v.effective_from)

    def version_on(self, day: date) -> PriceListVersion | None:
        """P4: the version in force on a day."""
        index = bisect_right([v.effective_from for v in self.versions], day) - 1
        return self.versions[index] if index >= 0 else None
