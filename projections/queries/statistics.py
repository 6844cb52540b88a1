"""The statistics family's queries (K5, D5): the sales statistics per dealer, salesperson and
region, and the regions flagged for lacking a tier-AA successor."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from domain.values import Tier, parse_period
from projections.queries import common
from projections.queries.common import ZERO, Sums, bounds
from projections.queries.performance import PerformanceQueries
from projections.queries.rebates import RebateQueries

SOLD = ("confirmed", "shipped", "delivered", "paid")  # orders that count (not cancelled/rejected)


class StatisticsQueries(RebateQueries, PerformanceQueries):
    """K5 and D5 over the view: built on the ledger (rebates earned) and the K2/K4 ranking."""

    def d5_flags(self, period: str) -> list[dict[str, Any]]:
        """D5 (not enforced, flagged): regions that have a tier-A dealer at the period's end but no
        tier-AA dealer under agreement that could step up."""
        parsed = parse_period(period)
        last = parsed.last_day.isoformat()
        with self.view.reading() as db:
            dealers = common.dealer_rows(db)
            tiers = common.tiers(db)
        a: dict[str, list[str]] = defaultdict(list)
        aa: dict[str, list[str]] = defaultdict(list)
        for dealer_id, d in dealers.items():
            signed = d["agreement_signed_on"] is not None and d["agreement_signed_on"] <= last
            gone = d["terminated_on"] is not None and d["terminated_on"] <= last
            if not signed or gone:
                continue
            tier = tiers[dealer_id].on(parsed.last_day)
            if tier == Tier.A.value:
                a[d["region"]].append(d["name"])
            elif tier == Tier.AA.value:
                aa[d["region"]].append(d["name"])
        return [
            {
                "region": region,
                "a_dealers": sorted(a[region]),
                "aa_dealers": sorted(aa[region]),
                "flagged": bool(a[region]) and not aa[region],
            }
            for region in sorted(set(a) | set(aa))
        ]

    def statistics(self, period: str) -> dict[str, Any]:
        """K5: per dealer, salesperson and region — orders, net sales, deliveries, returns, rebates
        earned (posted or accrued) and, for salespeople, achievement; with D5 flags per region."""
        parsed = parse_period(period)
        first, last = bounds(parsed)
        with self.view.reading() as db:
            dealers = common.dealer_rows(db)
            tiers = common.tiers(db)
            by_dealer = common.sums(db, "dealer_id", first, last)
            by_region = common.sums(db, "region", first, last)
            orders = db.all(
                f"SELECT dealer_id, salesperson, region FROM @orders WHERE order_date >= ? AND "
                f"order_date <= ? AND status IN ({', '.join('?' for _ in SOLD)})",
                (first, last, *SOLD),
            )
            ledger = self._ledger(db, parsed, None)
        rebates: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for entry in ledger:
            rebates[entry["dealer_id"]] += entry["amount"]
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for o in orders:
            counts[("dealer", o["dealer_id"])] += 1
            counts[("salesperson", o["salesperson"])] += 1
            counts[("region", o["region"])] += 1
        dealer_rows = []
        for dealer_id, d in sorted(dealers.items(), key=lambda kv: (kv[1]["name"], kv[0])):
            s = by_dealer.get(dealer_id, Sums())
            n = counts.get(("dealer", dealer_id), 0)
            if not n and dealer_id not in by_dealer and not rebates.get(dealer_id):
                continue
            dealer_rows.append(
                {
                    "dealer_id": dealer_id,
                    "name": d["name"],
                    "region": d["region"],
                    "tier": tiers[dealer_id].on(parsed.last_day),
                    "orders": n,
                    "net_sales": s.net,
                    "deliveries": s.delivered,
                    "returns": s.returned,
                    "rebates": rebates.get(dealer_id, ZERO),
                }
            )
        people = {r["salesperson"]: r for r in self.salesperson_ranking(str(parsed))}
        sp_rebates: dict[str, Decimal] = defaultdict(lambda: ZERO)
        region_rebates: dict[str, Decimal] = defaultdict(lambda: ZERO)
        region_dealers: dict[str, int] = defaultdict(int)
        for d in dealer_rows:
            region_rebates[d["region"]] += d["rebates"]
            region_dealers[d["region"]] += 1
        with self.view.reading() as db:
            owners = common.owners(db)
            sp_sums = common.sums(db, "salesperson", first, last)
        for dealer_id, amount in rebates.items():
            sp_rebates[owners[dealer_id].on(parsed.last_day)] += amount
        salespeople = [
            {
                "salesperson": sp,
                "region": r["region"],
                "orders": counts.get(("salesperson", sp), 0),
                "net_sales": r["net_sales"],
                "deliveries": sp_sums.get(sp, Sums()).delivered,
                "returns": sp_sums.get(sp, Sums()).returned,
                "rebates": sp_rebates.get(sp, ZERO),
                "quota": r["quota"],
                "achievement": r["achievement"],
                "flags": r["flags"],
            }
            for sp, r in sorted(people.items())
        ]
        flags = {f["region"]: f for f in self.d5_flags(str(parsed))}
        regions = []
        for region in sorted(set(by_region) | set(flags) | set(region_dealers)):
            s = by_region.get(region, Sums())
            regions.append(
                {
                    "region": region,
                    "dealers": region_dealers.get(region, 0),
                    "orders": counts.get(("region", region), 0),
                    "net_sales": s.net,
                    "deliveries": s.delivered,
                    "returns": s.returned,
                    "rebates": region_rebates.get(region, ZERO),
                    "lacks_aa_successor": flags.get(region, {}).get("flagged", False),
                }
            )
        totals = {
            key: sum((r[key] for r in regions), ZERO)
            for key in ("net_sales", "deliveries", "returns", "rebates")
        }
        totals["orders"] = sum(r["orders"] for r in regions)
        return {
            "period": str(parsed),
            "dealers": dealer_rows,
            "salespeople": salespeople,
            "regions": regions,
            "totals": totals,
        }
