"""Matching, as pure functions: a subscription compiles to clauses an event either meets or not.

A clause is one way a subscription can match: entity, event type, and for each
component the set of values accepted. Compiling resolves names to ids and
spells out the catalog's component semantics once, so matching is plain set
membership:

- a component set once per subscription (OnNewActivity channels) applies to
  every trigger of that event type in the subscription;
- a refining component (statuses refine StatusChange activities) splits a
  trigger in two: the refined parent values with the filter, the others without.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from router.catalog import Catalog, ComponentValue
from router.event import DomainEvent
from router.model import Subscription

__all__ = ["Clause", "compile_subscription"]


@dataclass(frozen=True, slots=True)
class Clause:
    """Entity, event type, and (component, accepted values) pairs that must all hold."""

    entity: str
    event_type: str
    constraints: tuple[tuple[str, frozenset[ComponentValue]], ...]

    def accepts(self, event: DomainEvent, catalog: Catalog) -> bool:
        if event.entity != self.entity or event.event_type != self.event_type:
            return False
        return all(catalog.components[name].read(event) in values for name, values in self.constraints)


def _resolve(catalog: Catalog, name: str, raw: Iterable[object]) -> frozenset[ComponentValue]:
    component = catalog.components[name]
    return frozenset(ident for ident in map(component.resolve, raw) if ident is not None)


def compile_subscription(subscription: Subscription, catalog: Catalog) -> tuple[Clause, ...]:
    """The clauses of a subscription that passed :func:`router.rules.catalog_problems`."""
    shared: dict[tuple[str, str], frozenset[ComponentValue]] = {}
    for trigger in subscription.triggers:
        usages = catalog.trigger_components(subscription.entity, trigger.event_type)
        for name, raw in trigger.components.items():
            if usages[name].once_per_subscription:
                shared[(trigger.event_type, name)] = _resolve(catalog, name, raw)

    clauses: list[Clause] = []
    for trigger in subscription.triggers:
        usages = catalog.trigger_components(subscription.entity, trigger.event_type)
        wanted = {name: _resolve(catalog, name, raw) for name, raw in trigger.components.items()}
        for (event_type, name), values in shared.items():
            if event_type == trigger.event_type:
                wanted.setdefault(name, values)
        variants = [wanted]
        for name in list(wanted):
            for parent, refined_raw in (usages[name].refines or {}).items():
                refined = _resolve(catalog, parent, refined_raw)
                split: list[dict[str, frozenset[ComponentValue]]] = []
                for variant in variants:
                    if name not in variant:
                        split.append(variant)
                        continue
                    parent_values = variant.get(parent, refined)
                    narrowed = {**variant, parent: parent_values & refined}
                    if narrowed[parent]:
                        split.append(narrowed)
                    rest = {k: v for k, v in variant.items() if k != name} | {parent: parent_values - refined}
                    if rest[parent]:
                        split.append(rest)
                variants = split
        clauses.extend(
            Clause(subscription.entity, trigger.event_type, tuple(sorted(variant.items())))
            for variant in variants
        )
    return tuple(dict.fromkeys(clauses))
