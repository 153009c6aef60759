"""Database failures reach callers as DatabaseError, with the driver's error as the cause."""

from __future__ import annotations

import pytest

from store import DatabaseError, Store, StoreError


async def test_an_unreachable_postgresql_server_is_a_database_error() -> None:
    # Nothing listens on port 1 of loopback: the connection is refused at once.
    async with Store("postgresql+asyncpg://postgres@127.0.0.1:1/hooks") as store:
        with pytest.raises(DatabaseError) as caught:
            await store.count_open()

    assert isinstance(caught.value, StoreError)
    assert isinstance(caught.value.__cause__, OSError)
