"""The :class:`Sender`: one aiohttp session per process, delivering REST and SOAP webhooks."""

from __future__ import annotations

import asyncio
import weakref
from types import TracebackType

import aiohttp
from prometheus_client import CollectorRegistry
from yarl import URL

from . import webhook
from .attempt import PreparedTarget, Transport
from .auth import static_auth_header
from .codes import ErrorCode
from .config import OAuth2ClientCredentials, OAuth2Password, SoapEndpoint, Target
from .deadlines import Deadlines
from .errors import SsrfBlocked, TargetConfigError, WsdlUnavailable
from .lanes import Job, Lane
from .metrics import LaneCollector
from .oauth import TokenSource
from .outcome import Message, Outcome, Waiter
from .settings import SenderSettings
from .soap import WsdlCache
from .ssrf import AddressPolicy, GuardedResolver
from .tls import SslContexts

__all__ = ["Sender"]

_JSON_CONTENT_TYPE = "application/json"


class Sender:
    """Delivers one :class:`Message` to one :class:`Target` and says how it went.

    A delivery never raises for a failure: every failure is an :class:`Outcome`
    with an error code. :meth:`deliver` awaits one delivery; :meth:`submit`
    hands one over and calls back with its outcome, without a task of its own
    while it waits for a slot (the consumer's hot path). Use
    ``async with Sender(...)`` or call :meth:`start` and :meth:`close` in the
    running event loop. Given a ``registry``, it exports its endpoints' state
    there (see :mod:`sender.metrics`).
    """

    def __init__(
        self, settings: SenderSettings | None = None, *, registry: CollectorRegistry | None = None
    ) -> None:
        self.settings = settings or SenderSettings()
        self._session: aiohttp.ClientSession | None = None
        self._policy = AddressPolicy(self.settings.ssrf_allow)
        self._prepared: dict[int, PreparedTarget] = {}
        self._lanes: dict[str, Lane] = {}
        self._tokens: dict[OAuth2ClientCredentials | OAuth2Password, TokenSource] = {}
        self._ssl: SslContexts | None = None
        self._wsdl: WsdlCache | None = None
        self._preparing: set[asyncio.Task[None]] = set()
        self._connections: asyncio.Semaphore | None = None
        self._deadlines = Deadlines()
        self._transport_: Transport | None = None
        if registry is not None:
            registry.register(LaneCollector(self._lanes))

    async def start(self) -> None:
        if self._session is not None:
            return
        settings = self.settings
        # Loading the CA store reads files; keep it off the event loop.
        self._ssl = await asyncio.to_thread(SslContexts, settings.ca_bundle)
        # The pool's size is enforced here, not by the connector's limit: aiohttp lets a fresh request
        # take a released connection ahead of one that has waited for it, which then starves until its
        # timeout. A semaphore hands each released permit to its oldest waiter.
        self._connections = asyncio.Semaphore(settings.pool_size)
        connector = aiohttp.TCPConnector(
            limit=0,
            limit_per_host=0,
            ttl_dns_cache=settings.dns_cache_ttl,
            keepalive_timeout=settings.keepalive_timeout,
            resolver=GuardedResolver(self._policy),
            ssl=self._ssl.default,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            # Receivers' cookies are never stored or sent back; proxies from the environment are not used.
            cookie_jar=aiohttp.DummyCookieJar(),
            # A delivery's timeout is kept by self._deadlines, not by a timer per request;
            # token and WSDL requests bring their own ClientTimeout.
            timeout=aiohttp.ClientTimeout(total=None),
            trust_env=False,
            raise_for_status=False,
        )
        self._wsdl = WsdlCache(self._session, self._ssl.default, settings.wsdl_timeout)

    async def close(self) -> None:
        """Cancel the deliveries under way and drop the queued ones (they are never settled)."""
        session, self._session = self._session, None
        workers = [*self._preparing]
        for task in self._preparing:
            task.cancel()
        for lane in self._lanes.values():
            workers += lane.close()
        await asyncio.gather(*workers, return_exceptions=True)
        self._deadlines.close()
        self._lanes.clear()
        self._prepared.clear()
        self._tokens.clear()
        self._wsdl = None
        self._transport_ = None
        if session is not None:
            await session.close()

    async def __aenter__(self) -> Sender:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def deliver(self, target: Target, message: Message) -> Outcome:
        """Deliver ``message`` and return how it went; cancelling this cancels the request."""
        prepared = await self._prepared_for(target)
        if isinstance(prepared, Outcome):
            return prepared
        waiter = _Awaited(asyncio.get_running_loop().create_future())
        job = Job(prepared, message, waiter)
        prepared.lane.submit(job)
        try:
            return await waiter.outcome
        except asyncio.CancelledError:
            prepared.lane.abandon(job)
            raise

    def submit(self, target: Target, message: Message, waiter: Waiter) -> None:
        """Deliver ``message``, then tell ``waiter`` how it went (``waiter.settle(outcome)``).

        The waiter may be settled before this returns (an open circuit, a stalled
        endpoint); it is never settled for a delivery dropped by :meth:`close`.
        """
        prepared = self._prepared.get(id(target))
        if prepared is not None and prepared.target() is target:
            prepared.lane.submit(Job(prepared, message, waiter))
            return
        # A target's first delivery: preparing it may read files or fetch a WSDL.
        later = self._submit_prepared(target, message, waiter)
        task = asyncio.get_running_loop().create_task(later)
        self._preparing.add(task)
        task.add_done_callback(self._preparing.discard)

    async def _submit_prepared(self, target: Target, message: Message, waiter: Waiter) -> None:
        prepared = await self._prepared_for(target)
        if isinstance(prepared, Outcome):
            # Settled through a job like any other outcome, so a failing handler is logged the same way.
            Job(None, message, waiter).settle(prepared)
        else:
            prepared.lane.submit(Job(prepared, message, waiter))

    async def _prepared_for(self, target: Target) -> PreparedTarget | Outcome:
        prepared = self._prepared.get(id(target))
        if prepared is not None and prepared.target() is target:
            return prepared
        try:
            return await self._prepare(target)
        except (TargetConfigError, SsrfBlocked, WsdlUnavailable) as exc:
            # Nothing is kept of a failed preparation: the next delivery prepares afresh.
            return _refused(exc)

    async def _prepare(self, target: Target) -> PreparedTarget:
        session, ssl_contexts, wsdl = self._session, self._ssl, self._wsdl
        if session is None or ssl_contexts is None or wsdl is None:
            raise RuntimeError("Sender.start() has not been called")
        settings = self.settings
        endpoint = target.endpoint
        url = self._checked_url(endpoint.url)
        # Loading certificate files reads the disk: off the event loop.
        ssl_context = ssl_contexts.default
        if endpoint.tls is not None:
            ssl_context = await asyncio.to_thread(ssl_contexts.get, endpoint.tls)

        headers = {"User-Agent": settings.user_agent, "Content-Type": _JSON_CONTENT_TYPE}
        headers.update({name: value.get_secret_value() for name, value in endpoint.headers.items()})
        # Configured header values may be credentials: masked in every copy the Outcome carries
        # (retry and dead-letter records, the store) unless the endpoint calls them public.
        secret_headers = list(endpoint.masked_headers())
        static = static_auth_header(target.auth)
        if static is not None:
            headers[static[0]] = static[1]
            secret_headers.append(static[0])
        tokens = None
        auth = target.auth
        if isinstance(auth, OAuth2ClientCredentials | OAuth2Password):
            self._checked_url(auth.token_url)
            tokens = self._tokens.get(auth)
            if tokens is None:
                tokens = self._tokens[auth] = TokenSource(
                    auth,
                    session,
                    ssl_context=ssl_contexts.default,
                    timeout=settings.oauth_timeout,
                    refresh_margin=settings.oauth_refresh_margin,
                )
            secret_headers.append("Authorization")

        soap = await wsdl.call(endpoint) if isinstance(endpoint, SoapEndpoint) else None
        lane = self._lanes.get(endpoint.url)
        if lane is None:
            lane = self._lanes[endpoint.url] = Lane(
                settings.max_in_flight_per_endpoint,
                settings.breaker,
                settings.endpoint_queue_wait,
                settings.endpoint_stall,
            )
        signer = None
        if target.signing_secrets:
            signer = webhook.Signer(s.get_secret_value() for s in target.signing_secrets)
            secret_headers.append(webhook.SIGNATURE_HEADER)
        prepared = PreparedTarget(
            target=weakref.ref(target),
            transport=self._transport(),
            url=url,
            timeout=endpoint.timeout,
            ssl_context=ssl_context,
            headers=headers,
            secret_headers=tuple(secret_headers),
            signer=signer,
            tokens=tokens,
            soap=soap,
            lane=lane,
        )
        key = id(target)
        self._prepared[key] = prepared
        # Forget the preparation with its target, so reloaded configurations do not pile up.
        weakref.finalize(target, self._prepared.pop, key, None)
        return prepared

    def _transport(self) -> Transport:
        if self._transport_ is None:
            session, connections = self._session, self._connections
            if session is None or connections is None:
                raise RuntimeError("Sender.start() has not been called")
            settings = self.settings
            self._transport_ = Transport(
                session,
                connections,
                self._deadlines,
                settings.max_response_bytes,
                settings.response_excerpt_bytes,
            )
        return self._transport_

    def _checked_url(self, raw: str) -> URL:
        url = URL(raw)
        if url.scheme not in ("https", "http") or not url.host:
            raise TargetConfigError(f"{raw} is not an http(s) URL")
        if url.scheme == "http" and not self.settings.allow_http:
            raise TargetConfigError(f"{raw}: plain http is not allowed, use https")
        host = self._policy.check_host(url.host)
        if host != url.host:
            # The address the guard decided on, so that the client connects to it
            # however it would have read the written form.
            url = url.with_host(host)
        return url


class _Awaited:
    """The waiter of :meth:`Sender.deliver`: a future its caller awaits."""

    __slots__ = ("outcome",)

    def __init__(self, outcome: asyncio.Future[Outcome]) -> None:
        self.outcome = outcome

    def settle(self, outcome: Outcome) -> None:
        if not self.outcome.done():
            self.outcome.set_result(outcome)


def _refused(exc: Exception) -> Outcome:
    if isinstance(exc, SsrfBlocked):
        return Outcome(ok=False, error_code=ErrorCode.SSRF_BLOCKED, description=str(exc))
    if isinstance(exc, WsdlUnavailable):
        return Outcome(ok=False, error_code=ErrorCode.WSDL_UNAVAILABLE, description=str(exc))
    return Outcome(ok=False, error_code=ErrorCode.CONFIG_ERROR, description=str(exc))
