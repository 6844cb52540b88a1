"""End to end on a real broker and PostgreSQL: commands → store → relay → Kafka (3 partitions) →
two consumers of one group → reporting tables equal, row for row, to the in-process projection."""

from __future__ import annotations

import pytest

from domain.values import Month
from tests.integration.kafka_scenario import (
    Deployment,
    reporting_tables,
    scenario,
    wait_for,
)

pytestmark = pytest.mark.usefixtures("small_pools")




def test_two_consumers_of_one_group_build_the_reporting_tables_row_for_row_as_in_process(
    deployment: Deployment,
) -> None:
    business = scenario(deployment.store_url)
    try:
        business.start(dealers=6)
        relay = deployment.start("relay", name="relay")
        first = deployment.start("consume", name="consumer-1")
        second = deployment.start("consume", name="consumer-2")
        business.month(Month(2026, 1), orders=2, close=True)
        business.month(Month(2026, 2), orders=1, close=True)
        head = business.head
        expected = business.in_process_tables()
    finally:
        business.runtime.close()
    wait_for(lambda: deployment.relay_position() >= head, "the relay publishes the log",
             deployment=deployment)
    wait_for(deployment.consumed_all, "the consumers apply every partition",
             deployment=deployment)

    assert reporting_tables(deployment.reporting_url) == expected
    assert expected["slips"] and expected["allocations"] and expected["sales"]
    for consumer in (first, second):  # both were members of the group
        assert "consume: assigned" in consumer.log(), deployment.logs()
    assert relay.alive and first.alive and second.alive
