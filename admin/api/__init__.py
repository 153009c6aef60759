"""The admin HTTP API under ``/api/v1``: subscriptions, failed events, requests, catalog.

:func:`install_api` adds it to the admin server's aiohttp app, beside ``/metrics`` and the health
checks, with its OpenAPI document at ``/api/v1/openapi.json`` and a page that shows it at
``/api/v1/docs``.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files

from aiohttp import web
from prometheus_client import CollectorRegistry

from admin.api.auth import Authenticator, hash_token
from admin.api.framework import Api, Context
from admin.api.problems import ProblemError, problem_response
from admin.api.routes import API, SERVICES, Services
from admin.failed_events import FailedEvents
from admin.metrics import AdminMetrics
from admin.request_log import RequestLog
from admin.settings import ApiSettings
from admin.subscriptions import SubscriptionService
from router import Router
from sender import Sender
from store import Store

__all__ = ["API", "AdminApi", "Api", "Context", "Services", "hash_token", "install_api"]


class AdminApi:
    """Everything the API needs, built once by the admin role."""

    def __init__(
        self,
        settings: ApiSettings,
        *,
        store: Store,
        router: Callable[[], Router],
        sender: Sender,
        subscriptions: SubscriptionService,
        registry: CollectorRegistry,
    ) -> None:
        self.settings = settings
        self.authenticator = Authenticator(settings)
        metrics = AdminMetrics(registry)
        self.services = Services(
            failed_events=FailedEvents(store, router=router, sender=sender, metrics=metrics),
            requests=RequestLog(store),
            router=router,
            subscriptions=subscriptions,
            store=store,
        )


def install_api(app: web.Application, admin_api: AdminApi) -> None:
    app[SERVICES] = admin_api.services
    API.install(app, admin_api.authenticator, max_body=admin_api.settings.max_body_bytes)
    document = API.openapi()
    authenticator = admin_api.authenticator

    async def openapi(request: web.Request) -> web.Response:
        # The document tells what the API can do: readers of the API only.
        try:
            authenticator.authenticate(request)
        except ProblemError as exc:
            return problem_response(exc.problem, request, exc.headers)
        return web.json_response(document, headers={"Cache-Control": "no-store"})

    page = files("admin.api").joinpath("docs.html").read_bytes()

    async def docs(_request: web.Request) -> web.Response:
        # A static page with no data: it fetches the document with the token typed into it.
        return web.Response(body=page, content_type="text/html", headers={"Content-Security-Policy": _CSP})

    app.router.add_get(API.prefix + "/openapi.json", openapi)
    app.router.add_get(API.prefix + "/docs", docs)


# The page's own inline script and style only; it talks to this origin alone.
_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'"
