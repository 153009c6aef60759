"""JSON Schema of the subscriptions file, generated from the models.

``python -m router.schema`` rewrites schemas/subscriptions.schema.json; a test
keeps the file in sync with the models. Catalog rules (entities, triggers,
component values) depend on the deployment's catalog, so the schema leaves
them to ``hookstream validate``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from router.model import SubscriptionsFile
from router.resources import schema_path

__all__ = ["SCHEMA_PATH", "main", "render_schema", "subscriptions_schema"]

SCHEMA_PATH = schema_path("subscriptions.schema.json")


def subscriptions_schema() -> dict[str, Any]:
    schema = SubscriptionsFile.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://hookstream.dev/schemas/subscriptions.schema.json",
        **schema,
    }


def render_schema() -> str:
    return json.dumps(subscriptions_schema(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else SCHEMA_PATH
    target.write_text(render_schema(), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
