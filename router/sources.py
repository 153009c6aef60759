"""One Router from both sources of subscriptions: the files and the API-managed ones.

Files own their names: an API-managed subscription whose name a file in force
uses is left out (creating one is refused, and a file version that takes an API
name is refused on reload, so this happens only when both changed at once).
Suspension applies to either source by name; a file's ``active: false`` still
wins, since a suspended subscription is only ever made inactive, never active.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from router.catalog import Catalog
from router.index import Router
from router.model import Subscription
from router.rules import catalog_problems
from router.yamldoc import format_path

__all__ = ["Combined", "combine"]


@dataclass(frozen=True, slots=True)
class Combined:
    """The Router built, and why API-managed subscriptions were left out of it (name -> reason)."""

    router: Router
    left_out: Mapping[str, str]


def combine(
    files: Sequence[Subscription],
    api: Mapping[str, Subscription],
    suspended: Collection[str],
    catalog: Catalog,
) -> Combined:
    """Files first, in their order, then the API-managed subscriptions by name; suspended ones inactive."""
    taken = {sub.name for sub in files}
    left_out: dict[str, str] = {}
    chosen: list[Subscription] = list(files)
    for name in sorted(api):
        sub = api[name]
        if name in taken:
            left_out[name] = "a subscriptions file uses this name; the file's subscription is in force"
            continue
        # The catalog may have changed since the subscription was written: it must still fit.
        problems = catalog_problems(sub.entity, sub.triggers, catalog)
        if problems:
            left_out[name] = "; ".join(f"{format_path(loc)}: {message}" for loc, message in problems)
            continue
        chosen.append(sub)
    effective = [
        sub.model_copy(update={"active": False}) if sub.active and sub.name in suspended else sub
        for sub in chosen
    ]
    return Combined(Router(effective, catalog), left_out)
