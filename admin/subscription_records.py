"""The records of the subscriptions topic, and the state they add up to in one process.

``<prefix>.subscriptions`` is compacted and has one partition, so its records are
read in the order they were written — the way Kafka Connect keeps connector
configurations. Keys (UTF-8) and values (JSON):

- ``subscription:<name>`` — an API-managed subscription:
  ``{"format": 1, "subscription": {...}, "created_at", "created_by", "modified_at", "modified_by"}``;
  a tombstone (no value) deletes it.
- ``state:<name>`` — whether a subscription of either source is suspended:
  ``{"format": 1, "suspended": true|false, "modified_at", "modified_by"}``; a tombstone forgets it.

Names cannot hold ``:`` (see the model's pattern), so the prefixes never clash.
The subscription is kept as it was written, except that each secret typed in
is replaced by ``{"$encrypted": "<Fernet token>"}``; ``${ENV}`` and file
references are kept as written and resolved by each process, like files.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import SecretStr

from admin.secrets import SecretBox, SecretKeyError
from router import ConfigIssue, Subscription, SubscriptionError
from router.yamldoc import Loc, format_path
from sender.config import is_secret_reference

__all__ = [
    "ENCRYPTED",
    "MASK",
    "Change",
    "StoredSubscription",
    "SubscriptionRegistry",
    "SuspendState",
    "encode_state",
    "encode_subscription",
    "masked",
    "secret_slots",
    "state_key",
    "subscription_key",
    "take_in",
    "unseal",
]

log = logging.getLogger(__name__)

FORMAT = 1
SUBSCRIPTION_PREFIX = "subscription:"
STATE_PREFIX = "state:"
#: What a read shows in place of a secret; written back on a replace, it keeps the stored secret.
MASK = "[redacted]"
ENCRYPTED = "$encrypted"

_AUTH_SECRETS = ("password", "token", "key", "client_secret")


def subscription_key(name: str) -> str:
    return f"{SUBSCRIPTION_PREFIX}{name}"


def state_key(name: str) -> str:
    return f"{STATE_PREFIX}{name}"


@dataclass(frozen=True, slots=True)
class Change:
    """When and by whom."""

    at: datetime
    by: str

    @staticmethod
    def now(actor: str) -> Change:
        return Change(datetime.now(UTC), actor)


@dataclass(frozen=True, slots=True)
class StoredSubscription:
    """An API-managed subscription as the topic holds it, and what this process made of it.

    ``config`` is the subscription as written, with secrets sealed. ``compiled``
    is None when it cannot be delivered with here (``problems`` says why: a
    ``${ENV}`` not set in this pod, a secret no key decrypts).
    """

    name: str
    config: Mapping[str, Any]
    created: Change
    modified: Change
    compiled: Subscription | None = None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SuspendState:
    suspended: bool
    modified: Change


# -- secrets in a subscription as written -------------------------------------------------------


def secret_slots(raw: Mapping[str, Any]) -> Iterator[Loc]:
    """Where ``raw`` (a subscription as written) holds secrets: auth, signing secrets, TLS key
    password, and the endpoint's header values except the public ones."""
    auth = raw.get("auth")
    if isinstance(auth, Mapping):
        for name in _AUTH_SECRETS:
            if name in auth:
                yield ("auth", name)
    secrets = raw.get("signing_secrets")
    if isinstance(secrets, list):
        for index in range(len(secrets)):
            yield ("signing_secrets", index)
    endpoint = raw.get("endpoint")
    if isinstance(endpoint, Mapping):
        headers = endpoint.get("headers")
        public = endpoint.get("public_headers")
        shown = {p.lower() for p in public if isinstance(p, str)} if isinstance(public, list) else set()
        if isinstance(headers, Mapping):
            for name in headers:
                if isinstance(name, str) and name.lower() not in shown:
                    yield ("endpoint", "headers", name)
        tls = endpoint.get("tls")
        if isinstance(tls, Mapping) and "client_key_password" in tls:
            yield ("endpoint", "tls", "client_key_password")


