"""The webhook body, as a pure function of the event, the subscription and the catalog."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from router.catalog import Catalog
from router.event import DomainEvent
from router.model import Subscription

__all__ = ["format_time", "pick_fields", "shape_body"]

# A path trie: key -> sub-trie, or None for "this whole value".
_Trie = dict[str, "_Trie | None"]


def format_time(moment: datetime) -> str:
    """ISO-8601 in UTC with milliseconds: ``2026-11-23T10:00:00.123Z``. Naive times are taken as UTC."""
    tz = moment.tzinfo
    if tz is not None and tz is not UTC:  # decoded events are in UTC already: no conversion on the hot path
        moment = moment.astimezone(UTC)
    # Formatting the fields by hand costs half of isoformat() and its offset suffix.
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (  # noqa: UP031
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond // 1000,
    )


@lru_cache(maxsize=4096)
def _trie(paths: tuple[str, ...]) -> _Trie:
    root: _Trie = {}
    for path in paths:
        node = root
        parts = path.split(".")
        for part in parts[:-1]:
            child = node.get(part, {})
            if child is None:  # an ancestor is taken whole already
                break
            node[part] = child
            node = child
        else:
            node[parts[-1]] = None
    return root


def _pick(value: Mapping[str, Any] | list[Any], trie: _Trie) -> Any:
    # dict first: decoded JSON is made of dicts, and an ABC isinstance check costs several times more.
    if type(value) is dict or isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, sub in trie.items():
            if key not in value:
                continue
            child = value[key]
            if sub is None:
                out[key] = child
            elif type(child) is dict or isinstance(child, Mapping | list):
                out[key] = _pick(child, sub)
        return out
    return [_pick(item, trie) for item in value if isinstance(item, Mapping | list)]


def pick_fields(data: Mapping[str, Any], paths: Sequence[str]) -> dict[str, Any]:
    """Only the dotted ``paths`` of ``data``, nested as they were; missing paths are left out.

    A path through a list applies to each of its objects (``items.sku`` keeps the
    sku of every item).
    """
    picked: dict[str, Any] = _pick(data, _trie(tuple(paths)))
    return picked


def shape_body(event: DomainEvent, subscription: Subscription, catalog: Catalog) -> dict[str, Any]:
    """The JSON body of the webhook (DESIGN.md, "Webhook request")."""
    if subscription.include_complete_data:
        data: Mapping[str, Any] = event.data
    elif subscription.fields:
        data = pick_fields(event.data, subscription.fields)
    else:
        entity = catalog.entities.get(event.entity)
        data = pick_fields(event.data, entity.data_fields) if entity is not None else {}
    return {
        "event_id": event.event_id,
        "event_time": format_time(event.event_time),
        "event_type": event.event_type,
        "entity": event.entity,
        "entity_id": event.entity_id,
        "current_context": event.current_context,
        "data": data,
    }
