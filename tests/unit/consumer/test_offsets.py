from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from consumer.kafka.offsets import PartitionOffsets


def test_commit_waits_for_the_earliest_unfinished_offset() -> None:
    offsets = PartitionOffsets()
    for offset in (10, 11, 12):
        assert offsets.add(offset, 1) is None
    assert offsets.done(12) is None
    assert offsets.done(11) is None
    assert offsets.done(10) == 13
    assert len(offsets) == 0


def test_an_offset_with_no_deliveries_is_finished_at_once_but_only_in_order() -> None:
    offsets = PartitionOffsets()
    assert offsets.add(0, 0) == 1
    assert offsets.add(1, 2) is None
    assert offsets.add(2, 0) is None
    assert offsets.done(1) is None  # one of two deliveries left
    assert offsets.done(1) == 3


def test_unknown_offsets_are_ignored() -> None:
    offsets = PartitionOffsets()
    offsets.add(5, 1)
    assert offsets.done(4) is None
    assert offsets.done(5) == 6


@given(st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=60), st.randoms())
def test_committed_offset_never_passes_an_unfinished_one(fanouts: list[int], rnd: random.Random) -> None:
    offsets = PartitionOffsets()
    pending: list[int] = []
    committed = 0
    for offset, n in enumerate(fanouts):
        moved = offsets.add(offset, n)
        committed = moved if moved is not None else committed
        pending += [offset] * n
    rnd.shuffle(pending)
    unfinished = list(pending)
    for offset in pending:
        unfinished.remove(offset)
        moved = offsets.done(offset)
        if moved is not None:
            committed = moved
        assert all(committed <= u for u in unfinished)
    assert committed == len(fanouts)


def test_the_oldest_unfinished_offset_is_where_a_restart_resumes() -> None:
    offsets = PartitionOffsets()
    assert offsets.oldest is None
    offsets.add(10, 1)
    offsets.add(11, 1)
    offsets.done(11)
    assert offsets.oldest == 10
    offsets.done(10)
    assert offsets.oldest is None
