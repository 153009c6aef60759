"""The store: failed events with their trial history, and the successful-request log.

One ``Store`` per process; it owns an async engine (connection pool) and is safe to share between
tasks. Every method is one transaction. SQLite (aiosqlite) is the embedded default; PostgreSQL
(asyncpg) is for production, where several processes share the database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self
from typing import cast as type_cast

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    ColumnElement,
    Connection,
    CursorResult,
    Executable,
    Integer,
    String,
    Subquery,
    and_,
    cast,
    delete,
    event,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.sql.dml import Insert

from store.errors import (
    DatabaseError,
    FailedEventNotFound,
    FailedEventNotOpen,
    StoreNotMigrated,
    UnsupportedStoreUrl,
)
from store.models import AttemptRow, FailedEventRow, RequestLogRow
from store.paging import (
    Position,
    RequestPosition,
    decode_cursor,
    decode_request_cursor,
    encode_cursor,
    encode_request_cursor,
)
from store.records import (
    AttemptRecord,
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

__all__ = ["DEFAULT_STORE_URL", "MAX_PAGE_SIZE", "Store", "failed_event_values"]

DEFAULT_STORE_URL: Final = "sqlite+aiosqlite:///hookstream.db"
MAX_PAGE_SIZE: Final = 1000
_SUPPORTED_DRIVERS: Final = ("sqlite+aiosqlite", "postgresql+asyncpg")
_MIGRATIONS: Final = Path(__file__).resolve().parent / "migrations"
# Several replicas may start at once; on PostgreSQL only one of them migrates at a time.
_MIGRATION_LOCK_KEY: Final = 0x686F6F6B  # "hook"
# Bound IN-lists well below every driver's parameter limit.
_DELETE_CHUNK: Final = 500

_SUMMARY_COLUMNS: Final = (
    FailedEventRow.id,
    FailedEventRow.webhook_id,
    FailedEventRow.state,
    FailedEventRow.subscription,
    FailedEventRow.entity,
    FailedEventRow.entity_id,
    FailedEventRow.trigger,
    FailedEventRow.channel,
    FailedEventRow.subchannel,
    FailedEventRow.event_id,
    FailedEventRow.url,
    FailedEventRow.response_status,
    FailedEventRow.error_code,
    FailedEventRow.error_description,
    FailedEventRow.attempt_count,
    FailedEventRow.first_attempt_at,
    FailedEventRow.last_attempt_at,
    FailedEventRow.created_at,
    FailedEventRow.updated_at,
    FailedEventRow.closed_at,
    FailedEventRow.acted_by,
)


def failed_event_values(rec: FailedEventRecord, now: datetime) -> dict[str, Any]:
    """The row of a failed event recorded for the first time at ``now``."""
    return {
        "webhook_id": rec.webhook_id,
        "state": FailedEventState.OPEN.value,
        "subscription": rec.subscription,
        "entity": rec.entity,
        "entity_id": rec.entity_id,
        "trigger": rec.trigger,
        "channel": rec.channel,
        "subchannel": rec.subchannel,
        "event_id": rec.event_id,
        "url": rec.url,
        "request_headers": redact_headers(rec.request_headers),
        "request_body": rec.request_body,
        "response_status": rec.response_status,
        "response_excerpt": rec.response_excerpt,
        "error_code": rec.error_code,
        "error_description": rec.error_description,
        "attempt_count": len(rec.attempts),
        "first_attempt_at": rec.first_attempt_at,
        "last_attempt_at": rec.last_attempt_at,
        "created_at": now,
        "updated_at": now,
    }


def _now() -> datetime:
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # SQLite ignores foreign keys (and so ON DELETE CASCADE) unless asked, per connection.
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets the admin page read while the dead-letter consumer writes; wait on locks, not fail.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _upgrade_to_head(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS).replace("%", "%%"))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _attempt_from_row(row: AttemptRow) -> AttemptRecord:
    return AttemptRecord(
        number=row.number,
        at=row.at,
        status=row.status,
        error_code=row.error_code,
        error_description=row.error_description,
        duration_ms=row.duration_ms,
        response_excerpt=row.response_excerpt,
        resent_by=row.resent_by,
    )


def _conditions(criteria: FailedEventFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    equal_to = {
        FailedEventRow.subscription: criteria.subscription,
        FailedEventRow.entity: criteria.entity,
        FailedEventRow.trigger: criteria.trigger,
        FailedEventRow.channel: criteria.channel,
        FailedEventRow.subchannel: criteria.subchannel,
        FailedEventRow.error_code: criteria.error_code,
        FailedEventRow.state: criteria.state,
    }
    conditions.extend(column == value for column, value in equal_to.items() if value is not None)
    if criteria.since is not None:
        conditions.append(FailedEventRow.last_attempt_at >= criteria.since)
    if criteria.until is not None:
        conditions.append(FailedEventRow.last_attempt_at < criteria.until)
    return conditions


def _requests_union() -> Subquery:
    """Logged successful requests and open failed events as rows of one shape (RequestEntry's)."""
    logged = select(
        literal(RequestState.SUCCESSFUL.value, String).label("state"),
        RequestLogRow.id,
        RequestLogRow.webhook_id,
        RequestLogRow.subscription,
        RequestLogRow.entity,
        RequestLogRow.entity_id,
        RequestLogRow.trigger,
        RequestLogRow.channel,
        RequestLogRow.subchannel,
        RequestLogRow.event_id,
        RequestLogRow.url,
        RequestLogRow.status.label("status"),
        cast(null(), String).label("error_code"),
        cast(null(), String).label("error_description"),
        RequestLogRow.attempt.label("attempts"),
        RequestLogRow.at.label("at"),
        RequestLogRow.request_body,
        RequestLogRow.response_excerpt,
        RequestLogRow.created_at,
        RequestLogRow.created_at.label("updated_at"),
        RequestLogRow.resent_by.label("acted_by"),
    )
    rejected = select(
        literal(RequestState.REJECTED.value, String).label("state"),
        FailedEventRow.id,
        FailedEventRow.webhook_id,
        FailedEventRow.subscription,
        FailedEventRow.entity,
        FailedEventRow.entity_id,
        FailedEventRow.trigger,
        FailedEventRow.channel,
        FailedEventRow.subchannel,
        FailedEventRow.event_id,
        FailedEventRow.url,
        cast(FailedEventRow.response_status, Integer).label("status"),
        FailedEventRow.error_code,
        FailedEventRow.error_description,
        FailedEventRow.attempt_count.label("attempts"),
        FailedEventRow.last_attempt_at.label("at"),
        FailedEventRow.request_body,
        FailedEventRow.response_excerpt,
        FailedEventRow.created_at,
        FailedEventRow.updated_at,
        FailedEventRow.acted_by,
    ).where(FailedEventRow.state == FailedEventState.OPEN.value)
    return union_all(logged, rejected).subquery("requests")


def _request_conditions(requests: Subquery, criteria: RequestFilter) -> list[ColumnElement[bool]]:
    c = requests.c
    equal_to = {
        c.state: criteria.state.value if criteria.state is not None else None,
        c.subscription: criteria.subscription,
        c.entity: criteria.entity,
        c.entity_id: criteria.entity_id,
        c.trigger: criteria.trigger,
        c.error_code: criteria.error_code,
    }
    conditions: list[ColumnElement[bool]] = [
        column == value for column, value in equal_to.items() if value is not None
    ]
    if criteria.since is not None:
        conditions.append(c.at >= criteria.since)
    if criteria.until is not None:
        conditions.append(c.at < criteria.until)
    return conditions


def _after(position: Position) -> ColumnElement[bool]:
    # Newest first: the next page holds what sorts strictly after the last item shown.
    return or_(
        FailedEventRow.last_attempt_at < position.last_attempt_at,
        and_(FailedEventRow.last_attempt_at == position.last_attempt_at, FailedEventRow.id < position.id),
    )


class Store:
    """Failed events and the request log in one SQL database.

    ``url`` is ``sqlite+aiosqlite:///path.db`` or ``postgresql+asyncpg://user@host/db``. Call
    :meth:`migrate` once at start (it is idempotent) and :meth:`close` at the end, or use the store
    as an async context manager. Database failures raise :class:`store.errors.DatabaseError`.
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise UnsupportedStoreUrl(f"not a database URL: {url!r}") from exc
        if parsed.drivername not in _SUPPORTED_DRIVERS:
            raise UnsupportedStoreUrl(
                f"unsupported store URL scheme {parsed.drivername!r}: "
                f"use one of {', '.join(_SUPPORTED_DRIVERS)}"
            )
        self._dialect = parsed.get_backend_name()
        self._shown = parsed.render_as_string(hide_password=True)
        # Connecting creates a missing SQLite file; a mistyped path must not leave an empty store behind.
        self._sqlite_file: Path | None = None
        if self._dialect == "sqlite" and parsed.database not in (None, "", ":memory:"):
            self._sqlite_file = Path(str(parsed.database))
        self._engine = create_async_engine(parsed, echo=echo, pool_pre_ping=True)
        if self._dialect == "sqlite":
            event.listen(self._engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(self._engine, expire_on_commit=False)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self._engine.dispose()

    async def migrate(self) -> None:
        """Bring the schema to the newest revision (creates it in an empty database, or the SQLite file)."""
        self._sqlite_file = None
        try:
            async with self._engine.begin() as connection:
                if self._dialect == "postgresql":
                    await connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                    )
                await connection.run_sync(_upgrade_to_head)
        except (SQLAlchemyError, OSError) as exc:
            raise DatabaseError(f"migrating the store failed: {_describe(exc)}") from exc

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncSession]:
        if self._sqlite_file is not None:
            if not self._sqlite_file.exists():
                raise StoreNotMigrated(self._shown, f"{self._sqlite_file} does not exist")
            self._sqlite_file = None  # it exists from now on: connections do not delete it
        try:
            async with self._sessions.begin() as session:
                yield session
        except (SQLAlchemyError, OSError) as exc:
            if _missing_table(exc):
                raise StoreNotMigrated(self._shown, "its tables do not exist") from exc
            raise DatabaseError(_describe(exc)) from exc

    def _insert_new(self, model: type[FailedEventRow] | type[RequestLogRow]) -> Insert:
        """An INSERT that skips rows whose webhook_id is already stored (redeliveries)."""
        if self._dialect == "postgresql":
            return postgresql.insert(model).on_conflict_do_nothing(index_elements=["webhook_id"])
        return sqlite.insert(model).on_conflict_do_nothing(index_elements=["webhook_id"])

    # --- failed events --------------------------------------------------------------------------

    async def record_failure(self, rec: FailedEventRecord) -> RecordedFailure:
        """Store a dead-lettered delivery; returns its id and whether this call created or reopened it.

        One failed event per ``rec.webhook_id``. When it exists already, the attempts of ``rec`` its
        history lacks (same number and time) are appended, and it takes ``rec``'s request, response
        and error and is open again: the event failed anew after a resend closed it (its input came
        again after a crash, say). A redelivered dead-letter record brings no attempt the history
        lacks, and changes nothing.
        """
        now = _now()
        values = failed_event_values(rec, now)
        async with self._transaction() as session:
            new_id = await session.scalar(
                self._insert_new(FailedEventRow).values(values).returning(FailedEventRow.id)
            )
            if new_id is None:
                return await self._record_again(session, rec, values)
            await session.execute(
                insert(AttemptRow),
                [{"failed_event_id": new_id, **asdict(attempt)} for attempt in rec.attempts],
            )
            return RecordedFailure(int(new_id), created=True)

    async def _record_again(
        self, session: AsyncSession, rec: FailedEventRecord, values: Mapping[str, Any]
    ) -> RecordedFailure:
        # Locked, so that a concurrent resend closing it waits for this (PostgreSQL; SQLite's
        # INSERT above already holds the database's write lock).
        existing = (
            await session.execute(
                select(FailedEventRow.id, FailedEventRow.state, FailedEventRow.last_attempt_at)
                .where(FailedEventRow.webhook_id == rec.webhook_id)
                .with_for_update()
            )
        ).one()  # the conflicting row: it was there a moment ago, and deleting it waits for the lock
        known = {
            (row.number, row.at)
            for row in await session.execute(
                select(AttemptRow.number, AttemptRow.at).where(AttemptRow.failed_event_id == existing.id)
            )
        }
        new = [attempt for attempt in rec.attempts if (attempt.number, attempt.at) not in known]
        if not new:
            return RecordedFailure(existing.id, created=False)
        changed = {
            key: values[key]
            for key in (
                "url",
                "request_headers",
                "request_body",
                "response_status",
                "response_excerpt",
                "error_code",
                "error_description",
            )
        }
        await session.execute(
            update(FailedEventRow)
            .where(FailedEventRow.id == existing.id)
            .values(
                **changed,
                state=FailedEventState.OPEN.value,
                closed_at=None,
                attempt_count=FailedEventRow.attempt_count + len(new),
                last_attempt_at=max(existing.last_attempt_at, rec.last_attempt_at),
                updated_at=values["updated_at"],
            )
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            insert(AttemptRow), [{"failed_event_id": existing.id, **asdict(attempt)} for attempt in new]
        )
        return RecordedFailure(
            existing.id, created=False, reopened=existing.state == FailedEventState.CLOSED.value
        )

    async def list_failed(
        self,
        criteria: FailedEventFilter | None = None,
        /,
        *,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[FailedEventSummary]:
        """One page of failed events matching ``criteria`` (open ones by default), newest first.

        ``cursor`` is the ``next_cursor`` of the previous page; it raises InvalidCursor when it was
        not made here.
        """
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}, got {limit}")
        conditions = _conditions(criteria or FailedEventFilter())
        page_conditions = [*conditions, _after(decode_cursor(cursor))] if cursor else conditions
        query = (
            select(*_SUMMARY_COLUMNS)
            .where(*page_conditions)
            .order_by(FailedEventRow.last_attempt_at.desc(), FailedEventRow.id.desc())
            # One more than asked tells whether a next page exists.
            .limit(limit + 1)
        )
        async with self._transaction() as session:
            total = await session.scalar(select(func.count()).select_from(FailedEventRow).where(*conditions))
            rows = (await session.execute(query)).all()
        items = tuple(
            FailedEventSummary(**{**row._asdict(), "state": FailedEventState(row.state)})
            for row in rows[:limit]
        )
        next_cursor = None
        if len(rows) > limit:
            last = items[-1]
            next_cursor = encode_cursor(Position(last.last_attempt_at, last.id))
        return Page(items=items, total=total or 0, next_cursor=next_cursor)

    async def get_failed(self, failed_event_id: int) -> FailedEvent | None:
        """The failed event with its latest request and response and its whole trial history."""
        async with self._transaction() as session:
            row = await session.get(FailedEventRow, failed_event_id)
            if row is None:
                return None
            attempts = (
                await session.scalars(
                    select(AttemptRow)
                    .where(AttemptRow.failed_event_id == failed_event_id)
                    .order_by(AttemptRow.id)
                )
            ).all()
        summary = {column.key: getattr(row, column.key) for column in _SUMMARY_COLUMNS}
        return FailedEvent(
            **{**summary, "state": FailedEventState(row.state)},
            request_headers=dict(row.request_headers),
            request_body=row.request_body,
            response_excerpt=row.response_excerpt,
            attempts=tuple(_attempt_from_row(attempt) for attempt in attempts),
        )

    async def delete_failed(self, ids: Sequence[int]) -> int:
        """Delete failed events (with their history) by id; returns how many existed."""
        unique_ids = sorted(set(ids))
        deleted = 0
        async with self._transaction() as session:
            for start in range(0, len(unique_ids), _DELETE_CHUNK):
                chunk = unique_ids[start : start + _DELETE_CHUNK]
                deleted += await _affected(
                    session, delete(FailedEventRow).where(FailedEventRow.id.in_(chunk))
                )
        return deleted

    async def delete_failed_ids(self, ids: Sequence[int]) -> list[int]:
        """Delete failed events (with their history) by id; returns the ids that existed, in order."""
        return await self._delete_ids(FailedEventRow, ids)

    async def _delete_ids(
        self, model: type[FailedEventRow] | type[RequestLogRow], ids: Sequence[int]
    ) -> list[int]:
        # One answer per id is what a bulk delete reports; RETURNING tells which rows were there.
        unique_ids = sorted(set(ids))
        deleted: list[int] = []
        async with self._transaction() as session:
            for start in range(0, len(unique_ids), _DELETE_CHUNK):
                chunk = unique_ids[start : start + _DELETE_CHUNK]
                result = await session.execute(
                    delete(model)
                    .where(model.id.in_(chunk))
                    .returning(model.id)
                    .execution_options(synchronize_session=False)
                )
                deleted += result.scalars()
        return sorted(deleted)

    async def resend_succeeded(
        self, failed_event_id: int, attempt: AttemptRecord, *, log: RequestLogRecord | None = None
    ) -> None:
        """A resend succeeded: close the failed event and add the attempt to its history.

        The error and response fields keep describing the failure that made the record. Pass
        ``log`` when the subscription logs all requests: it is written in the same transaction.
        Raises FailedEventNotFound or FailedEventNotOpen (a concurrent resend closed it first).
        """
        if attempt.error_code is not None:
            raise ValueError("a successful attempt has no error code")
        async with self._transaction() as session:
            await self._append_attempt(
                session,
                failed_event_id,
                attempt,
                {"state": FailedEventState.CLOSED.value, "closed_at": attempt.at},
            )
            if log is not None:
                await session.execute(self._insert_new(RequestLogRow), [self._log_values(log)])

    async def resend_failed(self, failed_event_id: int, attempt: AttemptRecord) -> None:
        """A resend failed: the failed event takes the attempt's error and time, and the attempt
        joins its history. ``attempt.error_code`` is required.

        Raises FailedEventNotFound or FailedEventNotOpen (a concurrent resend closed it first).
        """
        if attempt.error_code is None:
            raise ValueError("a failed attempt needs an error code")
        async with self._transaction() as session:
            await self._append_attempt(
                session,
                failed_event_id,
                attempt,
                {
                    "error_code": attempt.error_code,
                    "error_description": attempt.error_description or "",
                    "response_status": attempt.status,
                    "response_excerpt": attempt.response_excerpt,
                },
            )

    async def _append_attempt(
        self, session: AsyncSession, failed_event_id: int, attempt: AttemptRecord, changes: Mapping[str, Any]
    ) -> None:
        # The state check is part of the UPDATE, so two concurrent resends cannot both apply.
        updated = await _affected(
            session,
            update(FailedEventRow)
            .where(FailedEventRow.id == failed_event_id, FailedEventRow.state == FailedEventState.OPEN.value)
            .values(
                attempt_count=FailedEventRow.attempt_count + 1,
                last_attempt_at=attempt.at,
                updated_at=_now(),
                acted_by=attempt.resent_by,
                **changes,
            ),
        )
        if updated == 0:
            exists = await session.scalar(
                select(FailedEventRow.id).where(FailedEventRow.id == failed_event_id)
            )
            raise (
                FailedEventNotFound(failed_event_id)
                if exists is None
                else FailedEventNotOpen(failed_event_id)
            )
        await session.execute(insert(AttemptRow), [{"failed_event_id": failed_event_id, **asdict(attempt)}])

    async def count_open(self) -> int:
        """How many failed events wait for an operator."""
        async with self._transaction() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(FailedEventRow)
                .where(FailedEventRow.state == FailedEventState.OPEN.value)
            )
        return count or 0

    # --- request log ----------------------------------------------------------------------------

    @staticmethod
    def _log_values(rec: RequestLogRecord) -> dict[str, Any]:
        return {**asdict(rec), "created_at": _now()}

    async def log_request(self, rec: RequestLogRecord) -> None:
        """Log one successful request; a webhook id already logged is skipped."""
        await self.log_requests([rec])

    async def log_requests(self, recs: Sequence[RequestLogRecord]) -> None:
        """Log successful requests in one transaction; webhook ids already logged are skipped."""
        if not recs:
            return
        async with self._transaction() as session:
            await session.execute(self._insert_new(RequestLogRow), [self._log_values(rec) for rec in recs])

    async def count_requests(self, *, subscription: str | None = None, since: datetime | None = None) -> int:
        """How many successful requests are logged (for one subscription, or in all; made since ``since``)."""
        query = select(func.count()).select_from(RequestLogRow)
        if subscription is not None:
            query = query.where(RequestLogRow.subscription == subscription)
        if since is not None:
            query = query.where(RequestLogRow.at >= since)
        async with self._transaction() as session:
            count = await session.scalar(query)
        return count or 0

    async def count_by_subscription(self, since: datetime) -> dict[str, SubscriptionCounts]:
        """Per subscription: open failed events, and successful and rejected requests since ``since``
        (see SubscriptionCounts). Subscriptions with none of them are left out."""
        if since.utcoffset() is None:
            raise ValueError(f"since must be a timezone-aware datetime, got {since!r}")
        is_open = FailedEventRow.state == FailedEventState.OPEN.value
        # One statement for every subscription, so a list of many costs one round trip; each part
        # is a grouped count that the (subscription, time) indexes serve.
        parts = union_all(
            select(
                literal("open_failed", String).label("kind"),
                FailedEventRow.subscription.label("subscription"),
                func.count().label("n"),
            )
            .where(is_open)
            .group_by(FailedEventRow.subscription),
            select(
                literal("rejected", String).label("kind"),
                FailedEventRow.subscription.label("subscription"),
                func.count().label("n"),
            )
            .where(is_open, FailedEventRow.last_attempt_at >= since)
            .group_by(FailedEventRow.subscription),
            select(
                literal("successful", String).label("kind"),
                RequestLogRow.subscription.label("subscription"),
                func.count().label("n"),
            )
            .where(RequestLogRow.at >= since)
            .group_by(RequestLogRow.subscription),
        )
        async with self._transaction() as session:
            rows = (await session.execute(parts)).all()
        figures: dict[str, dict[str, int]] = {}
        for kind, subscription, n in rows:
            figures.setdefault(subscription, {})[kind] = n
        return {name: SubscriptionCounts(**counts) for name, counts in figures.items()}

    async def delete_requests(self, ids: Sequence[int]) -> list[int]:
        """Delete logged successful requests by id; returns the ids that existed, in order."""
        return await self._delete_ids(RequestLogRow, ids)

    async def list_requests(
        self, criteria: RequestFilter | None = None, /, *, limit: int = 50, cursor: str | None = None
    ) -> Page[RequestEntry]:
        """One page of the request log, newest first: logged successful requests and open failed
        events (rejected) in one list.

        ``cursor`` is the ``next_cursor`` of the previous page; it raises InvalidCursor when it was
        not made here.
        """
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}, got {limit}")
        requests = _requests_union()
        conditions = _request_conditions(requests, criteria or RequestFilter())
        page_conditions = conditions
        if cursor:
            position = decode_request_cursor(cursor)
            c = requests.c
            page_conditions = [
                *conditions,
                or_(
                    c.at < position.at,
                    and_(c.at == position.at, c.state < position.state),
                    and_(c.at == position.at, c.state == position.state, c.id < position.id),
                ),
            ]
        query = (
            select(requests)
            .where(*page_conditions)
            .order_by(requests.c.at.desc(), requests.c.state.desc(), requests.c.id.desc())
            .limit(limit + 1)
        )
        async with self._transaction() as session:
            total = await session.scalar(select(func.count()).select_from(requests).where(*conditions))
            rows = (await session.execute(query)).all()
        items = tuple(
            RequestEntry(**{**row._asdict(), "state": RequestState(row.state)}) for row in rows[:limit]
        )
        next_cursor = None
        if len(rows) > limit:
            last = items[-1]
            next_cursor = encode_request_cursor(RequestPosition(last.at, last.state.value, last.id))
        return Page(items=items, total=total or 0, next_cursor=next_cursor)

    # --- retention ------------------------------------------------------------------------------

    async def prune(self, older_than: timedelta) -> PruneResult:
        """Delete failed events whose last attempt, and logged requests made, before now - older_than."""
        if older_than < timedelta(0):
            raise ValueError("older_than must not be negative")
        cutoff = _now() - older_than
        async with self._transaction() as session:
            failed = await _affected(
                session, delete(FailedEventRow).where(FailedEventRow.last_attempt_at < cutoff)
            )
            requests = await _affected(session, delete(RequestLogRow).where(RequestLogRow.at < cutoff))
        return PruneResult(failed_events=failed, requests=requests)


async def _affected(session: AsyncSession, statement: Executable) -> int:
    """Run an UPDATE or DELETE and return how many rows it changed."""
    # No ORM objects are loaded in these sessions, so there is nothing to synchronize.
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return type_cast(CursorResult[Any], result).rowcount


def _missing_table(exc: BaseException) -> bool:
    """Whether the database refused a statement because a table of the store does not exist."""
    original = getattr(exc, "orig", None)
    # PostgreSQL says undefined_table (42P01); SQLite has no codes, only its message.
    return getattr(original, "sqlstate", None) == "42P01" or "no such table" in str(original or "")


def _describe(exc: BaseException) -> str:
    # The driver's own message, not SQLAlchemy's, which appends the statement's parameters
    # (request bodies) to it.
    original = getattr(exc, "orig", None)
    return f"{type(original or exc).__name__}: {original or exc}".splitlines()[0]
