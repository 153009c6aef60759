"""The webhook contract: what a subscriber receives, in one place.

- the body: :func:`body` (``event_id``, ``event_time`` as :func:`format_time`,
  ``event_type``, ``entity``, ``entity_id``, ``current_context``, ``data``); what
  ``data`` holds is the subscription's choice (``router.shaping``);
- the id: :func:`webhook_id`, stable for one event and one subscription across
  retries and resends, so receivers can drop duplicates;
- the headers: :func:`headers` (``webhook-id``, ``webhook-timestamp``,
  ``webhook-attempt``, ``webhook-signature``);
- the signature: :class:`Signer`, Standard Webhooks'
  ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from .errors import TargetConfigError
from .outcome import Message

__all__ = [
    "ATTEMPT_HEADER",
    "ID_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Signer",
    "body",
    "format_time",
    "headers",
    "secret_key",
    "webhook_id",
]

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
ATTEMPT_HEADER = "webhook-attempt"
SIGNATURE_HEADER = "webhook-signature"

_PREFIX = "whsec_"
_WEBHOOK_NS = uuid.UUID("5b0c8a4e-2d1f-4c55-9d6e-6f6f6b737472")


def webhook_id(event_id: str, subscription: str) -> str:
    """``msg_`` and the UUID v5 of the event id and subscription name in hookstream's namespace."""
    return "msg_" + uuid.uuid5(_WEBHOOK_NS, f"{event_id}\x00{subscription}").hex


def format_time(moment: datetime) -> str:
    """ISO-8601 in UTC with milliseconds: ``2026-11-23T10:00:00.123Z``. Naive times are taken as UTC."""
    tz = moment.tzinfo
    if tz is not None and tz is not UTC:  # decoded events are in UTC already: no conversion on the hot path
        moment = moment.astimezone(UTC)
    # Formatting the fields by hand costs half of isoformat() and its offset suffix.
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (  # noqa: UP031
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond // 1000,
    )


def body(
    *,
    event_id: str,
    event_time: datetime,
    event_type: str,
    entity: str,
    entity_id: str,
    current_context: Any,
    data: Mapping[str, Any],
) -> dict[str, Any]:
    """The JSON body of a webhook; SOAP maps its message parameters from the same fields."""
    return {
        "event_id": event_id,
        "event_time": format_time(event_time),
        "event_type": event_type,
        "entity": entity,
        "entity_id": entity_id,
        "current_context": current_context,
        "data": data,
    }


def headers(
    base: Mapping[str, str], message: Message, payload: bytes, signer: Signer | None
) -> dict[str, str]:
    """The headers of one attempt: the endpoint's ``base`` headers and the webhook's own."""
    result = {
        **base,
        ID_HEADER: message.webhook_id,
        TIMESTAMP_HEADER: str(message.timestamp),
        ATTEMPT_HEADER: str(message.attempt),
    }
    if signer is not None:
        result[SIGNATURE_HEADER] = signer.sign(message.webhook_id, message.timestamp, payload)
    return result


def secret_key(secret: str) -> bytes:
    """The HMAC key of a secret: ``whsec_<base64>`` as Standard Webhooks writes it, else its UTF-8 bytes."""
    if secret.startswith(_PREFIX):
        try:
            return base64.b64decode(secret[len(_PREFIX) :], validate=True)
        except binascii.Error:
            raise TargetConfigError("a whsec_ signing secret is not valid base64") from None
    return secret.encode()


class Signer:
    """Signs with every secret at once, so receivers keep verifying while secrets rotate."""

    __slots__ = ("_macs",)

    def __init__(self, secrets: Iterable[str]) -> None:
        # The keyed HMAC state is built once; each signature copies it.
        self._macs = tuple(hmac.new(secret_key(s), digestmod=hashlib.sha256) for s in secrets)

    def sign(self, webhook_id: str, timestamp: int, body: bytes) -> str:
        prefix = f"{webhook_id}.{timestamp}.".encode()
        signatures = []
        for base in self._macs:
            mac = base.copy()
            mac.update(prefix)
            mac.update(body)
            signatures.append("v1," + base64.b64encode(mac.digest()).decode())
        return " ".join(signatures)
