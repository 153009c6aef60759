"""Which input offset may be committed, while deliveries finish out of order.

An offset is finished when every delivery it caused is finished (delivered, or
durably handed to a retry or dead-letter topic). Only the highest contiguous
finished offset of a partition may be committed: committing past an unfinished
one would lose it in a crash.
"""

from __future__ import annotations

from collections import deque

__all__ = ["PartitionOffsets"]


class PartitionOffsets:
    """In-flight offsets of one partition, in the order they were consumed."""

    __slots__ = ("_order", "_pending")

    def __init__(self) -> None:
        self._order: deque[int] = deque()
        self._pending: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, offset: int, deliveries: int) -> int | None:
        """Track an offset that caused ``deliveries`` deliveries; same result as :meth:`done`."""
        self._order.append(offset)
        self._pending[offset] = deliveries
        return self._advance() if deliveries == 0 else None

    def done(self, offset: int) -> int | None:
        """One delivery of ``offset`` finished. Returns the next offset to commit, if it moved."""
        left = self._pending.get(offset)
        if left is None:
            return None
        self._pending[offset] = left - 1
        return self._advance() if left == 1 else None

    @property
    def oldest(self) -> int | None:
        """The first offset not finished yet: where the group resumes after a crash."""
        return self._order[0] if self._order else None

    def _advance(self) -> int | None:
        committable = None
        order, pending = self._order, self._pending
        while order and pending[order[0]] == 0:
            head = order.popleft()
            del pending[head]
            committable = head + 1
        return committable
