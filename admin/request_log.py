"""The request log (CRM.COM's Webhook Requests view): successful and rejected requests in one list.

A successful request is an entry of the store's request log (subscriptions with ``log: all``); a
rejected one is an open failed event. Requests cannot be changed, only deleted, one or many;
deleting a rejected request deletes its failed event.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from admin.actor import Actor
from store import Page, RequestEntry, RequestFilter, RequestState, Store

__all__ = ["RequestKey", "RequestLog"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, order=True)
class RequestKey:
    """A request's name: its state and its id (the log entry's or the failed event's)."""

    state: RequestState
    id: int

    def __str__(self) -> str:
        return f"{self.state.value}-{self.id}"

    @classmethod
    def parse(cls, text: str) -> RequestKey:
        state, _, number = text.rpartition("-")
        if not number.isdigit() or state not in {s.value for s in RequestState}:
            raise ValueError(f"not a request id: {text!r} (expected successful-<n> or rejected-<n>)")
        return cls(RequestState(state), int(number))


class RequestLog:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def page(
        self, criteria: RequestFilter | None = None, *, limit: int = 50, cursor: str | None = None
    ) -> Page[RequestEntry]:
        return await self.store.list_requests(criteria, limit=limit, cursor=cursor)

    async def delete(self, keys: Sequence[RequestKey], actor: Actor) -> dict[RequestKey, bool]:
        """Delete requests; for each key, whether it existed."""
        unique = list(dict.fromkeys(keys))
        successful = [key.id for key in unique if key.state is RequestState.SUCCESSFUL]
        rejected = [key.id for key in unique if key.state is RequestState.REJECTED]
        gone = {RequestKey(RequestState.SUCCESSFUL, i) for i in await self.store.delete_requests(successful)}
        gone |= {RequestKey(RequestState.REJECTED, i) for i in await self.store.delete_failed_ids(rejected)}
        log.info(
            "requests deleted",
            extra={
                "actor": actor.name,
                "role": actor.role,
                "via": actor.via,
                "request_ids": sorted(str(key) for key in gone),
                "requested": len(unique),
                "deleted": len(gone),
            },
        )
        return {key: key in gone for key in unique}
