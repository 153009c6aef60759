"""Kafka in to HTTP out: throughput against the raw aiohttp ceiling, latency, isolation, memory."""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from bench.nginx import Nginx
from consumer.dev.samples import sample_events
from consumer.wire.codec import encode_avro
from sender import SenderSettings
from tests.support.kafka import create_topics, produce, unique_prefix
from tests.support.service import ServiceProcess, write_subscriptions

__all__ = ["ceiling", "isolation", "latency", "throughput"]


def _subscription(name: str, url: str, timeout: float = 15.0) -> dict[str, Any]:
    return {
        "name": name,
        "entity": "Object",
        "triggers": [{"event_type": "OnNew"}],
        "endpoint": {"type": "rest", "url": url, "timeout": timeout},
        "retry": {"attempts": 3, "interval": "5m"},
    }


def _events(n: int) -> list[dict[str, Any]]:
    return [{**e, "entity": "Object", "event_type": "OnNew"} for e in sample_events(n)]


def _service(bootstrap: str, subs: list[dict[str, Any]], workdir: Path, **env: str) -> ServiceProcess:
    prefix = unique_prefix("bench")
    path = write_subscriptions(workdir / f"{prefix}.yaml", subs)
    service = ServiceProcess(
        bootstrap, prefix, path, workdir, env={"HOOKSTREAM_LOG_LEVEL": "WARNING", **env}, cwd=service_root()
    )
    create_topics(bootstrap, service.input_topic, partitions=4)
    return service


def service_root() -> Path | None:
    """Another checkout whose hookstream to measure (``BENCH_SERVICE_ROOT``), for before-and-after runs.

    ``python -m consumer.cli`` started there imports that checkout's code first.
    """
    root = os.environ.get("BENCH_SERVICE_ROOT")
    return Path(root).resolve() if root else None


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


#: A request of the raw ceiling: which of the URLs, the body, the headers.
Request = tuple[int, bytes, dict[str, str]]


