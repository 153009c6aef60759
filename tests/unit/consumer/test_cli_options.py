"""Option parsing of the store's commands."""

from __future__ import annotations

import argparse
from datetime import timedelta

import pytest

from consumer.cli.failed import parse_duration, resolve_store_url
from store import Store, UnsupportedStoreUrl


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", timedelta(days=30)),
        ("12h", timedelta(hours=12)),
        ("90m", timedelta(minutes=90)),
        ("45s", timedelta(seconds=45)),
        ("2w", timedelta(weeks=2)),
        ("1.5d", timedelta(hours=36)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["30", "d", "-3d", "30 days", "3y"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_duration(text)


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
