"""`channel audit simulate`: the cost of a policy change before it is made. History is replayed into a
scratch read model; each closed month is then priced again, as its close would have priced it
(the same query at the close's log position), under the proposed policy, and set against what the
slips actually posted (R5) and the pools were actually allocated (S2).

Corrections (R6) are finance's decisions, not the policy's: they stay out of both columns."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from domain.errors import InvalidInputError
from domain.ids import NATIONAL_POOL
from domain.policy import PolicyBook
from domain.values import Month, Quarter, parse_period
from projections.projection import BATCH
from projections.queries import Reports
from projections.records import from_cents
from services.audit import output
from services.audit.session import Audit
from services.audit.timeline import Cut

ZERO = Decimal("0.00")
PRICED = ("monthly", "quarterly")  # what the policy sets; corrections are left out


@dataclass
class Line:
    """Paid against proposed, for one dealer (or pool), or one dealer's period and kind."""

    key: str
    name: str
    paid: Decimal = ZERO
    proposed: Decimal = ZERO
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def difference(self) -> Decimal:
        return self.proposed - self.paid

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "name": self.name, "paid": self.paid, "proposed": self.proposed,
                "difference": self.difference, **self.detail}


@dataclass
class Simulation:
    cut: Cut
    months: list[str]  # closed and settled months priced
    unsettled: list[str]  # closed months whose slips are not (yet) in the log
    dealers: list[Line]
    periods: list[Line]  # one per dealer, period and kind
    pools: list[Line]
    proposal: list[str]  # the proposal's version ids
    scratch: str = ""

    @property
    def total(self) -> Line:
        return Line("total", "total", sum((d.paid for d in self.dealers), ZERO),
                    sum((d.proposed for d in self.dealers), ZERO))

    @property
    def pools_total(self) -> Line:
        return Line("total", "total", sum((p.paid for p in self.pools), ZERO),
                    sum((p.proposed for p in self.pools), ZERO))

    @property
    def unchanged(self) -> bool:
        return all(x.difference == 0 for x in [*self.periods, *self.pools])

    def as_dict(self) -> dict[str, Any]:
        return {
            "cut": {"position": self.cut.position, "description": self.cut.description},
            "months": self.months, "unsettled": self.unsettled, "proposal": self.proposal,
            "rebates": {"dealers": [d.as_dict() for d in self.dealers],
                        "total": self.total.as_dict(),
                        "periods": [p.as_dict() for p in self.periods]},
            "spare_parts": {"pools": [p.as_dict() for p in self.pools],
                            "total": self.pools_total.as_dict()},
            "scratch": self.scratch or None,
        }


def _months(text: str, field: str) -> list[Month]:
    period = parse_period(text, field)
    return list(period.months) if isinstance(period, Quarter) else [period]


def _month_range(first: str | None, last: str | None) -> tuple[Month | None, Month | None]:
    """The months from the first month of `first` to the last month of `last`."""
    low = _months(first, "from")[0] if first else None
    high = _months(last, "to")[-1] if last else None
    if low is not None and high is not None and high < low:
        raise InvalidInputError("to: the last period comes before the first", field="to")
    return low, high


