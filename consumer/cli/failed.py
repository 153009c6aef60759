"""The failed-events and store commands of ``hookstream``.

``add_failed_commands(subparsers)`` registers::

    hookstream failed list    [filters] [--limit N] [--cursor C]   open failed events, newest first
    hookstream failed show    ID                                    overview, payload, trial history
    hookstream failed resend  ID [ID ...]                           now, under the subscription as it is
    hookstream failed delete  ID [ID ...]                           one or many
    hookstream store prune    --older-than 30d                      retention
    hookstream store migrate                                        create or upgrade the schema

Each takes ``--store-url`` (default: $HOOKSTREAM_STORE_URL, else ``sqlite+aiosqlite:///hookstream.db``)
and ``--json``, and sets ``func``: call ``args.func(args)`` after parsing to get the exit code
(0 done, 1 not found or the store failed).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy.engine import make_url

from admin.actor import Actor
from admin.failed_events import BULK_LIMIT, FailedEvents, ResendStatus
from consumer.settings import load_settings
from router.durations import parse_duration
from store.errors import StoreError, StoreNotMigrated
from store.records import FailedEvent, FailedEventFilter, FailedEventState, FailedEventSummary
from store.redaction import redact_headers
from store.repository import DEFAULT_STORE_URL, MAX_PAGE_SIZE, Store

__all__ = [
    "STORE_URL_ENV",
    "add_failed_commands",
    "add_store_options",
    "resolve_store_url",
    "store_command",
]

STORE_URL_ENV = "HOOKSTREAM_STORE_URL"
# argparse has no public name for the type add_subparsers() returns.
Subparsers = argparse._SubParsersAction
StoreHandler = Callable[[Store, argparse.Namespace], Awaitable[int]]

_CELL_WIDTH = 48


# --- options --------------------------------------------------------------------------------------


def _parse_duration(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parse_time(text: str) -> datetime:
    """ISO 8601 date or date-time; without an offset it is UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    return moment if moment.utcoffset() is not None else moment.replace(tzinfo=UTC)


def _parse_limit(text: str) -> int:
    try:
        limit = int(text)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise argparse.ArgumentTypeError(f"--limit must be a whole number from 1 to {MAX_PAGE_SIZE}")
    return limit


