"""`Reports`: the read side's queries (docs/architecture.md), one module per rule family composed
into one class. Every method returns plain dicts and lists: money as Decimal, dates as date."""

from __future__ import annotations

from projections.queries.dealers import DealerQueries
from projections.queries.orders import OrderQueries
from projections.queries.slips import SlipQueries
from projections.queries.spare_parts import SpareQueries
from projections.queries.statistics import StatisticsQueries

__all__ = ["Reports"]


class Reports(DealerQueries, OrderQueries, SlipQueries, SpareQueries, StatisticsQueries):
    """Every family's queries over one view: dealers, orders, rebates (R1–R7, via statistics),
    slips (R5/R6), spare parts (S2/S3), performance (K1–K4, via statistics), statistics (K5, D5).
    `Reports(view, policy)`: `policy` replaces the log's versions for a what-if only."""
