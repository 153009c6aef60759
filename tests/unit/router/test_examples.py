"""The shipped catalog and every example subscription load and route."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from router import Catalog, DomainEvent, Router, load_subscriptions, shape_body
from tests.unit.router.conftest import EXAMPLES


@pytest.mark.usefixtures("example_secrets")
def test_every_example_file_validates(catalog: Catalog) -> None:
    files = sorted(EXAMPLES.glob("*.yaml"))
    assert files
    for file in files:
        assert load_subscriptions(file, catalog)
    names = [sub.name for sub in load_subscriptions(EXAMPLES, catalog)]
    assert len(names) == len(set(names)) >= 6


@pytest.mark.usefixtures("example_secrets")
def test_examples_route_a_status_change(catalog: Catalog) -> None:
    router = Router(load_subscriptions(EXAMPLES, catalog), catalog)
    event = DomainEvent(
        event_id="e-1",
        event_time=datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC),
        entity="Object",
        event_type="OnNewActivity",
        entity_id="42",
        data={"id": 42, "status_id": 2, "customer": {"id": 7, "email": "a@example.com", "phone": "1"}},
        channel=7,
        activity_type=2,
        status_id=2,
    )
    matched = router.match(event)
    assert [sub.name for sub in matched] == ["crm-resolved-and-remarks"]
    body = shape_body(event, matched[0], catalog)
    assert body == {
        "event_id": "e-1",
        "event_time": "2026-11-23T10:00:00.123Z",
        "event_type": "OnNewActivity",
        "entity": "Object",
        "entity_id": "42",
        "current_context": None,
        "data": {"id": 42, "status_id": 2, "customer": {"id": 7, "email": "a@example.com"}},
    }
