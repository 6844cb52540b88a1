"""The performance family's queries: the weekly report (K1), the rankings of salespeople (K2 bonus, K4
quota, target, achievement, flags) and of dealers (K3); `domain.performance` decides."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from domain import performance
from domain.values import Month, Tier, Week, money, parse_period
from infra.sql import Db
from projections.queries import common
from projections.queries.common import ZERO, QueryBase, Sums, bounds, day_or_none, months_of
from projections.records import from_cents


def salespeople(db: Db, last_day: date) -> tuple[dict[str, str], dict[str, Month]]:
    """Each salesperson's region (K2, from the dealers they own at `last_day`) and first quota
    month (K4: the month the first of their dealers registered with them, or passed to them)."""
    dealers = common.dealer_rows(db)
    owners = common.owners(db)
    regions: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    first: dict[str, Month] = {}
    for dealer_id, history in owners.items():
        for effective_on, _, salesperson in history.entries:
            month = Month.of(date.fromisoformat(effective_on))
            if salesperson not in first or month < first[salesperson]:
                first[salesperson] = month
        if dealers[dealer_id]["registered_on"] <= last_day.isoformat():
            regions[history.on(last_day)][dealers[dealer_id]["region"]] += 1
    home = {sp: performance.home_region(counts) for sp, counts in regions.items()}
    return home, first


def monthly_net(db: Db, last: Month) -> dict[str, dict[Month, Decimal]]:
    """Net sales (O5) by salesperson (D8) and month, every month up to `last`: a shortfall
    carries until it is made up (K4), so the whole history counts."""
    rows = db.all(
        "SELECT salesperson, SUBSTR(business_date, 1, 7) AS month, SUM(value_cents) AS net "
        "FROM @sales WHERE business_date <= ? GROUP BY salesperson, SUBSTR(business_date, 1, 7)",
        (last.last_day.isoformat(),),
    )
    result: dict[str, dict[Month, Decimal]] = defaultdict(dict)
    for r in rows:
        result[r["salesperson"]][Month.parse(r["month"])] = from_cents(r["net"])
    return result


def daily_net(db: Db, month: Month) -> dict[str, list[tuple[date, Decimal]]]:
    """Each salesperson's net sales by business day of the month, in date order (K2)."""
    rows = db.all(
        "SELECT salesperson, business_date, SUM(value_cents) AS net FROM @sales "
        "WHERE business_date >= ? AND business_date <= ? "
        "GROUP BY salesperson, business_date ORDER BY business_date, salesperson",
        bounds(month),
    )
    result: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
    for r in rows:
        result[r["salesperson"]].append((date.fromisoformat(r["business_date"]), from_cents(r["net"])))
    return result


