"""A real OAuth2 token endpoint built on authlib's AuthorizationServer, served by a :class:`Receiver`.

Client credentials and password grants; tokens expire after ``expires_in`` (as
announced) and can be revoked, so a receiver checking them (``check_bearer``)
refuses what the sender must refresh.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, grants
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload, OAuth2Request
from authlib.oauth2.rfc6750 import BearerTokenGenerator

from .http import Receiver

__all__ = ["Issued", "TokenServer"]


class _Client(ClientMixin):  # type: ignore[misc]
    def __init__(self, client_id: str, secret: str, auth_methods: tuple[str, ...]) -> None:
        self.client_id = client_id
        self.secret = secret
        self.auth_methods = auth_methods

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        return scope or ""

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret, self.secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in self.auth_methods

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("client_credentials", "password")


class _FormRequest(OAuth2Request):  # type: ignore[misc]
    """What authlib's framework integrations provide: the request's form and query."""

    def __init__(self, url: str, headers: dict[str, str], form: dict[str, str]) -> None:
        super().__init__("POST", url, headers=headers)
        self.payload = BasicOAuth2Payload(form)
        self._form = form

    @property
    def form(self) -> dict[str, str]:
        return self._form

    @property
    def args(self) -> dict[str, str]:
        return {}


@dataclass(frozen=True)
class _User:
    username: str

    def get_user_id(self) -> str:
        return self.username


@dataclass
class Issued:
    client_id: str
    username: str | None
    scope: str
    revoked: bool = False


@dataclass
class TokenServer:
    """``TokenServer(clients={"id": "secret"}, users={"ann": "pw"}).mount(receiver)``."""

    clients: dict[str, str]
    users: dict[str, str] = field(default_factory=dict)
    expires_in: int = 3600
    fail_with: int | None = None  # answer every token request with this status
    auth_methods: tuple[str, ...] = ("client_secret_basic",)  # how clients may authenticate
    gate: asyncio.Event | None = None  # when set, token requests wait for it
    issued: dict[str, Issued] = field(default_factory=dict)
    requests: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        owner = self

        class Server(AuthorizationServer):  # type: ignore[misc]
            def query_client(self, client_id: str) -> _Client | None:
                secret = owner.clients.get(client_id)
                return _Client(client_id, secret, owner.auth_methods) if secret is not None else None

            def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
                user = request.user
                owner.issued[token["access_token"]] = Issued(
                    request.client.client_id, user.username if user else None, token.get("scope", "")
                )

            def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
                return request  # built by the aiohttp handler below

            def send_signal(self, name: str, *args: object, **kwargs: object) -> None:
                pass

            def handle_response(self, status: int, body: Any, headers: Any) -> tuple[int, Any, Any]:
                return status, body, headers

        # The grants accept both ways a client authenticates; each server's clients narrow it.
        both = ["client_secret_basic", "client_secret_post"]

        class ClientCredentialsGrant(grants.ClientCredentialsGrant):  # type: ignore[misc]
            TOKEN_ENDPOINT_AUTH_METHODS = both

        class PasswordGrant(grants.ResourceOwnerPasswordCredentialsGrant):  # type: ignore[misc]
            TOKEN_ENDPOINT_AUTH_METHODS = both

            def authenticate_user(self, username: str, password: str) -> _User | None:
                expected = owner.users.get(username)
                if expected is not None and hmac.compare_digest(expected, password):
                    return _User(username)
                return None

        self._server = Server()
        self._server.register_grant(ClientCredentialsGrant)
        self._server.register_grant(PasswordGrant)
        self._server.register_token_generator(
            "default",
            BearerTokenGenerator(
                lambda **_: secrets.token_urlsafe(24),
                expires_generator=lambda client, grant_type: owner.expires_in,
            ),
        )

    def mount(self, receiver: Receiver, path: str = "/token") -> str:
        """Serve the token endpoint at ``path`` of ``receiver``; returns its URL."""
        receiver.handle(path, self._token)
        return receiver.url(path)

    def revoke_all(self) -> None:
        for issued in self.issued.values():
            issued.revoked = True

    def check_bearer(self, authorization: str | None) -> Issued | None:
        """The token's grant when ``authorization`` carries a live token of ours."""
        if not authorization or not authorization.startswith("Bearer "):
            return None
        issued = self.issued.get(authorization.removeprefix("Bearer "))
        return issued if issued is not None and not issued.revoked else None

    async def protected(self, request: web.Request, body: bytes) -> web.StreamResponse:
        """A receiver handler that accepts only live tokens (``receiver.handle("/hook", ts.protected)``)."""
        if self.check_bearer(request.headers.get("Authorization")) is None:
            return web.Response(status=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return web.Response(text="ok")

    async def _token(self, request: web.Request, body: bytes) -> web.StreamResponse:
        form = dict(parse_qsl(body.decode()))
        self.requests.append(form)
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_with is not None:
            return web.json_response({"error": "temporarily_unavailable"}, status=self.fail_with)
        oauth_request = _FormRequest(str(request.url), dict(request.headers), form)
        status, payload, headers = self._server.create_token_response(oauth_request)
        return web.Response(status=status, text=json.dumps(payload), headers=dict(headers))
