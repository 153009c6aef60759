"""schemas/subscriptions.schema.json: generated from the models, in sync, and true to the loader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from router.schema import SCHEMA_PATH, main, render_schema, subscriptions_schema
from tests.unit.router.conftest import EXAMPLES


def test_the_committed_schema_is_what_the_models_generate() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render_schema(), (
        "schemas/subscriptions.schema.json is stale: run `python -m router.schema`"
    )


def test_main_writes_the_schema(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    assert main([str(target)]) == 0
    assert json.loads(target.read_text(encoding="utf-8")) == subscriptions_schema()


def validator() -> jsonschema.Draft202012Validator:
    schema = subscriptions_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.yaml")), ids=lambda path: path.name)
def test_every_example_satisfies_the_schema(example: Path) -> None:
    document = yaml.safe_load(example.read_text(encoding="utf-8"))
    assert list(validator().iter_errors(document)) == []


def minimal(**extra: Any) -> dict[str, Any]:
    return {
        "subscriptions": [
            {
                "name": "x",
                "entity": "Object",
                "triggers": [{"event_type": "OnNew"}],
                "endpoint": {"url": "https://x.example.com"},
                **extra,
            }
        ]
    }


@pytest.mark.parametrize(
    "document",
    [
        minimal(retrys={"attempts": 1}),
        minimal(retry={"attempts": 6}),
        minimal(retry={"interval": "5 minutes"}),
        minimal(log="sometimes"),
        minimal(auth={"type": "basic", "username": "u"}),
        minimal(endpoint={"type": "soap", "url": "https://x.example.com"}),
    ],
)
def test_the_schema_flags_what_the_loader_rejects(document: dict[str, Any]) -> None:
    assert list(validator().iter_errors(document))