def add_store_options(parser: argparse.ArgumentParser) -> None:
    """``--store-url`` and ``--json``, as every store command takes them."""
    parser.add_argument(
        "--store-url",
        help=f"database URL (default: ${STORE_URL_ENV}, else {DEFAULT_STORE_URL})",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def resolve_store_url(args: argparse.Namespace) -> str:
    """--store-url, else $HOOKSTREAM_STORE_URL, else the SQLite file in the working directory."""
    return str(args.store_url or os.environ.get(STORE_URL_ENV) or DEFAULT_STORE_URL)


def store_command(handler: StoreHandler) -> Callable[[argparse.Namespace], int]:
    """Turn ``async handler(store, args) -> exit code`` into a ``func`` for ``set_defaults``.

    The store is opened from the options and closed afterwards; a StoreError is printed (without a
    traceback) and gives exit code 1.
    """

    async def with_store(args: argparse.Namespace) -> int:
        async with Store(resolve_store_url(args)) as store:
            return await handler(store, args)

    def run(args: argparse.Namespace) -> int:
        try:
            return asyncio.run(with_store(args))
        except StoreNotMigrated as exc:
            print(
                f"hookstream: {exc}\nNothing was ever recorded there; the service creates the store when it "
                "starts, and `hookstream store migrate` creates it now.",
                file=sys.stderr,
            )
            return 1
        except StoreError as exc:
            print(f"hookstream: {exc}", file=sys.stderr)
            return 1

    return run


def add_failed_commands(subparsers: Subparsers[argparse.ArgumentParser]) -> None:
    """Register ``failed list|show|resend|delete`` and ``store prune|migrate`` on the top-level subparsers."""
    failed = subparsers.add_parser("failed", help="browse and clean up failed events").add_subparsers(
        dest="failed_action", required=True
    )

    listing = failed.add_parser("list", help="list failed events, newest last attempt first")
    listing.add_argument("--subscription")
    listing.add_argument("--entity")
    listing.add_argument("--trigger")
    listing.add_argument("--channel")
    listing.add_argument("--subchannel")
    listing.add_argument("--error-code")
    listing.add_argument(
        "--since", type=_parse_time, help="last attempt at or after (ISO 8601; UTC if no offset)"
    )
    listing.add_argument("--until", type=_parse_time, help="last attempt before (ISO 8601; UTC if no offset)")
    listing.add_argument("--state", choices=["open", "closed", "all"], default="open")
    listing.add_argument("--limit", type=_parse_limit, default=50)
    listing.add_argument("--cursor", help="continue after the page that printed it")
    add_store_options(listing)
    listing.set_defaults(func=store_command(_failed_list))

    show = failed.add_parser("show", help="one failed event: overview, payload and trial history")
    show.add_argument("id", type=int)
    add_store_options(show)
    show.set_defaults(func=store_command(_failed_show))

    resend = failed.add_parser("resend", help="resend failed events now (the rule: success closes)")
    resend.add_argument("ids", type=int, nargs="+", metavar="ID")
    add_store_options(resend)
    resend.set_defaults(func=store_command(_failed_resend))

    remove = failed.add_parser("delete", help="delete failed events by id")
    remove.add_argument("ids", type=int, nargs="+", metavar="ID")
    add_store_options(remove)
    remove.set_defaults(func=store_command(_failed_delete))

    store = subparsers.add_parser("store", help="maintain the failed-events store").add_subparsers(
        dest="store_action", required=True
    )

    prune = store.add_parser("prune", help="delete failed events and logged requests older than a retention")
    prune.add_argument("--older-than", type=_parse_duration, required=True, help="e.g. 30d, 12h")
    add_store_options(prune)
    prune.set_defaults(func=store_command(_store_prune))

    migrate = store.add_parser("migrate", help="create or upgrade the store's tables")
    add_store_options(migrate)
    migrate.set_defaults(func=store_command(_store_migrate))


# --- commands -------------------------------------------------------------------------------------


async def _failed_list(store: Store, args: argparse.Namespace) -> int:
    criteria = FailedEventFilter(
        subscription=args.subscription,
        entity=args.entity,
        trigger=args.trigger,
        channel=args.channel,
        subchannel=args.subchannel,
        error_code=args.error_code,
        since=args.since,
        until=args.until,
        state=None if args.state == "all" else FailedEventState(args.state),
    )
    page = await FailedEvents(store).page(criteria, limit=args.limit, cursor=args.cursor)
    if args.json:
        _print_json(
            {
                "items": [_jsonable(asdict(item)) for item in page.items],
                "total": page.total,
                "next_cursor": page.next_cursor,
            }
        )
        return 0
    print(
        _table(
            [
                "ID",
                "LAST ATTEMPT",
                "SUBSCRIPTION",
                "ENTITY",
                "TRIGGER",
                "CHANNEL",
                "SUBCHANNEL",
                "ERROR",
                "TRIES",
                "STATE",
            ],
            [_list_row(item) for item in page.items],
        )
    )
    print(f"\n{len(page.items)} shown of {page.total}")
    if page.next_cursor:
        print(f"next page: --cursor {page.next_cursor}")
    return 0


async def _failed_show(store: Store, args: argparse.Namespace) -> int:
    failed = await FailedEvents(store).get(args.id)
    if failed is None:
        print(f"hookstream: failed event {args.id} does not exist", file=sys.stderr)
        return 1
    if args.json:
        _print_json(_jsonable({**asdict(failed), "request_headers": redact_headers(failed.request_headers)}))
    else:
        print(_describe(failed))
    return 0


async def _failed_resend(store: Store, args: argparse.Namespace) -> int:
    from router.reload import SubscriptionSource
    from sender import Sender

    settings = load_settings()
    router = SubscriptionSource(
        settings.subscriptions, settings.catalog, development=settings.development
    ).load()
    failures = 0
    async with Sender(settings.sender) as sender:
        service = FailedEvents(store, router=lambda: router, sender=sender)
        ids = list(dict.fromkeys(args.ids))
        for start in range(0, len(ids), BULK_LIMIT):
            for result in await service.resend_many(ids[start : start + BULK_LIMIT], _actor()):
                if result.status is ResendStatus.DELIVERED:
                    print(f"{result.id}: delivered (HTTP {result.http_status}); the failed event is closed")
                    continue
                failures += 1
                if result.status is ResendStatus.FAILED:
                    print(f"{result.id}: failed again: {result.error_code} {result.description}")
                else:
                    print(f"{result.id}: not resent: {result.description}")
    return 1 if failures else 0


async def _failed_delete(store: Store, args: argparse.Namespace) -> int:
    results = await FailedEvents(store).delete(args.ids, _actor())
    deleted = sum(result.deleted for result in results)
    if args.json:
        _print_json({"requested": len(results), "deleted": deleted})
    else:
        print(f"deleted {deleted} of {len(results)} failed event(s)")
        if deleted < len(results):
            print(f"{len(results) - deleted} did not exist", file=sys.stderr)
    return 0 if deleted == len(results) else 1


def _actor() -> Actor:
    """The person at the terminal: their login name goes on what they resend and on the log line."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name in the environment nor in the user database
        user = "unknown"
    return Actor(name=f"cli:{user}", role="admin", via="cli")


async def _store_prune(store: Store, args: argparse.Namespace) -> int:
    result = await store.prune(args.older_than)
    if args.json:
        _print_json(asdict(result))
    else:
        print(f"pruned {result.failed_events} failed event(s) and {result.requests} logged request(s)")
    return 0


async def _store_migrate(store: Store, args: argparse.Namespace) -> int:
    await store.migrate()
    # The password, if the URL has one, is not printed.
    shown = make_url(resolve_store_url(args)).render_as_string(hide_password=True)
    if args.json:
        _print_json({"migrated": shown})
    else:
        print(f"store {shown} is up to date")
    return 0


# --- output ---------------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def _time(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _cell(value: object) -> str:
    text = "" if value is None else " ".join(str(value).split())
    return text if len(text) <= _CELL_WIDTH else text[: _CELL_WIDTH - 1] + "…"


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [list(header), *([_cell(value) for value in row] for row in rows)]
    widths = [max(len(line[column]) for line in cells) for column in range(len(header))]
    return "\n".join(
        "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        for line in cells
    )


def _list_row(item: FailedEventSummary) -> list[object]:
    return [
        item.id,
        _time(item.last_attempt_at),
        item.subscription,
        item.entity,
        item.trigger,
        item.channel,
        item.subchannel,
        item.error_code,
        item.attempt_count,
        item.state.value,
    ]


def _payload(body: str) -> str:
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body


def _describe(failed: FailedEvent) -> str:
    overview = [
        ("id", failed.id),
        ("state", failed.state.value),
        ("subscription", failed.subscription),
        ("entity", failed.entity),
        ("entity id", failed.entity_id),
        ("trigger", failed.trigger),
        ("channel", failed.channel),
        ("subchannel", failed.subchannel),
        ("event id", failed.event_id),
        ("webhook id", failed.webhook_id),
        ("url", failed.url),
        ("error code", failed.error_code),
        ("error", failed.error_description),
        ("response status", failed.response_status),
        ("response excerpt", failed.response_excerpt),
        ("attempts", failed.attempt_count),
        ("first attempt", _time(failed.first_attempt_at)),
        ("last attempt", _time(failed.last_attempt_at)),
        ("created", _time(failed.created_at)),
        ("updated", _time(failed.updated_at)),
        ("closed", _time(failed.closed_at)),
    ]
    width = max(len(label) for label, _ in overview)
    lines = [
        "Overview",
        *(f"  {label.ljust(width)}  {'' if value is None else value}" for label, value in overview),
    ]
    lines += ["", "Request headers"]
    lines += [f"  {name}: {value}" for name, value in redact_headers(failed.request_headers).items()]
    lines += ["", "Payload", *("  " + line for line in _payload(failed.request_body).splitlines())]
    history = [
        [
            attempt.number,
            _time(attempt.at),
            attempt.status,
            attempt.error_code or "ok",
            attempt.error_description,
            "" if attempt.duration_ms is None else f"{attempt.duration_ms:.0f} ms",
        ]
        for attempt in failed.attempts
    ]
    table = _table(["#", "AT", "STATUS", "RESULT", "DESCRIPTION", "DURATION"], history)
    lines += ["", "Trial history", *("  " + line for line in table.splitlines())]
    return "\n".join(lines)
