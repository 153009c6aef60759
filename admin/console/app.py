"""The console's plumbing: sign-in, the page decorator, rendering, flash messages and static files."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote, unquote, urlencode

from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from pydantic import BaseModel

from admin.actor import Actor, Role, at_least
from admin.api.auth import Authenticator
from admin.api.framework import Api, Context
from admin.api.problems import ProblemError
from admin.console.session import (
    NotSignedIn,
    check_form,
    console_actor,
    csrf_value,
    sign_in,
    sign_out,
)
from store import DatabaseError

__all__ = ["CONSOLE", "Console", "Page", "console_routes", "environment", "page", "render"]

log = logging.getLogger(__name__)

FLASH_COOKIE = "hookstream_flash"
# Own scripts and styles only, no inline code, nothing from elsewhere; the pages are never framed.
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True, slots=True)
class Console:
    api: Api
    authenticator: Authenticator
    templates: Environment


CONSOLE = web.AppKey("console", Console)
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Page:
    """One request to a page, by a signed-in user: what a page handler works with."""

    request: web.Request
    actor: Actor
    console: Console

    def can(self, role: Role) -> bool:
        return at_least(self.actor.role, role)

    async def call(
        self,
        answer: type[M],
        operation_id: str,
        *,
        path: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
        body: Any = None,
    ) -> M:
        """The API operation's answer, for this user (same role check, same validation)."""
        result = await self.console.api.call(
            operation_id, Context(self.request, self.actor), path=path, query=query, body=body
        )
        if not isinstance(result, answer):
            raise TypeError(f"{operation_id} answered {type(result).__name__}, not {answer.__name__}")
        return result

    async def act(self, operation_id: str, **inputs: Any) -> None:
        """An operation whose answer the page does not show (delete: 204)."""
        await self.console.api.call(operation_id, Context(self.request, self.actor), **inputs)

    async def form(self) -> dict[str, str]:
        """The posted form, once it is known to come from this console (403 otherwise)."""
        posted = await self.request.post()
        form = {key: value for key, value in posted.items() if isinstance(value, str)}
        check_form(self.request, form)
        return form

    async def form_lists(self) -> dict[str, list[str]]:
        """The posted form with every value of a repeated field (checkboxes), once checked."""
        posted = await self.request.post()
        check_form(self.request, {k: v for k, v in posted.items() if isinstance(v, str)})
        lists: dict[str, list[str]] = {}
        for key, value in posted.items():
            if isinstance(value, str):
                lists.setdefault(key, []).append(value)
        return lists

    def render(self, template: str, *, status: int = 200, title: str, **values: Any) -> web.Response:
        return render(self.request, template, status=status, title=title, actor=self.actor, **values)

    def redirect(self, location: str, flash: str | None = None, *, warn: bool = False) -> web.Response:
        """After a post, back to a page (post/redirect/get), with a message for it to show: ``warn``
        when what was asked did not all happen (a resend that failed again)."""
        response = web.HTTPSeeOther(location)
        if flash:
            kept = ("warn:" if warn else "ok:") + flash
            response.set_cookie(FLASH_COOKIE, quote(kept), httponly=True, samesite="Strict", path="/")
        return response


PageHandler = Callable[[Page], Awaitable[web.StreamResponse]]


def page(
    role: Role = "viewer",
) -> Callable[[PageHandler], Callable[[web.Request], Awaitable[web.StreamResponse]]]:
    """A console page for users with at least ``role``: signed-in users only, form posts guarded,
    the API's refusals shown as an error page (or, for 422, left to the handler to show by the field)."""

    def wrap(handler: PageHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def serve(request: web.Request) -> web.StreamResponse:
            console = request.app[CONSOLE]
            try:
                actor = console_actor(request, console.authenticator)
            except NotSignedIn:
                target = request.path_qs if request.method == "GET" else "/"
                raise web.HTTPSeeOther("/sign-in?" + urlencode({"next": target})) from None
            try:
                if not at_least(actor.role, role):
                    raise ProblemError(403, f"this page needs the {role} role; {actor.name} has {actor.role}")
                return await handler(Page(request, actor, console))
            except ProblemError as exc:
                problem = exc.problem
                return render(
                    request,
                    "error.html",
                    status=problem.status,
                    title=problem.title,
                    actor=actor,
                    problem=problem,
                )
            except DatabaseError as exc:
                log.warning("the console could not reach the store", extra={"error": str(exc)})
                return render(
                    request,
                    "error.html",
                    status=503,
                    title="Service Unavailable",
                    actor=actor,
                    problem=ProblemError(503, "the store is unavailable: try again in a moment").problem,
                )

        serve.__name__ = handler.__name__
        return serve

    return wrap


def render(
    request: web.Request, template: str, *, status: int = 200, title: str, actor: Actor | None, **values: Any
) -> web.Response:
    console = request.app[CONSOLE]
    flash = request.cookies.get(FLASH_COOKIE)
    response = web.Response(status=status, content_type="text/html", headers=_HEADERS)
    csrf = csrf_value(request, response)
    response.text = console.templates.get_template(template).render(
        title=title,
        actor=actor,
        csrf=csrf,
        flash=unquote(flash).partition(":")[2] if flash else None,
        flash_kind=unquote(flash).partition(":")[0] if flash else None,
        path=request.path,
        can=(lambda role: actor is not None and at_least(actor.role, role)),
        **values,
    )
    if flash:
        response.del_cookie(FLASH_COOKIE, path="/")
    return response


# --- sign-in ----------------------------------------------------------------------------------------


def _next(value: str | None) -> str:
    # Only a path of this site: never a redirect elsewhere.
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/subscriptions"


async def _sign_in_page(request: web.Request) -> web.StreamResponse:
    return render(request, "sign_in.html", title="Sign in", actor=None, next=_next(request.query.get("next")))


async def _sign_in(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    posted = await request.post()
    form = {key: value for key, value in posted.items() if isinstance(value, str)}
    check_form(request, form)
    token = form.get("token", "").strip()
    target = _next(form.get("next"))
    try:
        if not token:
            raise ProblemError(401, "type your token")
        console.authenticator.actor_of_token(token)
    except ProblemError as exc:
        return render(
            request,
            "sign_in.html",
            status=401,
            title="Sign in",
            actor=None,
            next=target,
            error=exc.problem.detail,
        )
    response = web.HTTPSeeOther(target)
    sign_in(request, response, token)
    return response


async def _sign_out(request: web.Request) -> web.StreamResponse:
    posted = await request.post()
    check_form(request, {key: value for key, value in posted.items() if isinstance(value, str)})
    response = web.HTTPSeeOther("/sign-in")
    sign_out(response)
    return response


async def _home(_request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/subscriptions")


def console_routes() -> list[web.RouteDef]:
    """Home, sign-in and sign-out: the routes of no page in particular."""
    return [
        web.get("/", _home),
        web.get("/sign-in", _sign_in_page),
        web.post("/sign-in", _sign_in),
        web.post("/sign-out", _sign_out),
    ]


# --- templates ---------------------------------------------------------------------------------------


def _when(moment: datetime | None) -> str:
    """``2026-12-03 14:05:09 UTC``; the page's script shows it in the browser's time zone."""
    if moment is None:
        return ""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).isoformat()


def environment() -> Environment:
    """The templates, with the filters they use for times and links."""
    env = Environment(
        loader=PackageLoader("admin.console", "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["iso"] = _iso
    env.globals["query"] = lambda **params: urlencode(
        {k: v for k, v in params.items() if v not in (None, "")}
    )
    return env
