"""What the failed-events and requests pages share: their filters, dates in the browser's time zone,
pages by cursor, the choices their selects offer and what a post's checkboxes named.

A list is a GET form: every filter is in the query string, so a filtered page can be bookmarked,
shared and reloaded. Pages go by the API's keyset cursor; the cursors of the pages before this one
ride along in ``trail`` (at most :data:`TRAIL_MAX` of them), which is all "Previous" needs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel

from admin.api.problems import ProblemError
from admin.api.schemas import CatalogOut, SubscriptionList
from admin.console.app import Page
from store import InvalidCursor

__all__ = [
    "PAGE_SIZE",
    "TRAIL_MAX",
    "Choices",
    "Listing",
    "Paging",
    "back_to",
    "channel_names",
    "choices",
    "day_range",
    "fetch_listing",
    "filter_errors",
    "plural",
    "selected_ids",
    "sentence",
    "zone",
]

PAGE_SIZE = 50
#: The most earlier pages "Previous" can go back through; "First page" is always offered.
TRAIL_MAX = 30
_EN_DASH = "\u2013"
_TRAIL_SEPARATOR = "."  # never in a cursor (URL-safe base64)
_ZONE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}$")


def zone(name: str | None) -> tzinfo:
    """The browser's time zone as the page's script names it; UTC when there is none (no script)."""
    if not name or len(name) > 64 or not _ZONE_NAME.match(name):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def day_range(
    since: str, until: str, where: tzinfo
) -> tuple[datetime | None, datetime | None, dict[str, str]]:
    """``From`` and ``To`` days (both included) as the instants the API compares with: the start of
    the first day and the start of the day after the last, in the browser's zone; and an error by the
    field for a day that is not one."""
    errors: dict[str, str] = {}
    start = end = None
    if since:
        first = _day(since)
        if first is None:
            errors["since"] = "not a date: write it as 2026-12-03"
        else:
            start = datetime.combine(first, time(), where)
    if until:
        last = _day(until)
        if last is None:
            errors["until"] = "not a date: write it as 2026-12-03"
        else:
            end = datetime.combine(last + timedelta(days=1), time(), where)
    if start is not None and end is not None and end <= start:
        errors["until"] = "the last day comes before the first"
    return start, end, errors


def filter_errors(exc: ProblemError) -> dict[str, str]:
    """The API's 422 on a list's query, by the name of the field (``$.since`` -> ``since``)."""
    errors = getattr(exc.problem, "errors", None) or []
    found: dict[str, str] = {}
    for issue in errors:
        name = issue.path.removeprefix("$.").split(".")[0].split("[")[0] or "filters"
        found.setdefault(name, issue.message)
    return found


@dataclass(frozen=True, slots=True)
class Paging:
    """Where in the list this page is: its cursor, the earlier pages' cursors and its first row."""

    cursor: str | None = None
    trail: tuple[str, ...] = ()
    """The cursors of the pages before this one, oldest first ("" is the first page)."""
    start: int = 1
    """The number of this page's first row, for "51-100 of 10,000" (with an en dash)."""

    @classmethod
    def of(cls, query: Mapping[str, str]) -> Paging:
        cursor = query.get("cursor") or None
        trail = tuple(query.get("trail", "").split(_TRAIL_SEPARATOR)) if "trail" in query else ()
        try:
            start = max(1, int(query.get("start", "1")))
        except ValueError:
            start = 1
        if cursor is None:  # the first page, whatever else the address says
            return cls()
        return cls(cursor=cursor, trail=trail[-TRAIL_MAX:], start=start)

    def links(
        self, params: Mapping[str, str], *, shown: int, total: int, next_cursor: str | None, base: str
    ) -> dict[str, Any]:
        """The range shown and the addresses of the next, previous and first pages (None: no such)."""

        def at(cursor: str | None, trail: tuple[str, ...], start: int) -> str:
            extra: dict[str, str] = {}
            if cursor:
                extra = {"cursor": cursor, "trail": _TRAIL_SEPARATOR.join(trail), "start": str(start)}
            return base + "?" + urlencode({**params, **extra}) if params or extra else base

        first_row = self.start if shown else 0
        last_row = self.start + shown - 1 if shown else 0
        next_link = previous = first = None
        if next_cursor:
            trail = (*self.trail, self.cursor or "")[-TRAIL_MAX:]
            next_link = at(next_cursor, trail, self.start + shown)
        if self.cursor is not None:
            first = at(None, (), 1)
            if self.trail:
                previous = at(self.trail[-1] or None, self.trail[:-1], max(1, self.start - PAGE_SIZE))
        return {
            "range": f"{first_row:,}{_EN_DASH}{last_row:,} of {total:,}" if shown else f"0 of {total:,}",
            "next": next_link,
            "previous": previous,
            "first": first,
        }


