"""``run_validate``: every problem as FILE:LINE: PATH: MESSAGE, non-zero on errors, no secrets."""

from __future__ import annotations

import io

import pytest

from router.validate import run_validate
from tests.unit.router.conftest import CATALOG_PATH, EXAMPLES, WriteYaml


@pytest.mark.usefixtures("example_secrets")
def test_the_examples_validate() -> None:
    out = io.StringIO()
    assert run_validate([EXAMPLES], None, out) == 0
    assert out.getvalue().strip() == f"{EXAMPLES}: 7 subscription(s) valid"


def test_every_error_is_printed_with_file_line_and_path_and_no_secret(
    write_yaml: WriteYaml, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROUTER_VALIDATE_TOKEN", "token-value-that-must-not-leak")
    bad = write_yaml(
        """
        subscriptions:
          - name: leaky
            entity: Object
            triggers:
              - event_type: OnNew
            endpoint:
              url: http://receiver.example.com
            auth:
              type: bearer
              token: ${ROUTER_VALIDATE_TOKEN}
            signing_secrets:
              - whsec_inline-secret-that-must-not-leak
            retry:
              attempts: 7
        """,
        "bad.yaml",
    )
    good = write_yaml(
        """
        subscriptions:
          - name: fine
            entity: User
            triggers:
              - event_type: OnNew
            endpoint:
              url: https://receiver.example.com
        """,
        "good/fine.yaml",
    )
    out = io.StringIO()
    assert run_validate([bad, good.parent], CATALOG_PATH, out) == 1
    lines = out.getvalue().splitlines()
    assert lines == [
        f"{bad}:7: subscriptions[0].endpoint.url: must use https "
        "(plain http is allowed only in development mode)",
        f"{bad}:12: subscriptions[0].signing_secrets[0]: a secret must be written as ${{ENV_VAR}} "
        "or as a file path, never inline",
        f"{bad}:14: subscriptions[0].retry.attempts: Input should be less than or equal to 5",
        f"{good.parent}: 1 subscription(s) valid",
        "3 error(s)",
    ]
    assert "must-not-leak" not in out.getvalue()


def test_development_mode_allows_http(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        """
        subscriptions:
          - name: local
            entity: Tag
            triggers:
              - event_type: OnAdd
            endpoint:
              url: http://127.0.0.1:8080/hook
        """
    )
    assert run_validate([path], CATALOG_PATH, io.StringIO()) == 1
    assert run_validate([path], CATALOG_PATH, io.StringIO(), development=True) == 0


def test_an_invalid_catalog_fails_validation(write_yaml: WriteYaml) -> None:
    catalog = write_yaml("entities: {}\n", "catalog.yaml")
    out = io.StringIO()
    assert run_validate([EXAMPLES], catalog, out) == 1
    assert out.getvalue().startswith(f"{catalog}:1: entities: ")


def test_without_secrets_references_are_checked_for_form_only(
    write_yaml: WriteYaml, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ROUTER_UNSET_SECRET", raising=False)
    path = write_yaml(
        """
        subscriptions:
          - name: referenced
            entity: Object
            triggers:
              - event_type: OnNew
            endpoint:
              url: https://receiver.example.com
            auth:
              type: basic
              username: u
              password: ${ROUTER_UNSET_SECRET}
            signing_secrets:
              - /run/secrets/not-here
          - name: inline
            entity: Object
            triggers:
              - event_type: OnNew
            endpoint:
              url: https://receiver.example.com
            signing_secrets:
              - whsec_inline-secret-that-must-not-leak
        """,
        "refs.yaml",
    )
    resolving, checking = io.StringIO(), io.StringIO()
    assert run_validate([path], CATALOG_PATH, resolving) == 1
    assert run_validate([path], CATALOG_PATH, checking, resolve_secrets=False) == 1

    assert "ROUTER_UNSET_SECRET is not set" in resolving.getvalue()
    assert "not-here cannot be read" in resolving.getvalue()
    # Without resolving, only the inline secret is an error: a reference's form is all that is checked.
    assert checking.getvalue().splitlines() == [
        f"{path}:21: subscriptions[1].signing_secrets[0]: "
        "a secret must be written as ${ENV_VAR} or as a file path, never inline",
        "1 error(s)",
    ]
