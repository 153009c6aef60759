"""A real SOAP service (spyne) on loopback, speaking SOAP 1.1 at ``/soap11`` and SOAP 1.2 at ``/soap12``.

Its one operation, ``NotifyCustomer(customer_id, status, note)``, records what it
received (with the HTTP headers) and answers a fault for the customer id ``unknown``.
The WSDL is at ``<url>?wsdl``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from spyne import Application, Fault, Integer, ServiceBase, Unicode, rpc
from spyne.protocol.soap import Soap11, Soap12
from spyne.server.wsgi import WsgiApplication

__all__ = ["SoapCall", "SoapService"]

NAMESPACE = "urn:hookstream:test:customers"


@dataclass(frozen=True)
class SoapCall:
    path: str
    customer_id: str | None
    status: int | None
    note: str | None
    soap_action: str | None
    content_type: str | None
    webhook_id: str | None


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class SoapService:
    """``with SoapService() as soap``: ``soap.url(11)``, ``soap.calls``; ``port`` 0 picks a free one."""

    def __init__(self, port: int = 0) -> None:
        self.calls: list[SoapCall] = []
        self._port = port
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def _application(self, protocol: type[Soap11], name: str) -> WsgiApplication:
        calls = self.calls

        class Customers(ServiceBase):  # type: ignore[misc]
            @rpc(Unicode, Integer, Unicode, _returns=Unicode)  # type: ignore[untyped-decorator]
            def NotifyCustomer(
                ctx: Any, customer_id: str | None, status: int | None, note: str | None
            ) -> str:
                environ = ctx.transport.req_env
                calls.append(
                    SoapCall(
                        path=environ["PATH_INFO"],
                        customer_id=customer_id,
                        status=status,
                        note=note,
                        soap_action=environ.get("HTTP_SOAPACTION"),
                        content_type=environ.get("CONTENT_TYPE"),
                        webhook_id=environ.get("HTTP_WEBHOOK_ID"),
                    )
                )
                if customer_id == "unknown":
                    raise Fault(faultcode="Client", faultstring=f"customer {customer_id} does not exist")
                return f"notified {customer_id}"

        application = Application(
            [Customers],
            tns=NAMESPACE,
            name=name,
            in_protocol=protocol(validator="lxml"),
            out_protocol=protocol(),
        )
        return WsgiApplication(application)

    def url(self, version: int) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}/soap{version}"

    def __enter__(self) -> SoapService:
        apps = {
            "/soap11": self._application(Soap11, "Customers11"),
            "/soap12": self._application(Soap12, "Customers12"),
        }

        def route(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
            app = apps.get(environ["PATH_INFO"])
            if app is None:
                start_response("404 Not Found", [("Content-Type", "text/plain")])
                return iter([b"not found"])
            return app(environ, start_response)  # type: ignore[no-any-return]

        self._server = make_server("127.0.0.1", self._port, route, handler_class=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        assert self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
