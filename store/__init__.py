"""hookstream's failed-events store and successful-request log (SQLAlchemy; SQLite or PostgreSQL).

Imports nothing of ours: callers translate their own delivery objects into the records below.
"""

from store.errors import (
    DatabaseError,
    FailedEventNotFound,
    FailedEventNotOpen,
    InvalidCursor,
    StoreError,
    StoreNotMigrated,
    UnsupportedStoreUrl,
)
from store.records import (
    AttemptRecord,
    AttemptResult,
    Delivery,
    FailedEvent,
    FailedEventFilter,
    FailedEventRecord,
    FailedEventState,
    FailedEventSummary,
    Page,
    PruneResult,
    RecordedFailure,
    RequestEntry,
    RequestFilter,
    RequestLogRecord,
    RequestState,
    SubscriptionCounts,
)
from store.redaction import redact_headers
from store.repository import DEFAULT_STORE_URL, MAX_PAGE_SIZE, Store

__all__ = [
    "DEFAULT_STORE_URL",
    "MAX_PAGE_SIZE",
    "AttemptRecord",
    "AttemptResult",
    "DatabaseError",
    "Delivery",
    "FailedEvent",
    "FailedEventFilter",
    "FailedEventNotFound",
    "FailedEventNotOpen",
    "FailedEventRecord",
    "FailedEventState",
    "FailedEventSummary",
    "InvalidCursor",
    "Page",
    "PruneResult",
    "RecordedFailure",
    "RequestEntry",
    "RequestFilter",
    "RequestLogRecord",
    "RequestState",
    "Store",
    "StoreError",
    "StoreNotMigrated",
    "SubscriptionCounts",
    "UnsupportedStoreUrl",
    "redact_headers",
]
