"""Loading subscriptions: every rule of issue 5, each error with file, line and path."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from router import Catalog, ConfigIssue, SubscriptionError, load_subscriptions
from sender.config import OAuth2ClientCredentials, SoapEndpoint
from tests.unit.router.conftest import WriteYaml

VALID = """
subscriptions:
  - name: first
    entity: Object
    triggers:
      - event_type: OnNew
    endpoint:
      url: https://receiver.example.com/hook
"""


def errors(path: Path, catalog: Catalog, *, development: bool = False) -> list[ConfigIssue]:
    with pytest.raises(SubscriptionError) as caught:
        load_subscriptions(path, catalog, development=development)
    return caught.value.issues


def only(path: Path, catalog: Catalog) -> ConfigIssue:
    found = errors(path, catalog)
    assert len(found) == 1, found
    return found[0]


def test_a_valid_file_loads_with_defaults(write_yaml: WriteYaml, catalog: Catalog) -> None:
    (sub,) = load_subscriptions(write_yaml(VALID), catalog)
    assert sub.name == "first"
    assert sub.active is True
    assert sub.endpoint.type == "rest"
    assert sub.auth.type == "none"
    assert sub.retry.attempts == 3
    assert sub.retry.interval == timedelta(minutes=5)
    assert sub.log == "failures"
    assert sub.include_complete_data is False
    target = sub.target
    assert target.key == "first"
    assert target.endpoint == sub.endpoint


def test_every_error_of_a_file_is_reported_with_file_line_and_path(
    write_yaml: WriteYaml, catalog: Catalog
) -> None:
    path = write_yaml(
        """
        subscriptions:
          - name: a
            entity: Object
            triggers:
              - event_type: OnNew
            endpoint:
              url: https://ok.example.com
          - name: b
            entity: Objekt
            triggers:
              - event_type: OnNew
            endpoint:
              url: https://ok.example.com
          - name: c
            entity: Object
            triggers:
              - event_type: OnNew
            endpoint:
              url: https://ok.example.com
            auth:
              type: oauth2_client_credentials
              token_url: http://auth.example.com/token
              client_id: x
              client_secret: ${ROUTER_TEST_UNSET_SECRET}
        """
    )
    found = errors(path, catalog)
    assert [(issue.line, issue.path) for issue in found] == [
        (9, "subscriptions[1].entity"),
        (22, "subscriptions[2].auth.token_url"),
        (24, "subscriptions[2].auth.client_secret"),
    ]
    assert all(issue.file == str(path) for issue in found)
    assert "did you mean 'Object'" in found[0].message
    text = str(SubscriptionError(found))
    assert text.startswith("3 configuration errors")
    assert f"{path}:22: subscriptions[2].auth.token_url: must use https" in text


def test_names_are_unique_across_files_of_a_folder(write_yaml: WriteYaml, catalog: Catalog) -> None:
    write_yaml(VALID, "a.yaml")
    second = write_yaml(VALID.replace("first", "second") + VALID.split("subscriptions:\n")[1], "b.yml")
    write_yaml("not: loaded", "notes.txt")
    issue = only(second.parent, catalog)
    assert issue.file == str(second)
    assert issue.path == "subscriptions[1].name"
    assert issue.line == 8
    assert issue.message == f"name 'first' is already used at {second.parent / 'a.yaml'}:2"


def test_a_folder_merges_every_yaml_file_by_name(write_yaml: WriteYaml, catalog: Catalog) -> None:
    write_yaml(VALID.replace("first", "from-b"), "b.yaml")
    write_yaml(VALID.replace("first", "from-a"), "a.yml")
    loaded = load_subscriptions(write_yaml(VALID.replace("first", "from-c"), "c.yaml").parent, catalog)
    assert [sub.name for sub in loaded] == ["from-a", "from-b", "from-c"]


@pytest.mark.parametrize(
    ("yaml_text", "path", "message"),
    [
        (
            VALID.replace("    entity:", "    entitty: Object\n    entity:"),
            "subscriptions[0].entitty",
            "unknown key",
        ),
        (VALID + "    retries: 3\n", "subscriptions[0].retries", "unknown key"),
        (VALID.replace("url:", "timout: 5\n      url:"), "subscriptions[0].endpoint.timout", "unknown key"),
        (VALID + "extra: 1\n", "extra", "unknown key; the file holds 'subscriptions' only"),
        (
            VALID.replace("- event_type: OnNew", "- event_type: OnNew\n        activity_type: [1]"),
            "subscriptions[0].triggers[0].activity_type",
            "unknown key: not a component of Object.OnNew; it has: brands",
        ),
    ],
)
def test_unknown_keys_are_errors(
    write_yaml: WriteYaml, catalog: Catalog, yaml_text: str, path: str, message: str
) -> None:
    issue = only(write_yaml(yaml_text), catalog)
    assert issue.path == path
    assert issue.message == message


def test_a_duplicate_key_is_an_error_not_a_silent_override(write_yaml: WriteYaml, catalog: Catalog) -> None:
    issue = only(write_yaml(VALID + "    name: again\n"), catalog)
    assert (issue.line, issue.path, issue.message) == (8, "subscriptions[0].name", "duplicate key")


@pytest.mark.parametrize(
    ("replace", "path", "message"),
    [
        (("entity: Object", "entity: Invoice"), "subscriptions[0].entity", "unknown entity 'Invoice'"),
        (
            ("OnNew", "OnSubmit"),
            "subscriptions[0].triggers[0].event_type",
            "Object has no trigger 'OnSubmit'",
        ),
        (("triggers:\n      - event_type: OnNew", "triggers: []"), "subscriptions[0].triggers", "at least 1"),
    ],
)
def test_entity_and_trigger_must_be_in_the_catalog(
    write_yaml: WriteYaml, catalog: Catalog, replace: tuple[str, str], path: str, message: str
) -> None:
    issue = only(write_yaml(VALID.replace(*replace)), catalog)
    assert issue.path == path
    assert message in issue.message


def activity_sub(triggers: str) -> str:
    return f"""
