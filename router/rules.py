"""Rules a subscription must follow beyond its types: the catalog, URLs, field paths.

Each check returns ``(location, message)`` pairs, the location relative to the
subscription, so the loader can attach file and line. Messages never quote a
secret: they name the key, the variable or the file instead.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, ValidationError

from router.catalog import Catalog, ComponentDef, ComponentValue, suggest
from router.model import Trigger
from router.yamldoc import Loc

__all__ = ["Problem", "catalog_problems", "subscription_problems", "url_problem"]

Problem = tuple[Loc, str]


def url_problem(url: str, *, development: bool) -> str | None:
    """Why ``url`` cannot be delivered to, or None. Plain http only in development mode."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:
        return f"not a valid URL: {exc}"
    if parts.scheme not in ("https", "http") or not host:
        return "must be an absolute https:// URL"
    if parts.scheme == "http" and not development:
        return "must use https (plain http is allowed only in development mode)"
    return None


class _RoutingPart(BaseModel):
    """Entity and triggers alone, so the catalog rules run even when other keys are wrong."""

    model_config = ConfigDict(extra="ignore")

    entity: str
    triggers: tuple[Trigger, ...]


def subscription_problems(raw: Mapping[str, Any], catalog: Catalog, *, development: bool) -> list[Problem]:
    """Every rule of one subscription as written: catalog, endpoint and auth URLs, field paths.

    Works on the raw mapping so that these problems are reported together with
    the model's own errors, not only once those are fixed.
    """
    problems: list[Problem] = []
    try:
        routing = _RoutingPart.model_validate(raw)
    except ValidationError:
        pass  # the model's errors report it
    else:
        problems.extend(catalog_problems(routing.entity, routing.triggers, catalog))
    endpoint = raw.get("endpoint")
    auth = raw.get("auth")
    urls: list[tuple[Loc, object]] = []
    if isinstance(endpoint, Mapping):
        urls.append((("endpoint", "url"), endpoint.get("url")))
        wsdl = endpoint.get("wsdl")
        if isinstance(wsdl, str) and "://" in wsdl:
            urls.append((("endpoint", "wsdl"), wsdl))
    if isinstance(auth, Mapping) and "token_url" in auth:
        urls.append((("auth", "token_url"), auth.get("token_url")))
    for loc, url in urls:
        message = url_problem(url, development=development) if isinstance(url, str) else None
        if message:
            problems.append((loc, message))
    fields = raw.get("fields")
    if fields and raw.get("include_complete_data") is True:
        problems.append(
            (("fields",), "fields picks from the complete data; leave out include_complete_data or fields")
        )
    if isinstance(fields, list):
        for index, path in enumerate(fields):
            if isinstance(path, str) and not all(path.split(".")):
                problems.append((("fields", index), f"{path!r} is not a dotted path such as customer.id"))
    return problems


def catalog_problems(entity_name: str, triggers: Sequence[Trigger], catalog: Catalog) -> list[Problem]:
    """Entity, triggers and their components against the catalog."""
    entity = catalog.entities.get(entity_name)
    if entity is None:
        return [(("entity",), f"unknown entity {entity_name!r}" + suggest(entity_name, catalog.entities))]
    problems: list[Problem] = []
    # (event type, component) -> value -> index of the trigger that chose it
    chosen: dict[tuple[str, str], dict[ComponentValue, int]] = {}
    once: dict[tuple[str, str], int] = {}
    for index, trigger in enumerate(triggers):
        base: Loc = ("triggers", index)
        tdef = entity.triggers.get(trigger.event_type)
        if tdef is None:
            problems.append(
                (
                    (*base, "event_type"),
                    f"{entity_name} has no trigger {trigger.event_type!r}"
                    + suggest(trigger.event_type, entity.triggers),
                )
            )
            continue
        listed = trigger.components
        for name, raw in listed.items():
            loc: Loc = (*base, name)
            usages = catalog.trigger_components(entity_name, trigger.event_type)
            usage = usages.get(name)
            component = catalog.components.get(name)
            if usage is None or component is None:
                has = f"; it has: {', '.join(sorted(usages))}" if usages else ""
                problems.append(
                    (loc, f"unknown key: not a component of {entity_name}.{trigger.event_type}" + has)
                )
                continue
            if not isinstance(raw, list | tuple) or not raw:
                problems.append((loc, "must list at least one value (leave the key out to match any)"))
                continue
            allowed = {component.resolve(v) for v in usage.allowed} if usage.allowed is not None else None
            for position, value in enumerate(raw):
                ident = component.resolve(value)
                if ident is None:
                    problems.append(
                        (
                            (*loc, position),
                            f"{value!r} is not one of the {name} in the catalog" + _close(value, component),
                        )
                    )
                elif allowed is not None and ident not in allowed:
                    problems.append(
                        (
                            (*loc, position),
                            f"{component.name_of(ident)} is not allowed for {trigger.event_type}; allowed: "
                            + ", ".join(
                                name for ident, name in component.by_id().items() if ident in allowed
                            ),
                        )
                    )
                elif usage.unique_across_triggers:
                    seen = chosen.setdefault((trigger.event_type, name), {})
                    if ident in seen and seen[ident] != index:
                        problems.append(
                            (
                                (*loc, position),
                                f"{component.name_of(ident)} is already chosen in triggers[{seen[ident]}]; "
                                f"each of the {name} may be chosen in one trigger only",
                            )
                        )
                    seen.setdefault(ident, index)
            if usage.once_per_subscription:
                key = (trigger.event_type, name)
                if key in once:
                    problems.append(
                        (
                            loc,
                            f"{name} of {trigger.event_type} are set once per subscription "
                            f"(already in triggers[{once[key]}]) and apply to all its "
                            f"{trigger.event_type} triggers",
                        )
                    )
                once.setdefault(key, index)
            for parent, refined in (usage.refines or {}).items():
                parent_def = catalog.components.get(parent)
                parent_values = listed.get(parent)
                if parent_def is None or not isinstance(parent_values, list | tuple):
                    continue
                wanted = {parent_def.resolve(v) for v in refined}
                if not wanted & {parent_def.resolve(v) for v in parent_values}:
                    problems.append(
                        (
                            loc,
                            f"{name} apply only to {parent} "
                            + ", ".join(name for ident, name in parent_def.by_id().items() if ident in wanted)
                            + f", which this trigger's {parent} leave out",
                        )
                    )
    return problems


def _close(value: object, component: ComponentDef) -> str:
    close = difflib.get_close_matches(str(value), list(component.by_id().values()), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""
