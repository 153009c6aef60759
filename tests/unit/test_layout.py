"""The distribution and the rooms: what is installed, and who may import whom."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROOMS = {"admin", "consumer", "router", "sender", "store"}


def test_the_distribution_owns_exactly_the_rooms() -> None:
    top_level = distribution("hookstream").read_text("top_level.txt")
    assert top_level is not None
    assert set(top_level.split()) == ROOMS


def test_data_folders_hold_no_python() -> None:
    # `import config` or `import schemas` must never resolve to our data folders.
    for folder in ("config", "schemas"):
        assert not list((ROOT / folder).rglob("*.py")), f"{folder}/ must hold data only"


def test_the_import_boundaries_between_rooms_hold() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_data_folders_ship_through_links_in_router() -> None:
    # The wheel carries them as router's package data; the folders themselves stay top-level.
    for folder in ("config", "schemas"):
        link = ROOT / "router" / folder
        assert link.is_symlink()
        assert link.resolve() == ROOT / folder
