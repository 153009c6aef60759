"""Names of the topics hookstream writes, and their creation at start."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource  # type: ignore[attr-defined]  # exported, not in __all__
from confluent_kafka.cimpl import NewTopic

from router.durations import format_duration

__all__ = ["MAX_RECORD_BYTES", "Topics", "ensure_topics", "replication", "topic_config", "unsafe_topics"]

log = logging.getLogger(__name__)


class Topics:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.invalid = f"{prefix}.invalid"
        self.dlq = f"{prefix}.dlq"
        self.log = f"{prefix}.log"
        # Compacted, one partition: API-managed subscriptions and suspensions (consumer/kafka/compacted.py).
        self.subscriptions = f"{prefix}.subscriptions"
        # librdkafka treats a subscription starting with ^ as a regex: new retry topics are picked up.
        self.retry_pattern = f"^{re.escape(prefix)}\\.retry\\..+"

    def retry(self, delay: timedelta) -> str:
        return f"{self.prefix}.retry.{format_duration(delay)}"


#: The largest record hookstream writes; a retry or dead-letter record holds the event twice (event and body).
MAX_RECORD_BYTES = 10 * 1024 * 1024
#: Below these a broker failure can lose acknowledged records (acks=all means "all in-sync replicas").
SAFE_REPLICATION, SAFE_MIN_INSYNC = 3, 2


def ensure_topics(
    config: dict[str, Any], names: Iterable[str], *, partitions: int, replication: int, min_insync: int
) -> None:
    """Create the topics that are missing (blocking: call it off the event loop)."""
    admin = AdminClient(config)
    existing = set(admin.list_topics(timeout=15).topics)
    wanted = sorted(set(names) - existing)
    if not wanted:
        return
    topic_config = {"max.message.bytes": str(MAX_RECORD_BYTES), "min.insync.replicas": str(min_insync)}
    futures = admin.create_topics(
        [
            NewTopic(n, num_partitions=partitions, replication_factor=replication, config=topic_config)
            for n in wanted
        ]
    )
    for name, future in futures.items():
        try:
            future.result(timeout=30)
            log.info("created topic %s", name, extra={"topic": name})
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise


def topic_config(admin: AdminClient, name: str) -> dict[str, Any]:
    """A topic's configuration entries (blocking), waiting out a topic created a moment ago.

    A new topic's metadata reaches every broker a little after create_topics returns; until then
    describe_configs answers UNKNOWN_TOPIC_OR_PART.
    """
    resource = ConfigResource(ConfigResource.Type.TOPIC, name)
    for _ in range(50):
        try:
            entries: dict[str, Any] = admin.describe_configs([resource])[resource].result(timeout=30)
            return entries
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise
            time.sleep(0.2)
    raise KafkaException(KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART, f"topic {name} did not appear"))


def unsafe_topics(config: dict[str, Any], names: Iterable[str]) -> dict[str, str]:
    """The topics among ``names`` whose replication could lose acknowledged records, with the reason."""
    admin = AdminClient(config)
    wanted = sorted(set(names))
    metadata = admin.list_topics(timeout=15).topics
    unsafe: dict[str, str] = {}
    for name in (name for name in wanted if name in metadata):
        replicas = min((len(p.replicas) for p in metadata[name].partitions.values()), default=0)
        entry = topic_config(admin, name).get("min.insync.replicas")
        min_insync = int(entry.value) if entry is not None and entry.value is not None else 1
        reasons = []
        if replicas < SAFE_REPLICATION:
            reasons.append(f"replication factor {replicas} < {SAFE_REPLICATION}")
        if min_insync < SAFE_MIN_INSYNC:
            reasons.append(f"min.insync.replicas {min_insync} < {SAFE_MIN_INSYNC}")
        if reasons:
            unsafe[name] = ", ".join(reasons)
    return unsafe


def replication(config: dict[str, Any], topics: Iterable[str], prefix: str) -> dict[str, tuple[int, int]]:
    """Per topic hookstream reads or writes (``topics`` and ``<prefix>.*``): the fewest replicas and the
    fewest in-sync replicas of any of its partitions (blocking: call it off the event loop).

    With acks=all, a write waits for every in-sync replica and fails once they are fewer than the
    broker's min.insync.replicas: these two numbers are how close hookstream is to that.
    """
    wanted = set(topics)
    metadata = AdminClient(config).list_topics(timeout=15)
    result: dict[str, tuple[int, int]] = {}
    for name, topic in metadata.topics.items():
        if (name in wanted or name.startswith(f"{prefix}.")) and topic.partitions:
            parts = topic.partitions.values()
            result[name] = (min(len(p.replicas) for p in parts), min(len(p.isrs) for p in parts))
    return result
