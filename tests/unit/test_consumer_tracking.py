"""The consumer's per-message tracking, made without the dataclass's `__init__`, is the dataclass's."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.consumer import KafkaTracking


@given(name=st.text(), position=st.integers(min_value=1), topic=st.text(),
       partition=st.integers(min_value=0), offset=st.integers(min_value=0))
def test_a_tracking_made_the_cheap_way_is_the_dataclasss(
    name: str, position: int, topic: str, partition: int, offset: int,
) -> None:
    cheap = KafkaTracking.at(name, position, topic, partition, offset)
    made = KafkaTracking(name, position, topic=topic, partition=partition, offset=offset)
    assert cheap == made and hash(cheap) == hash(made) and repr(cheap) == repr(made)
    assert dataclasses.asdict(cheap) == dataclasses.asdict(made)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cheap.offset = offset + 1  # type: ignore[misc]