@dataclass(frozen=True, slots=True)
class Choices:
    """The values the filters' selects offer: what the catalog and the subscriptions know."""

    subscriptions: list[str] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)
    triggers: list[str] = field(default_factory=list)
    channels: dict[str, str] = field(default_factory=dict)
    """Channel id (as events carry it, text) -> its name."""

    def with_current(self, values: Mapping[str, str]) -> Choices:
        """These choices, plus a filter's value they lack (a deleted subscription's name, say), so
        the select still shows what the page is filtered by."""

        def keep(known: list[str], value: str) -> list[str]:
            return known if not value or value in known else [*known, value]

        return Choices(
            subscriptions=keep(self.subscriptions, values.get("subscription", "")),
            entities=keep(self.entities, values.get("entity", "")),
            triggers=keep(self.triggers, values.get("trigger", "")),
            channels=self.channels
            if not values.get("channel") or values["channel"] in self.channels
            else {**self.channels, values["channel"]: values["channel"]},
        )

    def options(self) -> dict[str, list[tuple[str, str]]]:
        """Each select's options as (value, text)."""
        return {
            "subscription": [(name, name) for name in self.subscriptions],
            "entity": [(name, name) for name in self.entities],
            "trigger": [(name, name) for name in self.triggers],
            "channel": [(ident, f"{name} ({ident})") for ident, name in self.channels.items()],
        }


def _channels(catalog: CatalogOut) -> dict[str, str]:
    channels: dict[str, str] = {}
    for entity in catalog.entities:
        for trigger in entity.triggers:
            for component in trigger.components:
                if component.name == "channels" and component.values:
                    channels.update({str(value.id): value.name for value in component.values})
    return channels


async def channel_names(view: Page) -> dict[str, str]:
    """Channel id (as events carry it, text) -> its name in the catalog."""
    return _channels(await view.call(CatalogOut, "get_catalog"))


async def choices(view: Page) -> Choices:
    """Subscription names (both sources), entities, triggers and channel names, for this user."""
    listed = await view.call(SubscriptionList, "list_subscriptions")
    catalog = await view.call(CatalogOut, "get_catalog")
    return Choices(
        subscriptions=sorted(item.name for item in listed.items),
        entities=[entity.name for entity in catalog.entities],
        triggers=sorted({trigger.name for entity in catalog.entities for trigger in entity.triggers}),
        channels=_channels(catalog),
    )


def back_to(value: str | None, default: str) -> str:
    """Where a post goes back to: a path of this site (the list with its filters), never elsewhere."""
    if (
        value
        and value.startswith("/")
        and not value.startswith("//")
        and "\\" not in value
        and not any(ch in value for ch in "\r\n")
    ):
        return value
    return default


def selected_ids(lists: Mapping[str, list[str]], name: str = "ids") -> list[str]:
    """The checked boxes' values, in order, once each."""
    return list(dict.fromkeys(value for value in lists.get(name, []) if value))


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def sentence(parts: Iterable[str]) -> str:
    """``a, b and c``."""
    items = [part for part in parts if part]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


class _Page(Protocol):
    items: Any
    total: int
    next_cursor: str | None


P = TypeVar("P", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Listing(Generic[P]):
    """One page of a filtered list, with what the template needs around it."""

    listed: P
    errors: dict[str, str]
    links: dict[str, Any]
    first_page: str
    params: dict[str, str]
    """The filters as the address keeps them."""


async def fetch_listing(
    view: Page,
    answer: type[P],
    operation_id: str,
    *,
    values: Mapping[str, str],
    asked: Mapping[str, str],
    params: Mapping[str, str],
    base: str,
) -> Listing[P]:
    """The page of ``operation_id`` the address asks for: ``values`` are the filters as typed (the
    days ``since``/``until`` read in the address's ``tz``), ``asked`` what else the API is asked
    and ``params`` what else the address keeps. A filter the API refuses, or a cursor it did not
    make, is an error to show by its field, with an empty list."""
    query = view.request.query
    tz_name = query.get("tz", "")
    since, until, errors = day_range(values.get("since", ""), values.get("until", ""), zone(tz_name))
    wanted: dict[str, Any] = {
        name: value for name, value in values.items() if value and name not in ("since", "until")
    }
    wanted.update(asked)
    if since is not None:
        wanted["since"] = since.isoformat()
    if until is not None:
        wanted["until"] = until.isoformat()
    paging = Paging.of(query)
    listed = answer.model_validate({"items": [], "total": 0, "next_cursor": None})
    if not errors:
        try:
            listed = await view.call(
                answer,
                operation_id,
                query={**wanted, "limit": PAGE_SIZE, **({"cursor": paging.cursor} if paging.cursor else {})},
            )
        except ProblemError as exc:
            if exc.problem.status != 422:
                raise
            errors = filter_errors(exc)
            paging = Paging()
        except InvalidCursor:
            errors = {"cursor": "this page's place in the list is not one this console made"}
            paging = Paging()
    # The filters as the address keeps them (the time zone too, so the days mean the same).
    kept = {name: value for name, value in values.items() if value}
    kept.update(params)
    if tz_name and (values.get("since") or values.get("until")):
        kept["tz"] = tz_name
    page: _Page = listed  # type: ignore[assignment]
    links = paging.links(
        kept, shown=len(page.items), total=page.total, next_cursor=page.next_cursor, base=base
    )
    return Listing(listed, errors, links, base + ("?" + urlencode(kept) if kept else ""), kept)
