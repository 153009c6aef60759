"""The wheel is the release: installed into a fresh venv outside the checkout, it delivers on its own."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from consumer.wire.codec import encode_avro
from tests.integration.test_pipeline import events, subscription
from tests.support.artifacts import build_wheel, install_wheel
from tests.support.kafka import ROOT, create_topics, produce, unique_prefix
from tests.support.receiver import Receiver
from tests.support.service import ServiceProcess, write_subscriptions


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin folder of a venv outside the checkout holding only the built wheel and its dependencies."""
    work = tmp_path_factory.mktemp("wheel")
    return install_wheel(build_wheel(work), work / "venv")


def test_the_wheel_carries_schemas_and_config_and_no_data_package(installed: Path, tmp_path: Path) -> None:
    probe = (
        "import importlib.util, json, router\n"
        "from router.resources import config_path, schema_path\n"
        "print(json.dumps({'router': router.__file__, 'catalog': str(config_path('catalog.yaml')),"
        " 'avsc': str(schema_path('domain_event.avsc')),"
        " 'config': importlib.util.find_spec('config') is None,"
        " 'schemas': importlib.util.find_spec('schemas') is None}))"
    )
    found = json.loads(
        subprocess.run(
            [str(installed / "python"), "-c", probe], cwd=tmp_path, check=True, capture_output=True, text=True
        ).stdout
    )
    site = installed.parent / "lib"
    for key in ("router", "catalog", "avsc"):
        assert Path(found[key]).is_relative_to(site), (key, found[key])
        assert not Path(found[key]).is_relative_to(ROOT)
    # schemas/ and config/ are data, never import packages, in an install too.
    assert found["config"]
    assert found["schemas"]
    # The shipped examples validate against the shipped catalog, with no file of the checkout.
    checked = subprocess.run(
        [
            str(installed / "hookstream"),
            "validate",
            "--without-secrets",
            found["catalog"].replace("catalog.yaml", "subscriptions"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.kafka
def test_the_installed_wheel_delivers_an_avro_event(
    installed: Path, receiver: Receiver, kafka_bootstrap: str, tmp_path: Path
) -> None:
    prefix = unique_prefix("wheel")
    subs = write_subscriptions(tmp_path / "subs.yaml", [subscription("objects", receiver.url("/objects"))])
    service = ServiceProcess(
        kafka_bootstrap, prefix, subs, tmp_path, command=[str(installed / "hookstream"), "run"], cwd=tmp_path
    )
    create_topics(kafka_bootstrap, service.input_topic, partitions=2)
    try:
        service.start()
        sample = [e for e in events(8) if (e["entity"], e["event_type"]) == ("Object", "OnNew")]
        produce(kafka_bootstrap, service.input_topic, [encode_avro(e) for e in sample])
        assert receiver.wait_for(lambda: len(receiver.requests("/objects")) >= len(sample), timeout=60), (
            service.log()
        )
        assert sorted(receiver.event_ids("/objects")) == sorted(e["event_id"] for e in sample)
        # The web console's templates and static files come with the wheel.
        status, page = service.get("/sign-in")
        assert status == 200
        assert b"Sign in to hookstream" in page
        status, css = service.get("/static/console.css")
        assert status == 200
        assert b"data-theme" in css
    finally:
        service.stop()
