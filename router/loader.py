"""Loading subscriptions from one YAML file or a folder of them (a mounted ConfigMap)."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from router.catalog import Catalog
from router.errors import ConfigIssue, SubscriptionError
from router.model import Subscription, SubscriptionsFile
from router.rules import subscription_problems
from router.yamldoc import YamlDocument, read_yaml, real_path

__all__ = ["SUFFIXES", "load_subscriptions", "subscription_files"]

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


def _pydantic_message(error_type: str, message: str) -> str:
    if error_type == "extra_forbidden":
        return "unknown key"
    if error_type == "missing":
        return "required"
    return message.removeprefix("Value error, ")


def _parse(doc: YamlDocument) -> list[tuple[int, Subscription]] | list[ConfigIssue]:
    if doc.data is None:
        return [doc.issue((), "empty file; expected 'subscriptions:' with a list of subscriptions")]
    try:
        parsed = SubscriptionsFile.model_validate(doc.data)
    except ValidationError as exc:
        issues: dict[tuple[str, str], ConfigIssue] = {}
        for err in exc.errors(include_input=False, include_url=False):
            issue = doc.issue(real_path(doc.data, err["loc"]), _pydantic_message(err["type"], err["msg"]))
            issues.setdefault((issue.path, issue.message), issue)
        return list(issues.values())
    return list(enumerate(parsed.subscriptions))


def load_subscriptions(path: Path, catalog: Catalog, *, development: bool = False) -> list[Subscription]:
    """Every subscription in ``path``, checked; raises SubscriptionError listing every issue.

    ``development`` allows plain http URLs. Names must be unique across all files.
    """
    files = subscription_files(path)
    issues: list[ConfigIssue] = []
    if not path.exists():
        issues.append(ConfigIssue(str(path), None, "", "no such file or folder"))
    elif not files:
        issues.append(ConfigIssue(str(path), None, "", "the folder holds no *.yaml or *.yml file"))
    loaded: list[Subscription] = []
    first_use: dict[str, str] = {}
    for file in files:
        doc = read_yaml(file)
        issues.extend(doc.issues)
        if doc.data is None and doc.issues:
            continue
        parsed = _parse(doc)
        for item in parsed:
            if isinstance(item, ConfigIssue):
                issues.append(item)
                continue
            index, sub = item
            base = ("subscriptions", index)
            for loc, message in subscription_problems(sub, catalog, development=development):
                issues.append(doc.issue((*base, *loc), message))
            where = f"{doc.file}:{doc.line_of((*base, 'name'))}"
            if sub.name in first_use:
                issues.append(
                    doc.issue((*base, "name"), f"name {sub.name!r} is already used at {first_use[sub.name]}")
                )
            else:
                first_use[sub.name] = where
            loaded.append(sub)
    if issues:
        raise SubscriptionError(issues)
    return loaded
