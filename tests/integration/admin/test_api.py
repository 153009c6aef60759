"""The admin API against a live ``hookstream run --role admin`` on the real broker and a SQLite store.

schemathesis fuzzes every operation from the API's own OpenAPI document (no 5xx, every answer as
documented); every operation refuses a caller without a token (401) and one whose role is too weak
(403); the failed-events and requests answers agree with the CLI on the same store; and a bulk
resend by filter follows the resend rule for each event.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from admin.actor import ROLE_RANK, Role
from admin.api import API, hash_token
from admin.secrets import generate_key
from store import FailedEventRecord, Store
from tests.integration.store.factories import failed_record
from tests.integration.test_pipeline import subscription
from tests.support.kafka import ROOT, unique_prefix
from tests.support.receiver import Receiver
from tests.support.service import ServiceProcess, write_subscriptions

pytestmark = pytest.mark.kafka

TOKENS: dict[Role, str] = {role: secrets.token_urlsafe(24) for role in ROLE_RANK}
SCHEMA = schemathesis.openapi.from_dict(API.openapi())


class Admin:
    """The live admin process, its store and a way to call its API as a role."""

    def __init__(self, service: ServiceProcess, receiver: Receiver) -> None:
        self.service = service
        self.receiver = receiver
        self.store_url = service.env["HOOKSTREAM_STORE_URL"]
        self.base = f"http://127.0.0.1:{service.admin_port}"

    def call(
        self, method: str, path: str, *, role: Role | None = "admin", body: Any = None
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {TOKENS[role]}"} if role else {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                raw = answer.read()
                return answer.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            return exc.code, json.loads(raw) if raw else None

    def seed(self, *records: FailedEventRecord) -> list[int]:
        async def record_all() -> list[int]:
            async with Store(self.store_url) as store:
                return [(await store.record_failure(record)).id for record in records]

        return asyncio.run(record_all())

    def cli(self, *argv: str) -> Any:
        env = {k: v for k, v in self.service.env.items() if k != "HOOKSTREAM_ROLE"}
        done = subprocess.run(
            [sys.executable, "-m", "consumer.cli", *argv, "--json"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return json.loads(done.stdout)


@pytest.fixture(scope="module")
def admin(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Admin]:
    workdir = tmp_path_factory.mktemp("admin")
    with Receiver() as receiver:
        receiver.behave("/ok", status=200)
        receiver.behave("/down", status=503)
        subs = write_subscriptions(
            workdir / "subs.yaml",
            [
                subscription("crm-ok", receiver.url("/ok"), log="all"),
                subscription("crm-down", receiver.url("/down")),
            ],
        )
        tokens = [
            {"name": f"{role}-token", "sha256": hash_token(t), "role": role} for role, t in TOKENS.items()
        ]
        service = ServiceProcess(
            kafka_bootstrap,
            unique_prefix(),
            subs,
            workdir,
            role="admin",
            # With a key, subscriptions may be created with typed-in secrets and rotate-secrets has work.
            env={"HOOKSTREAM_ADMIN__TOKENS": json.dumps(tokens), "HOOKSTREAM_SECRET_KEY": generate_key()},
        )

        async def migrate() -> None:
            async with Store(service.env["HOOKSTREAM_STORE_URL"]) as store:
                await store.migrate()

        asyncio.run(migrate())
        service.start()
        try:
            yield Admin(service, receiver)
        finally:
            service.stop()


def _operations() -> list[tuple[str, str, Role]]:
    document = API.openapi()
    return [
        (method.upper(), path, op["x-required-role"])
        for path, methods in document["paths"].items()
        for method, op in methods.items()
    ]


def _concrete(path: str) -> str:
    path = path.replace("{name}", "crm-ok")
    return path.replace("{id}", "rejected-1" if path.startswith("/api/v1/requests") else "1")


def test_the_served_document_is_the_generated_one_and_the_docs_page_is_self_contained(admin: Admin) -> None:
    status, served = admin.call("GET", "/api/v1/openapi.json", role="viewer")
    assert status == 200
    assert served == json.loads(json.dumps(API.openapi()))
    assert served["openapi"] == "3.1.0"
    assert admin.call("GET", "/api/v1/openapi.json", role=None)[0] == 401

    status, page = admin.service.get("/api/v1/docs")
    assert status == 200
    assert b"openapi.json" in page
    assert b"http" not in page.replace(b'href="openapi.json"', b"")  # no CDN: nothing fetched from elsewhere


@pytest.mark.parametrize(("method", "path", "role"), _operations())
def test_every_operation_needs_a_token_and_a_strong_enough_role(
    admin: Admin, method: str, path: str, role: Role
) -> None:
    body = {"ids": [1]} if method == "POST" and "bulk" in path else None
    status, problem = admin.call(method, _concrete(path), role=None, body=body)
    assert status == 401
    assert problem["status"] == 401
    weaker = [r for r in ROLE_RANK if ROLE_RANK[r] < ROLE_RANK[role]]
    for weak in weaker:
        status, problem = admin.call(method, _concrete(path), role=weak, body=body)
        assert status == 403, (weak, method, path)
        assert problem["title"] == "Forbidden"


def test_health_and_metrics_need_no_token(admin: Admin) -> None:
    assert admin.service.get("/healthz")[0] == 200
    assert admin.service.get("/metrics")[0] == 200


def test_an_unknown_token_and_a_wrong_scheme_are_refused(admin: Admin) -> None:
    for header in ("Bearer not-a-token", f"Basic {TOKENS['admin']}"):
        request = urllib.request.Request(admin.base + "/api/v1/me", headers={"Authorization": header})
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=10)
        assert caught.value.code == 401
        assert caught.value.headers["Content-Type"].startswith("application/problem+json")
        assert caught.value.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_validation_error_lists_every_error_with_its_path(admin: Admin) -> None:
    status, problem = admin.call("POST", "/api/v1/failed-events/bulk-delete", body={"ids": [0, "x", 3]})
    assert status == 422
    assert [(issue["location"], issue["path"]) for issue in problem["errors"]] == [
        ("body", "$.ids[0]"),
        ("body", "$.ids[1]"),
    ]
    status, problem = admin.call("GET", "/api/v1/failed-events?limit=0&since=yesterday")
    assert status == 422
    assert {issue["path"] for issue in problem["errors"]} == {"$.limit", "$.since"}


def test_a_body_over_the_limit_is_refused(admin: Admin) -> None:
    status, problem = admin.call("POST", "/api/v1/requests/bulk-delete", body={"ids": ["x" * 300_000]})
    assert status == 413
    assert problem["status"] == 413


def test_failed_events_and_requests_agree_with_the_cli(admin: Admin) -> None:
    ids = admin.seed(
        failed_record("agree_1", subscription="crm-down", entity="Object", error_code="503"),
        failed_record("agree_2", subscription="crm-down", entity="User", error_code="timeout"),
    )
    for query, argv in (
        ("subscription=crm-down", ["--subscription", "crm-down"]),
        ("entity=User", ["--entity", "User"]),
        ("error_code=503&subscription=crm-down", ["--error-code", "503", "--subscription", "crm-down"]),
        ("state=all&limit=200", ["--state", "all", "--limit", "200"]),
    ):
        status, page = admin.call("GET", f"/api/v1/failed-events?{query}", role="viewer")
        assert status == 200
        cli = admin.cli("failed", "list", *argv)
        assert [item["id"] for item in page["items"]] == [item["id"] for item in cli["items"]]
        assert page["total"] == cli["total"]
        assert page["items"] == [
            {**item, "acted_by": item.get("acted_by")} for item in _normalised(page["items"], cli["items"])
        ]

    status, shown = admin.call("GET", f"/api/v1/failed-events/{ids[0]}", role="viewer")
    cli = admin.cli("failed", "show", str(ids[0]))
    assert status == 200
    assert shown["request"]["body"] == cli["request_body"]
    assert shown["request"]["headers"] == cli["request_headers"]
    assert [a["error_code"] for a in shown["attempts"]] == [a["error_code"] for a in cli["attempts"]]
    assert shown["payload"] == json.loads(cli["request_body"])

    status, requests = admin.call(
        "GET", "/api/v1/requests?state=Rejected&subscription=crm-down", role="viewer"
    )
    assert status == 200
    assert {item["failed_event_id"] for item in requests["items"]} >= set(ids)
    assert all(item["state"] == "Rejected" for item in requests["items"])

    # Deleting a rejected request deletes its failed event, as the CLI then sees.
    assert admin.call("DELETE", f"/api/v1/requests/rejected-{ids[1]}", role="operator")[0] == 204
    assert ids[1] not in {item["id"] for item in admin.cli("failed", "list", "--state", "all")["items"]}
    assert admin.call("DELETE", f"/api/v1/requests/rejected-{ids[1]}", role="operator")[0] == 404


def _normalised(api_items: list[dict[str, Any]], cli_items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The CLI's JSON items in the API's shape: the same fields, times compared as instants."""
    from datetime import datetime

    def same_times(item: dict[str, Any]) -> dict[str, Any]:
        return {
            key: datetime.fromisoformat(value).isoformat()
            if isinstance(value, str) and key.endswith("_at")
            else value
            for key, value in item.items()
        }

    api = [same_times(item) for item in api_items]
    cli = [same_times({key: item.get(key) for key in api_items[0]}) for item in cli_items]
    assert api == cli
    return api_items


