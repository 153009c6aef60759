"""A real aiohttp server on 127.0.0.1 that records every request and answers as a test tells it."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from multidict import CIMultiDictProxy

__all__ = ["Received", "Receiver", "Reply"]


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: CIMultiDictProxy[str]
    body: bytes
    peer: tuple[str, int]  # the client's address and port: one per connection


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # never answer (until the receiver stops)


Handler = Callable[[web.Request, bytes], Awaitable[web.StreamResponse]]


class Receiver:
    """``async with Receiver() as r``: ``r.url("/hook")``, ``r.reply("/hook", Reply(503))``, ``r.received``.

    Paths without a reply answer 200. ``r.handle(path, fn)`` installs a custom handler
    (``fn(request, body) -> response``) for checks such as token validation.
    """

    def __init__(self, ssl_context: ssl.SSLContext | None = None, host: str = "127.0.0.1") -> None:
        self.received: list[Received] = []
        self._ssl = ssl_context
        self._host = host
        self._replies: dict[str, Reply] = {}
        self._handlers: dict[str, Handler] = {}
        self._stopping = asyncio.Event()
        self._arrived = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    def url(self, path: str = "/hook", host: str | None = None) -> str:
        scheme = "https" if self._ssl is not None else "http"
        return f"{scheme}://{host or self._host}:{self.port}{path}"

    def reply(self, path: str, reply: Reply) -> None:
        self._replies[path] = reply

    def handle(self, path: str, handler: Handler) -> None:
        self._handlers[path] = handler

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    async def wait_for(self, count: int) -> None:
        """Until ``count`` requests have arrived (hanging ones included)."""
        async with self._arrived:
            await self._arrived.wait_for(lambda: len(self.received) >= count)

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        peer = request.transport.get_extra_info("peername") if request.transport else ("", 0)
        self.received.append(Received(request.method, request.path, request.headers, body, tuple(peer[:2])))
        async with self._arrived:
            self._arrived.notify_all()
        handler = self._handlers.get(request.path)
        if handler is not None:
            return await handler(request, body)
        reply = self._replies.get(request.path, Reply())
        if reply.hang:
            await self._stopping.wait()
        return web.Response(status=reply.status, body=reply.body, headers=reply.headers)

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._serve)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, 0, ssl_context=self._ssl)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> Receiver:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
