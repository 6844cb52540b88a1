"""Price commands (P1, P2): publishing a price-list version, in parts when it is large, and the
version in force on a day (P4)."""

from __future__ import annotations

from datetime import date
from typing import Any

from domain import limits
from domain.errors import InvalidInputError
from domain.price_list import PriceListVersion, price_items, publication_id
from services.commands.base import Done, LedgerBase, command


class PriceCommands(LedgerBase):
    def price_list_on(self, day: date) -> PriceListVersion | None:
        return self.read_price_list().version_on(day)

    @command
    def publish_price_list(
        self, effective_from: date, items: list[dict[str, Any]]
    ) -> Done[PriceListVersion]:
        """P1/P2: a new version. One of more than `limits.PRICE_ITEMS_PER_EVENT` items is recorded
        part by part, a save each, and is in force only once its last part is recorded; a retry
        after a conflict records only the parts still missing."""
        if not isinstance(items, list) or len(items) > limits.MAX_PRICE_ITEMS:
            raise InvalidInputError(
                f"items: a price-list version holds at most {limits.MAX_PRICE_ITEMS} items",
                field="items",
            )
        policy = self.policy.in_force(effective_from)
        parsed = [
            {
                "sku": item.get("sku", ""),
                "name": item.get("name", ""),
                "list_price": limits.to_money(
                    item.get("list_price"), f"items[{i}].list_price", signed=True
                ),
                "floor_price": limits.to_money(
                    item.get("floor_price"), f"items[{i}].floor_price", signed=True
                ),
            }
            for i, item in enumerate(items)
        ]
        records = price_items(parsed, policy.discounts, policy.max_list_price)
        size = limits.PRICE_ITEMS_PER_EVENT
        parts = [records[i:i + size] for i in range(0, len(records), size)]
        price_list = self.get_price_list()
        if len(parts) == 1:
            price_list.publish(effective_from, records, policy.id)
        else:
            publication = publication_id(effective_from, policy.id, records)
            for number, part in enumerate(parts[:-1]):
                if price_list.stage(publication, number, part):
                    self._save(price_list)
            price_list.publish_staged(
                effective_from, publication, len(parts) - 1, parts[-1], policy.id
            )
        position = self._save(price_list)
        version = price_list.version_on(effective_from)
        assert version is not None
        return Done(version, position, created=True)
