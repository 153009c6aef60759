"""The one error the wire formats raise: a record that is not what its topic should hold."""

from __future__ import annotations

from sender.codes import ErrorCode

__all__ = ["InvalidRecord"]


class InvalidRecord(ValueError):
    """A record that cannot be decoded. ``code`` names the kind of fault, ``description`` says where."""

    def __init__(self, code: ErrorCode, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
