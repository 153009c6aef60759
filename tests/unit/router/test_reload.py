"""Hot reload, including the symlink swap kubelet makes when a ConfigMap changes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from router import SubscriptionError
from router.reload import SubscriptionSource
from tests.unit.router.conftest import CATALOG_PATH


def subs_yaml(*names: str, url: str = "https://receiver.example.com/hook") -> str:
    items = "".join(
        f"  - name: {name}\n"
        "    entity: Object\n"
        "    triggers:\n"
        "      - event_type: OnNew\n"
        "    endpoint:\n"
        f"      url: {url}\n"
        for name in names
    )
    return "subscriptions:\n" + items


class ConfigMapMount:
    """A folder laid out as kubelet mounts a ConfigMap, updated the way kubelet does."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.version = 0
        root.mkdir()

    def publish(self, files: dict[str, str]) -> None:
        self.version += 1
        stamp = f"..2026_11_23_10_00_{self.version:02d}.{os.getpid()}"
        (self.root / stamp).mkdir()
        for name, text in files.items():
            (self.root / stamp / name).write_text(text, encoding="utf-8")
        data = self.root / "..data"
        old = os.readlink(data) if data.is_symlink() else None
        tmp = self.root / "..data_tmp"
        tmp.symlink_to(stamp)
        os.replace(tmp, data)  # the atomic swap
        for name in files:
            link = self.root / name
            if not link.is_symlink():
                link.symlink_to(Path("..data") / name)
        for link in self.root.iterdir():
            if link.is_symlink() and link.name not in files and not link.name.startswith(".."):
                link.unlink()
        if old is not None:
            for file in (self.root / old).iterdir():
                file.unlink()
            (self.root / old).rmdir()


def names(source: SubscriptionSource) -> list[str]:
    assert source.router is not None
    return [sub.name for sub in source.router.subscriptions]


def test_a_configmap_update_is_picked_up_through_the_symlink_swap(tmp_path: Path) -> None:
    mount = ConfigMapMount(tmp_path / "subscriptions")
    mount.publish({"a.yaml": subs_yaml("one")})
    source = SubscriptionSource(mount.root, CATALOG_PATH)
    first = source.load()
    assert names(source) == ["one"]
    assert source.poll() is None

    # Same file name and the same size: only the link target changes.
    mount.publish({"a.yaml": subs_yaml("two")})
    second = source.poll()
    assert second is not None
    assert [sub.name for sub in second.subscriptions] == ["two"]
    assert source.router is second
    # The old Router is untouched, so a delivery in flight keeps its version.
    assert [sub.name for sub in first.subscriptions] == ["one"]
    assert source.poll() is None

    mount.publish({"a.yaml": subs_yaml("two"), "b.yaml": subs_yaml("three")})
    assert source.poll() is not None
    assert names(source) == ["two", "three"]


def test_an_invalid_change_is_refused_counted_once_and_the_last_good_version_stays(tmp_path: Path) -> None:
    mount = ConfigMapMount(tmp_path / "subscriptions")
    mount.publish({"a.yaml": subs_yaml("good")})
    source = SubscriptionSource(mount.root, CATALOG_PATH)
    good = source.load()

    mount.publish({"a.yaml": subs_yaml("bad", url="http://receiver.example.com")})
    assert source.poll() is None
    assert source.router is good
    assert source.rejected_count == 1
    assert source.last_error is not None
    (issue,) = source.last_error.issues
    assert (issue.path, issue.line) == ("subscriptions[0].endpoint.url", 7)
    assert issue.file == str(mount.root / "a.yaml")

    assert source.poll() is None
    assert source.rejected_count == 1

    mount.publish({"a.yaml": subs_yaml("fixed")})
    assert source.poll() is not None
    assert names(source) == ["fixed"]
    assert source.last_error is None
    assert source.rejected_count == 1


def test_a_plain_file_edited_in_place_is_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "subs.yaml"
    path.write_text(subs_yaml("one"), encoding="utf-8")
    source = SubscriptionSource(path, CATALOG_PATH)
    source.load()
    path.write_text(subs_yaml("one", "second"), encoding="utf-8")
    assert source.poll() is not None
    assert names(source) == ["one", "second"]


def test_development_mode_accepts_http(tmp_path: Path) -> None:
    path = tmp_path / "subs.yaml"
    path.write_text(subs_yaml("local", url="http://127.0.0.1:9000/hook"), encoding="utf-8")
    with pytest.raises(SubscriptionError):
        SubscriptionSource(path, CATALOG_PATH).load()
    router = SubscriptionSource(path, CATALOG_PATH, development=True).load()
    assert [sub.name for sub in router.subscriptions] == ["local"]


def test_the_first_poll_loads(tmp_path: Path) -> None:
    path = tmp_path / "subs.yaml"
    path.write_text(subs_yaml("one"), encoding="utf-8")
    source = SubscriptionSource(path, CATALOG_PATH)
    assert source.router is None
    assert source.poll() is not None
    assert names(source) == ["one"]
