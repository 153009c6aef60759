"""A webhook receiver for ``make run``: prints each webhook that arrives, one line each."""

from __future__ import annotations

import asyncio

import orjson
from aiohttp import web

__all__ = ["serve_demo_receiver"]


async def _receive(request: web.Request) -> web.Response:
    body = await request.read()
    try:
        doc = orjson.loads(body)
        what = f"{doc.get('entity')}.{doc.get('event_type')} {doc.get('entity_id')}"
    except orjson.JSONDecodeError:
        what = f"{len(body)} bytes"
    signed = "signed" if "webhook-signature" in request.headers else "unsigned"
    print(
        f"webhook arrived at {request.path}: {what} (id {request.headers.get('webhook-id')}, "
        f"attempt {request.headers.get('webhook-attempt')}, {signed})",
        flush=True,
    )
    return web.json_response({"received": True})


async def serve_demo_receiver(host: str, port: int) -> None:
    app = web.Application()
    app.router.add_post("/{tail:.*}", _receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    print(f"demo receiver listening on http://{host}:{port}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
