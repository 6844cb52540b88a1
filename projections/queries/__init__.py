"""`Reports`: the read side's queries (docs/architecture.md), one module per rule family composed
into one class. Every method returns plain dicts and lists: money as Decimal, dates as date."""

from __future__ import annotations

from projections.queries.accruals import AccrualQueries
from projections.queries.dealers import DealerQueries
from projections.queries.finance import FinanceQueries
from projections.queries.orders import OrderQueries
from projections.queries.performance import PerformanceQueries
from projections.queries.rebates import RebateQueries
from projections.queries.slips import SlipQueries
from projections.queries.spare_parts import SpareQueries
from projections.queries.statistics import StatisticsQueries

__all__ = ["Reports"]


class Reports(
    # Finance's printed tables build on the slips, statistics, rankings and ledger.
    FinanceQueries,
    AccrualQueries,
    DealerQueries,
    OrderQueries,
    SlipQueries,
    SpareQueries,
    # Statistics (K5, D5) builds on the rebate ledger and the rankings, so it comes before them.
    StatisticsQueries,
    RebateQueries,
    PerformanceQueries,
):
    """Every family's queries over one view: dealers, orders, slips (R5, R6), spare parts (S2, S3),
    statistics (K5, D5), rebates (R2, R3, R4, R5, R6, R7), performance (K1, K2, K3, K4), and finance's
    printed tables (R3, R5, R6, K5).
    `Reports(view, policy)`: `policy` replaces the log's versions, for a what-if only."""