def test_bulk_resend_by_filter_follows_the_rule_for_each_event(admin: Admin) -> None:
    prefix = secrets.token_hex(4)
    ok, down, gone = admin.seed(
        failed_record(f"{prefix}_ok", subscription="crm-ok", entity="Chat"),
        failed_record(f"{prefix}_down", subscription="crm-down", entity="Chat"),
        failed_record(f"{prefix}_gone", subscription="deleted-meanwhile", entity="Chat"),
    )
    before = len(admin.receiver.requests("/ok"))

    status, answer = admin.call(
        "POST", "/api/v1/failed-events/bulk-resend", role="operator", body={"filter": {"entity": "Chat"}}
    )

    assert status == 200, answer
    results = {item["id"]: item for item in answer["results"]}
    assert answer["matched"] == 3
    assert answer["remaining"] == 0
    assert results[ok]["result"] == "delivered"
    assert results[down]["result"] == "failed"
    assert results[down]["error_code"] == "503"
    assert results[gone]["result"] == "subscription_gone"
    assert len(admin.receiver.requests("/ok")) == before + 1

    # Delivered: closed, its resend in the history with who did it, and logged (crm-ok logs all).
    shown = admin.call("GET", f"/api/v1/failed-events/{ok}", role="viewer")[1]
    assert shown["overview"]["state"] == "closed"
    assert shown["overview"]["acted_by"] == "operator-token"
    assert shown["attempts"][-1]["resent_by"] == "operator-token"
    assert shown["attempts"][-1]["error_code"] is None
    logged = admin.call("GET", "/api/v1/requests?state=Successful&subscription=crm-ok", role="viewer")[1]
    assert f"{prefix}_ok" in {item["webhook_id"] for item in logged["items"]}
    # Failed again: still open, with the new attempt and error.
    shown = admin.call("GET", f"/api/v1/failed-events/{down}", role="viewer")[1]
    assert shown["overview"]["state"] == "open"
    assert shown["overview"]["attempt_count"] == 4
    assert shown["attempts"][-1]["resent_by"] == "operator-token"
    # Nowhere to send it: untouched.
    shown = admin.call("GET", f"/api/v1/failed-events/{gone}", role="viewer")[1]
    assert shown["overview"]["attempt_count"] == 3
    # The log names the actor of every mutation, never a token.
    log = admin.service.log()
    assert "operator-token" in log
    assert all(token not in log for token in TOKENS.values())


