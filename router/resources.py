"""The data files hookstream ships: ``schemas/`` and ``config/``, read through importlib.resources.

In the source tree they are top-level folders holding no Python, so ``import config``
can never resolve to them. ``router/schemas`` and ``router/config`` link to them, and
pyproject.toml ships them as package data of ``router`` (the lowest room that reads
them), so a checkout, an editable install and a wheel all find them the same way.
"""

from __future__ import annotations

from functools import reduce
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

__all__ = ["config_path", "schema_path"]


def _on_disk(package: str, parts: tuple[str, ...]) -> Path:
    resource: Traversable = reduce(lambda node, part: node / part, parts, files(package))
    # Settings and the subscription reloader need real paths (a folder is watched for edits);
    # pip installs a wheel as files, never zipped, so an installed package's data are on disk.
    if not isinstance(resource, Path):
        raise RuntimeError(f"{package}/{'/'.join(parts)} is not a file on disk: install hookstream unzipped")
    # Resolved, so that a checkout names the top-level file (config/catalog.yaml), not the link.
    return resource.resolve()


def schema_path(name: str) -> Path:
    """A file of ``schemas/``: ``domain_event.avsc``, ``delivery.avsc``, ``subscriptions.schema.json``."""
    return _on_disk("router.schemas", (name,))


def config_path(*parts: str) -> Path:
    """A file or folder of ``config/``: ``catalog.yaml``, ``subscriptions``."""
    return _on_disk("router.config", parts)
