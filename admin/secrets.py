"""Encryption of the secrets typed into API-managed subscriptions, with keys that rotate.

``HOOKSTREAM_SECRET_KEY`` holds one or more Fernet keys, comma-separated, newest
first — the scheme Apache Airflow uses for its connections: everything is
encrypted with the first key and decrypted with whichever key fits, so a new key
is put in front, :meth:`SecretBox.rotate` re-encrypts what the old keys wrote,
and the old key is then removed.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = ["SecretBox", "SecretKeyError", "generate_key"]


class SecretKeyError(Exception):
    """The secret key is missing or malformed, or no key fits a stored secret. Never holds a key or secret."""


def generate_key() -> str:
    """A new random key, for ``HOOKSTREAM_SECRET_KEY``."""
    return Fernet.generate_key().decode("ascii")


class SecretBox:
    """Encrypts and decrypts secrets with the keys of ``HOOKSTREAM_SECRET_KEY`` (newest first)."""

    def __init__(self, keys: str | None) -> None:
        parts = [part.strip() for part in (keys or "").split(",") if part.strip()]
        fernets: list[Fernet] = []
        for position, part in enumerate(parts, 1):
            try:
                fernets.append(Fernet(part.encode("ascii")))
            except (ValueError, UnicodeEncodeError):
                # The position only: the text may be a key that is merely mistyped.
                raise SecretKeyError(
                    f"HOOKSTREAM_SECRET_KEY: key {position} is not a Fernet key "
                    "(32 url-safe base64-encoded bytes)"
                ) from None
        self._fernet = MultiFernet(fernets) if fernets else None
        self._primary = fernets[0] if fernets else None

    @property
    def configured(self) -> bool:
        return self._fernet is not None

    def _multi(self) -> MultiFernet:
        if self._fernet is None:
            raise SecretKeyError(
                "HOOKSTREAM_SECRET_KEY is not set: secrets typed in cannot be stored or read"
            )
        return self._fernet

    def encrypt(self, secret: str) -> str:
        return self._multi().encrypt(secret.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._multi().decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise SecretKeyError("no key of HOOKSTREAM_SECRET_KEY decrypts this secret") from None

    def is_current(self, token: str) -> bool:
        """Whether ``token`` is encrypted with the newest key (rotation has nothing to do for it)."""
        if self._primary is None:
            return False
        try:
            self._primary.decrypt(token.encode("ascii"))
        except (InvalidToken, UnicodeError):
            return False
        return True

    def rotate(self, token: str) -> str:
        """``token`` encrypted again with the newest key."""
        try:
            return self._multi().rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError):
            raise SecretKeyError("no key of HOOKSTREAM_SECRET_KEY decrypts this secret") from None
