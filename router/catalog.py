"""The event catalog: which entities exist, their triggers, components and trimmed data.

The catalog is data (config/catalog.yaml) so a deployment adds its own entities,
triggers and components without code. A component is a filter a trigger may
carry (``activity_types``, ``statuses``, ...): it names the event field it
compares (a :class:`~router.event.DomainEvent` attribute, or ``data.<dotted
path>`` for extensions) and its allowed values, each an id with a name. Users
may write either in a subscription; both resolve to the id.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from router.errors import CatalogError, ConfigIssue
from router.event import DomainEvent
from router.yamldoc import YamlDocument, read_yaml

__all__ = [
    "EVENT_FIELDS",
    "Catalog",
    "ComponentDef",
    "ComponentValue",
    "EntityDef",
    "TriggerComponent",
    "TriggerDef",
    "load_catalog",
    "suggest",
]

ComponentValue = int | str

#: DomainEvent attributes a component may compare; anything else is read from ``data.<path>``.
EVENT_FIELDS = frozenset({"brand", "channel", "subchannel", "activity_type", "status_id", "whatsapp_status"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ComponentDef(_Model):
    """A filter kind and its allowed values."""

    description: str = ""
    event_field: str = Field(
        description="DomainEvent attribute compared (activity_type, status_id, channel, subchannel, "
        "whatsapp_status, brand), or data.<dotted path> into the event's data"
    )
    values: dict[int, str] | tuple[str, ...] | None = Field(
        default=None,
        description="id -> name, or a list of names that are their own ids; left out, any value is "
        "accepted and compared as text (brands)",
    )
    every_trigger: bool = Field(
        default=False, description="every trigger of every entity may filter on it (brands)"
    )

    def by_id(self) -> dict[ComponentValue, str]:
        if self.values is None:
            return {}
        if isinstance(self.values, tuple):
            return {value: value for value in self.values}
        return {ident: name for ident, name in self.values.items()}

    def resolve(self, value: object) -> ComponentValue | None:
        """The id ``value`` stands for (an id, or a name in any letter case), None if none."""
        if isinstance(value, bool) or not isinstance(value, int | str):
            return None
        if self.values is None:
            return str(value)
        ids = self.by_id()
        if value in ids:
            return value
        if isinstance(value, str):
            folded = value.casefold()
            for ident, name in ids.items():
                if name.casefold() == folded:
                    return ident
        return None

    def name_of(self, ident: ComponentValue) -> str:
        return self.by_id().get(ident, str(ident))

    def read(self, event: DomainEvent) -> object:
        """The event's value for this component (None when the event has none)."""
        if self.event_field.startswith("data."):
            node: Any = event.data
            for part in self.event_field[5:].split("."):
                if not isinstance(node, Mapping):
                    return None
                node = node.get(part)
        else:
            node = getattr(event, self.event_field)
        if self.values is None and isinstance(node, int | str) and not isinstance(node, bool):
            return str(node)
        return node


class TriggerComponent(_Model):
    """How one trigger uses a component."""

    allowed: tuple[ComponentValue, ...] | None = Field(
        default=None, description="only these values (ids or names) are valid for this trigger"
    )
    refines: dict[str, tuple[ComponentValue, ...]] | None = Field(
        default=None,
        description="{component: values}: this filter applies only to events whose <component> is one "
        "of these values (statuses refine the StatusChange activity); a trigger that leaves "
        "<component> out is limited to those values",
    )
    unique_across_triggers: bool = Field(
        default=False, description="a value may be chosen in one trigger of a subscription only"
    )
    once_per_subscription: bool = Field(
        default=False,
        description="set in at most one trigger of this event type per subscription; applies to all of them",
    )


_ANY_TRIGGER = TriggerComponent()


class TriggerDef(_Model):
    description: str = ""
    components: dict[str, TriggerComponent] = Field(default_factory=dict)


class EntityDef(_Model):
    description: str = ""
    data_fields: tuple[str, ...] = Field(
        description="the trimmed data: dotted paths sent unless a subscription asks for more or other fields"
    )
    triggers: dict[str, TriggerDef] = Field(min_length=1)


class Catalog(_Model):
    """Entities, their triggers and the components those triggers may filter on."""

    components: dict[str, ComponentDef] = Field(default_factory=dict)
    entities: dict[str, EntityDef] = Field(min_length=1)

    def trigger_components(self, entity: str, event_type: str) -> dict[str, TriggerComponent]:
        """The components a trigger may filter on: its own and those open to every trigger."""
        usages = {name: _ANY_TRIGGER for name, comp in self.components.items() if comp.every_trigger}
        found = self.entities.get(entity)
        trigger = found.triggers.get(event_type) if found is not None else None
        if trigger is not None:
            usages.update(trigger.components)
        return usages


def suggest(word: str, choices: Mapping[str, object] | tuple[str, ...] | list[str]) -> str:
    """`` (did you mean 'X'?)`` when a choice is close, else the list of choices."""
    names = sorted(str(choice) for choice in choices)
    close = difflib.get_close_matches(word, names, n=1)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; expected one of: {', '.join(names)}" if names else ""


def load_catalog(path: Path) -> Catalog:
    """Read and check config/catalog.yaml (or a deployment's own); raises CatalogError with every issue."""
    doc = read_yaml(path)
    issues = list(doc.issues)
    if doc.data is None and not issues:
        issues.append(ConfigIssue(doc.file, None, "", "empty catalog"))
    if issues:
        raise CatalogError(issues)
    try:
        catalog = Catalog.model_validate(doc.data)
    except ValidationError as exc:
        raise CatalogError(doc.validation_issues(exc, doc.data)) from None
    issues = _cross_check(catalog, doc)
    if issues:
        raise CatalogError(issues)
    return catalog


def _cross_check(catalog: Catalog, doc: YamlDocument) -> list[ConfigIssue]:
    """What the model cannot say alone: references between components and triggers."""
    issues: list[ConfigIssue] = []
    for name, component in catalog.components.items():
        field = component.event_field
        if field not in EVENT_FIELDS and not (field.startswith("data.") and all(field[5:].split("."))):
            issues.append(
                doc.issue(
                    ("components", name, "event_field"),
                    f"{field!r} is neither an event field ({', '.join(sorted(EVENT_FIELDS))}) "
                    "nor data.<dotted path>",
                )
            )
    for entity_name, entity in catalog.entities.items():
        for trigger_name, trigger in entity.triggers.items():
            base = ("entities", entity_name, "triggers", trigger_name, "components")
            for comp_name, usage in trigger.components.items():
                known = catalog.components.get(comp_name)
                if known is None:
                    issues.append(
                        doc.issue(
                            (*base, comp_name), "unknown component" + suggest(comp_name, catalog.components)
                        )
                    )
                    continue
                for index, value in enumerate(usage.allowed or ()):
                    if known.resolve(value) is None:
                        issues.append(
                            doc.issue(
                                (*base, comp_name, "allowed", index), f"{value!r} is not a {comp_name} value"
                            )
                        )
                for parent, values in (usage.refines or {}).items():
                    parent_def = catalog.components.get(parent)
                    if parent not in trigger.components or parent_def is None:
                        issues.append(
                            doc.issue(
                                (*base, comp_name, "refines", parent),
                                f"{parent!r} is not a component of this trigger",
                            )
                        )
                        continue
                    for index, value in enumerate(values):
                        if parent_def.resolve(value) is None:
                            issues.append(
                                doc.issue(
                                    (*base, comp_name, "refines", parent, index),
                                    f"{value!r} is not a {parent} value",
                                )
                            )
    return issues
