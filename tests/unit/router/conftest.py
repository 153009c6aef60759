from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from router import Catalog, load_catalog

REPO = Path(__file__).resolve().parents[3]
CATALOG_PATH = REPO / "config" / "catalog.yaml"
EXAMPLES = REPO / "config" / "subscriptions"
EXAMPLE_SECRETS = (
    "CRM_TOKEN",
    "CRM_SIGNING_SECRET",
    "CRM_CLIENT_SECRET",
    "ERP_PASSWORD",
    "ANALYTICS_API_KEY",
    "TAGS_CLIENT_SECRET",
    "TAGS_PASSWORD",
    "TICKETS_PASSWORD",
)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(CATALOG_PATH)


@pytest.fixture
def example_secrets(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {name: f"whsec_dGVzdC1{name.lower()}" for name in EXAMPLE_SECRETS}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


WriteYaml = Callable[..., Path]


@pytest.fixture
def write_yaml(tmp_path: Path) -> WriteYaml:
    """Write dedented YAML to tmp_path/<name> and return its path."""

    def write(text: str, name: str = "subs.yaml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write