def simulate(
    audit: Audit,
    proposal: PolicyBook,
    *,
    first: str | None = None,
    last: str | None = None,
    until: int | None = None,
    as_of: str | None = None,
    name: str | None = None,
    keep: bool = False,
    batch_size: int = BATCH,
) -> Simulation:
    low, high = _month_range(first, last)
    cut = audit.cut(until, as_of)
    with audit.rebuilt(cut.position, name=name, keep=keep, batch_size=batch_size,
                       label="simulate") as area:
        actual = Reports(area.view)
        proposed = Reports(area.view, proposal)
        with area.view.reading() as db:
            closes = [(str(r["month"]), int(r["position"]), r["done_position"]) for r in db.all(
                "SELECT c.month, c.position, f.done_position FROM @closes c "
                "LEFT JOIN @followups f ON f.month = c.month ORDER BY c.month")]
            names = {r["dealer_id"]: r["name"] for r in db.all("SELECT dealer_id, name FROM @dealers")}
            allocations = {(r["pool"], r["month"]): from_cents(r["amount_cents"])
                           for r in db.all("SELECT pool, month, amount_cents FROM @allocations")}
        wanted = [(m, p, d) for m, p, d in closes
                  if (low is None or Month.parse(m) >= low) and (high is None or Month.parse(m) <= high)]
        months = [m for m, _, d in wanted if d is not None]
        periods: dict[tuple[str, str, str], Line] = {}
        pools: dict[str, Line] = {}

        def period_line(dealer_id: str, period: str, kind: str) -> Line:
            key = (dealer_id, period, kind)
            if key not in periods:
                periods[key] = Line(dealer_id, names.get(dealer_id, ""),
                                    detail={"period": period, "kind": kind})
            return periods[key]

        for month, position, done in wanted:
            if done is None:
                continue
            parsed = Month.parse(month)
            for slip in actual.slips(period=month):
                for line in slip["lines"]:
                    if line["kind"] in PRICED:
                        period_line(slip["dealer_id"], line["period"], line["kind"]).paid += \
                            Decimal(line["amount"])
            for slip in proposed.closing_slips(parsed, position):
                for line in slip["lines"]:
                    if line["kind"] in PRICED:
                        period_line(slip["dealer_id"], line["period"], line["kind"]).proposed += \
                            Decimal(line["amount"])
            for share in proposed.spare_allocation(parsed, position):
                pool = str(share["pool"])
                entry = pools.setdefault(pool, Line(pool, _pool_name(pool, names)))
                entry.proposed += Decimal(share["amount"])
            for (pool, alloc_month), amount in allocations.items():
                if alloc_month == month:
                    entry = pools.setdefault(pool, Line(pool, _pool_name(pool, names)))
                    entry.paid += amount
        scratch = area.url if keep else ""
    by_dealer: dict[str, Line] = {}
    kinds: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for p in periods.values():
        d = by_dealer.setdefault(p.key, Line(p.key, p.name))
        d.paid += p.paid
        d.proposed += p.proposed
        kinds[p.key][f"{p.detail['kind']}_paid"] += p.paid
        kinds[p.key][f"{p.detail['kind']}_proposed"] += p.proposed
    for key, line in by_dealer.items():
        line.detail = dict(kinds[key])
    return Simulation(
        cut=cut,
        months=months,
        unsettled=[m for m, _, d in wanted if d is None],
        dealers=sorted(by_dealer.values(), key=lambda x: (x.name, x.key)),
        periods=sorted(periods.values(), key=lambda x: (x.name, x.key, x.detail["period"],
                                                         x.detail["kind"])),
        pools=sorted(pools.values(), key=lambda x: (x.key == NATIONAL_POOL, x.name, x.key)),
        proposal=[v.id for v in proposal.versions],
        scratch=scratch,
    )


def _pool_name(pool: str, names: dict[str, str]) -> str:
    return "national pool" if pool == NATIONAL_POOL else names.get(pool, pool)


def simulation_text(s: Simulation) -> str:
    span = f"{s.months[0]}..{s.months[-1]}" if s.months else "none"
    lines = [
        f"Rebates under the proposal (policy versions {', '.join(s.proposal)}) against what the "
        f"slips posted, closed months {span}",
        f"from the log rebuilt up to {s.cut.description}",
    ]
    if s.unsettled:
        lines.append(f"left out: {', '.join(s.unsettled)} (closed, but the slips are not in the "
                     "log yet)")
    rows = [{"dealer": d.name, "monthly paid": d.detail.get("monthly_paid", ZERO),
             "monthly proposed": d.detail.get("monthly_proposed", ZERO),
             "quarterly paid": d.detail.get("quarterly_paid", ZERO),
             "quarterly proposed": d.detail.get("quarterly_proposed", ZERO),
             "paid": d.paid, "proposed": d.proposed, "difference": d.difference}
            for d in s.dealers]
    total = s.total
    rows.append({"dealer": "TOTAL", **{
        column: sum((r[column] for r in rows), ZERO)
        for column in ("monthly paid", "monthly proposed", "quarterly paid", "quarterly proposed")
    }, "paid": total.paid, "proposed": total.proposed, "difference": total.difference})
    lines += ["", output.table(rows, ["dealer", "monthly paid", "monthly proposed",
                                      "quarterly paid", "quarterly proposed", "paid", "proposed",
                                      "difference"])]
    pool_rows = [{"pool": p.name, "allocated": p.paid, "proposed": p.proposed,
                  "difference": p.difference} for p in s.pools]
    pt = s.pools_total
    pool_rows.append({"pool": "TOTAL", "allocated": pt.paid, "proposed": pt.proposed,
                      "difference": pt.difference})
    lines += ["", "Spare-parts allocations (S2):",
              output.table(pool_rows, ["pool", "allocated", "proposed", "difference"])]
    lines.append("\nThe proposal changes nothing that was paid." if s.unchanged else
                 f"\nThe proposal would have paid {total.difference:+} in rebates and "
                 f"{pt.difference:+} in spare-parts budgets.")
    if s.scratch:
        lines.append(f"the rebuilt tables are kept at {s.scratch}")
    return "\n".join(lines)
