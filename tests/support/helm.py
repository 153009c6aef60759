"""The Helm chart rendered by the real helm, as pytest sees it: a list of Kubernetes objects."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from tests.support.kafka import ROOT

__all__ = ["CHART", "HelmError", "K8sObject", "by_kind", "helm", "one", "render", "write_values"]

CHART = ROOT / "deploy" / "helm" / "hookstream"

K8sObject = dict[str, Any]


class HelmError(Exception):
    """helm refused the values: the message is its stderr."""


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("helm")
    assert binary is not None, "helm is not on PATH"
    return subprocess.run([binary, *args], capture_output=True, text=True, check=False)


def render(
    values: dict[str, Any] | None = None, *, release: str = "hookstream", namespace: str = "hooks"
) -> list[K8sObject]:
    """``helm template`` of the chart with ``values`` (bootstrap servers filled in unless given)."""
    merged: dict[str, Any] = {"kafka": {"bootstrapServers": "kafka:9092"}}
    _merge(merged, values or {})
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as file:
        yaml.safe_dump(merged, file)
        file.flush()
        done = helm("template", release, str(CHART), "--namespace", namespace, "-f", file.name)
    if done.returncode != 0:
        raise HelmError(done.stderr)
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def by_kind(objects: list[K8sObject], kind: str) -> list[K8sObject]:
    return [o for o in objects if o["kind"] == kind]


def one(objects: list[K8sObject], kind: str, name: str | None = None) -> K8sObject:
    found = [o for o in by_kind(objects, kind) if name is None or o["metadata"]["name"] == name]
    assert len(found) == 1, f"{len(found)} {kind} named {name}: {[o['metadata']['name'] for o in found]}"
    return found[0]


def _merge(into: dict[str, Any], values: dict[str, Any]) -> None:
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def write_values(path: Path, values: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(values))
    return path
