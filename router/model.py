"""The subscription model: what a subscriptions YAML file may say.

Structure and types are checked here by pydantic; what depends on the event
catalog or on other subscriptions (entity, triggers, components, unique names,
https) is checked by :mod:`router.rules`, which needs the catalog.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, field_validator

from router.catalog import ComponentValue
from router.durations import DURATION_PATTERN, parse_duration
from sender.config import Auth, Endpoint, NoAuth, Secret, Target

__all__ = [
    "Duration",
    "RetryPolicy",
    "Subscription",
    "SubscriptionsFile",
    "Trigger",
]


def _duration(value: object) -> object:
    """A duration text or a number of seconds as a timedelta; other types are left for pydantic to judge."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    if isinstance(value, str):
        return parse_duration(value)
    return value


Duration = Annotated[
    timedelta,
    BeforeValidator(_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": DURATION_PATTERN, "examples": ["5m", "30s", "1h", "250ms"]},
                {"type": "number", "description": "seconds"},
            ]
        }
    ),
]

ComponentValues = tuple[ComponentValue, ...]


def _rest_by_default(value: object) -> object:
    """An endpoint without ``type`` is REST, as on the subscription form."""
    if isinstance(value, dict) and "type" not in value:
        return {"type": "rest", **value}
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RetryPolicy(_Model):
    """How often and how far apart a failed delivery is tried again."""

    attempts: int = Field(default=3, ge=0, le=5, description="retries after the first attempt (0 to 5)")
    interval: Duration = Field(
        default=timedelta(minutes=5),
        description="time between attempts: 5m, 30s, 1h, 250ms, or seconds",
        json_schema_extra={"default": "5m"},
    )

    @field_validator("interval")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be positive")
        return value


class Trigger(BaseModel):
    """One event type the subscription listens to, narrowed by the trigger's components.

    A component left out matches any value; listed values are ids or names from
    the catalog (``activity_types: [StatusChange]`` is ``activity_types: [2]``).
    Components a deployment adds to its catalog are written the same way, which
    is why further keys are accepted here and checked against the catalog.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    event_type: str = Field(description="the trigger, e.g. OnNew, OnNewActivity, OnMessageStatus")
    activity_types: ComponentValues | None = Field(
        default=None, description="OnNewActivity: activity types, e.g. [Remark, StatusChange] or [1, 2]"
    )
    statuses: ComponentValues | None = Field(
        default=None,
        description="OnNewActivity: the new status of a StatusChange activity; "
        "each status in one trigger only",
    )
    channels: ComponentValues | None = Field(
        default=None,
        description="channels (stream provider types), e.g. [WhatsApp] or [7]; for OnNewActivity "
        "set once per subscription and applied to all its OnNewActivity triggers",
    )
    whatsapp_statuses: ComponentValues | None = Field(
        default=None, description="WhatsApp message statuses: sent, delivered, read, failed"
    )
    brands: ComponentValues | None = Field(
        default=None, description="any trigger: only events of these brands (tenants)"
    )

    @property
    def components(self) -> dict[str, Any]:
        """Every component this trigger lists, as written (declared ones and catalog extensions)."""
        listed: dict[str, Any] = {
            name: getattr(self, name)
            for name in ("activity_types", "statuses", "channels", "whatsapp_statuses", "brands")
            if getattr(self, name) is not None
        }
        listed.update(self.model_extra or {})
        return listed


class Subscription(_Model):
    """One webhook: which events, where to, how to authenticate, retry and log."""

    name: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$",
        description="unique name; letters, digits, space, dot, underscore, dash",
    )
    description: str = ""
    active: bool = Field(default=True, description="false suspends the subscription")
    entity: str = Field(description="catalog entity, e.g. Object, User, WhatsApp")
    triggers: tuple[Trigger, ...] = Field(min_length=1)
    include_complete_data: bool = Field(
        default=False, description="send the event's complete data instead of the trimmed data"
    )
    fields: tuple[str, ...] = Field(
        default=(), description="send only these dotted paths of the complete data, e.g. customer.id"
    )
    endpoint: Annotated[Endpoint, BeforeValidator(_rest_by_default)]
    auth: Auth = Field(default_factory=NoAuth)
    signing_secrets: tuple[Secret, ...] = Field(
        default=(),
        description="Standard Webhooks secrets (whsec_...) as ${ENV_VAR} or file paths; "
        "several sign together during rotation",
    )
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    log: Literal["failures", "all"] = Field(
        default="failures", description="log every request, or only failed ones"
    )

    @cached_property
    def target(self) -> Target:
        # Cached: the sender keeps its prepared state (headers, TLS, tokens) per Target object.
        return Target(
            key=self.name, endpoint=self.endpoint, auth=self.auth, signing_secrets=self.signing_secrets
        )


class SubscriptionsFile(_Model):
    """A subscriptions file: ``subscriptions: [...]``."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="hookstream subscriptions",
        json_schema_extra={"description": "Webhook subscriptions of hookstream (one file of a folder)."},
    )

    subscriptions: tuple[Subscription, ...]