class PerformanceQueries(QueryBase):
    """K1, K2, K3 and K4 over the view."""

    def dealer_ranking(self, period: str, region: str | None = None) -> list[dict[str, Any]]:
        """K3: dealers by net sales in a month or quarter, overall (with each one's rank in its
        region) or within one region. Industry customers (END) are not dealers and not ranked."""
        parsed = parse_period(period)
        first, last = bounds(parsed)
        with self.view.reading() as db:
            dealers = common.dealer_rows(db)
            tiers, owners = common.tiers(db), common.owners(db)
            sums = common.sums(db, "dealer_id", first, last)
        rows = []
        for dealer_id, d in dealers.items():
            tier = tiers[dealer_id].on(parsed.last_day)
            active = d["registered_on"] <= last and not (d["terminated_on"] and d["terminated_on"] < first)
            if tier == Tier.END.value or not (active or dealer_id in sums):
                continue
            s = sums.get(dealer_id, Sums())
            rows.append(
                {
                    "dealer_id": dealer_id,
                    "name": d["name"],
                    "region": d["region"],
                    "tier": tier,
                    "salesperson": owners[dealer_id].on(parsed.last_day),
                    "net_sales": s.net,
                    "deliveries": s.delivered,
                    "returns": s.returned,
                }
            )
        rows.sort(key=lambda r: (-r["net_sales"], r["name"], r["dealer_id"]))
        by_region: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            by_region[r["region"]].append(r)
        for members in by_region.values():
            for position, r in performance.rank(members, lambda r: r["net_sales"]):
                r["region_rank"] = position
        if region:
            rows = by_region.get(region, [])
            return [{"rank": r["region_rank"], **r} for r in rows]
        return [{"rank": position, **r} for position, r in performance.rank(rows, lambda r: r["net_sales"])]

    def salesperson_ranking(self, period: str) -> list[dict[str, Any]]:
        """K2/K4: salespeople by net sales, with quota, target (quota plus the unmet target carried
        in), achievement over the last three quota months, the flags decided in the period and,
        for a month, the first salesperson of each region to reach the month's target marked for
        the bonus. The facts are gathered here; `domain.performance` decides."""
        parsed = parse_period(period)
        months = months_of(parsed)
        last = months[-1]
        with self.view.reading() as db:
            book = self._book(db)
            home, first = salespeople(db, last.last_day)
            net = monthly_net(db, last)
            period_sales = common.sums(db, "salesperson", *bounds(parsed))
            daily = daily_net(db, last) if isinstance(parsed, Month) else {}
        bonus = money(book.in_force(last.first_day).bonus)
        rows: list[dict[str, Any]] = []
        crossings: list[performance.Crossing] = []
        for sp in set(home) | set(period_sales):
            standing = performance.standing(months, first.get(sp, months[0]), net.get(sp, {}), book)
            region = home.get(sp, "")
            on_quota = on_target = None
            if isinstance(parsed, Month):
                days = daily.get(sp, [])
                on_quota = performance.reached_on(days, standing.quota)
                on_target = performance.crossing(sp, region, days, standing.target)
                if on_target is not None:
                    crossings.append(on_target)
            rows.append(
                {
                    "salesperson": sp,
                    "region": region,
                    "net_sales": standing.net_sales,
                    "quota": standing.quota,
                    "carried": standing.carried,
                    "target": standing.target,
                    "reached": standing.reached,
                    "achievement": standing.achievement,
                    "flags": [flag.value for flag in standing.flags],
                    "bonus": ZERO,
                    "bonus_candidate": False,
                    "reached_quota_on": on_quota[0] if on_quota else None,
                    "reached_target_on": on_target.on if on_target else None,
                }
            )
        winners = set(performance.bonus_winners(crossings).values())
        for row in rows:
            if row["salesperson"] in winners:
                row["bonus"] = bonus
                row["bonus_candidate"] = True
        rows.sort(key=lambda r: (-r["net_sales"], r["salesperson"]))
        return [{"rank": position, **r} for position, r in performance.rank(rows, lambda r: r["net_sales"])]

    def weekly(self, salesperson: str, week: str) -> dict[str, Any]:
        """K1: the salesperson's week — net sales (per dealer), channel progress and the forecasts
        of the dealers they own."""
        parsed = Week.parse(week)
        first, last = bounds(parsed)
        month = Month.of(parsed.last_day)
        book = self.policy()
        horizon = book.in_force(parsed.first_day).forecast_months
        months = [str(month.plus(k)) for k in range(horizon)]
        with self.view.reading() as db:
            dealers = common.dealer_rows(db)
            owners = common.owners(db)
            sums = common.sums(db, "dealer_id", first, last, salesperson=salesperson)
            month_sums = common.sums(
                db, "salesperson", month.first_day.isoformat(), last, salesperson=salesperson
            )
            progress = db.all(
                "SELECT * FROM @progress WHERE salesperson = ? AND on_date >= ? AND on_date <= ? "
                "ORDER BY on_date, position",
                (salesperson, first, last),
            )
            forecasts = db.all(
                f"SELECT * FROM @forecasts WHERE month IN ({', '.join('?' for _ in months)}) "
                "ORDER BY month, dealer_id",
                months,
            )
        own = {k for k, h in owners.items() if h.on(parsed.last_day) == salesperson}
        steps: dict[str, list[dict[str, Any]]] = {
            "registration": [],
            "draft_agreement": [],
            "formal_agreement": [],
            "first_order": [],
        }
        for p in progress:
            steps[p["kind"]].append(
                {
                    "dealer_id": p["dealer_id"],
                    "name": dealers[p["dealer_id"]]["name"],
                    "on": day_or_none(p["on_date"]),
                }
            )
        by_dealer = sorted(
            (
                {
                    "dealer_id": k,
                    "name": dealers[k]["name"],
                    "net_sales": s.net,
                    "deliveries": s.delivered,
                    "returns": s.returned,
                }
                for k, s in sums.items()
            ),
            key=lambda r: (-r["net_sales"], r["name"]),
        )
        total = sum((s.net for s in sums.values()), ZERO)
        return {
            "salesperson": salesperson,
            "week": str(parsed),
            "from": parsed.first_day,
            "to": parsed.last_day,
            "net_sales": total,
            "deliveries": sum((s.delivered for s in sums.values()), ZERO),
            "returns": sum((s.returned for s in sums.values()), ZERO),
            "by_dealer": by_dealer,
            "month_to_date": month_sums.get(salesperson, Sums()).net,
            "quota": performance.quota(month, book),
            "progress": {k: {"count": len(v), "dealers": v} for k, v in steps.items()},
            "forecasts": [
                {
                    "dealer_id": f["dealer_id"],
                    "name": dealers[f["dealer_id"]]["name"],
                    "month": f["month"],
                    "amount": Decimal(f["amount"]),
                }
                for f in forecasts
                if f["dealer_id"] in own
            ],
            "dealers": sorted(dealers[k]["name"] for k in own),
        }
