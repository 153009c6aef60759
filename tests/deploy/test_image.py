"""The image from the repository's Dockerfile, built with buildah, run with podman against the local Kafka."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

from consumer.wire.codec import encode_avro
from tests.integration.test_pipeline import events, subscription
from tests.support.image import PODMAN_RUN, podman_command, remove_container
from tests.support.kafka import create_topics, produce, unique_prefix
from tests.support.receiver import Receiver
from tests.support.service import ServiceProcess, write_subscriptions


def run_in(image: str, script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PODMAN_RUN, "--rm", "--read-only", "--entrypoint", "sh", image, "-c", script],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_image_runs_as_a_numeric_non_root_user_with_no_compiler(image: str) -> None:
    inspected = subprocess.run(
        ["podman", "image", "inspect", "--format", "{{.Config.User}}", image],
        capture_output=True,
        text=True,
        check=True,
    )
    assert inspected.stdout.strip() == "10001:10001"
    found = run_in(image, "id -u; for c in gcc cc c++ clang make; do command -v $c; done; true")
    assert found.returncode == 0, found.stderr
    assert found.stdout.split() == ["10001"], "a compiler or build tool is in the final image"


def test_the_image_works_on_a_read_only_root_filesystem(image: str) -> None:
    checked = run_in(
        image,
        "hookstream validate --without-secrets \"$(python3 -c 'from router.resources "
        'import config_path; print(config_path("subscriptions"))\')" && touch /opt/hookstream/x',
    )
    assert "subscription(s) valid" in checked.stdout, checked.stdout + checked.stderr
    assert "Read-only file system" in checked.stderr


@pytest.mark.kafka
def test_the_image_delivers_from_the_local_kafka(
    image: str, receiver: Receiver, kafka_bootstrap: str, tmp_path: Path
) -> None:
    prefix = unique_prefix("image")
    mounted = tmp_path / "subscriptions"
    mounted.mkdir(mode=0o755)
    mounted.chmod(0o755)
    subs = write_subscriptions(mounted / "subs.yaml", [subscription("objects", receiver.url("/objects"))])
    subs.chmod(0o644)
    service = ServiceProcess(kafka_bootstrap, prefix, subs, tmp_path)
    name = f"hookstream-test-{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in service.env.items() if k.startswith("HOOKSTREAM_")}
    env["HOOKSTREAM_SUBSCRIPTIONS"] = "/etc/hookstream/subscriptions"
    env["HOOKSTREAM_STORE_URL"] = "sqlite+aiosqlite:////var/lib/hookstream/hookstream.db"
    service.command = podman_command(
        image, name, env=env, mounts={mounted: "/etc/hookstream/subscriptions"}, args=["run"]
    )
    create_topics(kafka_bootstrap, service.input_topic, partitions=2)
    try:
        service.start(wait_ready=False)
        service.wait_ready(timeout=120)
        sample = [e for e in events(8) if (e["entity"], e["event_type"]) == ("Object", "OnNew")]
        produce(kafka_bootstrap, service.input_topic, [encode_avro(e) for e in sample])
        assert receiver.wait_for(lambda: len(receiver.requests("/objects")) >= len(sample), timeout=60), (
            service.log()
        )
        assert sorted(receiver.event_ids("/objects")) == sorted(e["event_id"] for e in sample)
        service.stop()
        assert service.wait(30) == 0, service.log()
    finally:
        service.stop()
        remove_container(name)
