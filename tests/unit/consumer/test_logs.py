"""Logs: JSON lines with a line's fields (or text in development), every logger's records alike."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from consumer.logs import ROOMS, setup_logging
from consumer.settings import Settings
from sender.lanes import Job, Lane
from sender.outcome import Message, Outcome
from sender.settings import BreakerSettings


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    """What the root logger writes; pytest's own handlers are put back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)
    for room in ROOMS:
        logging.getLogger(room).setLevel(logging.NOTSET)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_the_common_keys_then_the_fields_passed_in_extra(output: io.StringIO) -> None:
    setup_logging("INFO", json=True, stream=output)
    logging.getLogger("consumer.deliveries").warning(
        "invalid event: %s", "bad magic", extra={"topic": "t", "partition": 2, "offset": 7}
    )
    [line] = lines(output)
    assert list(line)[:4] == ["timestamp", "level", "logger", "message"]
    assert line["level"] == "warning"
    assert line["logger"] == "consumer.deliveries"
    assert line["message"] == "invalid event: bad magic"
    assert (line["topic"], line["partition"], line["offset"]) == ("t", 2, 7)
    assert line["timestamp"].endswith("Z")
    assert datetime.fromisoformat(line["timestamp"]).utcoffset() is not None


def test_libraries_log_json_lines_too_and_below_the_level_nothing(output: io.StringIO) -> None:
    setup_logging("INFO", json=True, stream=output)
    logging.getLogger("alembic.runtime.migration").info("Context impl SQLiteImpl.")
    logging.getLogger("aiohttp.client").debug("not shown at INFO")
    logging.getLogger("librdkafka").error("FAIL [rdkafka#consumer-1] connection refused")
    assert [(line["logger"], line["level"]) for line in lines(output)] == [
        ("alembic.runtime.migration", "info"),
        ("librdkafka", "error"),
    ]


def test_debug_is_for_our_own_lines_not_the_libraries(output: io.StringIO) -> None:
    setup_logging("DEBUG", json=True, stream=output)
    logging.getLogger("consumer.deliveries").debug("delivery failed, retry scheduled")
    logging.getLogger("aiosqlite").debug("executing INSERT INTO failed_events ...")
    logging.getLogger("aiosqlite").info("shown")
    assert [line["logger"] for line in lines(output)] == ["consumer.deliveries", "aiosqlite"]


def test_an_exception_is_one_json_field(output: io.StringIO) -> None:
    setup_logging("INFO", json=True, stream=output)
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        logging.getLogger("sender.lanes").exception("delivery failed", extra={"webhook_id": "msg_1"})
    [line] = lines(output)
    assert "RuntimeError: a bug" in line["exception"]
    assert line["webhook_id"] == "msg_1"


def test_text_is_one_readable_line_with_its_fields_and_tracebacks_without_locals(
    output: io.StringIO,
) -> None:
    setup_logging("INFO", json=False, stream=output)
    log = logging.getLogger("consumer.deliveries")
    log.info("dropped a retry", extra={"webhook_id": "msg_1", "subscription": "crm"})
    token = "tok-in-a-local-variable"  # a stand-in secret: rich would print it with the frame's locals
    try:
        raise RuntimeError(f"a bug near {len(token)} characters")
    except RuntimeError:
        log.exception("delivery failed")
    text = output.getvalue()
    first = text.splitlines()[0]
    assert "dropped a retry" in first
    assert "[consumer.deliveries]" in first
    assert "subscription=crm" in first
    assert "webhook_id=msg_1" in first
    assert "RuntimeError: a bug near 23 characters" in text
    assert token not in text


def test_text_logs_in_development_json_otherwise_unless_set() -> None:
    assert Settings().log_format == "json"
    assert Settings(development=True).log_format == "text"
    assert Settings(development=True, log_format="json").log_format == "json"


class _Waiter:
    def __init__(self) -> None:
        self.outcomes: list[Outcome] = []

    def settle(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)

    def log_fields(self) -> dict[str, Any]:
        return {"topic": "in", "partition": 0, "offset": 3, "subscription": "crm"}


async def test_a_fault_inside_the_sender_is_logged_with_the_callers_fields(output: io.StringIO) -> None:
    setup_logging("INFO", json=True, stream=output)

    class Faulty:
        async def attempt(self, _message: Message) -> Outcome:
            raise RuntimeError("a bug")

    lane = Lane(1, BreakerSettings())
    waiter = _Waiter()
    lane.submit(Job(Faulty(), Message("msg_1", 0, {}), waiter))
    for _ in range(5):
        await asyncio.sleep(0)
    await asyncio.gather(*lane.close(), return_exceptions=True)
    [line] = lines(output)
    assert line["message"] == "delivery failed inside the sender"
    assert {k: line[k] for k in ("topic", "partition", "offset", "webhook_id", "subscription")} == {
        "topic": "in",
        "partition": 0,
        "offset": 3,
        "webhook_id": "msg_1",
        "subscription": "crm",
    }
    assert [o.error_code for o in waiter.outcomes] == ["internal_error"]
