"""The running service: builds the parts for its role, runs them on one event loop, stops cleanly.

Stop order on SIGTERM/SIGINT: stop taking records, let in-flight deliveries finish
within the grace period (their retry/dead-letter records acknowledged), commit,
leave the group, flush the producer, close the HTTP session.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import time
from collections.abc import Iterable
from datetime import timedelta

from prometheus_client import CollectorRegistry

from admin.api import AdminApi
from admin.app import build_app, start_admin
from admin.subscriptions import SubscriptionService
from consumer.dead_letters import FailureWriter
from consumer.deliveries import Deliveries, InputStage, RetryStage
from consumer.kafka.intake import Intake
from consumer.kafka.producer import Producer
from consumer.kafka.topics import Topics, ensure_topics, replication, unsafe_topics
from consumer.metrics import ConsumerMetrics
from consumer.retries import RetryLadder
from consumer.settings import Settings
from consumer.subscription_feed import SubscriptionFeed
from router import Catalog, Router, Subscription
from router.reload import SubscriptionSource
from router.sources import combine
from sender import Sender
from store import Store, StoreError

__all__ = ["Service", "run_service"]

log = logging.getLogger(__name__)


class Service:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # One registry per process: each room registers its own metrics, admin serves them all.
        self.registry = CollectorRegistry()
        self.metrics = ConsumerMetrics(self.registry)
        self.topics = Topics(settings.kafka.topic_prefix)
        self.intakes: list[Intake] = []
        self._stop = asyncio.Event()
        self._known_topics: set[str] = set()
        self._producer: Producer | None = None
        self._writer: FailureWriter | None = None
        # -- API-managed subscriptions (issue 12): the topic's feed, and the Router rebuilt from both
        # sources under one lock, so that a file reload and a topic record never install out of order.
        self._feed: SubscriptionFeed | None = None
        self._source: SubscriptionSource | None = None
        self._deliveries: Deliveries | None = None
        self._rebuilding = asyncio.Lock()
        self.subscriptions: SubscriptionService | None = None
        """The service layer over both sources, for the admin API (roles all and admin)."""

    def stop(self) -> None:
        self._stop.set()

    def ready(self) -> tuple[bool, str]:
        troubles = [
            trouble
            for trouble in (
                self._producer.trouble if self._producer is not None else None,
                self._writer.trouble if self._writer is not None else None,
                self._feed.trouble if self._feed is not None else None,
                *(i.trouble for i in self.intakes),
            )
            if trouble
        ]
        if troubles:
            return False, "; ".join(troubles)
        if self._feed is None or not self._feed.caught_up:
            return False, f"reading {self.topics.subscriptions}"
        if not self.intakes:
            return True, "admin only"
        waiting = [i.group for i in self.intakes if not i.assigned]
        return (not waiting, f"waiting for partitions: {', '.join(waiting)}" if waiting else "consuming")

    def _ladder(self, router: Router) -> RetryLadder:
        s = self.settings
        return RetryLadder(
            (sub.retry.interval for sub in router.subscriptions), s.retry_after_cap, s.retry_ladder
        )

    async def run(self) -> None:
        s = self.settings
        source = self._source = SubscriptionSource(
            s.subscriptions, s.catalog, development=s.development, reserved=self._reserved
        )
        source.load()
        feed = self._feed = SubscriptionFeed(s, catalog=self._catalog, on_change=self._rebuild)
        await feed.start()
        router = self._combined()
        self._count_subscriptions(router)
        names = [self.topics.invalid, self.topics.dlq, self.topics.log]
        if s.kafka.create_input_topics:
            names += s.kafka.input_topics
        await self._ensure(names, router)
        await self._warn_of_unsafe_topics()

        producer = Producer(s.kafka.client())
        sender = Sender(s.sender, registry=self.registry)
        await sender.start()
        deliveries = Deliveries(
            router=router,
            ladder=self._ladder(router),
            sender=sender,
            producer=producer,
            topics=self.topics,
            metrics=self.metrics,
        )
        self._producer = producer
        self._deliveries = deliveries
        if s.role in ("all", "admin"):
            self.subscriptions = feed.service(self._file_subscriptions)
        kafka = s.kafka
        if s.role in ("all", "main"):
            self.intakes.append(
                Intake(
                    kafka.client(**{"group.id": kafka.group_id}),
                    kafka.input_topics,
                    InputStage(deliveries),
                    max_in_flight=s.max_in_flight,
                )
            )
        if s.role in ("all", "retry"):
            self.intakes.append(
                Intake(
                    kafka.client(
                        **{"group.id": f"{kafka.group_id}-retry", "topic.metadata.refresh.interval.ms": 5000}
                    ),
                    [self.topics.retry_pattern],
                    RetryStage(deliveries),
                    max_in_flight=s.max_in_flight,
                )
            )
        store: Store | None = None
        if s.role in ("all", "dlq", "admin"):
            store = Store(s.store_url)
        if s.role in ("all", "dlq"):
            assert store is not None
            writer = FailureWriter(store, self.metrics, producer, self.topics)
            self._writer = writer
            self.intakes.append(
                Intake(
                    kafka.client(**{"group.id": f"{kafka.group_id}-dlq"}),
                    [self.topics.dlq, self.topics.log],
                    writer,
                    max_in_flight=256,
                )
            )
        api = None
        if s.role in ("all", "admin"):
            assert store is not None
            # Resends go out through this process's sender, under the router in force at that moment.
            assert self.subscriptions is not None
            api = AdminApi(
                s.admin,
                store=store,
                router=lambda: deliveries.router,
                sender=sender,
                subscriptions=self.subscriptions,
                registry=self.registry,
            )
        runner = await start_admin(build_app(self.registry, self.ready, api=api), s.admin_host, s.admin_port)
        # Everything built so far lives as long as the process: keep the collector from walking it
        # again (docs/adr/0003-gc-threshold-and-freeze.md).
        gc.freeze()
        background = [asyncio.create_task(producer.run(), name="producer")]
        if store is not None:
            background.append(asyncio.create_task(self._maintain(store), name="store"))
        background += [asyncio.create_task(i.run(), name=i.group) for i in self.intakes]
        background.append(asyncio.create_task(self._reload(source, deliveries), name="reload"))
        background.append(asyncio.create_task(self._observe(), name="observe"))
        background.append(asyncio.create_task(feed.follow(), name="subscriptions-feed"))
        log.info(
            "hookstream running",
            extra={"role": s.role, "subscriptions": len(router.subscriptions), "admin_port": s.admin_port},
        )
        try:
            stopped = asyncio.create_task(self._stop.wait())
            done, _ = await asyncio.wait([stopped, *background], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stopped and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
        finally:
            log.info("stopping: finishing in-flight deliveries (grace %.0fs)", s.grace_period)
            await asyncio.gather(*(i.drain(s.grace_period) for i in self.intakes), return_exceptions=True)
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            left = await asyncio.to_thread(producer.flush, 10.0)
            if left:
                log.error("%d records not acknowledged by Kafka at exit", left)
            await sender.close()
            await feed.close()
            await runner.cleanup()
            if store is not None:
                await store.close()

    async def _ensure(self, names: Iterable[str], router: Router) -> None:
        wanted = set(names) | {self.topics.retry(rung) for rung in self._ladder(router).rungs}
        missing = wanted - self._known_topics
        if missing:
            k = self.settings.kafka
            await asyncio.to_thread(
                ensure_topics,
                k.client(),
                missing,
                partitions=k.partitions,
                replication=k.replication_factor,
                min_insync=k.min_insync_replicas,
            )
            self._known_topics |= missing

    async def _warn_of_unsafe_topics(self) -> None:
        """Say, in the log and in a metric, which topics a broker failure could lose records from."""
        if self.settings.development:
            return  # a local single broker cannot do better
        k = self.settings.kafka
        used = self._known_topics | set(k.input_topics)
        unsafe = await asyncio.to_thread(unsafe_topics, k.client(), used)
        for topic, reason in sorted(unsafe.items()):
            self.metrics.topic_unsafe.labels(topic).set(1)
            log.warning(
                "a broker failure could lose records of this topic: %s", reason, extra={"topic": topic}
            )

    async def _reload(self, source: SubscriptionSource, deliveries: Deliveries) -> None:
        while True:
            await asyncio.sleep(self.settings.reload_interval)
            rejected_before = source.rejected_count
            if await asyncio.to_thread(source.poll) is not None:
                router = await self._rebuild()
                self.metrics.config_reloads.labels("applied").inc()
                log.info("subscriptions reloaded", extra={"subscriptions": len(router.subscriptions)})
            elif source.rejected_count != rejected_before:
                self.metrics.config_reloads.labels("rejected").inc()
                log.error(
                    "subscription change refused, the last good version stays in force",
                    extra={"error": str(source.last_error)},
                )

    # -- both sources of subscriptions (issue 12) ------------------------------------------------

    def _file_subscriptions(self) -> list[Subscription]:
        router = self._source.router if self._source is not None else None
        return list(router.subscriptions) if router is not None else []

    def _catalog(self) -> Catalog:
        assert self._source is not None
        assert self._source.router is not None
        return self._source.router.catalog

    def _reserved(self) -> dict[str, str]:
        return self._feed.reserved() if self._feed is not None else {}

    def _combined(self) -> Router:
        assert self._feed is not None
        registry = self._feed.registry
        combined = combine(
            self._file_subscriptions(), registry.compiled(), registry.suspended(), self._catalog()
        )
        for name, reason in combined.left_out.items():
            log.error("API-managed subscription left out", extra={"subscription": name, "error": reason})
        return combined.router

    async def _rebuild(self) -> Router:
        """Install a Router built from the files and the topic as they are now."""
        async with self._rebuilding:
            router = self._combined()
            if self._deliveries is not None:
                # New retry topics first, so that no delivery under the new version finds its topic missing.
                await self._ensure((), router)
                self._deliveries.router, self._deliveries.ladder = router, self._ladder(router)
                self._count_subscriptions(router)
            return router

    async def _observe(self) -> None:
        m = self.metrics
        turn = 0
        reported: set[tuple[str, str, str]] = set()
        while True:
            now = time.time()
            if turn % 6 == 0:
                await self._observe_replication()
            turn += 1
            owned: set[tuple[str, str, str]] = set()
            for intake in self.intakes:
                backlog: dict[str, int] = {}
                for (topic, partition), (behind, unfinished) in (await intake.lags()).items():
                    labels = (intake.group, topic, str(partition))
                    owned.add(labels)
                    m.consumer_lag.labels(*labels).set(behind)
                    m.consumer_committed_lag.labels(*labels).set(unfinished)
                    backlog[topic] = backlog.get(topic, 0) + behind
                if intake.group.endswith("-retry"):
                    heads = intake.deferred_heads()
                    for topic, records in backlog.items():
                        m.retry_backlog.labels(topic).set(records)
                        oldest = min((at for (t, _p), at in heads.items() if t == topic), default=now)
                        m.retry_head_age.labels(topic).set(now - oldest if records else 0.0)
            # A partition another member took over is that member's to report: summed over pods, a
            # stale value left here would count its lag twice.
            for labels in reported - owned:
                m.consumer_lag.remove(*labels)
                m.consumer_committed_lag.remove(*labels)
            reported = owned
            await asyncio.sleep(5)

    async def _observe_replication(self) -> None:
        k = self.settings.kafka
        try:
            found = await asyncio.to_thread(replication, k.client(), k.input_topics, k.topic_prefix)
        except Exception as exc:  # the metadata call fails while the cluster is away; the gauges wait
            log.warning("cannot read the topics' replication: %s", exc)
            return
        for topic, (replicas, in_sync) in found.items():
            self.metrics.topic_replicas.labels(topic).set(replicas)
            self.metrics.topic_in_sync_replicas.labels(topic).set(in_sync)

    async def _maintain(self, store: Store) -> None:
        """Create or upgrade the store's schema, then keep the open failed-events gauge fresh and prune.

        The database may be away for a while: every step is tried again later,
        and deliveries go on meanwhile (the dead-letter writer waits for it).
        """
        retention = self.settings.store_retention_days
        migrated = False
        last_prune = 0.0
        while True:
            try:
                if not migrated:
                    await store.migrate()
                    migrated = True
                self.metrics.failed_open.set(await store.count_open())
                if retention is not None and time.monotonic() - last_prune > 3600:
                    pruned = await store.prune(timedelta(days=retention))
                    last_prune = time.monotonic()
                    if pruned.total:
                        log.info(
                            "retention: pruned %d failed events and %d logged requests",
                            pruned.failed_events,
                            pruned.requests,
                        )
                self.metrics.store_available.set(1)
            except StoreError as exc:
                self.metrics.store_available.set(0)
                log.warning("the failed-events store is unavailable: %s", exc)
                await asyncio.sleep(5 if not migrated else 30)
                continue
            await asyncio.sleep(30)

    def _count_subscriptions(self, router: Router) -> None:
        active = sum(1 for sub in router.subscriptions if sub.active)
        self.metrics.subscriptions.labels("active").set(active)
        self.metrics.subscriptions.labels("inactive").set(len(router.subscriptions) - active)


def run_service(settings: Settings) -> int:
    """Run until SIGTERM or SIGINT; returns the process exit code."""

    async def main() -> None:
        # With a thousand requests under way the default threshold (700) runs a collection every
        # few events and full ones walk the whole heap: a fifth of an event's CPU, measured in
        # docs/adr/0003-gc-threshold-and-freeze.md.
        gc.set_threshold(50_000, 20, 100)
        service = Service(settings)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, service.stop)
        await service.run()

    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; this keeps odd platforms working
        asyncio.run(main())
    else:
        uvloop.run(main())
    return 0
