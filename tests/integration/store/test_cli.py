"""``hookstream failed list|show|delete`` and ``hookstream store prune|migrate`` against a real store."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import create_async_engine

from consumer.cli.failed import add_failed_commands
from store import FailedEventRecord, Store
from store.models import FailedEventRow
from tests.integration.store.factories import BASE_TIME, failed_record

LIST_HEADER = ["ID", "LAST", "ATTEMPT", "SUBSCRIPTION", "ENTITY", "TRIGGER", "CHANNEL", "SUBCHANNEL"]
LIST_HEADER += ["ERROR", "TRIES", "STATE"]


def hookstream(*argv: str) -> int:
    """What the entry point does with the store's commands: parse, then call ``func``."""
    parser = argparse.ArgumentParser(prog="hookstream")
    add_failed_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    exit_code: int = args.func(args)
    return exit_code


def seed(url: str, *records: FailedEventRecord) -> list[int]:
    async def record_all() -> list[int]:
        async with Store(url) as store:
            await store.migrate()
            return [(await store.record_failure(record)).id for record in records]

    return asyncio.run(record_all())


def test_migrate_then_list_an_empty_store(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert hookstream("store", "migrate", "--store-url", store_url) == 0
    assert "is up to date" in capsys.readouterr().out

    assert hookstream("failed", "list", "--store-url", store_url) == 0
    assert "0 shown of 0" in capsys.readouterr().out


@pytest.mark.parametrize(
    "command",
    [
        ("failed", "list"),
        ("failed", "list", "--json"),
        ("failed", "show", "1"),
        ("failed", "delete", "1"),
        ("store", "prune", "--older-than", "30d"),
    ],
)
def test_a_store_the_service_never_created_is_named_plainly(
    store_url: str, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    # store_url is a database without the store's tables (on SQLite an existing, empty file).
    if store_url.startswith("sqlite"):
        Path(store_url.removeprefix("sqlite+aiosqlite:///")).touch()

    assert hookstream(*command, "--store-url", store_url) == 1

    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"hookstream: no failed-events store at {store_url}: its tables do not exist\n")
    assert "hookstream store migrate" in err
    assert "Error" not in err  # no driver exception's name


def test_a_missing_sqlite_file_is_named_and_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mistyped.db"

    assert hookstream("failed", "list", "--store-url", f"sqlite+aiosqlite:///{path}") == 1

    assert f"{path} does not exist" in capsys.readouterr().err
    assert not path.exists()


def test_store_url_comes_from_the_environment(
    store_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(store_url, failed_record("from_env"))
    monkeypatch.setenv("HOOKSTREAM_STORE_URL", store_url)

    assert hookstream("failed", "list", "--json") == 0

    assert [item["webhook_id"] for item in json.loads(capsys.readouterr().out)["items"]] == ["from_env"]


def test_list_prints_a_table_with_filters(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = seed(
        store_url,
        failed_record("t1", subscription="crm-new-objects"),
        failed_record(
            "t2", subscription="billing", error_code="timeout", start=BASE_TIME + timedelta(days=1)
        ),
    )

    assert hookstream("failed", "list", "--store-url", store_url) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == LIST_HEADER
    assert table[1].split()[0] == str(second)  # newest last attempt first
    assert "billing" in table[1]
    assert "timeout" in table[1]
    assert table[2].split()[0] == str(first)
    assert "2 shown of 2" in table[-1]

    assert hookstream("failed", "list", "--store-url", store_url, "--subscription", "billing", "--json") == 0
    assert [item["id"] for item in json.loads(capsys.readouterr().out)["items"]] == [second]

    assert hookstream("failed", "list", "--store-url", store_url, "--error-code", "503", "--json") == 0
    assert [item["id"] for item in json.loads(capsys.readouterr().out)["items"]] == [first]

    since = (BASE_TIME + timedelta(hours=12)).replace(tzinfo=None).isoformat()  # no offset: UTC
    assert hookstream("failed", "list", "--store-url", store_url, "--since", since, "--json") == 0
    assert [item["id"] for item in json.loads(capsys.readouterr().out)["items"]] == [second]


def test_list_pages_with_the_printed_cursor(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    ids = seed(store_url, *(failed_record(f"pg{n}", start=BASE_TIME + timedelta(hours=n)) for n in range(3)))

    assert hookstream("failed", "list", "--store-url", store_url, "--limit", "2") == 0
    first_page = capsys.readouterr().out
    cursor = first_page.split("next page: --cursor ")[1].strip()
    assert (
        hookstream("failed", "list", "--store-url", store_url, "--limit", "2", "--cursor", cursor, "--json")
        == 0
    )
    second_page = json.loads(capsys.readouterr().out)

    assert [line.split()[0] for line in first_page.splitlines()[1:3]] == [str(ids[2]), str(ids[1])]
    assert [item["id"] for item in second_page["items"]] == [ids[0]]
    assert second_page["next_cursor"] is None


def test_a_bad_cursor_is_an_error_not_a_traceback(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    seed(store_url)

    assert hookstream("failed", "list", "--store-url", store_url, "--cursor", "bogus") == 1
    assert "not a page cursor" in capsys.readouterr().err


def test_show_prints_overview_payload_and_trial_history(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (failed_id,) = seed(store_url, failed_record("show_me"))

    assert hookstream("failed", "show", str(failed_id), "--store-url", store_url) == 0
    out = capsys.readouterr().out

    overview, rest = out.split("\nRequest headers\n")
    assert "subscription      crm-new-objects" in overview
    assert "webhook id        show_me" in overview
    assert "error code        503" in overview
    payload = rest.split("\nPayload\n")[1].split("\nTrial history\n")[0]
    assert json.loads(payload) == {"event_type": "OnNew", "data": {"id": 42}}
    history = out.split("\nTrial history\n")[1].splitlines()
    assert history[0].split()[:3] == ["#", "AT", "STATUS"]
    assert [row.split()[0] for row in history[1:]] == ["1", "2", "3"]
    assert "attempt 3 failed" in history[3]


def test_show_json_has_the_whole_history(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    (failed_id,) = seed(store_url, failed_record("show_json"))

    assert hookstream("failed", "show", str(failed_id), "--store-url", store_url, "--json") == 0
    shown = json.loads(capsys.readouterr().out)

    assert shown["id"] == failed_id
    assert shown["state"] == "open"
    assert [attempt["number"] for attempt in shown["attempts"]] == [1, 2, 3]
    assert datetime.fromisoformat(shown["last_attempt_at"]) == BASE_TIME + timedelta(minutes=10)


def test_show_never_prints_a_credential_even_if_stored(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (failed_id,) = seed(store_url, failed_record("leaky"))

    async def store_a_raw_secret() -> None:
        # As an older version or another writer might have: bypasses the store's own redaction.
        engine = create_async_engine(store_url)
        async with engine.begin() as connection:
            await connection.execute(
                update(FailedEventRow)
                .where(FailedEventRow.id == failed_id)
                .values(request_headers={"Authorization": "Bearer TOPSECRET", "X-Trace": "abc"})
            )
        await engine.dispose()

    asyncio.run(store_a_raw_secret())

    assert hookstream("failed", "show", str(failed_id), "--store-url", store_url) == 0
    text = capsys.readouterr().out
    assert hookstream("failed", "show", str(failed_id), "--store-url", store_url, "--json") == 0
    as_json = capsys.readouterr().out

    for output in (text, as_json):
        assert "TOPSECRET" not in output
        assert "[redacted]" in output
        assert "abc" in output


def test_show_of_a_missing_id_fails(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    seed(store_url)

    assert hookstream("failed", "show", "404", "--store-url", store_url) == 1
    assert "does not exist" in capsys.readouterr().err


def test_delete_one_and_many(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    ids = seed(store_url, *(failed_record(f"del{n}") for n in range(4)))

    assert hookstream("failed", "delete", str(ids[0]), "--store-url", store_url) == 0
    assert "deleted 1 of 1" in capsys.readouterr().out

    assert hookstream("failed", "delete", str(ids[1]), str(ids[2]), "--store-url", store_url, "--json") == 0
    assert json.loads(capsys.readouterr().out) == {"requested": 2, "deleted": 2}

    assert hookstream("failed", "delete", str(ids[3]), str(ids[0]), "--store-url", store_url) == 1
    assert "deleted 1 of 2" in capsys.readouterr().out

    assert hookstream("failed", "list", "--store-url", store_url, "--state", "all", "--json") == 0
    assert json.loads(capsys.readouterr().out)["total"] == 0


def test_prune_older_than(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    now = datetime.now(UTC)
    old, recent = seed(
        store_url,
        failed_record("aged", start=now - timedelta(days=45), tries=1),
        failed_record("fresh", start=now - timedelta(days=3), tries=1),
    )

    assert hookstream("store", "prune", "--older-than", "30d", "--store-url", store_url, "--json") == 0
    assert json.loads(capsys.readouterr().out) == {"failed_events": 1, "requests": 0}

    assert hookstream("failed", "list", "--store-url", store_url, "--json") == 0
    assert [item["id"] for item in json.loads(capsys.readouterr().out)["items"]] == [recent]
    assert old != recent


def test_an_unsupported_store_url_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    assert hookstream("failed", "list", "--store-url", "mysql://db/hooks") == 1
    assert "unsupported store URL" in capsys.readouterr().err


def test_default_store_is_sqlite_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HOOKSTREAM_STORE_URL", raising=False)

    assert hookstream("store", "migrate") == 0

    assert (tmp_path / "hookstream.db").is_file()
