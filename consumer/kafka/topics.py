"""Names of the topics hookstream writes, and their creation at start."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from router.durations import format_duration

__all__ = ["Topics", "ensure_topics", "replication"]

log = logging.getLogger(__name__)


class Topics:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.invalid = f"{prefix}.invalid"
        self.dlq = f"{prefix}.dlq"
        self.log = f"{prefix}.log"
        # librdkafka treats a subscription starting with ^ as a regex: new retry topics are picked up.
        self.retry_pattern = f"^{re.escape(prefix)}\\.retry\\..+"

    def retry(self, delay: timedelta) -> str:
        return f"{self.prefix}.retry.{format_duration(delay)}"


def ensure_topics(config: dict[str, Any], names: Iterable[str], *, partitions: int, replication: int) -> None:
    """Create the topics that are missing (blocking: call it off the event loop)."""
    admin = AdminClient(config)
    existing = set(admin.list_topics(timeout=15).topics)
    wanted = sorted(set(names) - existing)
    if not wanted:
        return
    futures = admin.create_topics(
        [NewTopic(n, num_partitions=partitions, replication_factor=replication) for n in wanted]
    )
    for name, future in futures.items():
        try:
            future.result(timeout=30)
            log.info("created topic %s", name)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise


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
