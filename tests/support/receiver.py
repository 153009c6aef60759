"""A real HTTP webhook receiver on loopback, run in a thread of the test process.

It records every request and answers per path as a test tells it: a status, a
delay (to hang a delivery), or a number of failures before success.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

__all__ = ["Behaviour", "Received", "Receiver"]


@dataclass
class Behaviour:
    status: int = 200
    delay: float = 0.0
    fail_first: int = 0  # answer `fail_status` to the first N requests, then `status`
    fail_status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    seen: int = 0


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.behaviours: dict[str, Behaviour] = {}
        self.under_way = 0
        self.most_under_way = 0  # the most requests being answered at once
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.port = 0

    def __enter__(self) -> Receiver:
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("receiver did not start")
        return self

    def __exit__(self, *_exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def behave(self, path: str, **kwargs: Any) -> None:
        with self._lock:
            self.behaviours[path] = Behaviour(**kwargs)

    def requests(self, path: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self.received if path is None or r.path == path]

    def event_ids(self, path: str | None = None) -> Counter[str]:
        return Counter(r.body["event_id"] for r in self.requests(path))

    def wait_for(self, predicate: Any, timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return bool(predicate())

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        with self._lock:
            behaviour = self.behaviours.setdefault(request.path, Behaviour())
            behaviour.seen += 1
            nth = behaviour.seen
            self.received.append(
                Received(request.path, dict(request.headers), orjson.loads(raw) if raw else {}, time.time())
            )
        if behaviour.delay:
            self.under_way += 1
            self.most_under_way = max(self.most_under_way, self.under_way)
            try:
                await asyncio.sleep(behaviour.delay)
            finally:
                self.under_way -= 1
        status = behaviour.fail_status if nth <= behaviour.fail_first else behaviour.status
        return web.Response(status=status, text="ok" if status < 300 else "nope", headers=behaviour.headers)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = runner.addresses[0][1]
        self._started.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())
