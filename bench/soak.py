"""Soak scenario: a long run's memory. ``BENCH_SOAK_EVENTS`` events (a million for the full soak;
``make bench`` runs 500,000: at some 5,000 a second, enough 10-second samples after the warm-up for a
slope), or as many as are delivered within 10 minutes.

The events are on the input topic before hookstream starts, so it delivers them as fast as it can
to nginx, and its resident memory (VmRSS) is sampled every 10 s with the count delivered so far.
Prints one JSON line: ``{"scenario": "soak", "events", "delivered", "seconds", "rss_mb_start",
"rss_mb_peak", "rss_mb_end", "rss_mb_per_100k", "samples"}``. The slope is the least-squares fit of
RSS against events delivered while the backlog lasts, in MB per 100,000 events: it leaves out the
first fifth of the events (warm-up: pools, caches and the collector's thresholds fill up) and the
last sample, taken once the topic is drained, when librdkafka has freed its prefetched records
and the process shrinks by some 15-20 MB that are no growth of hookstream's (``rss_mb_end`` shows it).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.nginx import Nginx
from bench.pipeline import _events, _rss_mb, _service, _subscription
from consumer.wire.codec import encode_avro
from tests.support.kafka import produce

__all__ = ["soak"]

_CHUNK = 50_000


class _Counter:
    """Counts nginx's hits on one path, reading only what was logged since the last look."""

    def __init__(self, log: Path, path: str) -> None:
        self._log = log
        self._suffix = f" {path}".encode()
        self._read = 0
        self.count = 0

    def update(self) -> int:
        if self._log.exists():
            with self._log.open("rb") as f:
                f.seek(self._read)
                chunk = f.read()
            end = chunk.rfind(b"\n") + 1  # a line nginx is still writing waits for the next look
            self._read += end
            self.count += sum(1 for line in chunk[:end].splitlines() if line.endswith(self._suffix))
        return self.count


def _slope(points: list[tuple[int, float]]) -> float | None:
    """Least-squares slope of RSS (MB) over events delivered, per 100,000 events."""
    if len(points) < 2:
        return None
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _ in points)
    if var == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / var * 100_000


def soak(
    bootstrap: str, events: int | None = None, *, every: float = 10.0, limit: float = 600.0
) -> dict[str, Any]:
    n = events if events is not None else int(os.environ.get("BENCH_SOAK_EVENTS", "500000"))
    with Nginx() as nginx, tempfile.TemporaryDirectory() as tmp:
        service = _service(bootstrap, [_subscription("soak", nginx.url("/soak"))], Path(tmp))
        for start in range(0, n, _CHUNK):
            produce(bootstrap, service.input_topic, [encode_avro(e) for e in _events(min(_CHUNK, n - start))])
        counter = _Counter(nginx.dir / "access.log", "/soak")
        samples: list[tuple[float, int, float]] = []
        try:
            service.start()
            assert service.proc is not None
            pid = service.proc.pid
            started = time.monotonic()
            samples.append((0.0, counter.update(), _rss_mb(pid)))
            while True:
                time.sleep(max(0.0, started + len(samples) * every - time.monotonic()))
                elapsed = time.monotonic() - started
                # nginx flushes its log every 100 ms: the last hits are counted a moment later.
                samples.append((elapsed, counter.update(), _rss_mb(pid)))
                if samples[-1][1] >= n or elapsed >= limit:
                    break
        finally:
            service.stop()
    delivered = samples[-1][1]
    steady = [(count, rss) for _t, count, rss in samples[:-1] if count >= n // 5]
    slope = _slope(steady)
    return {
        "scenario": "soak",
        "events": n,
        "delivered": delivered,
        "seconds": round(samples[-1][0], 1),
        "rss_mb_start": round(samples[0][2], 1),
        "rss_mb_peak": round(max(rss for _t, _c, rss in samples), 1),
        "rss_mb_end": round(samples[-1][2], 1),
        "rss_mb_per_100k": round(slope, 2) if slope is not None else None,
        "samples": [[round(t), count, round(rss, 1)] for t, count, rss in samples],
    }
