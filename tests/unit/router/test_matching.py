"""Matching semantics: entity, trigger and components, as users of the subscription form expect."""

from __future__ import annotations

from typing import Any

import pytest

from router import Catalog, Router, SubscriptionError
from tests.unit.router.helpers import event, subscription


def names(router: Router, **kwargs: Any) -> list[str]:
    entity = str(kwargs.pop("entity", "Object"))
    event_type = str(kwargs.pop("event_type", "OnNewActivity"))
    return [sub.name for sub in router.match(event(entity, event_type, **kwargs))]


def test_entity_and_event_type_must_both_match(catalog: Catalog) -> None:
    router = Router(
        [
            subscription("object-new", "Object", {"event_type": "OnNew"}),
            subscription("user-new", "User", {"event_type": "OnNew"}),
        ],
        catalog,
    )
    assert names(router, entity="Object", event_type="OnNew") == ["object-new"]
    assert names(router, entity="User", event_type="OnNew") == ["user-new"]
    assert names(router, entity="User", event_type="OnUpdate") == []
    assert names(router, entity="Invoice", event_type="OnNew") == []


def test_an_inactive_subscription_gets_nothing_but_is_still_known_by_name(catalog: Catalog) -> None:
    suspended = subscription("suspended", "Object", {"event_type": "OnNew"}, active=False)
    router = Router([suspended], catalog)
    assert names(router, event_type="OnNew") == []
    assert router.get("suspended") is suspended
    assert router.get("absent") is None
    assert list(router.subscriptions) == [suspended]


def test_activity_types_filter_by_id_or_name(catalog: Catalog) -> None:
    router = Router(
        [subscription("remarks", "Object", {"event_type": "OnNewActivity", "activity_types": ["Remark", 3]})],
        catalog,
    )
    assert names(router, activity_type=1) == ["remarks"]
    assert names(router, activity_type=3) == ["remarks"]
    assert names(router, activity_type=2) == []
    assert names(router) == []


def test_statuses_narrow_status_changes_only(catalog: Catalog) -> None:
    router = Router(
        [
            subscription(
                "resolved-or-remark",
                "Object",
                {
                    "event_type": "OnNewActivity",
                    "activity_types": ["Remark", "StatusChange"],
                    "statuses": [2],
                },
            ),
            subscription("any-resolved", "Object", {"event_type": "OnNewActivity", "statuses": ["Resolved"]}),
        ],
        catalog,
    )
    assert names(router, activity_type=2, status_id=2) == ["resolved-or-remark", "any-resolved"]
    assert names(router, activity_type=2, status_id=1) == []
    # A remark carries no status change, so the status filter does not apply to it...
    assert names(router, activity_type=1, status_id=1) == ["resolved-or-remark"]
    # ...and a trigger that names statuses alone listens to status changes only.
    assert names(router, activity_type=1) == ["resolved-or-remark"]


def test_channels_set_once_apply_to_every_new_activity_trigger(catalog: Catalog) -> None:
    router = Router(
        [
            subscription(
                "whatsapp-activity",
                "Object",
                {"event_type": "OnNewActivity", "activity_types": [1], "channels": ["WhatsApp"]},
                {"event_type": "OnNewActivity", "activity_types": [3]},
                {"event_type": "OnNew"},
            )
        ],
        catalog,
    )
    assert names(router, activity_type=3, channel=7) == ["whatsapp-activity"]
    assert names(router, activity_type=3, channel=4) == []
    assert names(router, activity_type=1, channel=None) == []
    # Channels of OnNewActivity do not narrow other triggers.
    assert names(router, event_type="OnNew", channel=4) == ["whatsapp-activity"]


def test_whatsapp_statuses_and_channels(catalog: Catalog) -> None:
    router = Router(
        [
            subscription(
                "read-receipts",
                "WhatsApp",
                {"event_type": "OnMessageStatus", "whatsapp_statuses": ["read", "failed"], "channels": [16]},
            )
        ],
        catalog,
    )
    assert names(
        router, entity="WhatsApp", event_type="OnMessageStatus", whatsapp_status="read", channel=16
    ) == ["read-receipts"]
    assert (
        names(router, entity="WhatsApp", event_type="OnMessageStatus", whatsapp_status="sent", channel=16)
        == []
    )
    assert (
        names(router, entity="WhatsApp", event_type="OnMessageStatus", whatsapp_status="read", channel=7)
        == []
    )


def test_a_subscription_matching_through_two_triggers_is_delivered_once(catalog: Catalog) -> None:
    router = Router(
        [
            subscription(
                "twice",
                "Object",
                {"event_type": "OnNewActivity", "activity_types": [1, 2]},
                {"event_type": "OnNewActivity", "statuses": [2]},
            )
        ],
        catalog,
    )
    assert names(router, activity_type=2, status_id=2) == ["twice"]


def test_a_router_built_in_code_checks_the_catalog_and_names(catalog: Catalog) -> None:
    with pytest.raises(SubscriptionError) as caught:
        Router(
            [
                subscription("x", "Invoice", {"event_type": "OnNew"}),
                subscription("y", "Object", {"event_type": "OnNew"}),
                subscription("y", "Object", {"event_type": "OnNew"}),
            ],
            catalog,
        )
    assert [issue.path for issue in caught.value.issues] == [
        "subscriptions[0].entity",
        "subscriptions[2].name",
    ]


def test_brands_narrow_any_trigger_and_compare_as_text(catalog: Catalog) -> None:
    router = Router(
        [
            subscription("acme-only", "User", {"event_type": "OnNew", "brands": ["acme", 1234]}),
            subscription("all-brands", "User", {"event_type": "OnNew"}),
        ],
        catalog,
    )
    assert names(router, entity="User", event_type="OnNew", brand="acme") == ["acme-only", "all-brands"]
    assert names(router, entity="User", event_type="OnNew", brand="1234") == ["acme-only", "all-brands"]
    assert names(router, entity="User", event_type="OnNew", brand="globex") == ["all-brands"]
    assert names(router, entity="User", event_type="OnNew") == ["all-brands"]
