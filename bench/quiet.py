"""Quiet scenario: produce-to-receipt at 50 and 200 events/s, and the process's CPU while idle.

Prints one JSON line: ``{"scenario": "quiet", "idle_cpu_pct", "rates": {"50": {...}, "200": {...}}}``
where each rate has hookstream's ``p50_ms``, ``p99_ms`` and ``max_ms`` and the same for the bare
bridge (``bare_p50_ms``…, :mod:`bench.bridge`: a consumer blocking in ``poll()`` and a bare
aiohttp POST, nothing else), run at the same rate to the same receiver in alternation with
hookstream, as this machine's floor.

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
import time
from pathlib import Path
from typing import Any

import orjson

from bench.pipeline import _cpu_seconds, _events, _service, _subscription
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


def _run(
    bootstrap: str, topic: str, receiver: TimedReceiver, rate: float, seconds: float, *, avro: bool
) -> list[float]:
    """Latencies in ms of the events after the warm-up; raises if some never arrived."""
    events = _events(int(rate * (_WARMUP_S + seconds)))
    sent = _produce_timed(bootstrap, topic, events, rate, avro=avro)
    deadline = time.monotonic() + 60
    while True:
        arrived = receiver.arrivals()
        missing = [e for e in sent if e not in arrived]
        if not missing:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(missing)} of {len(sent)} events never arrived at the receiver")
        time.sleep(0.2)
    steady = [e["event_id"] for e in events[int(rate * _WARMUP_S) :]]
    return [(arrived[e] - sent[e]) * 1000 for e in steady]


def _figures(samples: list[float], prefix: str = "") -> dict[str, float]:
    qs = statistics.quantiles(samples, n=100, method="inclusive")
    return {
        f"{prefix}p50_ms": round(qs[49], 3),
        f"{prefix}p99_ms": round(qs[98], 3),
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
    with TimedReceiver() as receiver, tempfile.TemporaryDirectory() as tmp:
        service = _service(bootstrap, [_subscription("quiet", receiver.url("/quiet"))], Path(tmp))
        bridge_topic = f"{unique_prefix('bench-bridge')}.events"
        create_topics(bootstrap, bridge_topic, partitions=4)
        bridge: subprocess.Popen[str] | None = None
        try:
            service.start()
            bridge = _bridge(bootstrap, bridge_topic, receiver.url("/bare"))
            time.sleep(3)  # both settled in their groups
            for _ in range(rounds):
                for rate in rates:
                    # In alternation, so that the machine's drift falls on both alike. The bridge posts
                    # each value as it came: it gets the event as JSON, whose id the receiver reads.
                    for system, topic in (("hookstream", service.input_topic), ("bare", bridge_topic)):
                        lat = _run(bootstrap, topic, receiver, rate, seconds, avro=system == "hookstream")
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
            "events": len(samples[("hookstream", rate)]),
            "rounds_p50_ms": round_p50[("hookstream", rate)],
            "bare_rounds_p50_ms": round_p50[("bare", rate)],
        }
        for rate in rates
    }
    return {"scenario": "quiet", "idle_cpu_pct": round(idle * 100, 2), "rates": by_rate}