_MISSING = object()


def _get(data: Any, loc: Loc) -> Any:
    for part in loc:
        if isinstance(data, Mapping):
            if part not in data:
                return _MISSING
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return _MISSING
    return data


def _set(data: Any, loc: Loc, value: Any) -> None:
    for part in loc[:-1]:
        data = data[part]
    data[loc[-1]] = value


def _sealed(value: Any) -> str | None:
    """The Fernet token of a sealed secret, else None."""
    if isinstance(value, Mapping) and set(value) == {ENCRYPTED} and isinstance(value[ENCRYPTED], str):
        return str(value[ENCRYPTED])
    return None


def take_in(
    raw: Any, box: SecretBox, previous: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A subscription as a caller wrote it -> (what the topic stores, what validation checks).

    A secret typed in is encrypted for the topic and given to validation as a
    SecretStr (which the model takes as resolved); a reference is kept as written
    in both. :data:`MASK` keeps the secret ``previous`` (the stored version) holds
    at the same place. Raises SubscriptionError with every slot that cannot be
    taken, and never a value.
    """
    if not isinstance(raw, Mapping):
        raise SubscriptionError([ConfigIssue("<body>", None, "", "expected a JSON object")])
    stored: dict[str, Any] = copy.deepcopy(dict(raw))
    checked: dict[str, Any] = copy.deepcopy(dict(raw))
    issues: list[ConfigIssue] = []
    for loc in list(secret_slots(raw)):
        value = _get(raw, loc)
        if not isinstance(value, str):
            continue  # the model reports the wrong type
        if value == MASK:
            kept = _get(previous, loc) if previous is not None else _MISSING
            if kept is _MISSING:
                issues.append(
                    ConfigIssue(
                        "<body>",
                        None,
                        format_path(loc),
                        f"{MASK} keeps a stored secret, and none is stored here: write the secret",
                    )
                )
                continue
            _set(stored, loc, copy.deepcopy(kept))
            token = _sealed(kept)
            if token is None:
                _set(checked, loc, kept)
            else:
                try:
                    _set(checked, loc, SecretStr(box.decrypt(token)))
                except SecretKeyError as exc:
                    issues.append(ConfigIssue("<body>", None, format_path(loc), str(exc)))
        elif not is_secret_reference(value):
            if not box.configured:
                issues.append(
                    ConfigIssue(
                        "<body>",
                        None,
                        format_path(loc),
                        "HOOKSTREAM_SECRET_KEY is not set, so a secret can be given only as "
                        "${ENV_VAR} or a file path",
                    )
                )
                continue
            _set(stored, loc, {ENCRYPTED: box.encrypt(value)})
            _set(checked, loc, SecretStr(value))
    if issues:
        raise SubscriptionError(issues)
    return stored, checked


def unseal(stored: Mapping[str, Any], box: SecretBox) -> dict[str, Any]:
    """The stored subscription with each sealed secret decrypted (a SecretStr), ready to validate."""
    out: dict[str, Any] = copy.deepcopy(dict(stored))
    for loc in list(secret_slots(stored)):
        token = _sealed(_get(stored, loc))
        if token is not None:
            _set(out, loc, SecretStr(box.decrypt(token)))
    return out


def masked(stored: Mapping[str, Any]) -> dict[str, Any]:
    """The stored subscription as reads show it: every sealed secret is :data:`MASK`."""
    out: dict[str, Any] = copy.deepcopy(dict(stored))
    for loc in list(secret_slots(stored)):
        if _sealed(_get(stored, loc)) is not None:
            _set(out, loc, MASK)
    return out


def sealed_tokens(stored: Mapping[str, Any]) -> Iterator[tuple[Loc, str]]:
    """Each sealed secret's place and token (for key rotation)."""
    for loc in list(secret_slots(stored)):
        token = _sealed(_get(stored, loc))
        if token is not None:
            yield loc, token


def replace_at(stored: Mapping[str, Any], loc: Loc, value: Any) -> dict[str, Any]:
    out: dict[str, Any] = copy.deepcopy(dict(stored))
    _set(out, loc, value)
    return out


# -- record encoding ----------------------------------------------------------------------------


def _when(change: Change) -> tuple[str, str]:
    return change.at.isoformat(), change.by


def encode_subscription(config: Mapping[str, Any], created: Change, modified: Change) -> bytes:
    created_at, created_by = _when(created)
    modified_at, modified_by = _when(modified)
    return orjson.dumps(
        {
            "format": FORMAT,
            "subscription": config,
            "created_at": created_at,
            "created_by": created_by,
            "modified_at": modified_at,
            "modified_by": modified_by,
        }
    )


def encode_state(suspended: bool, modified: Change) -> bytes:
    modified_at, modified_by = _when(modified)
    return orjson.dumps(
        {"format": FORMAT, "suspended": suspended, "modified_at": modified_at, "modified_by": modified_by}
    )


def _change(data: Mapping[str, Any], prefix: str) -> Change:
    return Change(datetime.fromisoformat(str(data[f"{prefix}_at"])), str(data[f"{prefix}_by"]))


# -- the state the records add up to ---------------------------------------------------------------

Compiler = Callable[[Mapping[str, Any]], Subscription]


@dataclass
class SubscriptionRegistry:
    """The API-managed subscriptions and suspended states, as applied from the topic in order.

    ``compile`` turns a stored subscription into a deliverable one (decrypts,
    resolves references, validates); it runs once per record, when applied.
    """

    compile: Compiler
    api: dict[str, StoredSubscription] = field(default_factory=dict)
    states: dict[str, SuspendState] = field(default_factory=dict)

    def suspended(self) -> set[str]:
        return {name for name, state in self.states.items() if state.suspended}

    def compiled(self) -> dict[str, Subscription]:
        return {name: s.compiled for name, s in self.api.items() if s.compiled is not None}

    def apply(self, key: bytes | None, value: bytes | None) -> bool:
        """Apply one record; False when it is not one of ours (logged and skipped)."""
        text = key.decode("utf-8", "replace") if key is not None else ""
        try:
            if text.startswith(SUBSCRIPTION_PREFIX):
                self._apply_subscription(text.removeprefix(SUBSCRIPTION_PREFIX), value)
            elif text.startswith(STATE_PREFIX):
                self._apply_state(text.removeprefix(STATE_PREFIX), value)
            else:
                raise ValueError("unknown key")
        except (ValueError, KeyError, TypeError) as exc:
            # The key is a name (never a secret); the value is not quoted.
            log.error("subscriptions topic: record skipped", extra={"key": text, "error": str(exc)})
            return False
        return True

    def _apply_state(self, name: str, value: bytes | None) -> None:
        if value is None:
            self.states.pop(name, None)
            return
        data = orjson.loads(value)
        self.states[name] = SuspendState(bool(data["suspended"]), _change(data, "modified"))

    def _apply_subscription(self, name: str, value: bytes | None) -> None:
        if value is None:
            self.api.pop(name, None)
            return
        data = orjson.loads(value)
        config = data["subscription"]
        if not isinstance(config, dict):
            raise TypeError("the subscription is not an object")
        compiled: Subscription | None = None
        problems: tuple[str, ...] = ()
        try:
            if config.get("name") != name:
                raise SubscriptionError([ConfigIssue("<record>", None, "name", "differs from the key")])
            compiled = self.compile(config)
        except SubscriptionError as exc:
            problems = tuple(f"{i.path}: {i.message}" if i.path else i.message for i in exc.issues)
        except SecretKeyError as exc:
            problems = (str(exc),)
        if problems:
            log.error(
                "API-managed subscription cannot be delivered with in this process",
                extra={"subscription": name, "error": "; ".join(problems)},
            )
        self.api[name] = StoredSubscription(
            name, config, _change(data, "created"), _change(data, "modified"), compiled, problems
        )
