"""The router: matching with an index, so its cost does not grow with the subscriptions.

Subscriptions are compiled to clauses (:mod:`router.matching`) and bucketed by
(entity, event type). Within a bucket each component is an inverted index from
value to a bitset of the clauses accepting it; an event's matches are the AND
of one bitset per component, so routing costs a few dict lookups and integer
operations, plus one step per match.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from router.catalog import Catalog, ComponentValue
from router.errors import ConfigIssue, SubscriptionError
from router.event import DomainEvent
from router.matching import Clause, compile_subscription
from router.model import Subscription
from router.rules import catalog_problems
from router.yamldoc import format_path

__all__ = ["Router"]


@dataclass(frozen=True, slots=True)
class _Dimension:
    read: Callable[[DomainEvent], object]
    by_value: dict[ComponentValue, int]
    unconstrained: int


class _Bucket:
    """The clauses of one (entity, event type), indexed by component value."""

    __slots__ = ("_all", "_dimensions", "_owners")

    def __init__(self, clauses: Sequence[tuple[Subscription, Clause]], catalog: Catalog) -> None:
        self._owners = tuple(sub for sub, _ in clauses)
        self._all = (1 << len(clauses)) - 1
        names = sorted({name for _, clause in clauses for name, _ in clause.constraints})
        dimensions = []
        for name in names:
            by_value: dict[ComponentValue, int] = {}
            unconstrained = 0
            for bit, (_, clause) in enumerate(clauses):
                values = dict(clause.constraints).get(name)
                if values is None:
                    unconstrained |= 1 << bit
                    continue
                for value in values:
                    by_value[value] = by_value.get(value, 0) | 1 << bit
            dimensions.append(_Dimension(catalog.components[name].read, by_value, unconstrained))
        self._dimensions = tuple(dimensions)

    def match(self, event: DomainEvent) -> tuple[Subscription, ...]:
        bits = self._all
        for dimension in self._dimensions:
            value = dimension.read(event)
            accepted = dimension.by_value.get(value, 0) if isinstance(value, int | str) else 0
            bits &= accepted | dimension.unconstrained
            if not bits:
                return ()
        found: list[Subscription] = []
        owners = self._owners
        while bits:
            low = bits & -bits
            owner = owners[low.bit_length() - 1]
            # Clauses are in subscription order, so a subscription's clauses are adjacent.
            if not found or found[-1] is not owner:
                found.append(owner)
            bits ^= low
        return tuple(found)


class Router:
    """Matches events to subscriptions. Immutable: a reload builds a new Router.

    Raises SubscriptionError when a subscription does not fit the catalog or a
    name is used twice (``load_subscriptions`` has already reported these with
    files and lines; this guards Routers built in code).
    """

    def __init__(self, subscriptions: Sequence[Subscription], catalog: Catalog) -> None:
        self._subscriptions = tuple(subscriptions)
        # The catalog the subscriptions were checked against is also the one their bodies are
        # shaped with: a reload swaps both at once.
        self.catalog = catalog
        issues: list[ConfigIssue] = []
        self._by_name: dict[str, Subscription] = {}
        for index, sub in enumerate(self._subscriptions):
            for loc, message in catalog_problems(sub.entity, sub.triggers, catalog):
                issues.append(
                    ConfigIssue("<router>", None, format_path(("subscriptions", index, *loc)), message)
                )
            if sub.name in self._by_name:
                issues.append(
                    ConfigIssue(
                        "<router>", None, f"subscriptions[{index}].name", f"name {sub.name!r} is used twice"
                    )
                )
            self._by_name[sub.name] = sub
        if issues:
            raise SubscriptionError(issues)
        grouped: dict[tuple[str, str], list[tuple[Subscription, Clause]]] = {}
        for sub in self._subscriptions:
            if sub.active:
                for clause in compile_subscription(sub, catalog):
                    grouped.setdefault((clause.entity, clause.event_type), []).append((sub, clause))
        self._buckets = {key: _Bucket(clauses, catalog) for key, clauses in grouped.items()}

    @property
    def subscriptions(self) -> Sequence[Subscription]:
        return self._subscriptions

    def get(self, name: str) -> Subscription | None:
        """The subscription's current configuration, active or not (retries deliver with it)."""
        return self._by_name.get(name)

    def match(self, event: DomainEvent) -> Sequence[Subscription]:
        """Active subscriptions whose entity, trigger and components match, in configuration order."""
        bucket = self._buckets.get((event.entity, event.event_type))
        return bucket.match(event) if bucket is not None else ()
