"""Option parsing of the failed-events and store commands."""

from __future__ import annotations

import argparse

import pytest

from consumer.cli.failed import resolve_store_url
from store import Store, UnsupportedStoreUrl


def test_store_url_option_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOKSTREAM_STORE_URL", "postgresql+asyncpg://env/db")

    assert (
        resolve_store_url(argparse.Namespace(store_url="sqlite+aiosqlite:///x.db"))
        == "sqlite+aiosqlite:///x.db"
    )
    assert resolve_store_url(argparse.Namespace(store_url=None)) == "postgresql+asyncpg://env/db"


def test_without_option_or_environment_the_store_is_a_local_sqlite_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HOOKSTREAM_STORE_URL", raising=False)

    assert resolve_store_url(argparse.Namespace(store_url=None)) == "sqlite+aiosqlite:///hookstream.db"


@pytest.mark.parametrize(
    "url", ["mysql+aiomysql://db/hooks", "sqlite:///sync-driver.db", "postgresql://sync/driver", "not a url"]
)
def test_only_async_sqlite_and_postgresql_urls_are_accepted(url: str) -> None:
    with pytest.raises(UnsupportedStoreUrl):
        Store(url)
