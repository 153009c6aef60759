"""What of an event's data a subscription receives; the body around it is sender.webhook.body."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from router.catalog import Catalog
from router.event import DomainEvent
from router.model import Subscription
from sender import webhook

__all__ = ["pick_fields", "shape_body"]

# A path trie: key -> sub-trie, or None for "this whole value".
_Trie = dict[str, "_Trie | None"]


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
    """The webhook body of ``event`` for ``subscription``, its ``data`` trimmed as the subscription says."""
    if subscription.include_complete_data:
        data: Mapping[str, Any] = event.data
    elif subscription.fields:
        data = pick_fields(event.data, subscription.fields)
    else:
        entity = catalog.entities.get(event.entity)
        data = pick_fields(event.data, entity.data_fields) if entity is not None else {}
    return webhook.body(
        event_id=event.event_id,
        event_time=event.event_time,
        event_type=event.event_type,
        entity=event.entity,
        entity_id=event.entity_id,
        current_context=event.current_context,
        data=data,
    )
