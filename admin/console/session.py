"""Who is using the console, and the guards on its forms.

The token cookie holds the token itself (HttpOnly, SameSite=Strict): the console checks it against
the configured hashes on every request, as the API does a bearer header. A form post must carry the
value of the ``csrf`` cookie (double submit) and, when the browser says where it comes from, come
from this origin.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from urllib.parse import urlsplit

from aiohttp import web

from admin.actor import Actor
from admin.api.auth import Authenticator
from admin.api.problems import ProblemError

__all__ = [
    "CSRF_COOKIE",
    "TOKEN_COOKIE",
    "NotSignedIn",
    "check_form",
    "console_actor",
    "csrf_value",
    "sign_in",
    "sign_out",
]

TOKEN_COOKIE = "hookstream_token"  # noqa: S105 (the cookie's name, not a secret)
CSRF_COOKIE = "hookstream_csrf"


class NotSignedIn(Exception):
    """No token cookie and no trusted proxy: the page sends the browser to sign in."""


def console_actor(request: web.Request, authenticator: Authenticator) -> Actor:
    """The user of this request; :class:`NotSignedIn` when there is none or the token is revoked."""
    proxied = authenticator.from_proxy(request)
    if proxied is not None:
        return proxied
    token = request.cookies.get(TOKEN_COOKIE)
    if not token:
        raise NotSignedIn
    try:
        return authenticator.actor_of_token(token)
    except ProblemError:
        raise NotSignedIn from None


def _secure(request: web.Request) -> bool:
    return request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def sign_in(request: web.Request, response: web.StreamResponse, token: str) -> None:
    response.set_cookie(
        TOKEN_COOKIE, token, httponly=True, samesite="Strict", secure=_secure(request), path="/"
    )


def sign_out(response: web.StreamResponse) -> None:
    response.del_cookie(TOKEN_COOKIE, path="/")


def csrf_value(request: web.Request, response: web.StreamResponse | None = None) -> str:
    """This browser's form guard: the cookie's value, made (and set on ``response``) when missing."""
    value = request.cookies.get(CSRF_COOKIE)
    if not value:
        value = request.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        request[CSRF_COOKIE] = value
    if response is not None and CSRF_COOKIE not in request.cookies:
        response.set_cookie(
            CSRF_COOKIE, value, httponly=True, samesite="Strict", secure=_secure(request), path="/"
        )
    return value


def check_form(request: web.Request, form: Mapping[str, str]) -> None:
    """Refuse (403) a post that did not come from one of this console's own pages."""
    origin = request.headers.get("Origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.host:
        raise ProblemError(403, "this form was sent from another site")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not secrets.compare_digest(cookie, form.get("csrf", "")):
        raise ProblemError(403, "this form has expired: load the page again")
