"""The live feed's batches (projections/live.py: `gather`): what the subscription holds ready goes in one
batch, up to the limit, and a batch never waits for an event beyond its first."""

from __future__ import annotations

from queue import Queue
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from projections.live import gather


def batches(subscription: Any, limit: int) -> list[list[Any]]:
    """The batches the live feed's loop gathers from the subscription."""
    events = iter(subscription)
    return [gather(first, events, subscription, limit) for first in events]


class Inner:
    """The library's ListenNotifySubscription as the feed looks at it: the list it is handing
    out, its index, and the queue of the next lists."""

    def __init__(self, lists: list[list[int]], arriving: list[list[int]]) -> None:
        self._notifications: list[int] = []
        self._notifications_index = 0
        self._notifications_queue: Queue[list[int]] = Queue()
        for found in lists:
            self._notifications_queue.put(found)
        self.arriving = arriving  # what comes only when the feed waits (the next NOTIFY)
        self.waited = 0
        self.waits_at: list[int] = []  # for each event handed out, the waits before it

    def next(self) -> int:
        if self._notifications_index == len(self._notifications):
            if self._notifications_queue.empty():
                if not self.arriving:
                    raise StopIteration
                self.waited += 1
                self._notifications_queue.put(self.arriving.pop(0))
            self._notifications = self._notifications_queue.get()
            self._notifications_index = 0
        found = self._notifications[self._notifications_index]
        self._notifications_index += 1
        self.waits_at.append(self.waited)
        return found


class Subscription:
    def __init__(self, inner: Inner) -> None:
        self.subscription = inner

    def __iter__(self) -> Any:
        return self

    def __next__(self) -> int:
        return self.subscription.next()


LISTS = st.lists(st.lists(st.integers(), min_size=1, max_size=7), max_size=6)


@given(LISTS, LISTS, st.integers(min_value=1, max_value=9))
def test_the_events_ready_go_in_batches_up_to_the_limit_each_waiting_for_its_first_only(
    ready: list[list[int]], arriving: list[list[int]], limit: int,
) -> None:
    inner = Inner(ready, list(arriving))
    made = list(batches(Subscription(inner), limit))
    assert [e for b in made for e in b] == [e for b in ready + arriving for e in b]
    assert all(1 <= len(b) <= limit for b in made)
    # No event but a batch's first was waited for.
    at = 0
    for batch in made:
        assert set(inner.waits_at[at:at + len(batch)]) == {inner.waits_at[at]}
        at += len(batch)
    # The backlog ready at the start goes in full batches but its last.
    backlog = sum(map(len, ready))
    assert [len(b) for b in made][:backlog // limit] == [limit] * (backlog // limit)


def test_a_subscription_of_another_kind_goes_event_by_event() -> None:
    assert list(batches(iter([1, 2, 3]), 10)) == [[1], [2], [3]]


@pytest.mark.parametrize("limit", [1, 2, 2000])
def test_a_long_list_is_cut_at_the_limit(limit: int) -> None:
    inner = Inner([list(range(4500))], [])
    sizes = [len(b) for b in batches(Subscription(inner), limit)]
    assert sum(sizes) == 4500 and max(sizes) == min(limit, 4500)
