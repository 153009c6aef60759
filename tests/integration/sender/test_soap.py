"""SOAP 1.1 and 1.2 delivery to a real spyne service."""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from sender import Message, Sender, Target
from sender.config import SoapEndpoint
from tests.support.receivers.http import Receiver, Reply
from tests.support.receivers.soap import SoapService

BODY = {"event_id": "e-9", "data": {"customer": {"id": "C-42", "status": 2}, "notes": ["first", "second"]}}
PARAMETERS = {"customer_id": "data.customer.id", "status": "data.customer.status", "note": "data.notes.1"}


@pytest.fixture(scope="module")
def soap() -> Iterator[SoapService]:
    with SoapService() as service:
        yield service


def soap_target(url: str, wsdl: str | None = None, **overrides: object) -> Target:
    endpoint = {
        "type": "soap",
        "url": url,
        "wsdl": wsdl or url + "?wsdl",
        "operation": "NotifyCustomer",
        "parameters": PARAMETERS,
        **overrides,
    }
    return Target(key="soap-sub", endpoint=SoapEndpoint.model_validate(endpoint))


def message(body: Mapping[str, Any] = BODY) -> Message:
    return Message(webhook_id="msg_soap", timestamp=1_700_000_000, body=body)


async def test_soap_11_envelope_reaches_the_service(sender: Sender, soap: SoapService) -> None:
    soap.calls.clear()

    outcome = await sender.deliver(soap_target(soap.url(11)), message())

    assert outcome.ok, outcome
    assert "notified C-42" in outcome.response_excerpt
    [call] = soap.calls
    assert (call.path, call.customer_id, call.status, call.note) == ("/soap11", "C-42", 2, "second")
    assert call.soap_action == '"NotifyCustomer"'
    assert call.content_type is not None
    assert call.content_type.startswith("text/xml")
    assert call.webhook_id == "msg_soap"


async def test_soap_12_envelope_reaches_the_service(sender: Sender, soap: SoapService) -> None:
    soap.calls.clear()

    outcome = await sender.deliver(soap_target(soap.url(12)), message())

    assert outcome.ok, outcome
    [call] = soap.calls
    assert (call.path, call.customer_id, call.status) == ("/soap12", "C-42", 2)
    assert call.content_type is not None
    assert call.content_type.startswith("application/soap+xml")
    assert 'action="NotifyCustomer"' in call.content_type


@pytest.mark.parametrize("version", [11, 12])
async def test_a_soap_fault_is_a_failure_with_its_fault_string(
    sender: Sender, soap: SoapService, version: int
) -> None:
    body = {"data": {"customer": {"id": "unknown", "status": 1}}}

    outcome = await sender.deliver(soap_target(soap.url(version)), message(body))

    assert not outcome.ok
    assert outcome.error_code == "soap_fault"
    assert outcome.description == "customer unknown does not exist"
    assert outcome.retryable


async def test_the_wsdl_can_be_a_file(sender: Sender, soap: SoapService, tmp_path: Path) -> None:
    wsdl = tmp_path / "customers.wsdl"
    with urllib.request.urlopen(soap.url(11) + "?wsdl") as response:
        wsdl.write_bytes(response.read())
    soap.calls.clear()

    outcome = await sender.deliver(soap_target(soap.url(11), wsdl=str(wsdl)), message())

    assert outcome.ok, outcome
    assert [c.customer_id for c in soap.calls] == ["C-42"]


async def test_an_unknown_operation_is_a_configuration_error(sender: Sender, soap: SoapService) -> None:
    outcome = await sender.deliver(soap_target(soap.url(11), operation="Nope"), message())

    assert (outcome.error_code, outcome.retryable) == ("config_error", False)
    assert "Nope" in outcome.description


async def test_a_missing_wsdl_is_a_configuration_error(sender: Sender, tmp_path: Path) -> None:
    target = soap_target("http://127.0.0.1:9/soap", wsdl=str(tmp_path / "absent.wsdl"))

    outcome = await sender.deliver(target, message())

    assert (outcome.error_code, outcome.retryable) == ("config_error", False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_wsdl_that_cannot_be_fetched_yet_is_retryable_and_fetched_again(sender: Sender) -> None:
    port = _free_port()
    target = soap_target(f"http://127.0.0.1:{port}/soap11")

    down = await sender.deliver(target, message())
    with SoapService(port=port) as service:
        up = await sender.deliver(target, message())

    assert (down.ok, down.error_code, down.retryable) == (False, "wsdl_unavailable", True)
    assert f"127.0.0.1:{port}" in down.description
    assert up.ok, up
    assert [call.customer_id for call in service.calls] == ["C-42"]


@pytest.mark.parametrize(
    ("status", "code", "retryable"), [(503, "wsdl_unavailable", True), (404, "config_error", False)]
)
async def test_a_wsdl_server_error_passes_and_a_missing_wsdl_does_not(
    sender: Sender, receiver: Receiver, status: int, code: str, retryable: bool
) -> None:
    receiver.reply("/customers.wsdl", Reply(status))
    target = soap_target(receiver.url("/soap"), wsdl=receiver.url("/customers.wsdl"))

    outcome = await sender.deliver(target, message())

    assert (outcome.error_code, outcome.retryable) == (code, retryable)
    assert [r.path for r in receiver.received] == ["/customers.wsdl"]


async def test_a_wsdl_that_loads_but_is_invalid_is_a_configuration_error(
    sender: Sender, receiver: Receiver
) -> None:
    receiver.reply("/customers.wsdl", Reply(200, body=b"<html>not a WSDL</html>"))
    target = soap_target(receiver.url("/soap"), wsdl=receiver.url("/customers.wsdl"))

    outcome = await sender.deliver(target, message())

    assert (outcome.error_code, outcome.retryable) == ("config_error", False)
