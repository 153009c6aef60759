"""Loading subscriptions from one YAML file or a folder of them (a mounted ConfigMap).

Each subscription is validated on its own and every rule runs on every one, so
a file is rejected with all of its problems at once, in the order written.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from router.catalog import Catalog
from router.errors import ConfigIssue, SubscriptionError
from router.model import Subscription
from router.rules import subscription_problems
from router.yamldoc import YamlDocument, read_yaml

__all__ = ["SUFFIXES", "check_subscription", "load_subscriptions", "subscription_files"]

SUFFIXES = (".yaml", ".yml")


def subscription_files(path: Path) -> list[Path]:
    """The files ``path`` stands for: itself, or the folder's *.yaml and *.yml, by name.

    Dot-names are skipped: a ConfigMap mount keeps its versions in ``..data``
    and ``..<timestamp>`` folders beside the links users see.
    """
    if not path.is_dir():
        return [path]
    return sorted(
        child
        for child in path.iterdir()
        if child.suffix in SUFFIXES and not child.name.startswith(".") and child.is_file()
    )


class _FileLoad:
    """The subscriptions of one document, and the issues found in it."""

    def __init__(
        self, doc: YamlDocument, catalog: Catalog, development: bool, resolve_secrets: bool = True
    ) -> None:
        self.doc = doc
        self.issues: list[ConfigIssue] = list(doc.issues)
        # (index, name or None, subscription or None when invalid)
        self.entries: list[tuple[int, str | None, Subscription | None]] = []
        data = doc.data
        if data is None:
            if not doc.issues:
                self.issues.append(doc.issue((), "empty file; expected 'subscriptions:' and a list"))
            return
        if not isinstance(data, Mapping):
            self.issues.append(doc.issue((), "expected a mapping with the key 'subscriptions'"))
            return
        for key in data:
            if key != "subscriptions":
                self.issues.append(doc.issue((key,), "unknown key; the file holds 'subscriptions' only"))
        items = data.get("subscriptions")
        if not isinstance(items, list):
            message = "required" if "subscriptions" not in data else "must be a list of subscriptions"
            self.issues.append(doc.issue(("subscriptions",), message))
            return
        for index, raw in enumerate(items):
            self._load_one(index, raw, catalog, development, resolve_secrets)

    def _load_one(
        self, index: int, raw: Any, catalog: Catalog, development: bool, resolve_secrets: bool
    ) -> None:
        base = ("subscriptions", index)
        sub: Subscription | None = None
        try:
            sub = Subscription.model_validate(raw, context={"resolve_secrets": resolve_secrets})
        except ValidationError as exc:
            self.issues.extend(self.doc.validation_issues(exc, raw, base))
        if isinstance(raw, Mapping):
            for loc, message in subscription_problems(raw, catalog, development=development):
                self.issues.append(self.doc.issue((*base, *loc), message))
            name = raw.get("name")
            self.entries.append((index, name if isinstance(name, str) else None, sub))


def load_subscriptions(
    path: Path,
    catalog: Catalog,
    *,
    development: bool = False,
    resolve_secrets: bool = True,
    reserved: Mapping[str, str] | None = None,
) -> list[Subscription]:
    """Every subscription in ``path``, checked; raises SubscriptionError listing every issue.

    ``path`` is one YAML file or a folder of them. ``development`` allows plain
    http URLs. Names must be unique across all files. Without ``resolve_secrets``
    secret references are checked for form only and left unresolved: such
    subscriptions can be checked, not delivered with. ``reserved`` maps names
    the files may not take to who holds them (the API-managed subscriptions).
    """
    issues: list[ConfigIssue] = []
    files = subscription_files(path)
    if not path.exists():
        issues.append(ConfigIssue(str(path), None, "", "no such file or folder"))
        files = []
    elif not files:
        issues.append(ConfigIssue(str(path), None, "", "the folder holds no *.yaml or *.yml file"))
    loaded: list[Subscription] = []
    first_use: dict[str, str] = dict(reserved or {})
    for file in files:
        load = _FileLoad(read_yaml(file), catalog, development, resolve_secrets)
        for index, name, sub in load.entries:
            if name is None:
                continue
            where = (*("subscriptions", index), "name")
            if name in first_use:
                load.issues.append(
                    load.doc.issue(where, f"name {name!r} is already used at {first_use[name]}")
                )
            else:
                first_use[name] = f"{load.doc.file}:{load.doc.line_of(where)}"
            if sub is not None:
                loaded.append(sub)
        issues.extend(sorted(load.issues, key=lambda issue: issue.line or 0))
    if issues:
        raise SubscriptionError(issues)
    return loaded


def check_subscription(
    raw: Any,
    catalog: Catalog,
    *,
    development: bool = False,
    resolve_secrets: bool = True,
    where: str = "<body>",
) -> Subscription:
    """One subscription given as data (an API body), checked by the same model and rules as a file.

    Raises SubscriptionError with every issue, each with its path in ``raw``
    (``auth.token_url``, ``triggers[0].event_type``) and no line.
    """
    doc = YamlDocument(where, raw)
    issues: list[ConfigIssue] = []
    sub: Subscription | None = None
    try:
        sub = Subscription.model_validate(raw, context={"resolve_secrets": resolve_secrets})
    except ValidationError as exc:
        issues.extend(doc.validation_issues(exc, raw))
    if isinstance(raw, Mapping):
        issues.extend(
            doc.issue(loc, message)
            for loc, message in subscription_problems(raw, catalog, development=development)
        )
    if issues or sub is None:
        raise SubscriptionError(issues)
    return sub
