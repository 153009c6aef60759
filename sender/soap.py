"""SOAP 1.1 and 1.2 envelopes built by zeep from the endpoint's WSDL; sent by the sender's own session.

zeep only builds envelopes and reads faults here. A WSDL is loaded once per
(WSDL, service, port), off the event loop; its documents fetched over http(s)
go through the sender's aiohttp session, so the SSRF guard and TLS settings
apply to them too.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
import zeep
import zeep.exceptions
import zeep.loader
import zeep.wsdl.utils
from zeep.wsdl.bindings.soap import Soap12Binding

from .config import SoapEndpoint
from .errors import SoapBuildError, SsrfBlocked, TargetConfigError, WsdlUnavailable
from .responses import read_capped

__all__ = ["SoapCall", "WsdlCache"]

_MAX_WSDL_BYTES = 10 * 1024 * 1024
_MISSING = object()
# zeep is typed only in part: its objects are handled as Any here.
_zeep: Any = zeep
_parse_xml: Any = zeep.loader.parse_xml
_to_bytes: Any = zeep.wsdl.utils.etree_to_string


class _SessionTransport(zeep.Transport):
    """zeep's transport, fetching http(s) documents with the sender's session on its event loop."""

    def __init__(self, fetch: Callable[[str], bytes]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._fetch = fetch

    def load(self, url: str) -> bytes:
        if url.startswith(("http://", "https://")):
            return self._fetch(url)
        return super().load(url)  # type: ignore[no-untyped-call,no-any-return]


def _lookup(body: Mapping[str, Any], path: str) -> Any:
    value: Any = body
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part, _MISSING)
        elif isinstance(value, list | tuple) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            value = _MISSING
        if value is _MISSING:
            return None  # absent: zeep omits it, or refuses if the schema requires it
    return value


class SoapCall:
    """One operation of one bound port, with the message parameters mapped from webhook bodies."""

    def __init__(self, binding: Any, endpoint: SoapEndpoint) -> None:
        try:
            operation = binding.get(endpoint.operation)
        except ValueError:
            raise TargetConfigError(f"operation {endpoint.operation} is not in the WSDL's binding") from None
        self._binding = binding
        self._operation = operation
        self._parameters = tuple(endpoint.parameters.items())
        if isinstance(binding, Soap12Binding):
            self.content_type = f'application/soap+xml; charset=utf-8; action="{operation.soapaction or ""}"'
        else:
            self.content_type = "text/xml; charset=utf-8"

    def build(self, body: Mapping[str, Any]) -> tuple[bytes, dict[str, str]]:
        """The envelope's bytes and the HTTP headers its binding asks for (SOAPAction, Content-Type)."""
        kwargs = {name: _lookup(body, path) for name, path in self._parameters}
        try:
            serialized = self._operation.create(**kwargs)
        except (zeep.exceptions.Error, TypeError, ValueError) as exc:
            raise SoapBuildError(f"{self._operation.name}: {exc}") from exc
        headers = {str(k): str(v) for k, v in serialized.headers.items()}
        headers["Content-Type"] = self.content_type
        return _to_bytes(serialized.content), headers

    def fault(self, raw: bytes) -> str | None:
        """The fault string when ``raw`` is a SOAP fault envelope, else None."""
        if b"Fault" not in raw:
            return None
        try:
            # zeep's parser: no entities, no DTDs, no network.
            document = _parse_xml(raw, None)
        except zeep.exceptions.Error:
            return None
        if document.find("soap-env:Body/soap-env:Fault", namespaces=self._binding.nsmap) is None:
            return None
        try:
            self._binding.process_error(document, self._operation)
        except zeep.exceptions.Fault as fault:
            return str(fault.message or fault.code or "SOAP fault")
        return "SOAP fault"


class WsdlCache:
    """Loaded WSDL bindings, one load per (WSDL, service, port), shared by concurrent first deliveries."""

    def __init__(self, session: aiohttp.ClientSession, ssl_context: ssl.SSLContext, timeout: float) -> None:
        self._session = session
        self._ssl = ssl_context
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._loads: dict[tuple[str, str | None, str | None], asyncio.Future[Any]] = {}

    async def call(self, endpoint: SoapEndpoint) -> SoapCall:
        key = (endpoint.wsdl, endpoint.service, endpoint.port)
        load = self._loads.get(key)
        if load is None:
            load = self._loads[key] = asyncio.ensure_future(self._load(*key))
        try:
            binding = await asyncio.shield(load)
        except BaseException:
            if load.done() and self._loads.get(key) is load:
                del self._loads[key]  # a failed load is tried again by the next delivery
            raise
        return SoapCall(binding, endpoint)

    async def _load(self, wsdl: str, service: str | None, port: str | None) -> Any:
        loop = asyncio.get_running_loop()

        def fetch(url: str) -> bytes:  # runs in the loading thread
            return asyncio.run_coroutine_threadsafe(self._get(url), loop).result()

        def load() -> Any:
            client = _zeep.Client(wsdl, transport=_SessionTransport(fetch))
            # zeep hands out a port's binding only on its service proxy.
            return client.bind(service, port)._binding

        try:
            return await asyncio.to_thread(load)
        except (TargetConfigError, WsdlUnavailable, SsrfBlocked):
            raise
        except Exception as exc:
            raise TargetConfigError(f"WSDL {wsdl} cannot be loaded: {exc}") from exc

    async def _get(self, url: str) -> bytes:
        try:
            async with self._session.get(
                url, allow_redirects=False, timeout=self._timeout, ssl=self._ssl
            ) as response:
                # A server error or overload passes; any other answer is what the URL serves.
                if response.status >= 500 or response.status in (408, 429):
                    raise WsdlUnavailable(f"{url} answered {response.status}")
                if response.status != 200:
                    raise TargetConfigError(f"{url} answered {response.status}")
                return await read_capped(response, _MAX_WSDL_BYTES)
        except SsrfBlocked:
            raise
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, SsrfBlocked):
                raise exc.os_error from None
            raise WsdlUnavailable(f"{url} cannot be fetched: {exc}") from exc
        except aiohttp.InvalidURL as exc:
            raise TargetConfigError(f"{url} is not a valid URL") from exc
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise WsdlUnavailable(f"{url} cannot be fetched: {exc!r}") from exc