subscriptions:
  - name: act
    entity: Object
    triggers:
{triggers}
    endpoint:
      url: https://receiver.example.com/hook
"""


def test_components_must_be_valid_for_their_trigger(write_yaml: WriteYaml, catalog: Catalog) -> None:
    path = write_yaml(
        activity_sub(
            "      - event_type: OnNewActivity\n"
            "        activity_types: [Remark, 24, Remrak]\n"
            "        channels: []\n"
            "      - event_type: OnNew\n"
            "        channels: [Mail]\n"
        )
    )
    found = [(issue.path, issue.message) for issue in errors(path, catalog)]
    assert found == [
        (
            "subscriptions[0].triggers[0].activity_types[1]",
            "24 is not one of the activity_types in the catalog",
        ),
        (
            "subscriptions[0].triggers[0].activity_types[2]",
            "'Remrak' is not one of the activity_types in the catalog; did you mean 'Remark'?",
        ),
        (
            "subscriptions[0].triggers[0].channels",
            "must list at least one value (leave the key out to match any)",
        ),
        (
            "subscriptions[0].triggers[1].channels",
            "unknown key: not a component of Object.OnNew; it has: brands",
        ),
    ]


def test_a_trigger_may_only_use_the_values_its_catalog_entry_allows(
    write_yaml: WriteYaml, catalog: Catalog
) -> None:
    text = VALID.replace("entity: Object", "entity: WhatsApp").replace(
        "- event_type: OnNew", "- event_type: OnMessageStatus\n        channels: [WhatsApp, Mail]"
    )
    issue = only(write_yaml(text), catalog)
    assert issue.path == "subscriptions[0].triggers[0].channels[1]"
    assert issue.message == "Mail is not allowed for OnMessageStatus; allowed: WhatsApp, WhatsAppCloud"


def test_a_status_is_chosen_in_at_most_one_trigger(write_yaml: WriteYaml, catalog: Catalog) -> None:
    path = write_yaml(
        activity_sub(
            "      - event_type: OnNewActivity\n"
            "        statuses: [Open, Resolved]\n"
            "      - event_type: OnNewActivity\n"
            "        statuses: [Pending, 2]\n"
        )
    )
    issue = only(path, catalog)
    assert issue.path == "subscriptions[0].triggers[1].statuses[1]"
    assert issue.line == 8
    assert issue.message.startswith("Resolved is already chosen in triggers[0]")


def test_statuses_need_the_status_change_activity(write_yaml: WriteYaml, catalog: Catalog) -> None:
    path = write_yaml(
        activity_sub(
            "      - event_type: OnNewActivity\n        activity_types: [Remark]\n        statuses: [Open]\n"
        )
    )
    issue = only(path, catalog)
    assert issue.path == "subscriptions[0].triggers[0].statuses"
    assert "StatusChange" in issue.message


def test_channels_of_new_activity_are_set_once_per_subscription(
    write_yaml: WriteYaml, catalog: Catalog
) -> None:
    path = write_yaml(
        activity_sub(
            "      - event_type: OnNewActivity\n"
            "        channels: [Mail]\n"
            "      - event_type: OnNewActivity\n"
            "        activity_types: [Remark]\n"
            "        channels: [Mail]\n"
        )
    )
    issue = only(path, catalog)
    assert issue.path == "subscriptions[0].triggers[1].channels"
    assert "set once per subscription" in issue.message


def test_https_is_required_unless_in_development(write_yaml: WriteYaml, catalog: Catalog) -> None:
    path = write_yaml(VALID.replace("https://", "http://"))
    issue = only(path, catalog)
    assert issue.path == "subscriptions[0].endpoint.url"
    assert "https" in issue.message
    (sub,) = load_subscriptions(path, catalog, development=True)
    assert sub.endpoint.url.startswith("http://")


@pytest.mark.parametrize("url", ["ftp://receiver.example.com", "receiver.example.com/hook", "https://"])
def test_a_url_must_be_absolute_https(write_yaml: WriteYaml, catalog: Catalog, url: str) -> None:
    issue = only(write_yaml(VALID.replace("https://receiver.example.com/hook", url)), catalog)
    assert issue.path == "subscriptions[0].endpoint.url"


def test_soap_wsdl_and_oauth_token_urls_need_https_too(
    write_yaml: WriteYaml, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROUTER_TEST_SECRET", "s3cr3t-value")
    text = VALID.replace(
        "      url: https://receiver.example.com/hook",
        "      type: soap\n"
        "      url: https://receiver.example.com/soap\n"
        "      wsdl: http://receiver.example.com/soap?wsdl\n"
        "      operation: Notify\n"
        "    auth:\n"
        "      type: oauth2_password\n"
        "      token_url: http://auth.example.com/token\n"
        "      client_id: me\n"
        "      client_secret: ${ROUTER_TEST_SECRET}\n"
        "      username: me\n"
        "      password: ${ROUTER_TEST_SECRET}",
    )
    path = write_yaml(text)
    assert [issue.path for issue in errors(path, catalog)] == [
        "subscriptions[0].endpoint.wsdl",
        "subscriptions[0].auth.token_url",
    ]
    (sub,) = load_subscriptions(path, catalog, development=True)
    assert isinstance(sub.endpoint, SoapEndpoint)
    assert sub.auth.type == "oauth2_password"


@pytest.mark.parametrize(
    ("retry", "path", "message"),
    [
        ("attempts: 6", "subscriptions[0].retry.attempts", "less than or equal to 5"),
        ("attempts: -1", "subscriptions[0].retry.attempts", "greater than or equal to 0"),
        ("interval: 0", "subscriptions[0].retry.interval", "must be positive"),
        ("interval: -30", "subscriptions[0].retry.interval", "must be positive"),
        ("interval: 5 minutes", "subscriptions[0].retry.interval", "is not a duration such as 5m"),
    ],
)
def test_retry_attempts_are_0_to_5_and_the_interval_positive(
    write_yaml: WriteYaml, catalog: Catalog, retry: str, path: str, message: str
) -> None:
    issue = only(write_yaml(VALID + f"    retry:\n      {retry}\n"), catalog)
    assert issue.path == path
    assert message in issue.message


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("5m", timedelta(minutes=5)),
        ("30s", timedelta(seconds=30)),
        ("1h", timedelta(hours=1)),
        ("250ms", timedelta(milliseconds=250)),
        ("1h30m", timedelta(minutes=90)),
        ("45", timedelta(seconds=45)),
        ("0.5", timedelta(milliseconds=500)),
    ],
)
def test_retry_interval_reads_durations_and_seconds(
    write_yaml: WriteYaml, catalog: Catalog, written: str, expected: timedelta
) -> None:
    (sub,) = load_subscriptions(
        write_yaml(VALID + f"    retry:\n      attempts: 0\n      interval: {written}\n"), catalog
    )
    assert sub.retry.interval == expected
    assert sub.retry.attempts == 0


def test_secrets_resolve_from_environment_and_files(
    write_yaml: WriteYaml, catalog: Catalog, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ROUTER_TEST_CLIENT_SECRET", "from-the-environment")
    secret_file = tmp_path / "signing.secret"
    secret_file.write_text("whsec_ZnJvbS1hLWZpbGU=\n", encoding="utf-8")
    text = VALID + (
        "    auth:\n"
        "      type: oauth2_client_credentials\n"
        "      token_url: https://auth.example.com/token\n"
        "      client_id: hookstream\n"
        "      client_secret: ${ROUTER_TEST_CLIENT_SECRET}\n"
        "    signing_secrets:\n"
        f"      - {secret_file}\n"
    )
    (sub,) = load_subscriptions(write_yaml(text), catalog)
    assert isinstance(sub.auth, OAuth2ClientCredentials)
    assert sub.auth.client_secret.get_secret_value() == "from-the-environment"
    assert sub.signing_secrets[0].get_secret_value() == "whsec_ZnJvbS1hLWZpbGU="
    assert "from-the-environment" not in repr(sub)


def test_a_missing_secret_names_the_variable_never_a_value(
    write_yaml: WriteYaml, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROUTER_TEST_SET", "visible-only-if-leaked")
    monkeypatch.delenv("ROUTER_TEST_MISSING", raising=False)
    text = VALID + (
        "    auth:\n"
        "      type: basic\n"
        "      username: u\n"
        "      password: ${ROUTER_TEST_MISSING}\n"
        "    signing_secrets:\n"
        "      - ${ROUTER_TEST_SET}\n"
        "      - inline-secret-value\n"
        "    retry:\n"
        "      attempts: 9\n"
    )
    with pytest.raises(SubscriptionError) as caught:
        load_subscriptions(write_yaml(text), catalog)
    found = {issue.path: issue.message for issue in caught.value.issues}
    assert found["subscriptions[0].auth.password"] == "environment variable ROUTER_TEST_MISSING is not set"
    assert "never inline" in found["subscriptions[0].signing_secrets[1]"]
    assert "subscriptions[0].retry.attempts" in found
    text_of_error = str(caught.value) + repr(caught.value.issues)
    assert "visible-only-if-leaked" not in text_of_error
    assert "inline-secret-value" not in text_of_error


def test_fields_are_dotted_paths_and_exclude_complete_data(write_yaml: WriteYaml, catalog: Catalog) -> None:
    path = write_yaml(VALID + "    include_complete_data: true\n    fields: [id, customer..id]\n")
    found = [(issue.path, issue.message) for issue in errors(path, catalog)]
    assert [p for p, _ in found] == ["subscriptions[0].fields", "subscriptions[0].fields[1]"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        ("- name: x\n", "expected a mapping"),
        ("subscriptions: {}\n", "must be a list"),
        ("subs: []\n", "unknown key"),
        ("subscriptions: [\n", "invalid YAML"),
    ],
)
def test_a_file_that_is_not_a_subscriptions_list_is_rejected(
    write_yaml: WriteYaml, catalog: Catalog, text: str, message: str
) -> None:
    found = errors(write_yaml(text), catalog)
    assert any(message in issue.message for issue in found), found


def test_an_empty_list_of_subscriptions_is_valid(write_yaml: WriteYaml, catalog: Catalog) -> None:
    assert load_subscriptions(write_yaml("subscriptions: []\n"), catalog) == []


def test_a_missing_path_or_empty_folder_is_an_error(tmp_path: Path, catalog: Catalog) -> None:
    assert errors(tmp_path / "absent.yaml", catalog)[0].message == "no such file or folder"
    assert "no *.yaml" in errors(tmp_path, catalog)[0].message


def test_a_subscription_that_is_not_a_mapping_is_reported(write_yaml: WriteYaml, catalog: Catalog) -> None:
    issue = only(write_yaml("subscriptions:\n  - just-a-name\n"), catalog)
    assert issue.path == "subscriptions[0]"
    assert issue.line == 2
