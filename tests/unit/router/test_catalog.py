"""The shipped catalog covers the reference; a deployment extends it without code."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from router import Catalog, CatalogError, DomainEvent, Router, load_catalog, load_subscriptions, shape_body
from tests.unit.router.conftest import CATALOG_PATH, WriteYaml

REFERENCE_TRIGGERS = {
    "Object": {"OnNew", "OnNewChild", "OnNewActivity", "OnUpdateTag"},
    "User": {"OnNew", "OnUpdate", "OnUpdateTag"},
    "Satisfaction": {"OnSubmit"},
    "Form": {"OnSubmit"},
    "Chat": {"OnUserExit"},
    "Tag": {"OnAdd", "OnUpdate"},
    "WhatsApp": {"OnMessageStatus"},
}


def test_every_entity_and_trigger_of_the_reference_is_there(catalog: Catalog) -> None:
    assert {name: set(entity.triggers) for name, entity in catalog.entities.items()} == REFERENCE_TRIGGERS
    assert all(entity.data_fields for entity in catalog.entities.values())


def test_component_values_match_the_reference(catalog: Catalog) -> None:
    activity = catalog.components["activity_types"].by_id()
    assert sorted(activity) == list(range(1, 24))
    assert (activity[1], activity[2], activity[23]) == ("Remark", "StatusChange", "RedactChild")
    statuses = catalog.components["statuses"].by_id()
    assert sorted(statuses) == [*range(1, 12), 13, 14, 15]
    assert (statuses[2], statuses[15]) == ("Resolved", "Pending")
    channels = catalog.components["channels"].by_id()
    assert sorted(channels) == list(range(18))
    assert (channels[0], channels[7], channels[16], channels[17]) == (
        "Commbox",
        "WhatsApp",
        "WhatsAppCloud",
        "Salesforce",
    )
    assert list(catalog.components["whatsapp_statuses"].by_id()) == ["sent", "delivered", "read", "failed"]
    new_activity = catalog.entities["Object"].triggers["OnNewActivity"].components
    assert set(new_activity) == {"activity_types", "statuses", "channels"}
    assert set(catalog.entities["WhatsApp"].triggers["OnMessageStatus"].components) == {
        "whatsapp_statuses",
        "channels",
    }


def test_names_resolve_to_ids_in_any_letter_case(catalog: Catalog) -> None:
    channels = catalog.components["channels"]
    assert channels.resolve("whatsappcloud") == 16
    assert channels.resolve(16) == 16
    assert channels.resolve(True) is None
    assert channels.resolve(99) is None


EXTENDED = """
components:
  payment_methods:
    event_field: data.payment.method
    values: [card, transfer, wallet]
entities:
  Invoice:
    data_fields: [id, total, currency]
    triggers:
      OnPaid:
        components:
          payment_methods: {}
"""


def test_a_deployment_adds_an_entity_and_component_without_code(
    write_yaml: WriteYaml, tmp_path: Path
) -> None:
    catalog = load_catalog(write_yaml(EXTENDED, "catalog.yaml"))
    subs = write_yaml(
        """
        subscriptions:
          - name: paid-by-card
            entity: Invoice
            triggers:
              - event_type: OnPaid
                payment_methods: [card]
            endpoint:
              url: https://billing.example.com/hook
        """,
        "subs/invoices.yaml",
    )
    router = Router(load_subscriptions(subs, catalog), catalog)

    def paid(method: str) -> DomainEvent:
        return DomainEvent(
            event_id="i-1",
            event_time=datetime(2026, 1, 2, tzinfo=UTC),
            entity="Invoice",
            event_type="OnPaid",
            entity_id="INV-1",
            data={"id": "INV-1", "total": 10, "currency": "EUR", "payment": {"method": method}, "notes": "x"},
        )

    (matched,) = router.match(paid("card"))
    assert router.match(paid("wallet")) == ()
    assert shape_body(paid("card"), matched, catalog)["data"] == {
        "id": "INV-1",
        "total": 10,
        "currency": "EUR",
    }


@pytest.mark.parametrize(
    ("text", "path", "message"),
    [
        (
            EXTENDED.replace("data.payment.method", "amount"),
            "components.payment_methods.event_field",
            "neither",
        ),
        (EXTENDED.replace("payment_methods: {}", "payment_method: {}"), "payment_method", "did you mean"),
        (EXTENDED.replace("    data_fields: [id, total, currency]\n", ""), "data_fields", "required"),
        (
            EXTENDED.replace("payment_methods: {}", "payment_methods: {alowed: [card]}"),
            "alowed",
            "unknown key",
        ),
        (
            EXTENDED.replace("payment_methods: {}", "payment_methods: {allowed: [cash]}"),
            "allowed[0]",
            "not a",
        ),
    ],
)
def test_an_invalid_catalog_is_rejected_with_file_line_and_path(
    write_yaml: WriteYaml, text: str, path: str, message: str
) -> None:
    file = write_yaml(text, "catalog.yaml")
    with pytest.raises(CatalogError) as caught:
        load_catalog(file)
    (issue,) = caught.value.issues
    assert issue.file == str(file)
    assert issue.line is not None
    assert issue.path.endswith(path)
    assert message in issue.message


def test_the_shipped_catalog_is_the_default_of_validate() -> None:
    from router.validate import default_catalog_path

    assert default_catalog_path() == CATALOG_PATH
