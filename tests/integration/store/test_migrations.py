"""Migrations build the schema from an empty database, and it is the schema the models describe."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from store import DatabaseError, FailedEventFilter, Store, StoreNotMigrated
from store.models import Base
from tests.integration.store.factories import failed_record


async def _inspect(url: str, action: Any) -> Any:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(action)
    finally:
        await engine.dispose()


async def test_migrate_creates_every_table_in_an_empty_database(store_url: str) -> None:
    assert await _inspect(store_url, lambda c: inspect(c).get_table_names()) == []

    async with Store(store_url) as store:
        await store.migrate()

    tables = set(await _inspect(store_url, lambda c: inspect(c).get_table_names()))
    assert tables == {"alembic_version", "failed_events", "failed_event_attempts", "request_log"}


async def test_migrate_twice_changes_nothing(store_url: str) -> None:
    async with Store(store_url) as store:
        await store.migrate()
        await store.migrate()

    def versions(connection: Connection) -> list[str]:
        return list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())

    assert await _inspect(store_url, versions) == ["0003"]


async def test_migrated_schema_matches_the_models(store_url: str) -> None:
    async with Store(store_url) as store:
        await store.migrate()

    def differences(connection: Connection) -> list[Any]:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))

    assert await _inspect(store_url, differences) == []


async def test_an_unmigrated_store_raises_store_not_migrated(store_url: str) -> None:
    async with Store(store_url) as store:
        with pytest.raises(StoreNotMigrated, match="no failed-events store at") as caught:
            await store.list_failed(FailedEventFilter())

    assert isinstance(caught.value, DatabaseError)  # callers that give up on database errors still do


async def test_a_database_error_does_not_carry_the_payload(store_url: str) -> None:
    # SQLAlchemy's own message lists the statement's parameters; the store's must not.
    async with Store(store_url) as store:
        with pytest.raises(DatabaseError) as caught:
            await store.record_failure(
                failed_record("msg_private", request_body='{"card": "4111111111111111"}')
            )

    assert "4111111111111111" not in str(caught.value)
