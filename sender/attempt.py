"""One attempt of one webhook: the request, its timeout, and what its answer means.

A :class:`PreparedTarget` holds what every delivery to one subscription's target
shares (URL, TLS context, headers, signer, OAuth2 tokens, SOAP call), built once
by :class:`sender.Sender`; its endpoint's :class:`sender.lanes.Lane` calls
:meth:`PreparedTarget.attempt` for each delivery it runs.
"""

from __future__ import annotations

import asyncio
import ssl
import weakref
from dataclasses import dataclass
from time import perf_counter

import aiohttp
import orjson
from yarl import URL

from . import webhook
from .classify import classify_exception, classify_response
from .codes import ErrorCode
from .config import Target
from .deadlines import Deadlines
from .errors import OAuthTokenError, SoapBuildError
from .lanes import Lane
from .oauth import TokenSource
from .outcome import Message, Outcome
from .responses import parse_retry_after, read_capped
from .soap import SoapCall

__all__ = ["REDACTED", "PreparedTarget", "Transport"]

REDACTED = "[redacted]"


@dataclass(slots=True, eq=False)
class Transport:
    """What every request of the process shares: the session, the pool's permits, the deadline timer."""

    session: aiohttp.ClientSession
    # The pool's size is enforced here, not by the connector's limit: aiohttp lets a fresh request
    # take a released connection ahead of one that has waited for it, which then starves until its
    # timeout. A semaphore hands each released permit to its oldest waiter.
    connections: asyncio.Semaphore
    deadlines: Deadlines
    max_response_bytes: int
    response_excerpt_bytes: int


@dataclass(slots=True, eq=False)
class PreparedTarget:
    """What deliveries to one Target share, built at its first delivery."""

    target: weakref.ref[Target]
    transport: Transport
    url: URL
    timeout: float
    ssl_context: ssl.SSLContext
    headers: dict[str, str]
    secret_headers: tuple[str, ...]
    signer: webhook.Signer | None
    tokens: TokenSource | None
    soap: SoapCall | None
    lane: Lane

    async def attempt(self, message: Message) -> Outcome:
        """One attempt at ``message``; never raises for a failed delivery."""
        if self.soap is None:
            body = orjson.dumps(message.body)
            base = self.headers
        else:
            try:
                body, soap_headers = self.soap.build(message.body)
            except SoapBuildError as exc:
                return Outcome(ok=False, error_code=ErrorCode.SOAP_BUILD_ERROR, description=str(exc))
            base = {**self.headers, **soap_headers}
        headers = webhook.headers(base, message, body, self.signer)
        if self.tokens is None:
            return await self._post(body, headers)
        return await self._post_with_token(self.tokens, body, headers)

    async def _post_with_token(self, tokens: TokenSource, body: bytes, headers: dict[str, str]) -> Outcome:
        for _ in range(2):
            try:
                token = await tokens.token()
            except OAuthTokenError as exc:
                return Outcome(
                    ok=False,
                    error_code=ErrorCode.OAUTH_TOKEN_ERROR,
                    description=str(exc),
                    request_headers=_redact(headers, self.secret_headers),
                )
            headers["Authorization"] = f"Bearer {token}"
            outcome = await self._post(body, headers)
            if outcome.status != 401:
                break
            # The token was refused (expired or revoked early): fetch a new one and try once more.
            tokens.invalidate(token)
        return outcome

    async def _post(self, body: bytes, headers: dict[str, str]) -> Outcome:
        transport = self.transport
        session, connections, deadlines = transport.session, transport.connections, transport.deadlines
        request_headers = _redact(headers, self.secret_headers)
        # Waiting for a connection does not count against the delivery's timeout.
        await connections.acquire()
        deadline = deadlines.start(self.timeout)
        started = perf_counter()
        try:
            # Awaited, not entered: the context manager's frame would sit above every resumption.
            response = await session.post(
                self.url,
                data=body,
                headers=headers,
                allow_redirects=False,
                ssl=self.ssl_context,
            )
            try:
                raw = await read_capped(response, transport.max_response_bytes)
            finally:
                response.release()
            status = response.status
            reason = response.reason
            response_headers = response.headers
        except asyncio.CancelledError:
            if not deadlines.expired(deadline):
                raise
            return Outcome(
                ok=False,
                error_code=ErrorCode.TIMEOUT,
                description=f"no complete response within {self.timeout:g} s",
                duration=perf_counter() - started,
                request_headers=request_headers,
            )
        except Exception as exc:
            code, description = classify_exception(exc)
            return Outcome(
                ok=False,
                error_code=code,
                description=description,
                duration=perf_counter() - started,
                request_headers=request_headers,
            )
        finally:
            deadlines.end(deadline)
            connections.release()
        duration = perf_counter() - started
        excerpt = raw[: transport.response_excerpt_bytes].decode("utf-8", "replace")
        fault = self.soap.fault(raw) if self.soap is not None else None
        if 200 <= status < 300 and fault is None:
            return Outcome(
                ok=True,
                status=status,
                duration=duration,
                response_excerpt=excerpt,
                request_headers=request_headers,
            )
        error_code, description = classify_response(status, reason, response_headers.get("Location"), fault)
        retry_after = parse_retry_after(response_headers.get("Retry-After")) if status in (429, 503) else None
        return Outcome(
            ok=False,
            status=status,
            error_code=error_code,
            description=description,
            duration=duration,
            retry_after=retry_after,
            response_excerpt=excerpt,
            request_headers=request_headers,
        )


def _redact(headers: dict[str, str], secret: tuple[str, ...]) -> dict[str, str]:
    """``headers`` with secrets masked; ``headers`` itself (a per-request copy) when it has none."""
    if not secret:
        return headers
    present = [name for name in secret if name in headers]
    if not present:
        return headers
    redacted = headers.copy()
    for name in present:
        redacted[name] = REDACTED
    return redacted
