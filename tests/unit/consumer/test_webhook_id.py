"""The webhook id: the same for one event and subscription across retries and restarts, a UUID v5."""

from __future__ import annotations

import uuid

from consumer.deliveries import webhook_id


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
