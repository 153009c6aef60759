"""The exceptions store/ raises on purpose.

Every one derives from :class:`StoreError`, so a caller that only needs "the store did not do it"
(the dead-letter consumer deciding not to commit its offset, say) catches that one class::

    StoreError                  base; never raised itself
    ├── UnsupportedStoreUrl     the URL names a database or driver the store does not support
    ├── InvalidCursor           a page cursor that list_failed did not hand out (also a ValueError)
    ├── FailedEventNotFound     resend_* on an id that does not exist (deleted meanwhile)
    ├── FailedEventNotOpen      resend_* on a failed event that is already closed
    └── DatabaseError           the database failed or refused the operation; the driver's error
        │                       is chained as __cause__ (unreachable server, say)
        └── StoreNotMigrated    the database (or SQLite file) holds no store: nothing was ever
                                recorded there; Store.migrate creates the tables
"""

from __future__ import annotations

__all__ = [
    "DatabaseError",
    "FailedEventNotFound",
    "FailedEventNotOpen",
    "InvalidCursor",
    "StoreError",
    "StoreNotMigrated",
    "UnsupportedStoreUrl",
]


class StoreError(Exception):
    """Base of every exception store/ raises on purpose."""


class UnsupportedStoreUrl(StoreError):
    """The URL is not ``sqlite+aiosqlite://...`` or ``postgresql+asyncpg://...``."""


class InvalidCursor(StoreError, ValueError):
    """A page cursor that was not produced by ``list_failed`` (or was altered)."""


class FailedEventNotFound(StoreError):
    """No failed event has this id (it may have been deleted or pruned meanwhile)."""

    def __init__(self, failed_event_id: int) -> None:
        super().__init__(f"failed event {failed_event_id} does not exist")
        self.failed_event_id = failed_event_id


class FailedEventNotOpen(StoreError):
    """The failed event was already closed, typically by a concurrent resend that succeeded."""

    def __init__(self, failed_event_id: int) -> None:
        super().__init__(f"failed event {failed_event_id} is already closed")
        self.failed_event_id = failed_event_id


class DatabaseError(StoreError):
    """The database failed or refused the operation; the driver's exception is the ``__cause__``."""


class StoreNotMigrated(DatabaseError):
    """The store's tables do not exist: the service never ran against this database, or it is mistyped.

    A DatabaseError, so that callers which retry or give up on database failures treat it alike.
    """

    def __init__(self, store: str, reason: str) -> None:
        super().__init__(f"no failed-events store at {store}: {reason}")
        self.store = store
