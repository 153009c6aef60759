"""Putting the console on the admin server: its pages, sign-in and static files."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from aiohttp import web

from admin.api.auth import Authenticator
from admin.api.framework import Api
from admin.console import failed_events, requests, subscription_form, subscriptions
from admin.console.app import CONSOLE, Console, console_routes, environment

__all__ = ["install_console"]


def install_console(app: web.Application, api: Api, authenticator: Authenticator) -> None:
    app[CONSOLE] = Console(api=api, authenticator=authenticator, templates=environment())
    # The form's routes first: /subscriptions/new is the New page, not the details of one named "new".
    app.router.add_routes(
        [
            *console_routes(),
            *subscription_form.ROUTES,
            *subscriptions.ROUTES,
            *failed_events.ROUTES,
            *requests.ROUTES,
        ]
    )
    app.router.add_static("/static/", Path(str(files("admin.console").joinpath("static"))))
