"""Features scenario: the throughput run with what production subscriptions use, against the bare client.

Ten subscriptions match every event (fan-out), each with Standard Webhooks signing, a bearer
token from a real OAuth2 client-credentials endpoint on loopback (authlib's
``AuthorizationServer``, as the tests' receivers use), ``fields`` shaping, and Avro input. The
bare aiohttp client then makes the same number of requests with the same headers and bodies
(built beforehand with hookstream's own shaping, webhook id and signer, and a token from the same
endpoint), so the ratio prices what hookstream does per request beyond HTTP.

Prints one JSON line: ``{"scenario": "features", "requests_per_s", "ceiling_requests_per_s",
"ratio", "cpu_ratio", "events", "subscriptions", "rounds"}``; rounds as in
:func:`bench.pipeline.throughput` (the ceiling measured right before and after each of
hookstream's runs, the median round reported).
"""

from __future__ import annotations

import asyncio
import base64
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from bench.nginx import Nginx
from bench.pipeline import Request, _cpu_seconds, _events, _post_all, _rounded, _service, _wait_hits
from consumer.wire.codec import decode_event, encode_avro
from router import load_catalog, load_subscriptions, shape_body
from router.resources import config_path
from sender import SenderSettings
from sender.outcome import Message
from sender.webhook import Signer, headers, webhook_id
from tests.support.kafka import produce
from tests.support.receivers.http import Receiver
from tests.support.receivers.oauth import TokenServer
from tests.support.service import write_subscriptions

__all__ = ["features"]

_CLIENT_ID = "hookstream-bench"
_SECRETS = {
    "BENCH_CLIENT_SECRET": "bench-client-secret",
    "BENCH_SIGNING_SECRET": "whsec_" + base64.b64encode(b"bench signing key of 32 bytes..").decode(),
}
# What config/subscriptions/conversations.yaml's shaped subscription keeps of an event's data.
_FIELDS = ["id", "status_id", "customer.id", "customer.email"]


@contextmanager
def _token_endpoint() -> Iterator[str]:
    """A real OAuth2 token endpoint on loopback, served on a thread of its own; yields its URL."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    receiver = Receiver()
    server = TokenServer(clients={_CLIENT_ID: _SECRETS["BENCH_CLIENT_SECRET"]})

    async def serve() -> None:
        await receiver.start()
        server.mount(receiver)
        started.set()

    thread = threading.Thread(target=loop.run_forever, name="token-endpoint", daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(serve(), loop).result(timeout=30)
    started.wait(30)
    try:
        yield receiver.url("/token")
    finally:
        asyncio.run_coroutine_threadsafe(receiver.stop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()


def _subscriptions(nginx: Nginx, token_url: str, paths: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "name": f"features-{i}",
            "entity": "Object",
            "triggers": [{"event_type": "OnNew"}],
            "endpoint": {"type": "rest", "url": nginx.url(path), "timeout": 15},
            "auth": {
                "type": "oauth2_client_credentials",
                "token_url": token_url,
                "client_id": _CLIENT_ID,
                "client_secret": "${BENCH_CLIENT_SECRET}",
            },
            "signing_secrets": ["${BENCH_SIGNING_SECRET}"],
            "fields": _FIELDS,
            "retry": {"attempts": 3, "interval": "5m"},
        }
        for i, path in enumerate(paths)
    ]


async def _token(token_url: str) -> str:
    auth = aiohttp.BasicAuth(_CLIENT_ID, _SECRETS["BENCH_CLIENT_SECRET"])
    async with (
        aiohttp.ClientSession() as session,
        session.post(token_url, data={"grant_type": "client_credentials"}, auth=auth) as resp,
    ):
        resp.raise_for_status()
        return str((await resp.json(content_type=None))["access_token"])


def _requests(subscriptions_file: Path, values: list[bytes], token: str) -> list[Request]:
    """What hookstream sends for every event and subscription: (subscription index, body, headers)."""
    for name, secret in _SECRETS.items():
        os.environ.setdefault(name, secret)
    catalog = load_catalog(config_path("catalog.yaml"))
    subs = load_subscriptions(subscriptions_file, catalog, development=True)
    signer = Signer([_SECRETS["BENCH_SIGNING_SECRET"]])
    base = {"User-Agent": SenderSettings().user_agent, "Content-Type": "application/json"}
    out = []
    for value in values:
        event = decode_event(value)
        for index, sub in enumerate(subs):
            shaped = shape_body(event, sub, catalog)
            message = Message(webhook_id(event.event_id, sub.name), int(time.time()), shaped, 1)
            body = orjson.dumps(shaped)
            request_headers = headers(base, message, body, signer)
            request_headers["Authorization"] = f"Bearer {token}"
            out.append((index, body, request_headers))
    return out


def features(bootstrap: str, events: int, *, subscriptions: int = 10, rounds: int = 3) -> dict[str, Any]:
    """``events`` Avro events, each delivered to ``subscriptions`` endpoints, in ``rounds`` rounds."""
    sample = _events(events)
    values = [encode_avro(e) for e in sample]
    n = events * subscriptions
    concurrency = SenderSettings().max_in_flight_per_endpoint
    results: list[dict[str, float]] = []
    with Nginx() as nginx, tempfile.TemporaryDirectory() as tmp, _token_endpoint() as token_url:
        raw_urls = [nginx.url(f"/raw-{i}") for i in range(subscriptions)]
        subs_file = write_subscriptions(
            Path(tmp) / "bare.yaml",
            _subscriptions(nginx, token_url, [f"/raw-{i}" for i in range(subscriptions)]),
        )
        requests = _requests(subs_file, values, asyncio.run(_token(token_url)))

        def ceiling() -> tuple[float, float]:
            started = time.process_time()
            rate = asyncio.run(_post_all(raw_urls, requests, concurrency))
            return rate, time.process_time() - started

        after, _ = ceiling()
        for round_ in range(rounds):
            before = after
            paths = [f"/r{round_}-{i}" for i in range(subscriptions)]
            service = _service(bootstrap, _subscriptions(nginx, token_url, paths), Path(tmp), **_SECRETS)
            produce(bootstrap, service.input_topic, values)
            try:
                service.start()
                assert service.proc is not None
                cpu_start = _cpu_seconds(service.proc.pid)
                hits: list[float] = []
                for path in paths:
                    hits += _wait_hits(nginx, path, events, service)
                cpu = _cpu_seconds(service.proc.pid) - cpu_start
            finally:
                service.stop()
            after, raw_cpu = ceiling()
            rate, raw = n / (max(hits) - min(hits)), (before + after) / 2
            results.append({"eps": rate, "ceiling_eps": raw, "ratio": rate / raw, "cpu_ratio": raw_cpu / cpu})
    median = sorted(range(rounds), key=lambda i: results[i]["ratio"])[rounds // 2]
    cpu_ratios = sorted(r["cpu_ratio"] for r in results)
    return {
        "scenario": "features",
        "requests_per_s": round(results[median]["eps"]),
        "ceiling_requests_per_s": round(results[median]["ceiling_eps"]),
        "ratio": round(results[median]["ratio"], 3),
        "cpu_ratio": round(cpu_ratios[rounds // 2], 3),
        "events": events,
        "subscriptions": subscriptions,
        "rounds": [_rounded(r) for r in results],
    }
