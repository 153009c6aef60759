"""The chart's Deployment as the kubelet would run it: its command, args, environment, mounted
ConfigMaps, emptyDirs, user and read-only root, taken from helm template and run from the image
with podman against the local Kafka."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from consumer.wire.codec import encode_avro
from tests.deploy.conftest import require
from tests.integration.test_pipeline import events, subscription
from tests.support.helm import K8sObject, by_kind, one, render
from tests.support.image import podman_command, remove_container
from tests.support.kafka import create_topics, produce, unique_prefix
from tests.support.receiver import Receiver
from tests.support.service import ServiceProcess

pytestmark = pytest.mark.kafka


def resolve_env(variables: list[dict[str, Any]], objects: list[K8sObject]) -> dict[str, str]:
    """The container's environment, with secretKeyRef and configMapKeyRef read from the rendered objects."""
    resolved: dict[str, str] = {}
    for variable in variables:
        if "value" in variable:
            resolved[variable["name"]] = str(variable["value"])
            continue
        source = variable["valueFrom"]
        if "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            secret = one(objects, "Secret", ref["name"])
            resolved[variable["name"]] = secret["stringData"][ref["key"]]
        else:
            ref = source["configMapKeyRef"]
            resolved[variable["name"]] = one(objects, "ConfigMap", ref["name"])["data"][ref["key"]]
    return resolved


def materialize(
    deployment: K8sObject, objects: list[K8sObject], into: Path
) -> tuple[dict[Path, str], tuple[str, ...]]:
    """Each ConfigMap volume written as the folder the kubelet would mount; the emptyDir mount paths."""
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts: dict[Path, str] = {}
    empty: list[str] = []
    for mount in container["volumeMounts"]:
        volume = volumes[mount["name"]]
        if "emptyDir" in volume:
            empty.append(mount["mountPath"])
            continue
        assert "configMap" in volume, f"the smoke test does not mount {volume}"
        folder = into / mount["name"]
        folder.mkdir(mode=0o755)
        folder.chmod(0o755)
        for key, text in one(objects, "ConfigMap", volume["configMap"]["name"])["data"].items():
            (folder / key).write_text(text)
            (folder / key).chmod(0o644)
        mounts[folder] = mount["mountPath"]
    return mounts, tuple(empty)


def test_the_rendered_deployment_runs_and_delivers(
    image: str, receiver: Receiver, kafka_bootstrap: str, tmp_path: Path
) -> None:
    require("helm")
    prefix = unique_prefix("chart")
    # A stand-in for the pod: ServiceProcess starts, probes and stops it; its command comes from the chart.
    service = ServiceProcess(kafka_bootstrap, prefix, tmp_path / "unused.yaml", tmp_path)
    subs = {"subscriptions": [subscription("objects", receiver.url("/objects"))]}
    values = {
        "kafka": {
            "bootstrapServers": kafka_bootstrap,
            "inputTopics": [service.input_topic],
            "groupId": prefix,
            "topicPrefix": prefix,
            "partitions": 2,
            "replicationFactor": 1,
        },
        "subscriptions": {"files": {"objects.yaml": yaml.safe_dump(subs)}},
        "adminPort": service.admin_port,
        # The receiver listens on loopback over http, which production refuses.
        "settings": {"development": True, "sender": {"ssrf_allow": ["127.0.0.0/8"]}},
    }
    objects = render(values)
    (deployment,) = by_kind(objects, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    (port,) = container["ports"]
    assert port["containerPort"] == service.admin_port
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port["name"]}

    mounts, empty_dirs = materialize(deployment, objects, tmp_path)
    name = f"hookstream-chart-{uuid.uuid4().hex[:8]}"
    user = f"{pod['securityContext']['runAsUser']}:{pod['securityContext']['runAsGroup']}"
    service.command = podman_command(
        image,
        name,
        env=resolve_env(container["env"], objects),
        mounts=mounts,
        entrypoint=container["command"],
        args=container["args"],
        user=user,
        tmpfs=empty_dirs,
    )
    create_topics(kafka_bootstrap, service.input_topic, partitions=2)
    try:
        service.start(wait_ready=False)
        service.wait_ready(timeout=120)
        status, body = service.get("/readyz")
        assert status == 200, body
        sample = [e for e in events(8) if (e["entity"], e["event_type"]) == ("Object", "OnNew")]
        produce(kafka_bootstrap, service.input_topic, [encode_avro(e) for e in sample])
        assert receiver.wait_for(lambda: len(receiver.requests("/objects")) >= len(sample), timeout=60), (
            service.log()
        )
        assert sorted(receiver.event_ids("/objects")) == sorted(e["event_id"] for e in sample)
        # The settings file the chart wrote is the one in force: the consumer group is the chart's.
        # (The lag gauges are refreshed every 5 s.)
        line = f'hookstream_consumer_lag{{group="{prefix}"'.encode()
        assert receiver.wait_for(lambda: line in service.get("/metrics")[1], timeout=20)
    finally:
        service.stop()
        remove_container(name)