async def _post_all(urls: list[str], requests: list[Request], concurrency: int) -> float:
    """The raw ceiling: a bare aiohttp client making ``requests`` (index into ``urls``, body, headers)
    with ``concurrency`` under way at once; returns requests per second."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        queue = iter(requests)

        async def worker() -> None:
            for index, body, headers in queue:
                async with session.post(urls[index], data=body, headers=headers) as resp:
                    await resp.read()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return len(requests) / (time.perf_counter() - started)


def ceiling(url: str, events: list[dict[str, Any]]) -> float:
    bodies = [
        orjson.dumps(
            {
                k: e[k]
                for k in (
                    "event_id",
                    "event_time",
                    "event_type",
                    "entity",
                    "entity_id",
                    "current_context",
                    "data",
                )
            }
        )
        for e in events
    ]
    headers = {"Content-Type": "application/json"}
    requests = [(0, body, headers) for body in bodies]
    return asyncio.run(_post_all([url], requests, SenderSettings().max_in_flight_per_endpoint))


def _wait_hits(nginx: Nginx, path: str, n: int, service: ServiceProcess, timeout: float = 300) -> list[float]:
    """The arrival times of ``n`` hits on ``path``.

    A stall raises with the service's log: its folder is deleted right after.
    """
    # Only the hits logged since the last look are scanned: the log holds every round's
    # hits, and scanning it whole every half second took a growing share of a core
    # from the service being measured.
    deadline = time.monotonic() + timeout
    hits: list[float] = []
    seen = 0
    while time.monotonic() < deadline:
        logged = nginx.hits()
        hits += [at for at, uri in logged[seen:] if uri == path]
        seen = len(logged)
        if len(hits) >= n:
            return hits
        time.sleep(0.5)
    raise TimeoutError(f"{path}: only {len(hits)} of {n} arrived; hookstream's log ends:\n{service.log()}")


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far, every thread included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def throughput(bootstrap: str, n: int, rounds: int = 5) -> dict[str, Any]:
    """hookstream's deliveries per second against the raw ceiling, in ``rounds`` rounds.

    On a shared two-core machine the speed of either side drifts by a fifth within
    a minute, so each round measures the ceiling right before and right after
    hookstream's run and compares against their mean; the median round is
    reported, and every round's figures are printed too. CPU time per event
    (hookstream's process, every thread) against per request (the bare client)
    is printed as well: it drifts less than wall-clock rates.
    """
    events = _events(n)
    results: list[dict[str, float]] = []
    rss: list[tuple[float, float]] = []
    with Nginx() as nginx, tempfile.TemporaryDirectory() as tmp:
        after = ceiling(nginx.url("/raw"), events)
        for round_ in range(rounds):
            before = after
            path = f"/hook{round_}"
            service = _service(bootstrap, [_subscription("bench", nginx.url(path))], Path(tmp))
            produce(bootstrap, service.input_topic, [encode_avro(e) for e in events])
            try:
                service.start()
                assert service.proc is not None
                rss_start, cpu_start = _rss_mb(service.proc.pid), _cpu_seconds(service.proc.pid)
                hits = _wait_hits(nginx, path, n, service)
                cpu = _cpu_seconds(service.proc.pid) - cpu_start
                rss.append((rss_start, _rss_mb(service.proc.pid)))
            finally:
                service.stop()
            started = time.process_time()
            after = ceiling(nginx.url(f"/raw{round_}"), events)
            raw_cpu = time.process_time() - started
            eps, raw = n / (max(hits) - min(hits)), (before + after) / 2
            results.append({"eps": eps, "ceiling_eps": raw, "ratio": eps / raw, "cpu_ratio": raw_cpu / cpu})
    median = sorted(range(rounds), key=lambda i: results[i]["ratio"])[rounds // 2]
    cpu_ratios = sorted(r["cpu_ratio"] for r in results)
    return {
        "throughput_eps": round(results[median]["eps"]),
        "ceiling_eps": round(results[median]["ceiling_eps"]),
        "ratio": round(results[median]["ratio"], 3),
        "events": n,
        "cpu_ratio": round(cpu_ratios[rounds // 2], 3),
        "rounds": [_rounded(r) for r in results],
        "rss_mb_after_start": round(rss[median][0], 1),
        "rss_mb_after_run": round(rss[median][1], 1),
    }


def _rounded(figures: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 3) if k.endswith("ratio") else round(v) for k, v in figures.items()}


def _produce_at_rate(bootstrap: str, topic: str, events: list[dict[str, Any]], rate: float) -> None:
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "enable.idempotence": True})
    started = time.perf_counter()
    for n, event in enumerate(events):
        delay = started + n / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        event["event_time"] = int(time.time() * 1000)
        producer.produce(topic, encode_avro(event))
        producer.poll(0)
    producer.flush(30)


def _percentiles(samples: list[float]) -> tuple[float, float]:
    qs = statistics.quantiles(samples, n=100, method="inclusive")
    return qs[49], qs[98]


def latency(bootstrap: str, rate: float = 1000.0, seconds: float = 10.0) -> dict[str, Any]:
    """Produce-to-receipt at a steady rate: nginx's arrival time minus the event_time set at produce."""
    warmup = int(rate * 2)
    events = _events(warmup + int(rate * seconds))
    with Nginx() as nginx, tempfile.TemporaryDirectory() as tmp:
        service = _service(bootstrap, [_subscription("latency", nginx.url("/timed/hook"))], Path(tmp))
        try:
            service.start()
            # One producer for all: a new producer's start-up (its idempotence handshake) is not ours to time.
            _produce_at_rate(bootstrap, service.input_topic, events, rate)
            deadline = time.monotonic() + 120
            while len(nginx.bodies()) < len(events) and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            service.stop()
        measured = {body["event_id"]: at for at, body in nginx.bodies()}
    lat = [
        measured[e["event_id"]] * 1000 - e["event_time"] for e in events[warmup:] if e["event_id"] in measured
    ]
    p50, p99 = _percentiles(lat)
    return {"p50_ms": round(p50, 1), "p99_ms": round(p99, 1), "rate_eps": rate, "latency_events": len(lat)}


def _parse_ms(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000


class _Hang:
    """A TCP server that reads requests and never answers: an endpoint that hangs until the timeout."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1024)
        self.port = self.sock.getsockname()[1]
        self._conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self._conns.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self._conns:
            conn.close()


def isolation(
    bootstrap: str, n: int, *, subscriptions: int = 10, timeout: float = 5.0, rounds: int = 3
) -> dict[str, Any]:
    """Healthy endpoints' throughput and p99 with and without one endpoint that hangs."""
    healthy_paths = [f"/h{i}" for i in range(subscriptions - 1)]

    def run(hang: bool) -> float:
        events = _events(n)
        hanger = _Hang()
        with Nginx() as nginx, tempfile.TemporaryDirectory() as tmp:
            subs = [_subscription(f"healthy-{i}", nginx.url(p), timeout) for i, p in enumerate(healthy_paths)]
            bad_url = f"http://127.0.0.1:{hanger.port}/hang" if hang else nginx.url("/other")
            subs.append(_subscription("hanging" if hang else "other", bad_url, timeout))
            service = _service(bootstrap, subs, Path(tmp))
            produce(bootstrap, service.input_topic, [encode_avro(e) for e in events])
            try:
                service.start()
                hits: list[float] = []
                for path in healthy_paths:
                    hits += _wait_hits(nginx, path, n, service)
            finally:
                service.stop()
                hanger.close()
        return len(hits) / (max(hits) - min(hits))

    def p99(hang: bool, rate: float = 100.0, seconds: float = 10.0) -> float:
        warmup = int(rate * 2)  # as in latency(): the group's first assignment is not steady state
        events = _events(warmup + int(rate * seconds))
        hanger = _Hang()
        with Nginx() as nginx, tempfile.TemporaryDirectory() as tmp:
            # Healthy deliveries go through /timed/, where nginx logs each body with its arrival time.
            subs = [
                _subscription(f"healthy-{i}", nginx.url(f"/timed{p}"), timeout)
                for i, p in enumerate(healthy_paths)
            ]
            bad_url = f"http://127.0.0.1:{hanger.port}/hang" if hang else nginx.url("/other")
            subs.append(_subscription("hanging" if hang else "other", bad_url, timeout))
            service = _service(bootstrap, subs, Path(tmp))
            try:
                service.start()
                _produce_at_rate(bootstrap, service.input_topic, events, rate)
                want = len(events) * len(healthy_paths)
                deadline = time.monotonic() + 120
                while len(nginx.bodies()) < want and time.monotonic() < deadline:
                    time.sleep(0.5)
            finally:
                service.stop()
                hanger.close()
            steady = {e["event_id"] for e in events[warmup:]}
            lat = [
                at * 1000 - _parse_ms(body["event_time"])
                for at, body in nginx.bodies()
                if body["event_id"] in steady
            ]
        return _percentiles(lat)[1]

    # Back-to-back pairs, the median one reported: see throughput().
    pairs = [(run(False), run(True)) for _ in range(rounds)]
    ratios = [with_hang / without for without, with_hang in pairs]
    median = sorted(range(rounds), key=ratios.__getitem__)[rounds // 2]
    without, with_hang = pairs[median]
    p99_without, p99_with = p99(False), p99(True)
    return {
        "scenario": "isolation",
        "subscriptions": subscriptions,
        "healthy_eps_without_hang": round(without),
        "healthy_eps_with_hang": round(with_hang),
        "ratio": round(ratios[median], 3),
        "rounds": [round(r, 3) for r in ratios],
        "healthy_p99_ms_without_hang": round(p99_without, 1),
        "healthy_p99_ms_with_hang": round(p99_with, 1),
    }