def test_subscription_refusals_are_422_with_every_path_409_and_404(admin: Admin) -> None:
    status, problem = admin.call(
        "POST",
        "/api/v1/subscriptions",
        body={"name": "bad one!", "entity": "Object", "triggers": [{"event_type": "OnNew"}], "retry": 3},
    )
    assert status == 422, problem
    paths = {issue["path"] for issue in problem["errors"]}
    assert {"$.name", "$.endpoint", "$.retry"} <= paths
    assert all(issue["location"] == "body" for issue in problem["errors"])

    good = subscription("crm-ok", admin.receiver.url("/ok"))
    assert admin.call("POST", "/api/v1/subscriptions", body=good)[0] == 409  # a file has the name
    assert admin.call("PUT", "/api/v1/subscriptions/crm-ok", body=good)[0] == 409  # read-only here
    assert admin.call("DELETE", "/api/v1/subscriptions/crm-ok")[0] == 409
    assert admin.call("GET", "/api/v1/subscriptions/no-such-one", role="viewer")[0] == 404
    assert admin.call("POST", "/api/v1/subscriptions/no-such-one/suspend", role="operator")[0] == 404

    status, checked = admin.call("POST", "/api/v1/subscriptions/validate", body={**good, "name": "fresh"})
    assert (status, checked) == (200, {"valid": True, "errors": []})
    status, checked = admin.call("POST", "/api/v1/subscriptions/validate", body={**good, "entity": 7})
    assert status == 200
    assert checked["valid"] is False
    assert "$.entity" in {issue["path"] for issue in checked["errors"]}


def test_the_subscription_list_counts_failed_events_and_requests(admin: Admin) -> None:
    admin.seed(failed_record(f"count_{secrets.token_hex(3)}", subscription="crm-down"))
    status, listed = admin.call("GET", "/api/v1/subscriptions?source=file&name_contains=CRM", role="viewer")
    assert status == 200
    items = {item["name"]: item for item in listed["items"]}
    assert set(items) == {"crm-ok", "crm-down"}
    down = items["crm-down"]
    assert down["source"] == "file"
    assert down["suspended"] is False
    assert down["counts"]["open_failed_events"] >= 1
    assert down["counts"]["successful_24h"] is None  # it logs failures only: the store has no successes
    assert isinstance(items["crm-ok"]["counts"]["successful_24h"], int)
    assert admin.call("GET", "/api/v1/subscriptions?active=maybe", role="viewer")[0] == 422


@pytest.fixture
def admin_base_url(admin: Admin) -> str:
    admin.seed(
        *(failed_record(f"fuzz_{n}_{secrets.token_hex(3)}", subscription="crm-down") for n in range(3))
    )
    # The store has something to list, show and delete.
    return admin.base


@SCHEMA.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_api_holds_to_its_schema(case: Any, admin_base_url: str) -> None:
    case.call_and_validate(
        base_url=admin_base_url,
        headers={"Authorization": f"Bearer {TOKENS['admin']}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
            negative_data_rejection,
        ],
    )
