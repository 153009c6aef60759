"""The comparisons ``python -m bench.micro`` runs: the plain way against each hand-built replacement.

Async cases run on uvloop, as the service does, with many tasks under way at
once so that the loop's timer heap and ready queue look like a busy service's.

The pool's permits (sender/permits.py) and the lock-free loop counters
(admin/metrics.py) were measured too and dropped; their code and cases are in
commit eeb76fc (docs/adr/0000-speed-replacements-audit.md). The uuid5 and
coroutine-frame cases carry their hand-built side here, so that the decision
can be checked again on a newer Python.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import io
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import fastavro
import uvloop

from bench.micro import Comparison, Run

__all__ = ["CASES"]

ROOT = Path(__file__).resolve().parents[2]
# Deliveries under way at once: the service's default HOOKSTREAM_MAX_IN_FLIGHT is 1,000.
TASKS = 500


def _on_loop(per_task: Callable[[asyncio.AbstractEventLoop, int], Coroutine[Any, Any, None]]) -> Run:
    """A run of ``n`` operations spread over TASKS tasks on a fresh uvloop, timed inside the loop."""

    def run(n: int) -> float:
        async def main() -> float:
            loop = asyncio.get_running_loop()
            each = max(1, n // TASKS)
            start = time.process_time()
            await asyncio.gather(*(per_task(loop, each) for _ in range(TASKS)))
            return time.process_time() - start

        return uvloop.run(main())

    return run


async def _io(loop: asyncio.AbstractEventLoop) -> None:
    """One suspension resumed on the loop's next turn: a stand-in for waiting on a socket."""
    fut = loop.create_future()
    loop.call_soon(fut.set_result, None)
    await fut


# -- sender/deadlines.py: one timer for every deadline, or asyncio.timeout per request ----------------


def deadlines() -> Comparison:
    from sender.deadlines import Deadlines

    async def plain(loop: asyncio.AbstractEventLoop, n: int) -> None:
        for _ in range(n):
            async with asyncio.timeout(15.0):
                await _io(loop)

    shared = Deadlines()

    async def hand(loop: asyncio.AbstractEventLoop, n: int) -> None:
        for _ in range(n):
            deadline = shared.start(15.0)
            try:
                await _io(loop)
            finally:
                shared.end(deadline)

    async def baseline(loop: asyncio.AbstractEventLoop, n: int) -> None:
        for _ in range(n):
            await _io(loop)

    def hand_run(n: int) -> float:
        nonlocal shared
        shared = Deadlines()  # one per loop, as one Sender per loop
        return _on_loop(hand)(n)

    return Comparison(
        "deadlines",
        "asyncio.timeout around each request",
        "sender.deadlines.Deadlines",
        1,
        _on_loop(plain),
        hand_run,
        _on_loop(baseline),
    )


# -- Sender._attempt: return _post's coroutine, or await it ----------------------------------------------


def frames() -> Comparison:
    """Dropped: Sender._attempt awaits _post again."""

    async def post(loop: asyncio.AbstractEventLoop) -> int:
        # aiohttp suspends a pooled request about three times: write, headers, body.
        for _ in range(3):
            await _io(loop)
        return 200

    async def attempt_awaiting(loop: asyncio.AbstractEventLoop) -> int:
        return await post(loop)

    def attempt_returning(loop: asyncio.AbstractEventLoop) -> Awaitable[int]:
        return post(loop)

    async def plain(loop: asyncio.AbstractEventLoop, n: int) -> None:
        for _ in range(n):
            await attempt_awaiting(loop)

    async def hand(loop: asyncio.AbstractEventLoop, n: int) -> None:
        for _ in range(n):
            await attempt_returning(loop)

    return Comparison(
        "attempt_frame",
        "async def _attempt awaiting _post",
        "_attempt returning _post's coroutine",
        1,
        _on_loop(plain),
        _on_loop(hand),
        None,
    )


# -- consumer/wire/flat_avro.py: a reader written for the schema, or fastavro.schemaless_reader ----------


def _sample_avro() -> bytes:
    from consumer.dev.samples import sample_events
    from consumer.wire.codec import encode_avro

    return encode_avro(next(iter(sample_events(3))))


def avro() -> Comparison:
    from consumer.wire.codec import _SCHEMA_ORDER, event_schema
    from consumer.wire.flat_avro import FlatRecordReader

    schema, header = event_schema()
    value = _sample_avro()
    reader = FlatRecordReader(schema)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    skip = len(header)

    def plain(n: int) -> float:
        read = fastavro.schemaless_reader
        start = time.process_time()
        for _ in range(n):
            record: Any = read(io.BytesIO(value[skip:]), schema, None)
            [record[name] for name in _SCHEMA_ORDER]
        return time.process_time() - start

    def hand(n: int) -> float:
        read = reader.read
        start = time.process_time()
        for _ in range(n):
            values = read(value, skip)
            values[1] = epoch + timedelta(milliseconds=values[1])
        return time.process_time() - start

    return Comparison(
        "flat_avro",
        "fastavro.schemaless_reader",
        "consumer.wire.flat_avro.FlatRecordReader",
        1,
        plain,
        hand,
        n=100_000,
    )


