"""OAuth2 access tokens (client credentials and password grants) for delivery requests.

One :class:`TokenSource` per distinct credentials. A token is fetched once and
reused until ``refresh_margin`` seconds before it expires; deliveries that need
a token while one is being fetched wait for that same fetch (no stampede on the
token endpoint). A 401 from the receiver invalidates the token it rejected.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from urllib.parse import quote

import aiohttp
import orjson

from .auth import basic_authorization
from .classify import classify_exception
from .config import OAuth2ClientCredentials, OAuth2Password
from .errors import OAuthTokenError
from .responses import read_capped

__all__ = ["TokenSource"]

_MAX_TOKEN_RESPONSE = 65536


class TokenSource:
    def __init__(
        self,
        auth: OAuth2ClientCredentials | OAuth2Password,
        session: aiohttp.ClientSession,
        *,
        ssl_context: ssl.SSLContext,
        timeout: float,
        refresh_margin: float,
    ) -> None:
        self._auth = auth
        self._session = session
        self._ssl = ssl_context
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._margin = refresh_margin
        self._headers = {"Accept": "application/json"}
        if auth.client_auth == "basic":
            # client_secret_basic (RFC 6749 2.3.1): each part form-encoded, then Basic.
            self._headers["Authorization"] = basic_authorization(
                quote(auth.client_id, safe=""), quote(auth.client_secret.get_secret_value(), safe="")
            )
        self._token: str | None = None
        self._refresh_at = 0.0
        self._fetch: asyncio.Future[str] | None = None

    async def token(self) -> str:
        token = self._token
        if token is not None and time.monotonic() < self._refresh_at:
            return token
        fetch = self._fetch
        if fetch is None:
            fetch = self._fetch = asyncio.ensure_future(self._request())
            fetch.add_done_callback(self._fetched)
        # Shielded: one waiter being cancelled must not cancel the others' fetch.
        return await asyncio.shield(fetch)

    def invalidate(self, token: str) -> None:
        """Drop ``token`` after a receiver refused it (unless a newer one already replaced it)."""
        if self._token == token:
            self._token = None

    def _fetched(self, fetch: asyncio.Future[str]) -> None:
        self._fetch = None
        if not fetch.cancelled():
            fetch.exception()  # retrieved here, so a failure nobody awaited is not reported as lost

    def _form(self) -> dict[str, str]:
        auth = self._auth
        if isinstance(auth, OAuth2Password):
            form = {
                "grant_type": "password",
                "username": auth.username,
                "password": auth.password.get_secret_value(),
            }
        else:
            form = {"grant_type": "client_credentials"}
        if auth.scope:
            form["scope"] = auth.scope
        if auth.client_auth == "post":
            form["client_id"] = auth.client_id
            form["client_secret"] = auth.client_secret.get_secret_value()
        return form

    async def _request(self) -> str:
        url = self._auth.token_url
        try:
            async with self._session.post(
                url,
                data=self._form(),
                headers=self._headers,
                allow_redirects=False,
                timeout=self._timeout,
                ssl=self._ssl,
            ) as response:
                status = response.status
                raw = await read_capped(response, _MAX_TOKEN_RESPONSE)
        except Exception as exc:
            code, description = classify_exception(exc)
            raise OAuthTokenError(f"token endpoint {url}: {code}: {description}") from exc
        try:
            payload = orjson.loads(raw)
        except orjson.JSONDecodeError:
            payload = None
        if status != 200 or not isinstance(payload, dict):
            message = f"token endpoint {url} answered {status}"
            if isinstance(payload, dict):
                for key in ("error", "error_description"):
                    if payload.get(key):
                        message += f": {payload[key]}"
            raise OAuthTokenError(message)
        token = payload.get("access_token")
        if not isinstance(token, str) or not token:
            raise OAuthTokenError(f"token endpoint {url} answered without an access_token")
        expires_in = payload.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else None
        self._token = token
        # Without expires_in the token is kept until a receiver refuses it.
        expires = float("inf") if lifetime is None else time.monotonic() + lifetime
        self._refresh_at = expires - self._margin
        return token
