from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from tests.support.artifacts import CACHE
from tests.support.image import build_image, missing_tools
from tests.support.receiver import Receiver

# helm and promtool are built from the Go module proxy into the cache by .ci/run (see CONTRIBUTING).
os.environ["PATH"] = f"{CACHE / 'bin'}{os.pathsep}{os.environ['PATH']}"


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed (.ci/run builds it into {CACHE / 'bin'})")
    return path


@pytest.fixture(scope="session")
def image() -> str:
    """The image built from the repository's Dockerfile, once per session."""
    missing = missing_tools()
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (.ci/run installs them with apt)")
    return build_image()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r