# -- sender/webhook.py webhook_id: uuid.uuid5, or SHA-1 from hashlib ---------------------------------

_NAMESPACE = uuid.UUID("5b0c8a4e-2d1f-4c55-9d6e-6f6f6b737472")


def _uuid5_id(event_id: str, subscription: str) -> str:
    return "msg_" + uuid.uuid5(_NAMESPACE, f"{event_id}\x00{subscription}").hex


def _hashlib_id(event_id: str, subscription: str) -> str:
    # The hand-built version as consumer/deliveries.py had it (commit ab5175b).
    name = _NAMESPACE.bytes + f"{event_id}\x00{subscription}".encode()
    digest = bytearray(hashlib.sha1(name, usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    return "msg_" + digest.hex()


def webhook_id() -> Comparison:
    """Dropped: sender/webhook.py uses uuid.uuid5 again."""
    event_id = str(uuid.uuid4())
    assert _uuid5_id(event_id, "crm-resolved") == _hashlib_id(event_id, "crm-resolved")

    def timed(fn: Callable[[str, str], str]) -> Run:
        def run(n: int) -> float:
            start = time.process_time()
            for _ in range(n):
                fn(event_id, "crm-resolved")
            return time.process_time() - start

        return run

    return Comparison(
        "webhook_id",
        "uuid.uuid5",
        "uuid v5 from hashlib.sha1",
        1,
        timed(_uuid5_id),
        timed(_hashlib_id),
        n=200_000,
    )


# -- consumer/service.py: gc.set_threshold and gc.freeze, or the collector's defaults --------------------


def gc_tuning() -> Comparison:
    """An event's work in process: decode, route, shape, and a real request to nginx on loopback.

    With the service's modules imported and 1,000 deliveries under way, as in the
    service. The collector's cost depends on how much the process keeps (a full
    collection walks all of it) and on what each request leaves in cycles for the
    collector to find, so only real requests through aiohttp tell it.
    """
    import atexit

    import consumer.service  # noqa: F401 - the whole service's modules, for a heap of its size
    from bench.nginx import Nginx
    from consumer.dev.samples import sample_events
    from consumer.wire.codec import decode_event, encode_avro
    from router import load_catalog, shape_body
    from router.reload import SubscriptionSource
    from sender import LOOPBACK_NETWORKS, Message, Outcome, Sender, SenderSettings, Target
    from sender.webhook import webhook_id as make_id

    catalog_path = ROOT / "config" / "catalog.yaml"
    os.environ.setdefault("DEMO_SIGNING_SECRET", "whsec_" + "bWljcm8tYmVuY2gtc2VjcmV0LWtleQ==")
    subscriptions = ROOT / "deploy" / "local" / "demo-subscriptions.yaml"
    router = SubscriptionSource(subscriptions, catalog_path, development=True).load()
    catalog = load_catalog(catalog_path)
    values = [encode_avro(event) for event in sample_events(64)]
    matched = [v for v in values if router.match(decode_event(v))]
    assert matched, "no sample event matches the demo subscriptions"
    nginx = Nginx().__enter__()
    atexit.register(nginx.__exit__)
    settings = SenderSettings.model_validate({"allow_http": True, "ssrf_allow": LOOPBACK_NETWORKS})
    target = Target.model_validate({"key": "micro", "endpoint": {"type": "rest", "url": nginx.url()}})

    async def deliver_all(n: int, tune: bool) -> float:
        sender = Sender(settings)
        await sender.start()
        if tune:
            gc.set_threshold(50_000, 20, 100)
            gc.freeze()
        loop = asyncio.get_running_loop()
        under_way = 0
        room: asyncio.Future[None] | None = None

        class Done:
            def settle(self, _outcome: Outcome) -> None:
                nonlocal under_way, room
                under_way -= 1
                if room is not None and not room.done() and under_way < 900:
                    room.set_result(None)

        done = Done()

        start = time.process_time()
        for i in range(n):
            while under_way >= 1000:
                room = loop.create_future()
                await room
            event = decode_event(matched[i % len(matched)])
            for subscription in router.match(event):
                body = shape_body(event, subscription, catalog)
                message = Message(make_id(event.event_id, subscription.name), int(time.time()), body, 1)
                under_way += 1
                sender.submit(target, message, done)
        while under_way:
            room = loop.create_future()
            await asyncio.wait([room], timeout=0.01)
        elapsed = time.process_time() - start
        await sender.close()
        return elapsed

    def run(tune: bool) -> Run:
        def timed(n: int) -> float:
            try:
                return uvloop.run(deliver_all(n, tune))
            finally:
                gc.unfreeze()
                gc.set_threshold(700, 10, 10)

        return timed

    return Comparison(
        "gc_tuning",
        "the collector's defaults (700, 10, 10)",
        "gc.set_threshold(50_000, 20, 100) and gc.freeze() after start-up",
        1,
        run(False),
        run(True),
        n=10_000,
    )


CASES: dict[str, Callable[[], Comparison]] = {
    "deadlines": deadlines,
    "attempt_frame": frames,
    "flat_avro": avro,
    "webhook_id": webhook_id,
    "gc_tuning": gc_tuning,
}
