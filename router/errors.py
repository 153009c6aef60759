"""The router's exceptions and the one issue type they carry.

Exception tree::

    RouterError                 base of everything the router raises on purpose
    └── SubscriptionError       the configuration is invalid; ``.issues`` lists every problem
        └── CatalogError        the event catalog itself is invalid

``CatalogError`` is a ``SubscriptionError`` because subscriptions are only ever
valid against a catalog: whoever loads subscriptions (the service at start-up,
the hot reload, ``hookstream validate``) catches one type and shows every issue.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["CatalogError", "ConfigIssue", "RouterError", "SubscriptionError"]


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One problem in a configuration file.

    ``path`` is where in the document, e.g. ``subscriptions[2].auth.token_url``
    (empty for the document as a whole); ``line`` is 1-based, None when unknown.
    Messages never hold a secret's value.
    """

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class RouterError(Exception):
    """Base of the router's exceptions."""


class SubscriptionError(RouterError):
    """Subscriptions (or the catalog they are checked against) are invalid."""

    def __init__(self, issues: Iterable[ConfigIssue]) -> None:
        self.issues: list[ConfigIssue] = list(issues)
        count = len(self.issues)
        lines = "\n".join(f"  {issue}" for issue in self.issues)
        super().__init__(f"{count} configuration error{'s' if count != 1 else ''}:\n{lines}")


class CatalogError(SubscriptionError):
    """The event catalog is invalid."""
