"""Quiet scenario: produce-to-receipt at 50 and 200 events/s, and the process's CPU while idle.

Prints one JSON line: ``{"scenario": "quiet", "idle_cpu_pct", "rates": {"50": {...}, "200": {...}}}``
where each rate has hookstream's ``p50_ms``, ``p99_ms`` and ``max_ms``, and two floors measured at
the same rate in alternation with it: the bare bridge (``bare_p50_ms``…, :mod:`bench.bridge`: a
consumer blocking in ``poll()`` and a bare aiohttp POST to the same receiver, nothing else), and
the broker alone (``broker_p50_ms``…: produce to the moment a consumer in the bench's own process,
blocked in ``poll()``, has the record; no HTTP at all).

Latency is measured to the microsecond: the bench notes ``time.time()`` right before it hands
each event to its producer, and :mod:`bench.receiver` notes the time each request's last byte
arrives (nginx logs milliseconds only). The first two seconds of each run are left out, and the
samples of every round are pooled. ``idle_cpu_pct`` is hookstream's CPU time (every thread) over
30 s without traffic, after the latency runs, as a percentage of one core.
"""

from __future__ import annotations

import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from bench.pipeline import _cpu_seconds, _events, _percentiles, _service, _subscription
from bench.receiver import TimedReceiver
from consumer.wire.codec import encode_avro
from tests.support.kafka import create_topics, unique_prefix

__all__ = ["quiet"]

_WARMUP_S = 2.0


def _produce_timed(
    bootstrap: str, topic: str, events: list[dict[str, Any]], rate: float, *, avro: bool = True
) -> dict[str, float]:
    """Produce ``events`` at ``rate`` per second; returns when each was handed to the producer."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "enable.idempotence": True})
    values = [encode_avro(e) if avro else orjson.dumps(e) for e in events]
    sent: dict[str, float] = {}
    started = time.perf_counter()
    for n, (event, value) in enumerate(zip(events, values, strict=True)):
        delay = started + n / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        sent[event["event_id"]] = time.time()
        producer.produce(topic, value)
        producer.poll(0)
    producer.flush(30)
    return sent


class _BrokerFloor:
    """A consumer on a thread of the bench's own, blocked in ``poll()``: when each event reaches a client."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        from confluent_kafka import Consumer

        self._consumer = Consumer(
            {"bootstrap.servers": bootstrap, "group.id": f"{topic}-floor", "auto.offset.reset": "latest"}
        )
        self._topic = topic
        self._arrived: dict[str, float] = {}
        self._assigned = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._consume, name="broker-floor")

    def __enter__(self) -> _BrokerFloor:
        self._consumer.subscribe([self._topic], on_assign=lambda _c, _p: self._assigned.set())
        self._thread.start()
        if not self._assigned.wait(30):
            raise RuntimeError("the broker floor's consumer got no partitions")
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._consumer.close()

    def _consume(self) -> None:
        while not self._stop.is_set():
            msg = self._consumer.poll(0.5)
            if msg is not None and msg.error() is None:
                at = time.time()
                self._arrived.setdefault(orjson.loads(msg.value() or b"{}")["event_id"], at)

    def arrivals(self) -> dict[str, float]:
        return dict(self._arrived)


def _run(
    bootstrap: str,
    topic: str,
    arrivals: Callable[[], dict[str, float]],
    rate: float,
    seconds: float,
    *,
    avro: bool,
) -> list[float]:
    """Latencies in ms of the events after the warm-up; raises if some never arrived."""
    events = _events(int(rate * (_WARMUP_S + seconds)))
    sent = _produce_timed(bootstrap, topic, events, rate, avro=avro)
    deadline = time.monotonic() + 60
    while True:
        arrived = arrivals()
        missing = [e for e in sent if e not in arrived]
        if not missing:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(missing)} of {len(sent)} events never arrived at the receiver")
        time.sleep(0.2)
    steady = [e["event_id"] for e in events[int(rate * _WARMUP_S) :]]
    return [(arrived[e] - sent[e]) * 1000 for e in steady]


def _figures(samples: list[float], prefix: str = "") -> dict[str, float]:
    p50, p99 = _percentiles(samples)
    return {
        f"{prefix}p50_ms": round(p50, 3),
        f"{prefix}p99_ms": round(p99, 3),
        f"{prefix}max_ms": round(max(samples), 3),
    }


def _bridge(bootstrap: str, topic: str, url: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.bridge", bootstrap, topic, url], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        proc.kill()
        raise RuntimeError("the bare bridge did not start")
    return proc


def quiet(
    bootstrap: str,
    rates: tuple[float, ...] = (50.0, 200.0),
    *,
    seconds: float = 10.0,
    rounds: int = 3,
    idle_seconds: float = 30.0,
) -> dict[str, Any]:
    samples: dict[tuple[str, float], list[float]] = {}
    round_p50: dict[tuple[str, float], list[float]] = {}
    bridge_topic, floor_topic = (f"{unique_prefix(name)}.events" for name in ("bench-bridge", "bench-floor"))
    create_topics(bootstrap, bridge_topic, floor_topic, partitions=4)
    with (
        TimedReceiver() as receiver,
        _BrokerFloor(bootstrap, floor_topic) as floor,
        tempfile.TemporaryDirectory() as tmp,
    ):
        service = _service(bootstrap, [_subscription("quiet", receiver.url("/quiet"))], Path(tmp))
        bridge: subprocess.Popen[str] | None = None
        try:
            service.start()
            bridge = _bridge(bootstrap, bridge_topic, receiver.url("/bare"))
            time.sleep(3)  # both settled in their groups
            systems = (
                ("hookstream", service.input_topic, receiver.arrivals),
                ("bare", bridge_topic, receiver.arrivals),
                ("broker", floor_topic, floor.arrivals),
            )
            for _ in range(rounds):
                for rate in rates:
                    # In alternation, so that the machine's drift falls on all alike. The floors get
                    # each event as JSON, whose id the receiver (or the floor's consumer) reads.
                    for system, topic, arrivals in systems:
                        lat = _run(bootstrap, topic, arrivals, rate, seconds, avro=system == "hookstream")
                        samples.setdefault((system, rate), []).extend(lat)
                        round_p50.setdefault((system, rate), []).append(round(statistics.median(lat), 3))
            time.sleep(5)
            assert service.proc is not None
            cpu_start, started = _cpu_seconds(service.proc.pid), time.monotonic()
            time.sleep(idle_seconds)
            idle = (_cpu_seconds(service.proc.pid) - cpu_start) / (time.monotonic() - started)
        finally:
            service.stop()
            if bridge is not None:
                bridge.send_signal(signal.SIGINT)
                try:
                    bridge.wait(10)
                except subprocess.TimeoutExpired:
                    bridge.kill()
                    bridge.wait(10)
    by_rate = {
        f"{rate:g}": {
            **_figures(samples[("hookstream", rate)]),
            **_figures(samples[("bare", rate)], "bare_"),
            **_figures(samples[("broker", rate)], "broker_"),
            "events": len(samples[("hookstream", rate)]),
            "rounds_p50_ms": round_p50[("hookstream", rate)],
            "bare_rounds_p50_ms": round_p50[("bare", rate)],
            "broker_rounds_p50_ms": round_p50[("broker", rate)],
        }
        for rate in rates
    }
    return {"scenario": "quiet", "idle_cpu_pct": round(idle * 100, 2), "rates": by_rate}
