"""Scale-out scenario: the deliveries per second of two ``main`` processes in one consumer group
against one, on the same input topic and the same nginx.

Prints one JSON line: ``{"scenario": "scale_out", "one_eps", "two_eps", "ratio", "events",
"partitions", "rounds"}``. The processes start and settle their partitions before the events
are produced, so the figure is steady-state delivery, not the group's first rebalance; each round
measures one process and then two, and the median round's ratio is reported.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from bench.nginx import Nginx
from bench.pipeline import _events, _subscription, _wait_hits
from consumer.wire.codec import encode_avro
from tests.support.kafka import create_topics, produce, unique_prefix
from tests.support.service import ServiceProcess, write_subscriptions

__all__ = ["scale_out"]


def _group(
    bootstrap: str, nginx: Nginx, path: str, processes: int, n: int, partitions: int, workdir: Path
) -> float:
    prefix = unique_prefix("bench-scale")
    subs = write_subscriptions(workdir / f"{prefix}.yaml", [_subscription("bench", nginx.url(path))])
    services = []
    for i in range(processes):
        logs = workdir / f"{prefix}-{i}"
        logs.mkdir()
        services.append(
            ServiceProcess(
                bootstrap, prefix, subs, logs, role="main", env={"HOOKSTREAM_LOG_LEVEL": "WARNING"}
            )
        )
    create_topics(bootstrap, services[0].input_topic, partitions=partitions)
    try:
        for service in services:
            service.start()
        # A member that joins revokes some of the others' partitions: wait until each holds some.
        for service in services:
            service.wait_ready()
        time.sleep(3)
        # Keyed by entity id, as domain events are: an uneven split would make one process wait for the other.
        events = _events(n)
        keys = [e["entity_id"].encode() for e in events]
        produce(bootstrap, services[0].input_topic, [encode_avro(e) for e in events], keys=keys)
        hits = _wait_hits(nginx, path, n, services[0])
    finally:
        for service in services:
            service.stop()
    return n / (max(hits) - min(hits))


def scale_out(bootstrap: str, n: int, *, partitions: int = 4, rounds: int = 3) -> dict[str, Any]:
    results: list[dict[str, float]] = []
    with Nginx() as nginx, tempfile.TemporaryDirectory() as tmp:
        for round_ in range(rounds):
            one = _group(bootstrap, nginx, f"/one{round_}", 1, n, partitions, Path(tmp))
            two = _group(bootstrap, nginx, f"/two{round_}", 2, n, partitions, Path(tmp))
            results.append({"one_eps": round(one), "two_eps": round(two), "ratio": round(two / one, 3)})
    median = sorted(results, key=lambda r: r["ratio"])[rounds // 2]
    return {"scenario": "scale_out", **median, "events": n, "partitions": partitions, "rounds": results}
