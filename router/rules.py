"""Rules a subscription must follow beyond its types: the catalog, URLs, field paths.

Each check returns ``(location, message)`` pairs, the location relative to the
subscription, so the loader can attach file and line. Messages never quote a
secret: they name the key, the variable or the file instead.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from router.catalog import Catalog, ComponentValue, suggest
from router.model import Subscription
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


def subscription_problems(sub: Subscription, catalog: Catalog, *, development: bool) -> list[Problem]:
    """Every rule of one subscription: catalog, endpoint and auth URLs, field paths."""
    problems = catalog_problems(sub, catalog)
    endpoint = sub.endpoint
    message = url_problem(endpoint.url, development=development)
    if message:
        problems.append((("endpoint", "url"), message))
    if endpoint.type == "soap" and "://" in endpoint.wsdl:
        message = url_problem(endpoint.wsdl, development=development)
        if message:
            problems.append((("endpoint", "wsdl"), message))
    token_url = getattr(sub.auth, "token_url", None)
    if isinstance(token_url, str):
        message = url_problem(token_url, development=development)
        if message:
            problems.append((("auth", "token_url"), message))
    if sub.fields and sub.include_complete_data:
        problems.append(
            (("fields",), "fields picks from the complete data; leave out include_complete_data or fields")
        )
    for index, path in enumerate(sub.fields):
        if not path or not all(path.split(".")):
            problems.append((("fields", index), f"{path!r} is not a dotted path such as customer.id"))
    return problems


def catalog_problems(sub: Subscription, catalog: Catalog) -> list[Problem]:
    """Entity, triggers and their components against the catalog."""
    entity = catalog.entities.get(sub.entity)
    if entity is None:
        return [(("entity",), f"unknown entity {sub.entity!r}" + suggest(sub.entity, catalog.entities))]
    problems: list[Problem] = []
    # (event type, component) -> value -> index of the trigger that chose it
    chosen: dict[tuple[str, str], dict[ComponentValue, int]] = {}
    once: dict[tuple[str, str], int] = {}
    for index, trigger in enumerate(sub.triggers):
        base: Loc = ("triggers", index)
        tdef = entity.triggers.get(trigger.event_type)
        if tdef is None:
            problems.append(
                (
                    (*base, "event_type"),
                    f"{sub.entity} has no trigger {trigger.event_type!r}"
                    + suggest(trigger.event_type, entity.triggers),
                )
            )
            continue
        listed = trigger.components
        for name, raw in listed.items():
            loc: Loc = (*base, name)
            usage = tdef.components.get(name)
            component = catalog.components.get(name)
            if usage is None or component is None:
                has = f"; it has: {', '.join(sorted(tdef.components))}" if tdef.components else ""
                problems.append(
                    (loc, f"unknown key: not a component of {sub.entity}.{trigger.event_type}" + has)
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
                            f"{value!r} is not one of the {name}"
                            + suggest(str(value), list(component.by_id().values())),
                        )
                    )
                elif allowed is not None and ident not in allowed:
                    problems.append(
                        (
                            (*loc, position),
                            f"{component.name_of(ident)} is not allowed for {trigger.event_type}; allowed: "
                            + ", ".join(
                                component.name_of(a) for a in sorted(allowed, key=str) if a is not None
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
                            + ", ".join(
                                parent_def.name_of(w) for w in sorted(wanted, key=str) if w is not None
                            )
                            + f", which this trigger's {parent} leave out",
                        )
                    )
    return problems
