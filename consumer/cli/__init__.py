"""The `hookstream` command: run the service, validate subscriptions, produce samples, manage failures."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from consumer.settings import load_settings

__all__ = ["main"]


def _run(args: argparse.Namespace) -> int:
    overrides: dict[str, object] = {}
    if args.role:
        overrides["role"] = args.role
    if args.subscriptions:
        overrides["subscriptions"] = args.subscriptions
    if args.development:
        overrides["development"] = True
    settings = load_settings(**overrides)
    from consumer.logs import setup_logging

    setup_logging(settings.log_level, json=settings.log_format == "json")
    from consumer.service import run_service
    from router import SubscriptionError

    try:
        return run_service(settings)
    except SubscriptionError as exc:
        logging.getLogger(__name__).error(
            "the subscriptions are not valid, not starting", extra={"error": str(exc)}
        )
        return 2


def _validate(args: argparse.Namespace) -> int:
    from router.validate import run_validate

    settings = load_settings()
    catalog = args.catalog or settings.catalog
    return run_validate(
        args.paths,
        catalog,
        sys.stdout,
        development=args.development,
        resolve_secrets=not args.without_secrets,
    )


def _produce_sample(args: argparse.Namespace) -> int:
    from confluent_kafka import Producer

    from consumer.dev.samples import sample_events
    from consumer.wire.codec import encode_avro, encode_json

    settings = load_settings()
    topic = args.topic or settings.kafka.input_topics[0]
    producer = Producer(settings.kafka.client(**{"enable.idempotence": True, "acks": "all"}))
    encode = encode_avro if args.format == "avro" else encode_json
    for event in sample_events(args.count):
        producer.produce(topic, encode(event), event["entity_id"].encode())
        producer.poll(0)
        print(f"produced {event['entity']}.{event['event_type']} {event['event_id']} to {topic}")
        if args.every:
            producer.flush(10)
            time.sleep(args.every)
    left = producer.flush(30)
    return 1 if left else 0


def _demo_receiver(args: argparse.Namespace) -> int:
    from consumer.dev.demo import serve_demo_receiver

    asyncio.run(serve_demo_receiver(args.host, args.port))
    return 0


def _topics(args: argparse.Namespace) -> int:
    from consumer.kafka.topics import Topics, ensure_topics
    from consumer.retries import RetryLadder
    from router.reload import SubscriptionSource

    settings = load_settings()
    k = settings.kafka
    topics = Topics(k.topic_prefix)
    router = SubscriptionSource(
        settings.subscriptions, settings.catalog, development=settings.development
    ).load()
    names = {topics.invalid, topics.dlq, topics.log, *k.input_topics}
    intervals = (s.retry.interval for s in router.subscriptions)
    ladder = RetryLadder(intervals, settings.retry_after_cap, settings.retry_ladder)
    names |= {topics.retry(rung) for rung in ladder.rungs}
    ensure_topics(
        k.client(),
        names,
        partitions=k.partitions,
        replication=k.replication_factor,
        min_insync=k.min_insync_replicas,
    )
    print("\n".join(sorted(names)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hookstream", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the service (settings from HOOKSTREAM_* and HOOKSTREAM_CONFIG)")
    run.add_argument("--role", choices=["all", "main", "retry", "dlq", "admin"])
    run.add_argument("--subscriptions", type=Path, help="a subscriptions file or folder")
    run.add_argument("--development", action="store_true", help="allow http:// endpoints")
    run.set_defaults(func=_run)

    validate = sub.add_parser(
        "validate", help="check subscription files; print every error with its location"
    )
    validate.add_argument("paths", type=Path, nargs="+")
    validate.add_argument("--catalog", type=Path)
    validate.add_argument("--development", action="store_true", help="allow http:// endpoints")
    validate.add_argument(
        "--without-secrets",
        action="store_true",
        help="check ${VAR} and file references for form only, without resolving them (for CI)",
    )
    validate.set_defaults(func=_validate)

    sample = sub.add_parser("produce-sample", help="publish sample domain events to the input topic")
    sample.add_argument("--count", type=int, default=4)
    sample.add_argument("--topic")
    sample.add_argument("--format", choices=["avro", "json"], default="avro")
    sample.add_argument("--every", type=float, default=0.0, help="seconds between events")
    sample.set_defaults(func=_produce_sample)

    receiver = sub.add_parser("demo-receiver", help="a local webhook receiver that prints what arrives")
    receiver.add_argument("--host", default="127.0.0.1")
    receiver.add_argument("--port", type=int, default=8099)
    receiver.set_defaults(func=_demo_receiver)

    topics = sub.add_parser("topics", help="create the topics hookstream uses, where missing")
    topics.set_defaults(func=_topics)

    from consumer.cli.failed import add_failed_commands

    add_failed_commands(sub)
    from consumer.cli.subscriptions import add_subscription_commands

    add_subscription_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))
