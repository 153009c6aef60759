"""The webhook id: the same for one event and subscription across retries and restarts, a UUID v5."""

from __future__ import annotations

import uuid

from sender.outcome import Message
from sender.webhook import Signer, headers, webhook_id


def test_it_is_the_uuid5_of_event_and_subscription_in_the_hookstream_namespace() -> None:
    namespace = uuid.UUID("5b0c8a4e-2d1f-4c55-9d6e-6f6f6b737472")
    for event_id, subscription in [("e-1", "crm"), ("8c1f…", "billing-ü"), ("", "x")]:
        expected = uuid.uuid5(namespace, f"{event_id}\x00{subscription}")
        got = webhook_id(event_id, subscription)
        assert got == "msg_" + expected.hex
        assert uuid.UUID(got.removeprefix("msg_")).version == 5


def test_it_differs_by_event_and_by_subscription() -> None:
    ids = {webhook_id(e, s) for e in ("e-1", "e-2") for s in ("a", "b")}
    assert len(ids) == 4
    assert webhook_id("e-1", "a") == webhook_id("e-1", "a")


def test_an_attempt_carries_the_webhook_headers_over_the_endpoint_s_own() -> None:
    message = Message("msg_1", 1_700_000_000, {"a": 1}, attempt=2)
    base = {"User-Agent": "hookstream/test", "X-Tenant": "t1"}

    unsigned = headers(base, message, b"{}", None)
    assert unsigned == {
        "User-Agent": "hookstream/test",
        "X-Tenant": "t1",
        "webhook-id": "msg_1",
        "webhook-timestamp": "1700000000",
        "webhook-attempt": "2",
    }
    signed = headers(base, message, b"{}", Signer(["s3cret"]))
    assert signed["webhook-signature"] == Signer(["s3cret"]).sign("msg_1", 1_700_000_000, b"{}")
    assert signed["webhook-signature"].startswith("v1,")
    assert base == {
        "User-Agent": "hookstream/test",
        "X-Tenant": "t1",
    }  # the endpoint's headers stay as they were
