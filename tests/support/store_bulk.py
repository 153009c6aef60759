"""Many failed events written to a store at once, for tests that need a long list (10,000 rows).

``Store.record_failure`` writes one failed event per transaction, as the dead-letter writer does;
this writes them all in one transaction with the store's own tables, so seeding a long list takes
a second instead of minutes. The rows are what ``record_failure`` would write for new events.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from store import FailedEventRecord
from store.models import AttemptRow, FailedEventRow
from store.repository import failed_event_values

__all__ = ["record_failures", "run_apart"]

_BATCH = 2000
T = TypeVar("T")


async def _record_all(store_url: str, records: Sequence[FailedEventRecord]) -> list[int]:
    engine = create_async_engine(store_url)
    now = datetime.now(UTC)
    try:
        async with engine.begin() as connection:
            for start in range(0, len(records), _BATCH):
                batch = records[start : start + _BATCH]
                await connection.execute(
                    insert(FailedEventRow), [failed_event_values(rec, now) for rec in batch]
                )
            found = await connection.execute(
                select(FailedEventRow.webhook_id, FailedEventRow.id).where(
                    FailedEventRow.webhook_id.in_([rec.webhook_id for rec in records])
                )
            )
            ids = {row.webhook_id: row.id for row in found}
            attempts = [
                {"failed_event_id": ids[rec.webhook_id], **asdict(attempt)}
                for rec in records
                for attempt in rec.attempts
            ]
            for start in range(0, len(attempts), _BATCH):
                await connection.execute(insert(AttemptRow), attempts[start : start + _BATCH])
    finally:
        await engine.dispose()
    return [ids[rec.webhook_id] for rec in records]


def run_apart(work: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(work)`` on a thread of its own: Playwright's sync API keeps an event loop
    running on the test's thread, where asyncio.run refuses to start another."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work).result()


def record_failures(store_url: str, records: Sequence[FailedEventRecord]) -> list[int]:
    """Write ``records`` (new webhook ids) as open failed events in one transaction; their ids."""
    return run_apart(_record_all(store_url, records))
