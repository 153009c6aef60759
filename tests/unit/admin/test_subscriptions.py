"""The subscriptions service layer over a stand-in for the topic: what it writes, refuses and shows.

The topic itself (records read back, other processes) is covered by
tests/integration/test_api_subscriptions.py; here the log applies each record at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
import pytest

from admin.secrets import SecretBox, generate_key
from admin.subscription_records import MASK, SubscriptionRegistry, unseal
from admin.subscriptions import (
    NameTaken,
    ReadOnlySubscription,
    SubscriptionNotFound,
    SubscriptionService,
)
from router import Catalog, Subscription, SubscriptionError, load_catalog
from router.loader import check_subscription
from router.sources import combine
from tests.unit.router.conftest import CATALOG_PATH

SECRETS = ("pa55-word-typed-in", "whsec_c2lnbmluZy1zZWNyZXQtdHlwZWQ=", "header-secret-typed-in")


class MemoryLog:
    """Applies each record at once, and keeps them as the topic would."""

    def __init__(self, registry: SubscriptionRegistry) -> None:
        self.registry = registry
        self.records: list[tuple[str, bytes | None]] = []

    async def write(self, key: str, value: bytes | None) -> None:
        self.records.append((key, value))
        self.registry.apply(key.encode(), value)


def body(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "entity": "Object",
        "triggers": [{"event_type": "OnNew"}],
        "endpoint": {
            "url": "https://receiver.example.com/hook",
            "headers": {"X-Api-Key": SECRETS[2], "X-Tenant": "acme"},
            "public_headers": ["X-Tenant"],
        },
        "auth": {"type": "basic", "username": "crm", "password": SECRETS[0]},
        "signing_secrets": [SECRETS[1]],
        **extra,
    }


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(CATALOG_PATH)


class Setup:
    def __init__(self, catalog: Catalog, files: list[Subscription], key: str | None) -> None:
        self.key = key
        self.box = SecretBox(key)
        self.catalog = catalog
        self.files = files
        self.registry = SubscriptionRegistry(self._compile)
        self.log = MemoryLog(self.registry)
        self.service = SubscriptionService(
            self.log, self.registry, files=lambda: self.files, catalog=lambda: catalog, box=self.box
        )

    def _compile(self, config: Mapping[str, Any]) -> Subscription:
        return check_subscription(unseal(config, self.box), self.catalog)

    def raw_topic(self) -> bytes:
        return b"".join(key.encode() + (value or b"") for key, value in self.log.records)


@pytest.fixture
def setup(catalog: Catalog) -> Setup:
    file_sub = check_subscription(
        {
            "name": "from-file",
            "entity": "User",
            "triggers": [{"event_type": "OnNew"}],
            "endpoint": {"url": "https://files.example.com/hook"},
        },
        catalog,
    )
    return Setup(catalog, [file_sub], generate_key())


def no_secret_in(value: object) -> None:
    text = repr(value)
    for secret in SECRETS:
        assert secret not in text


async def test_created_subscription_is_read_back_with_its_metadata_and_no_secret(setup: Setup) -> None:
    view = await setup.service.create(body("crm"), actor="alice")
    assert (view.source, view.active, view.suspended, view.created_by, view.modified_by) == (
        "api",
        True,
        False,
        "alice",
        "alice",
    )
    assert view.config["auth"]["password"] == MASK
    assert view.config["signing_secrets"] == [MASK]
    assert view.config["endpoint"]["headers"] == {"X-Api-Key": MASK, "X-Tenant": "acme"}
    no_secret_in(view)
    no_secret_in(setup.service.list())
    no_secret_in(setup.raw_topic())
    # The compiled subscription delivers with the secrets as typed.
    compiled = setup.registry.compiled()["crm"]
    assert compiled.target.auth.password.get_secret_value() == SECRETS[0]  # type: ignore[union-attr]


async def test_an_invalid_subscription_is_refused_with_every_issue_and_its_path(setup: Setup) -> None:
    bad = body("bad", entity="Nope", retry={"attempts": 9})
    bad["endpoint"]["url"] = "ftp://x"
    with pytest.raises(SubscriptionError) as caught:
        await setup.service.create(bad, actor="alice")
    paths = {issue.path for issue in caught.value.issues}
    assert {"entity", "retry.attempts", "endpoint.url"} <= paths
    no_secret_in(caught.value)
    assert setup.log.records == []
    assert setup.service.validate(bad) == caught.value.issues
    assert setup.service.validate(body("good")) == []


async def test_a_name_cannot_be_taken_twice_across_sources(setup: Setup) -> None:
    with pytest.raises(NameTaken, match="subscriptions file"):
        await setup.service.create(body("from-file"), actor="alice")
    await setup.service.create(body("crm"), actor="alice")
    with pytest.raises(NameTaken, match="API-managed"):
        await setup.service.create(body("crm"), actor="bob")
    with pytest.raises(ReadOnlySubscription):
        await setup.service.replace("from-file", body("from-file"), actor="alice")
    with pytest.raises(ReadOnlySubscription):
        await setup.service.delete("from-file", actor="alice")


async def test_replace_keeps_a_masked_secret_and_takes_a_new_one(setup: Setup) -> None:
    await setup.service.create(body("crm"), actor="alice")
    shown = dict(setup.service.get("crm").config)
    shown["auth"] = {**shown["auth"], "password": "a-new-password"}
    view = await setup.service.replace("crm", shown, actor="bob")
    assert (view.created_by, view.modified_by) == ("alice", "bob")
    target = setup.registry.compiled()["crm"].target
    assert target.auth.password.get_secret_value() == "a-new-password"  # type: ignore[union-attr]
    assert target.signing_secrets[0].get_secret_value() == SECRETS[1]
    assert target.endpoint.headers["X-Api-Key"].get_secret_value() == SECRETS[2]


async def test_a_mask_where_no_secret_is_stored_is_refused(setup: Setup) -> None:
    with pytest.raises(SubscriptionError) as caught:
        await setup.service.create(body("crm", signing_secrets=[MASK]), actor="alice")
    assert [issue.path for issue in caught.value.issues] == ["signing_secrets[0]"]


async def test_references_are_kept_as_written_and_work_without_a_key(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_TOKEN", "token-from-env")
    setup = Setup(catalog, [], None)
    ref = body("crm", auth={"type": "bearer", "token": "${CRM_TOKEN}"}, signing_secrets=[])
    ref["endpoint"]["headers"] = {}
    ref["endpoint"]["public_headers"] = []
    view = await setup.service.create(ref, actor="alice")
    assert view.config["auth"]["token"] == "${CRM_TOKEN}"
    assert b"token-from-env" not in setup.raw_topic()
    assert setup.registry.compiled()["crm"].auth.token.get_secret_value() == "token-from-env"  # type: ignore[union-attr]
    # A secret typed in needs the key.
    with pytest.raises(SubscriptionError, match="HOOKSTREAM_SECRET_KEY is not set"):
        await setup.service.create(body("typed"), actor="alice")


async def test_suspend_and_resume_either_source_and_filters(setup: Setup, catalog: Catalog) -> None:
    await setup.service.create(body("crm"), actor="alice")
    await setup.service.suspend("crm", actor="op")
    await setup.service.suspend("from-file", actor="op")
    assert [v.name for v in setup.service.list(active=False)] == ["from-file", "crm"]
    suspended = setup.service.get("from-file")
    assert (suspended.suspended, suspended.suspended_by) == (True, "op")
    router = combine(setup.files, setup.registry.compiled(), setup.registry.suspended(), catalog).router
    assert not any(sub.active for sub in router.subscriptions)
    await setup.service.resume("crm", actor="op")
    assert [v.name for v in setup.service.list(active=True)] == ["crm"]
    assert [v.name for v in setup.service.list(source="file")] == ["from-file"]
    assert [v.name for v in setup.service.list(entity="Object", name_contains="CR")] == ["crm"]
    with pytest.raises(SubscriptionNotFound):
        await setup.service.suspend("nobody", actor="op")


async def test_delete_writes_tombstones_for_the_subscription_and_its_state(setup: Setup) -> None:
    await setup.service.create(body("crm"), actor="alice")
    await setup.service.suspend("crm", actor="op")
    await setup.service.delete("crm", actor="alice")
    assert setup.log.records[-2:] == [("subscription:crm", None), ("state:crm", None)]
    with pytest.raises(SubscriptionNotFound):
        setup.service.get("crm")
    assert setup.registry.suspended() == set()


async def test_rotation_rewrites_old_tokens_with_the_newest_key(setup: Setup, catalog: Catalog) -> None:
    await setup.service.create(body("crm"), actor="alice")
    new_key = generate_key()
    setup.box = SecretBox(f"{new_key},{setup.key}")
    service = SubscriptionService(
        setup.log, setup.registry, files=lambda: setup.files, catalog=lambda: catalog, box=setup.box
    )
    assert await service.rotate_secrets(actor="ops") == 1
    assert await service.rotate_secrets(actor="ops") == 0
    # Only the new key is needed from now on.
    setup.box = SecretBox(new_key)
    last_key, last_value = setup.log.records[-1]
    assert last_key == "subscription:crm"
    assert last_value is not None
    stored = orjson.loads(last_value)["subscription"]
    assert unseal(stored, setup.box)["auth"]["password"].get_secret_value() == SECRETS[0]
