"""The admin HTTP server: ``/metrics``, ``/healthz`` and ``/readyz`` in every role, the API in admin's."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from admin.api import API, AdminApi, install_api
from admin.console import install_console

__all__ = ["build_app", "start_admin"]

REGISTRY_KEY = web.AppKey("registry", CollectorRegistry)
Readiness = Callable[[], tuple[bool, str]]
READY_KEY: web.AppKey[Readiness] = web.AppKey("ready")


async def _metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[REGISTRY_KEY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _readyz(request: web.Request) -> web.Response:
    ready, reason = request.app[READY_KEY]()
    return web.json_response({"ready": ready, "reason": reason}, status=200 if ready else 503)


def build_app(
    registry: CollectorRegistry, ready: Callable[[], tuple[bool, str]], *, api: AdminApi | None = None
) -> web.Application:
    """Serve ``registry``, where every room registered its metrics, at ``/metrics``; and, when ``api``
    is given (the admin role), the admin API under ``/api/v1`` and the web console at ``/``."""
    # Bodies are limited per request by the API (ApiSettings.max_body_bytes); this is aiohttp's own cap.
    app = web.Application(client_max_size=(api.settings.max_body_bytes if api else 1024) + 1024)
    app[REGISTRY_KEY] = registry
    app[READY_KEY] = ready
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    if api is not None:
        install_api(app, api)
        install_console(app, API, api.authenticator)
    return app


async def start_admin(app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
