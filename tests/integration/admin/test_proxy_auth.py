"""An authenticating proxy (oauth2-proxy) in front of the admin port: its headers, and when they count."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_pipeline import subscription
from tests.support.kafka import unique_prefix
from tests.support.service import ServiceProcess, write_subscriptions

pytestmark = pytest.mark.kafka


def _me(service: ServiceProcess, headers: dict[str, str]) -> tuple[int, Any]:
    url = f"http://127.0.0.1:{service.admin_port}/api/v1/me"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _admin_process(kafka_bootstrap: str, tmp_path: Path, **env: str) -> ServiceProcess:
    subs = write_subscriptions(tmp_path / "subs.yaml", [subscription("crm", "https://crm.example.com/in")])
    return ServiceProcess(kafka_bootstrap, unique_prefix(), subs, tmp_path, role="admin", env=env)


@pytest.fixture
def behind_proxy(kafka_bootstrap: str, tmp_path: Path) -> Iterator[ServiceProcess]:
    groups = json.dumps({"sre": "operator", "staff": "viewer"})
    service = _admin_process(kafka_bootstrap, tmp_path, HOOKSTREAM_ADMIN__PROXY__GROUPS=groups).start()
    yield service
    service.stop()


def test_the_proxy_s_user_gets_the_highest_role_of_their_mapped_groups(behind_proxy: ServiceProcess) -> None:
    status, me = _me(behind_proxy, {"X-Forwarded-User": "dana", "X-Forwarded-Groups": "staff, sre"})
    assert status == 200, me
    assert (me["name"], me["role"]) == ("dana", "operator")
    status, me = _me(behind_proxy, {"X-Forwarded-User": "eli", "X-Forwarded-Groups": "staff"})
    assert (status, me["role"]) == (200, "viewer")


def test_a_proxy_user_in_no_mapped_group_is_refused(behind_proxy: ServiceProcess) -> None:
    status, problem = _me(behind_proxy, {"X-Forwarded-User": "guest", "X-Forwarded-Groups": "visitors"})
    assert status == 403
    assert "no group" in problem["detail"]


def test_the_proxy_s_headers_count_for_nothing_unless_groups_are_mapped(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    service = _admin_process(kafka_bootstrap, tmp_path).start()
    try:
        status, _ = _me(service, {"X-Forwarded-User": "mallory", "X-Forwarded-Groups": "sre"})
        assert status == 401
    finally:
        service.stop()


def test_the_proxy_s_headers_count_only_from_a_trusted_peer(kafka_bootstrap: str, tmp_path: Path) -> None:
    service = _admin_process(
        kafka_bootstrap,
        tmp_path,
        HOOKSTREAM_ADMIN__PROXY__GROUPS=json.dumps({"sre": "admin"}),
        # This test connects from loopback, which is then not the proxy's address.
        HOOKSTREAM_ADMIN__PROXY__TRUSTED_NETWORKS=json.dumps(["10.9.9.0/24"]),
    ).start()
    try:
        status, _ = _me(service, {"X-Forwarded-User": "mallory", "X-Forwarded-Groups": "sre"})
        assert status == 401
    finally:
        service.stop()
