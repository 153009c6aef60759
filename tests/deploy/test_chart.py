"""The Helm chart: helm lint --strict, and helm template over a matrix of values asserted on the objects
(the way Apache Airflow's chart tests do), every object checked against the Kubernetes schemas."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from consumer.settings import load_settings
from tests.deploy.conftest import require
from tests.support.helm import CHART, HelmError, K8sObject, by_kind, helm, one, render, write_values

# The newest Kubernetes the installed kubernetes-validate has schemas for.
K8S_VERSION = kubernetes_validate.latest_version()
# Kinds of operators (Prometheus operator, KEDA): not in the Kubernetes schemas, checked by hand below.
CUSTOM_KINDS = {"ServiceMonitor", "PrometheusRule", "ScaledObject", "TriggerAuthentication"}

PG_SECRET = {"store": {"existingSecret": "hookstream-store"}}
MATRIX: dict[str, dict[str, Any]] = {
    "defaults": {},
    "split": {"split": True, **PG_SECRET},
    "keda": {"autoscaling": {"enabled": True}, **PG_SECRET},
    "keda-split-sasl-tls": {
        "split": True,
        "autoscaling": {"enabled": True, "maxReplicas": 8},
        "kafka": {
            "inputTopics": ["orders", "customers"],
            "sasl": {"enabled": True, "existingSecret": "kafka-user"},
            "tls": {"enabled": True, "existingSecret": "kafka-tls", "clientCertificate": True},
        },
        **PG_SECRET,
    },
    "hpa": {"autoscaling": {"enabled": True, "type": "hpa"}, **PG_SECRET},
    "monitoring": {
        "serviceMonitor": {"enabled": True, "labels": {"release": "prom"}},
        "prometheusRule": {"enabled": True, "runbookBaseUrl": "https://runbooks.example.com/hookstream"},
        "dashboard": {"enabled": True},
    },
    "network-policy": {
        "networkPolicy": {
            "enabled": True,
            "ingressFrom": [{"namespaceSelector": {"matchLabels": {"name": "monitoring"}}}],
            "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}],
        }
    },
    "existing-configmap": {
        "subscriptions": {
            "existingConfigMap": "team-subscriptions",
            "existingSecret": "subscription-secrets",
        },
        "catalog": "entities: {}\n",
        "store": {"url": "postgresql+asyncpg://hookstream:pw@db/hookstream"},
        "replicaCount": 3,
    },
}


@pytest.fixture(autouse=True)
def _helm() -> None:
    require("helm")


def deployments(objects: list[K8sObject]) -> dict[str, K8sObject]:
    return {env(d)["HOOKSTREAM_ROLE"]["value"]: d for d in by_kind(objects, "Deployment")}


def container(deployment: K8sObject) -> dict[str, Any]:
    (c,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(c)


def env(deployment: K8sObject) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container(deployment)["env"]}


def settings_file(objects: list[K8sObject]) -> dict[str, Any]:
    config = one(objects, "ConfigMap", "hookstream-config")
    loaded = yaml.safe_load(config["data"]["settings.yaml"])
    assert isinstance(loaded, dict)
    return loaded


@pytest.mark.parametrize("values_file", sorted((CHART / "ci").glob("*.yaml")), ids=lambda p: p.stem)
def test_helm_lint_strict(values_file: Path) -> None:
    done = helm("lint", "--strict", str(CHART), "-f", str(values_file))
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("case", sorted(MATRIX))
def test_every_object_is_valid_kubernetes(case: str, tmp_path: Path) -> None:
    objects = render(MATRIX[case])
    done = helm(
        "lint", "--strict", str(CHART), "-f", str(write_values(tmp_path / "v.yaml", with_kafka(case)))
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for obj in objects:
        if obj["kind"] in CUSTOM_KINDS:
            assert obj["metadata"]["name"].startswith("hookstream")
            assert obj["spec"]
            continue
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def with_kafka(case: str) -> dict[str, Any]:
    values = yaml.safe_load(yaml.safe_dump(MATRIX[case]))
    assert isinstance(values, dict)
    values.setdefault("kafka", {})["bootstrapServers"] = "kafka:9092"
    return values


def test_defaults_run_every_role_in_one_hardened_deployment() -> None:
    objects = render()
    (deployment,) = by_kind(objects, "Deployment")
    assert env(deployment)["HOOKSTREAM_ROLE"]["value"] == "all"
    assert deployment["spec"]["replicas"] == 1
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    c = container(deployment)
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert c["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert c["resources"]["requests"]
    assert c["resources"]["limits"]["memory"]
    mounts = {m["mountPath"] for m in c["volumeMounts"]}
    assert {"/tmp", "/var/lib/hookstream", "/etc/hookstream/subscriptions"} <= mounts
    # The grace period hookstream uses fits in the pod's.
    assert pod["terminationGracePeriodSeconds"] > settings_file(objects)["grace_period"]
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert {"checksum/config", "checksum/subscriptions", "checksum/secrets"} <= set(annotations)
    assert {s["topologyKey"] for s in pod["topologySpreadConstraints"]} == {
        "topology.kubernetes.io/zone",
        "kubernetes.io/hostname",
    }
    one(objects, "PodDisruptionBudget")
    one(objects, "Service")
    for kind in (
        "NetworkPolicy",
        "ScaledObject",
        "HorizontalPodAutoscaler",
        "ServiceMonitor",
        "PrometheusRule",
    ):
        assert not by_kind(objects, kind), kind
    # SQLite in the pod's emptyDir: no store Secret, no URL in the environment.
    assert "HOOKSTREAM_STORE_URL" not in env(deployment)


def test_the_settings_file_is_one_hookstream_accepts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    values = {
        "settings": {"retry_ladder": ["1m", "10m"], "max_in_flight": 500},
        "kafka": {
            "clientConfig": {"client.rack": "zone-a"},
            "sasl": {"enabled": True, "existingSecret": "u"},
        },
        "store": {"retentionDays": 30},
    }
    settings = write_values(tmp_path / "settings.yaml", settings_file(render(values)))
    monkeypatch.setenv("HOOKSTREAM_CONFIG", str(settings))
    for name in list(os.environ):
        if (
            name.startswith("HOOKSTREAM_") and name != "HOOKSTREAM_CONFIG"
        ) or name == "KAFKA_BOOTSTRAP_SERVERS":
            monkeypatch.delenv(name)
    loaded = load_settings()
    assert loaded.kafka.bootstrap_servers == "kafka:9092"
    assert loaded.kafka.replication_factor == 3
    assert loaded.max_in_flight == 500
    assert loaded.store_retention_days == 30
    client = {k: v.get_secret_value() for k, v in loaded.kafka.client_config.items()}
    assert client == {
        "client.rack": "zone-a",
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "SCRAM-SHA-512",
    }


def test_split_runs_one_deployment_per_role_each_with_its_replicas() -> None:
    objects = render({"split": True, "roles": {"main": {"replicas": 3}}, **PG_SECRET})
    roles = deployments(objects)
    assert set(roles) == {"main", "retry", "dlq", "admin"}
    assert roles["main"]["spec"]["replicas"] == 3
    assert roles["main"]["metadata"]["name"] == "hookstream-main"
    assert len(by_kind(objects, "PodDisruptionBudget")) == 4
    for role, deployment in roles.items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert labels["app.kubernetes.io/component"] == role
        assert env(deployment)["HOOKSTREAM_STORE_URL"]["valueFrom"]["secretKeyRef"] == {
            "name": "hookstream-store",
            "key": "url",
        }


@pytest.mark.parametrize(
    "values",
    [
        {"replicaCount": 2},
        {"split": True},
        {"autoscaling": {"enabled": True}},
        {"replicaCount": 2, "store": {"url": "sqlite+aiosqlite:////var/lib/hookstream/x.db"}},
    ],
    ids=["two-replicas", "split", "autoscaled", "explicit-sqlite"],
)
def test_sqlite_is_refused_when_more_than_one_pod_would_write(values: dict[str, Any]) -> None:
    with pytest.raises(HelmError, match="SQLite"):
        render(values)


def test_a_store_url_in_values_goes_into_a_secret_not_the_pod_spec() -> None:
    url = "postgresql+asyncpg://hookstream:s3cret@db/hookstream"
    objects = render({"store": {"url": url}, "replicaCount": 2})
    secret = one(objects, "Secret", "hookstream-store")
    assert secret["stringData"]["url"] == url
    (deployment,) = by_kind(objects, "Deployment")
    assert "s3cret" not in yaml.safe_dump(deployment)
    assert env(deployment)["HOOKSTREAM_STORE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "hookstream-store"


def test_a_changed_secret_or_subscription_rolls_the_pods() -> None:
    def annotations(values: dict[str, Any]) -> dict[str, str]:
        (deployment,) = by_kind(render(values), "Deployment")
        return dict(deployment["spec"]["template"]["metadata"]["annotations"])

    base = annotations({"store": {"url": "postgresql+asyncpg://a@db/h"}})
    assert (
        annotations({"store": {"url": "postgresql+asyncpg://b@db/h"}})["checksum/secrets"]
        != (base["checksum/secrets"])
    )
    changed = annotations(
        {"store": {"url": "postgresql+asyncpg://a@db/h"}, "subscriptions": {"files": {"a.yaml": "x"}}}
    )
    assert changed["checksum/subscriptions"] != base["checksum/subscriptions"]
    assert changed["checksum/config"] == base["checksum/config"]
    assert (
        annotations({"store": {"url": "postgresql+asyncpg://a@db/h"}, "logLevel": "DEBUG"})["checksum/config"]
        != (base["checksum/config"])
    )


def test_keda_scales_the_input_deployment_on_its_groups_lag() -> None:
    objects = render(MATRIX["keda-split-sasl-tls"])
    scaled = one(objects, "ScaledObject")
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    assert scaled["spec"]["scaleTargetRef"]["name"] == "hookstream-main"
    assert scaled["spec"]["maxReplicaCount"] == 8
    triggers = scaled["spec"]["triggers"]
    assert [t["metadata"]["topic"] for t in triggers] == ["orders", "customers"]
    for trigger in triggers:
        assert trigger["type"] == "kafka"
        assert trigger["metadata"]["consumerGroup"] == "hookstream"
        assert trigger["metadata"]["sasl"] == "scram_sha512"
        assert trigger["metadata"]["tls"] == "enable"
        assert trigger["authenticationRef"]["name"] == "hookstream-kafka"
    auth = one(objects, "TriggerAuthentication")
    assert {p["parameter"] for p in auth["spec"]["secretTargetRef"]} == {
        "username",
        "password",
        "ca",
        "cert",
        "key",
    }
    # KEDA owns the replicas of the input Deployment; the others keep theirs.
    roles = deployments(objects)
    assert "replicas" not in roles["main"]["spec"]
    assert roles["retry"]["spec"]["replicas"] == 1
    assert not by_kind(objects, "HorizontalPodAutoscaler")


def test_kafka_sasl_and_tls_come_from_secrets() -> None:
    objects = render(MATRIX["keda-split-sasl-tls"])
    main = deployments(objects)["main"]
    variables = env(main)
    assert variables["HOOKSTREAM_KAFKA__CLIENT_CONFIG__sasl.password"]["valueFrom"]["secretKeyRef"] == {
        "name": "kafka-user",
        "key": "password",
    }
    client = settings_file(objects)["kafka"]["client_config"]
    assert client["security.protocol"] == "SASL_SSL"
    assert client["ssl.ca.location"] == "/etc/hookstream/kafka-tls/ca.crt"
    assert client["ssl.key.location"] == "/etc/hookstream/kafka-tls/tls.key"
    volumes = {v["name"]: v for v in main["spec"]["template"]["spec"]["volumes"]}
    assert volumes["kafka-tls"]["secret"]["secretName"] == "kafka-tls"


def test_hpa_scales_on_cpu_when_keda_is_not_there() -> None:
    objects = render(MATRIX["hpa"])
    hpa = one(objects, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "hookstream"
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    assert not by_kind(objects, "ScaledObject")


def test_monitoring_objects() -> None:
    objects = render(MATRIX["monitoring"])
    monitor = one(objects, "ServiceMonitor")
    assert monitor["metadata"]["labels"]["release"] == "prom"
    assert monitor["spec"]["endpoints"][0]["port"] == "http"
    service = one(objects, "Service")
    assert service["spec"]["ports"][0]["name"] == "http"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    rules = one(objects, "PrometheusRule")["spec"]["groups"][0]["rules"]
    for rule in rules:
        assert rule["labels"]["severity"] in {"page", "ticket"}
        assert len(rule["annotations"]["runbook"].splitlines()) >= 2, rule["alert"]
        assert rule["annotations"]["runbook_url"].endswith("#" + rule["alert"])
    dashboard = one(objects, "ConfigMap", "hookstream-dashboard")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert yaml.safe_load(dashboard["data"]["hookstream.json"])["panels"]


def test_network_policy_admits_only_the_listed_peers_to_the_admin_port() -> None:
    policy = one(render(MATRIX["network-policy"]), "NetworkPolicy")
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    (rule,) = policy["spec"]["ingress"]
    assert rule["ports"] == [{"port": "http", "protocol": "TCP"}]
    assert rule["from"] == MATRIX["network-policy"]["networkPolicy"]["ingressFrom"]
    closed = one(render({"networkPolicy": {"enabled": True}}), "NetworkPolicy")
    assert closed["spec"]["ingress"] == []
    assert closed["spec"]["policyTypes"] == ["Ingress"]


def test_an_existing_configmap_and_secret_replace_the_charts_own() -> None:
    objects = render(MATRIX["existing-configmap"])
    assert not [
        c for c in by_kind(objects, "ConfigMap") if c["metadata"]["name"] == "hookstream-subscriptions"
    ]
    (deployment,) = by_kind(objects, "Deployment")
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert volumes["subscriptions"]["configMap"]["name"] == "team-subscriptions"
    assert container(deployment)["envFrom"] == [{"secretRef": {"name": "subscription-secrets"}}]
    assert env(deployment)["HOOKSTREAM_CATALOG"]["value"] == "/etc/hookstream/config/catalog.yaml"
    assert "catalog.yaml" in one(objects, "ConfigMap", "hookstream-config")["data"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"replicaCont": 2}, "replicaCont"),
        ({"kafka": {"bootstrapServers": ""}}, "bootstrapServers"),
        ({"autoscaling": {"type": "vpa"}}, "type"),
        ({"kafka": {"sasl": {"enabled": True}}}, "existingSecret"),
    ],
)
def test_wrong_values_fail_at_install(values: dict[str, Any], message: str) -> None:
    with pytest.raises(HelmError, match=message):
        render(values)


def test_the_chart_readme_lists_every_value() -> None:
    readme = (CHART / "README.md").read_text()
    values = yaml.safe_load((CHART / "values.yaml").read_text())

    def leaves(node: dict[str, Any], prefix: str = "") -> list[str]:
        found: list[str] = []
        for key, value in node.items():
            path = f"{prefix}{key}"
            if (
                isinstance(value, dict)
                and value
                and key
                not in {
                    "files",
                    "resources",
                    "podSecurityContext",
                    "securityContext",
                    "livenessProbe",
                    "readinessProbe",
                    "startupProbe",
                    "labels",
                }
            ):
                found += leaves(value, path + ".")
            else:
                found.append(path)
        return found

    missing = [path for path in leaves(values) if f"`{path}`" not in readme]
    assert not missing, f"values missing from the chart README: {missing}"
