"""Standard Webhooks signatures: ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable

from .errors import TargetConfigError

__all__ = ["Signer", "secret_key"]

_PREFIX = "whsec_"


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
