"""Files and API-managed subscriptions in one Router: names, suspension, a changed catalog."""

from __future__ import annotations

from pathlib import Path

from router import Catalog, Subscription
from router.loader import check_subscription
from router.reload import SubscriptionSource
from router.sources import combine
from tests.unit.router.conftest import CATALOG_PATH
from tests.unit.router.test_reload import ConfigMapMount, subs_yaml


def sub(catalog: Catalog, name: str, *, active: bool = True) -> Subscription:
    raw = {
        "name": name,
        "active": active,
        "entity": "Object",
        "triggers": [{"event_type": "OnNew"}],
        "endpoint": {"url": "https://receiver.example.com/hook"},
    }
    return check_subscription(raw, catalog)


def test_files_own_their_names_and_suspension_only_ever_deactivates(catalog: Catalog) -> None:
    files = [sub(catalog, "f-on"), sub(catalog, "f-off", active=False)]
    api = {"a-on": sub(catalog, "a-on"), "f-on": sub(catalog, "f-on")}
    combined = combine(files, api, {"f-off", "a-on"}, catalog)
    assert [(s.name, s.active) for s in combined.router.subscriptions] == [
        ("f-on", True),
        ("f-off", False),
        ("a-on", False),
    ]
    assert list(combined.left_out) == ["f-on"]
    # The file's own object is kept (the sender's state per target stays with it).
    assert combined.router.get("f-on") is files[0]


def test_a_file_version_taking_an_api_name_is_refused_with_its_line(tmp_path: Path) -> None:
    mount = ConfigMapMount(tmp_path / "subscriptions")
    mount.publish({"a.yaml": subs_yaml("one")})
    reserved = {"taken": "topic t.subscriptions (an API-managed subscription)"}
    source = SubscriptionSource(mount.root, CATALOG_PATH, reserved=lambda: reserved)
    good = source.load()
    mount.publish({"a.yaml": subs_yaml("one", "taken")})
    assert source.poll() is None
    assert source.router is good
    assert source.last_error is not None
    (issue,) = source.last_error.issues
    assert issue.path == "subscriptions[1].name"
    assert issue.line == 8
    assert "already used at topic t.subscriptions (an API-managed subscription)" in issue.message
