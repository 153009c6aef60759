"""Subscriptions managed at run time: the service layer the admin API and the console call.

Two sources are shown together: files (read-only here, ``source: "file"``) and
API-managed subscriptions (``source: "api"``), kept in the compacted topic
``<prefix>.subscriptions`` (see :mod:`admin.subscription_records`). Every change
is one record written through a :class:`SubscriptionLog`, which returns once
this process has applied it, so a caller reads what it wrote. Suspend and
resume work for both sources.

Validation is the model and rules of files (:func:`router.loader.check_subscription`):
an invalid subscription is refused with every issue and its path. Secrets typed
in are encrypted before they are written, and nothing a read returns holds one
(:data:`MASK` stands in their place; written back, it keeps the stored secret).
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, SecretStr

from admin.secrets import SecretBox
from admin.subscription_records import (
    MASK,
    Change,
    StoredSubscription,
    SubscriptionRegistry,
    encode_state,
    encode_subscription,
    masked,
    replace_at,
    sealed_tokens,
    state_key,
    subscription_key,
    take_in,
)
from router import Catalog, ConfigIssue, Subscription, SubscriptionError
from router.durations import format_duration
from router.loader import check_subscription

__all__ = [
    "NameTaken",
    "ReadOnlySubscription",
    "Source",
    "SubscriptionLog",
    "SubscriptionNotFound",
    "SubscriptionService",
    "SubscriptionView",
]

log = logging.getLogger(__name__)

Source = Literal["file", "api"]


class SubscriptionLog(Protocol):
    """The subscriptions topic, as the service layer writes it (implemented in consumer/)."""

    async def write(self, key: str, value: bytes | None) -> None:
        """Write one record (None: a tombstone); return once this process has applied it."""
        ...


class SubscriptionNotFound(LookupError):
    """No subscription of either source has this name."""


class NameTaken(Exception):
    """The name is already used, by a file or by an API-managed subscription."""


class ReadOnlySubscription(Exception):
    """A file subscription is changed through its file, not through the API (suspend and resume excepted)."""


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    """One subscription as reads show it: never a secret.

    ``active`` is whether it delivers now: configured active and not suspended.
    ``config`` is the subscription as written (API) or as loaded (file), with
    every secret shown as :data:`MASK`; a ``${ENV}`` or file reference is shown
    as written. ``problems`` says why an API-managed subscription cannot be
    delivered with in this process (empty when it can).
    """

    name: str
    source: Source
    entity: str
    active: bool
    suspended: bool
    config: Mapping[str, Any]
    created_at: datetime | None = None
    created_by: str | None = None
    modified_at: datetime | None = None
    modified_by: str | None = None
    suspended_at: datetime | None = None
    suspended_by: str | None = None
    problems: tuple[str, ...] = ()


class SubscriptionService:
    """List, read, validate, create, replace, delete, suspend and resume subscriptions.

    ``files`` gives the file subscriptions in force and ``catalog`` the catalog
    in force (both change on reload); ``registry`` is the state this process
    applied from the topic that ``log`` writes.
    """

    def __init__(
        self,
        log_: SubscriptionLog,
        registry: SubscriptionRegistry,
        *,
        files: Callable[[], Sequence[Subscription]],
        catalog: Callable[[], Catalog],
        box: SecretBox,
        development: bool = False,
        topic: str = "the subscriptions topic",
    ) -> None:
        self._log = log_
        self._registry = registry
        self._files = files
        self._catalog = catalog
        self._box = box
        self._development = development
        self._topic = topic

    # -- reads -------------------------------------------------------------------------------

    def list(
        self,
        *,
        entity: str | None = None,
        active: bool | None = None,
        source: Source | None = None,
        name_contains: str | None = None,
    ) -> builtins.list[SubscriptionView]:
        """Every subscription, files first in their order, then API-managed ones by name."""
        views = [self._file_view(sub) for sub in self._files()]
        views += [self._api_view(stored) for _, stored in sorted(self._registry.api.items())]
        needle = name_contains.lower() if name_contains else None
        return [
            view
            for view in views
            if (entity is None or view.entity == entity)
            and (active is None or view.active == active)
            and (source is None or view.source == source)
            and (needle is None or needle in view.name.lower())
        ]

    def get(self, name: str) -> SubscriptionView:
        file_sub = self._file(name)
        if file_sub is not None:
            return self._file_view(file_sub)
        stored = self._registry.api.get(name)
        if stored is None:
            raise SubscriptionNotFound(name)
        return self._api_view(stored)

    def validate(self, body: Any, *, name: str | None = None) -> builtins.list[ConfigIssue]:
        """A dry run of create (or of replace, with ``name``): every issue, none when valid."""
        try:
            self._check(body, name=name)
        except SubscriptionError as exc:
            return exc.issues
        return []

    # -- changes -----------------------------------------------------------------------------

    async def create(self, body: Any, *, actor: str) -> SubscriptionView:
        """Raises SubscriptionError (invalid, with every issue) or NameTaken."""
        stored, sub = self._check(body)
        self._refuse_taken(sub.name)
        now = Change.now(actor)
        await self._log.write(subscription_key(sub.name), encode_subscription(stored, now, now))
        log.info("subscription created", extra={"subscription": sub.name, "actor": actor})
        return self.get(sub.name)

    async def replace(self, name: str, body: Any, *, actor: str) -> SubscriptionView:
        """The whole subscription anew; a :data:`MASK` where a secret was keeps that secret."""
        current = self._api(name)
        stored, _sub = self._check(body, name=name)
        await self._log.write(
            subscription_key(name), encode_subscription(stored, current.created, Change.now(actor))
        )
        log.info("subscription replaced", extra={"subscription": name, "actor": actor})
        return self.get(name)

    async def delete(self, name: str, *, actor: str) -> None:
        self._api(name)
        await self._log.write(subscription_key(name), None)
        if name in self._registry.states:
            await self._log.write(state_key(name), None)
        log.info("subscription deleted", extra={"subscription": name, "actor": actor})

    async def suspend(self, name: str, *, actor: str) -> SubscriptionView:
        """Stop delivering to it (either source); a retry that comes due meanwhile is stored as failed."""
        return await self._set_suspended(name, True, actor)

    async def resume(self, name: str, *, actor: str) -> SubscriptionView:
        """Deliver again (a file subscription's ``active: false`` still holds)."""
        return await self._set_suspended(name, False, actor)

    async def rotate_secrets(self, *, actor: str) -> int:
        """Encrypt again with the newest key every secret an older key encrypted; how many subscriptions
        were rewritten. Run it after putting a new key first in HOOKSTREAM_SECRET_KEY, then drop the old."""
        rewritten = 0
        for name, stored in sorted(self._registry.api.items()):
            config = dict(stored.config)
            changed = False
            for loc, token in sealed_tokens(stored.config):
                if not self._box.is_current(token):
                    config = replace_at(config, loc, {"$encrypted": self._box.rotate(token)})
                    changed = True
            if changed:
                value = encode_subscription(config, stored.created, stored.modified)
                await self._log.write(subscription_key(name), value)
                rewritten += 1
        if rewritten:
            log.info("secrets encrypted with the newest key", extra={"count": rewritten, "actor": actor})
        return rewritten

    # -- helpers -----------------------------------------------------------------------------

    async def _set_suspended(self, name: str, suspended: bool, actor: str) -> SubscriptionView:
        if self._file(name) is None and name not in self._registry.api:
            raise SubscriptionNotFound(name)
        await self._log.write(state_key(name), encode_state(suspended, Change.now(actor)))
        log.info(
            "subscription suspended" if suspended else "subscription resumed",
            extra={"subscription": name, "actor": actor},
        )
        return self.get(name)

    def _file(self, name: str) -> Subscription | None:
        return next((sub for sub in self._files() if sub.name == name), None)

    def _api(self, name: str) -> StoredSubscription:
        if self._file(name) is not None:
            raise ReadOnlySubscription(
                f"subscription {name!r} comes from a subscriptions file: change the file"
            )
        stored = self._registry.api.get(name)
        if stored is None:
            raise SubscriptionNotFound(name)
        return stored

    def _refuse_taken(self, name: str) -> None:
        if self._file(name) is not None:
            raise NameTaken(f"name {name!r} is used by a subscriptions file")
        if name in self._registry.api:
            raise NameTaken(f"name {name!r} is used by an API-managed subscription")

    def _check(self, body: Any, *, name: str | None = None) -> tuple[dict[str, Any], Subscription]:
        """(the record's subscription, the validated model), or SubscriptionError with every issue."""
        if name is not None and isinstance(body, Mapping):
            if "name" not in body:
                body = {**body, "name": name}
            elif body["name"] != name:
                raise SubscriptionError(
                    [ConfigIssue("<body>", None, "name", f"differs from the subscription's name {name!r}")]
                )
        current = self._registry.api.get(name) if name is not None else None
        previous = current.config if current is not None else None
        stored, checked = take_in(body, self._box, previous)
        sub = check_subscription(checked, self._catalog(), development=self._development)
        return stored, sub

    def _suspension(self, name: str) -> tuple[bool, datetime | None, str | None]:
        state = self._registry.states.get(name)
        if state is None or not state.suspended:
            return False, None, None
        return True, state.modified.at, state.modified.by

    def _file_view(self, sub: Subscription) -> SubscriptionView:
        suspended, at, by = self._suspension(sub.name)
        return SubscriptionView(
            name=sub.name,
            source="file",
            entity=sub.entity,
            active=sub.active and not suspended,
            suspended=suspended,
            config=_shown(sub),
            suspended_at=at,
            suspended_by=by,
        )

    def _api_view(self, stored: StoredSubscription) -> SubscriptionView:
        suspended, at, by = self._suspension(stored.name)
        config = masked(stored.config)
        problems = stored.problems
        if self._file(stored.name) is not None:
            problems = (*problems, "a subscriptions file uses this name; the file's subscription is in force")
        configured_active = config.get("active", True) is not False
        return SubscriptionView(
            name=stored.name,
            source="api",
            entity=str(config.get("entity", "")),
            active=configured_active and not suspended and not problems,
            suspended=suspended,
            config=config,
            created_at=stored.created.at,
            created_by=stored.created.by,
            modified_at=stored.modified.at,
            modified_by=stored.modified.by,
            suspended_at=at,
            suspended_by=by,
            problems=problems,
        )


def _shown(sub: Subscription) -> dict[str, Any]:
    """A file subscription as JSON data, secrets masked (its references are resolved by now)."""
    public = {name.lower() for name in sub.endpoint.public_headers}
    data = _plain(sub)
    headers = data["endpoint"].get("headers", {})
    for name, value in sub.endpoint.headers.items():
        if name.lower() in public:
            headers[name] = value.get_secret_value()
    return data  # type: ignore[no-any-return]


def _plain(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return MASK
    if isinstance(value, BaseModel):
        fields = {name: getattr(value, name) for name in type(value).model_fields}
        fields.update(value.model_extra or {})
        return {name: _plain(v) for name, v in fields.items() if v is not None}
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
