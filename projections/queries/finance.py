"""The seed's tables as finance prints them (附属文件 17–19 and 2): the rebate confirmation slips with
the dealer's answer (返点确认单, R5, R6), the sales performance by dealer and region (销售业绩统计表,
K5) and by salesperson (业务人员销售业绩统计表, K2, K4, K5), and the quarter's rebate brackets with
each dealer's standing (授权营销商的季度返点表, R3, R4). Built on the slips, statistics, rankings and
ledger queries; the domain decides every figure."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from domain.performance import agreed_target, ratio
from domain.values import Month, Quarter, parse_period
from projections.queries import common
from projections.queries.common import ZERO, day_or_none, months_of
from projections.queries.slips import SlipQueries
from projections.queries.statistics import StatisticsQueries

FIGURES = ("orders", "net_sales", "deliveries", "returns", "rebates")


def _form(slip: dict[str, Any], region: str | None) -> dict[str, Any]:
    """A slip as the dealer answers it: confirmed as a whole, or disputed line by line (R6)."""
    disputed: dict[int, tuple[str, dict[str, Any]]] = {}
    for dispute in slip["disputes"]:
        for item in dispute["lines"]:
            disputed.setdefault(item["line"], (item["reason"], dispute))
    confirmed = slip["status"] == "confirmed"
    lines = []
    for line in slip["lines"]:
        reason, dispute = disputed.get(line["line"], (None, None))
        resolution = dispute["resolution"] if dispute else None
        lines.append({
            **{k: line.get(k) for k in ("line", "kind", "period", "tier", "basis", "threshold",
                                         "rate", "amount")},
            "answer": "confirmed" if confirmed else ("disputed" if dispute else None),
            "reason": reason,
            "resolution": dispute["status"] if dispute else None,
            "resolved_on": resolution["resolved_on"] if resolution else None,
            "correction": resolution["amount"] if resolution and resolution["accept"] else None,
            "note": resolution["note"] if resolution else None,
        })
    disputed_on = [d["disputed_on"] for d in slip["disputes"]]
    return {
        "slip_id": slip["slip_id"], "dealer_id": slip["dealer_id"],
        "dealer_name": slip["dealer_name"], "region": region, "month": slip["period"],
        "issued_on": slip["issued_on"], "status": slip["status"],
        "answer": "confirmed" if confirmed else ("disputed" if disputed_on else "awaiting"),
        "answered_on": slip["confirmed_on"] if confirmed else min(disputed_on, default=None),
        "total": slip["total"], "lines": lines,
    }


class FinanceQueries(SlipQueries, StatisticsQueries):
    """Finance's printed tables over the view."""

    def confirmations(self, period: str, dealer_id: str | None = None) -> dict[str, Any]:
        """返点确认单: each slip of the period's months (R5) with the dealer's answer (R6)."""
        parsed = parse_period(period)
        with self.view.reading() as db:
            regions = {k: v["region"] for k, v in common.dealer_rows(db).items()}
        slips = self.slips(dealer_id, str(parsed))
        return {"period": str(parsed),
                "forms": [_form(s, regions.get(s["dealer_id"])) for s in slips]}

    def sales_performance(self, period: str, region: str | None = None) -> dict[str, Any]:
        """销售业绩统计表 (K5): per dealer and per region — orders, net sales, deliveries, returns,
        rebates earned, the agreed target and achievement (net sales ÷ target)."""
        parsed = parse_period(period)
        stats = self.statistics(str(parsed))
        with self.view.reading() as db:
            dealers = common.dealer_rows(db)
            tiers, owners = common.tiers(db), common.owners(db)
        listed = {r["dealer_id"]: r for r in stats["dealers"]}
        rows = []
        for dealer_id, d in sorted(dealers.items(), key=lambda kv: (kv[1]["name"], kv[0])):
            target = agreed_target(
                Decimal(d["monthly_amount"]) if d["monthly_amount"] else None,
                Month.parse(d["start_month"]) if d["start_month"] else None,
                int(d["term_months"]) if d["term_months"] else None,
                day_or_none(d["terminated_on"]), months_of(parsed))
            if dealer_id not in listed and target is None:
                continue  # nothing in the period, and nothing asked of it
            if region and d["region"] != region:
                continue
            found = listed.get(dealer_id) or {
                "dealer_id": dealer_id, "name": d["name"], "region": d["region"],
                "tier": tiers[dealer_id].on(parsed.last_day), **dict.fromkeys(FIGURES, ZERO),
                "orders": 0}
            rows.append({**found, "salesperson": owners[dealer_id].on(parsed.last_day),
                         "target": target,
                         "achievement": ratio(found["net_sales"], target) if target else None})
        by_region: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            by_region[row["region"]].append(row)
        stat_regions = {r["region"]: r for r in stats["regions"]}
        regions = []
        for name in sorted(set(stat_regions) | set(by_region)):
            if region and name != region:
                continue
            r = stat_regions.get(name, {})
            regions.append({
                "region": name, "dealers": len(by_region[name]), "orders": r.get("orders", 0),
                **{k: r.get(k, ZERO) for k in ("net_sales", "deliveries", "returns", "rebates")},
                **self._sum(by_region[name]),
                "lacks_aa_successor": r.get("lacks_aa_successor", False),
            })
        totals = {key: sum((r[key] for r in regions), ZERO) for key in FIGURES}
        totals.update(self._sum(rows))
        totals["orders"] = sum(r["orders"] for r in regions)
        return {"period": str(parsed), "region": region, "dealers": rows, "regions": regions,
                "totals": totals}

    @staticmethod
    def _sum(rows: list[dict[str, Any]]) -> dict[str, Any]:
        """The target of some dealers and their achievement: the net sales of those with a target
        ÷ the sum of their targets."""
        aimed = [r for r in rows if r["target"] is not None]
        target = sum((r["target"] for r in aimed), ZERO) if aimed else None
        net = sum((r["net_sales"] for r in aimed), ZERO)
        return {"target": target, "achievement": ratio(net, target) if target else None}

    def salesperson_performance(self, period: str) -> dict[str, Any]:
        """业务人员销售业绩统计表 (K2, K4, K5): per salesperson — rank, dealers owned at the period's
        end, orders, net sales, deliveries, returns, their dealers' rebates, quota, carried
        shortfall, target, achievement, bonus and flags."""
        parsed = parse_period(period)
        stats = {r["salesperson"]: r for r in self.statistics(str(parsed))["salespeople"]}
        with self.view.reading() as db:
            dealers, owners = common.dealer_rows(db), common.owners(db)
        last, first = parsed.last_day.isoformat(), parsed.first_day.isoformat()
        owned: dict[str, int] = defaultdict(int)
        for dealer_id, d in dealers.items():
            gone = d["terminated_on"] is not None and d["terminated_on"] < first
            if d["registered_on"] <= last and not gone:
                owned[owners[dealer_id].on(parsed.last_day)] += 1
        rows = []
        for r in self.salesperson_ranking(str(parsed)):
            s = stats.get(r["salesperson"], {})
            rows.append({
                "rank": r["rank"], "salesperson": r["salesperson"], "region": r["region"],
                "dealers": owned.get(r["salesperson"], 0),
                **{k: s.get(k, ZERO) for k in FIGURES}, "orders": s.get("orders", 0),
                "net_sales": r["net_sales"],
                **{k: r[k] for k in ("quota", "carried", "target", "reached", "achievement",
                                     "bonus", "flags")},
            })
        totals: dict[str, Any] = {k: sum((r[k] for r in rows), ZERO)
                                  for k in ("net_sales", "deliveries", "returns", "rebates",
                                            "quota", "bonus")}
        totals["orders"] = sum(r["orders"] for r in rows)
        totals["dealers"] = sum(r["dealers"] for r in rows)
        return {"period": str(parsed), "salespeople": rows, "totals": totals}

    def quarterly_rebates(self, period: str) -> dict[str, Any]:
        """授权营销商的季度返点表 (R3, R4): the quarter's brackets of the policy version in force on
        its first day, and each dealer's standing — net sales, the bracket reached, rate, amount
        (accrued or posted), the next bracket and the distance to it. A month names its quarter."""
        parsed = parse_period(period)
        quarter = parsed.quarter if isinstance(parsed, Month) else parsed
        assert isinstance(quarter, Quarter)
        with self.view.reading() as db:
            policy = self._book(db).in_force(quarter.first_day)
            regions = {k: v["region"] for k, v in common.dealer_rows(db).items()}
        brackets = []
        steps: dict[tuple[str, Decimal], int] = {}
        for tier, found in policy.quarterly_rebate.items():
            for number, bracket in enumerate(found, start=1):
                upper = found[number].threshold if number < len(found) else None
                steps[(tier.value, bracket.threshold)] = number
                brackets.append({"tier": tier.value, "bracket": number,
                                 "threshold": bracket.threshold, "upper": upper,
                                 "rate": bracket.rate})
        standing = [
            {**{k: e[k] for k in ("dealer_id", "dealer_name", "tier", "basis", "threshold", "rate",
                                  "amount", "status", "next_threshold", "next_rate", "distance",
                                  "policy_version", "slip_id")},
             "region": regions.get(e["dealer_id"]),
             "bracket": steps.get((e["tier"], e["threshold"])) if e["threshold"] is not None
             else None}
            for e in self.rebates(str(quarter)) if e["kind"] == "quarterly"
        ]
        return {"quarter": str(quarter), "policy_version": policy.id, "brackets": brackets,
                "dealers": standing}
