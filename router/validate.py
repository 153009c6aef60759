"""``hookstream validate PATH``: check subscription files and print every problem.

The CLI (consumer/) calls :func:`run_validate`. Output is one line per problem,
``FILE:LINE: PATH: MESSAGE``, then a summary; secrets are never printed
because no issue message holds a value.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from router.catalog import load_catalog
from router.errors import SubscriptionError
from router.loader import load_subscriptions
from router.resources import config_path

__all__ = ["default_catalog_path", "run_validate"]


def default_catalog_path() -> Path:
    """The catalog hookstream ships (config/catalog.yaml)."""
    return config_path("catalog.yaml")


def run_validate(
    paths: Sequence[Path],
    catalog_path: Path | None,
    out: TextIO,
    *,
    development: bool = False,
    resolve_secrets: bool = True,
) -> int:
    """Validate each path (a file or a folder) against the catalog; 0 when all are valid, else 1."""
    try:
        catalog = load_catalog(catalog_path or default_catalog_path())
    except SubscriptionError as exc:
        for issue in exc.issues:
            print(issue, file=out)
        print(f"the catalog is invalid: {len(exc.issues)} error(s)", file=out)
        return 1
    errors = 0
    for path in paths:
        try:
            subscriptions = load_subscriptions(
                path, catalog, development=development, resolve_secrets=resolve_secrets
            )
        except SubscriptionError as exc:
            errors += len(exc.issues)
            for issue in exc.issues:
                print(issue, file=out)
        else:
            print(f"{path}: {len(subscriptions)} subscription(s) valid", file=out)
    if errors:
        print(f"{errors} error(s)", file=out)
        return 1
    return 0
