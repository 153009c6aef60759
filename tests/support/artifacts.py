"""What a release is made of, built from the checkout as it is: the wheel, and a venv with it installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

from tests.support.kafka import ROOT

__all__ = ["CACHE", "build_wheel", "install_wheel", "source_copy"]

#: Slow things kept between runs: the Kafka jars, helm and promtool, the base image.
CACHE = Path(os.environ.get("HOOKSTREAM_CACHE", Path.home() / ".cache" / "hookstream"))

# What a build never needs; .dockerignore keeps the image's build context to the same.
_NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis", "*.db"
)


def source_copy(dest: Path) -> Path:
    """The checkout's files (uncommitted edits too) without its venv, caches and build output."""
    shutil.copytree(ROOT, dest, ignore=_NOT_SOURCE, symlinks=True)
    return dest


def build_wheel(workdir: Path) -> Path:
    """Build the wheel from a copy of the checkout, so no build output lands in the checkout."""
    source = source_copy(workdir / "src")
    out = workdir / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("hookstream-*.whl")
    return wheel


def install_wheel(wheel: Path, target: Path) -> Path:
    """A fresh venv at ``target`` with the wheel and its dependencies; returns its bin folder."""
    venv.create(target, with_pip=True, clear=True)
    bin_dir = target / "bin"
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
        check=True,
        capture_output=True,
    )
    return bin_dir
