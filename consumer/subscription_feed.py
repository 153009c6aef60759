"""The subscriptions topic in one process: read to its end at start, followed, written through.

The service runs one feed in every role and rebuilds its Router from the files
and the feed whenever either changes; the admin service layer
(:class:`admin.subscriptions.SubscriptionService`) writes through it. A process
that only manages subscriptions (a CLI command, a test) runs a feed of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from admin.secrets import SecretBox
from admin.subscription_records import SubscriptionRegistry, unseal
from admin.subscriptions import SubscriptionService
from consumer.kafka.compacted import CompactedLog, LogRecord
from consumer.kafka.topics import Topics
from consumer.settings import Settings
from router import Catalog, Subscription
from router.loader import check_subscription

__all__ = ["SubscriptionFeed"]


class SubscriptionFeed:
    """Applies the topic's records to :attr:`registry` and calls ``on_change`` after each batch.

    ``catalog`` gives the catalog in force, which API-managed subscriptions are
    checked against as they are applied.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        catalog: Callable[[], Catalog],
        on_change: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self._settings = settings
        self._catalog = catalog
        self._on_change = on_change
        self.topic = Topics(settings.kafka.topic_prefix).subscriptions
        key = settings.secret_key.get_secret_value() if settings.secret_key is not None else None
        self.box = SecretBox(key)
        self.registry = SubscriptionRegistry(self._compile)
        self._log = CompactedLog(settings.kafka.client(), self.topic, self._apply)
        self._task: asyncio.Task[None] | None = None

    def _compile(self, config: Mapping[str, Any]) -> Subscription:
        return check_subscription(
            unseal(config, self.box),
            self._catalog(),
            development=self._settings.development,
            where=self.topic,
        )

    async def _apply(self, batch: Sequence[LogRecord]) -> None:
        for key, value in batch:
            self.registry.apply(key, value)
        if self._on_change is not None:
            await self._on_change()

    @property
    def caught_up(self) -> bool:
        return self._log.caught_up.is_set()

    @property
    def trouble(self) -> str | None:
        return self._log.trouble

    async def start(self) -> None:
        """Create the topic if missing, then read it to its end (following it from then on)."""
        await asyncio.to_thread(self._log.ensure, replication=self._settings.kafka.replication_factor)
        self._task = asyncio.create_task(self._log.run(), name="subscriptions-feed")
        caught_up = asyncio.create_task(self._log.caught_up.wait())
        await asyncio.wait([self._task, caught_up], return_when=asyncio.FIRST_COMPLETED)
        if self._task.done():
            caught_up.cancel()
            self._task.result()  # raises what stopped it

    async def follow(self) -> None:
        """Wait on the following task (the service watches it with its other background tasks)."""
        assert self._task is not None, "start() first"
        await self._task

    async def write(self, key: str, value: bytes | None) -> None:
        await self._log.write(key.encode("utf-8"), value)

    def reserved(self) -> dict[str, str]:
        """Names a subscriptions file may not take, and who holds each."""
        # Called from the file reload's thread while the loop applies records: iterate a copy
        # (dict.copy holds the GIL throughout).
        names = self.registry.api.copy()
        return {name: f"topic {self.topic} (an API-managed subscription)" for name in names}

    def service(
        self, files: Callable[[], Sequence[Subscription]], *, catalog: Callable[[], Catalog] | None = None
    ) -> SubscriptionService:
        """The service layer over this feed, for the admin API, the CLI and tests."""
        return SubscriptionService(
            self,
            self.registry,
            files=files,
            catalog=catalog or self._catalog,
            box=self.box,
            development=self._settings.development,
            topic=self.topic,
        )

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await asyncio.to_thread(self._log.close)
