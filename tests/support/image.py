"""The container image without a registry: a bookworm base made with debootstrap, the real Dockerfile
built on it with buildah (never pulling), and containers run with podman on the host's network.

This machine reaches Debian's mirror but no image registry. Debian bookworm's python3 is 3.11, so a
minimal bookworm root file system with python3 and python3-venv stands in for
``python:3.11-slim-bookworm``: tagged with that name, the Dockerfile builds on it unchanged. The
root file system is cached as a tarball under the cache folder, the image in podman's storage.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.support.artifacts import CACHE
from tests.support.kafka import ROOT

__all__ = [
    "BASE_IMAGE",
    "PODMAN_RUN",
    "TOOLS",
    "build_image",
    "ensure_base_image",
    "missing_tools",
    "podman_command",
]

BASE_IMAGE = "docker.io/library/python:3.11-slim-bookworm"
TOOLS = ("debootstrap", "buildah", "podman", "runc")
_MIRROR = "http://deb.debian.org/debian"
_BASE_TAR = CACHE / "base" / "bookworm-python3.tar"
# crun and podman's default ulimits are refused in this sandbox; runc with these limits works.
PODMAN_RUN = [
    "podman",
    "--runtime",
    "/usr/sbin/runc",
    "run",
    "--network",
    "host",
    "--ulimit",
    "nofile=1024:1024",
    "--ulimit",
    "nproc=1024:1024",
]


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None and not Path("/usr/sbin", tool).exists()]


def _run(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} exited {done.returncode}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    return done.stdout


def _make_base_tar() -> None:
    with tempfile.TemporaryDirectory(dir=CACHE) as work:
        rootfs = Path(work) / "rootfs"
        _run(
            "debootstrap",
            "--variant=minbase",
            "--include=python3,python3-venv,ca-certificates",
            "bookworm",
            str(rootfs),
            _MIRROR,
        )
        # The machine's own trust anchors (a TLS-inspecting egress proxy's CA, where there is one), so
        # that pip inside the build reaches PyPI the way it does on the host; an official base image
        # on a network like that gets them the same way, from its platform team.
        local_cas = Path("/usr/local/share/ca-certificates")
        for ca in local_cas.glob("*.crt"):
            shutil.copy(ca, rootfs / "usr/local/share/ca-certificates" / ca.name)
        _run("chroot", str(rootfs), "update-ca-certificates")
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for item in (rootfs / cache).glob("*"):
                if item.is_file():
                    item.unlink()
        partial = _BASE_TAR.with_suffix(".partial")
        _run("tar", "-C", str(rootfs), "-cf", str(partial), ".")
        partial.rename(_BASE_TAR)


def ensure_base_image() -> str:
    """``python:3.11-slim-bookworm`` in podman's storage, made locally (once) if it is not there."""
    if subprocess.run(["podman", "image", "exists", BASE_IMAGE], check=False).returncode == 0:
        return BASE_IMAGE
    _BASE_TAR.parent.mkdir(parents=True, exist_ok=True)
    if not _BASE_TAR.exists():
        _make_base_tar()
    _run(
        "podman",
        "import",
        "--change",
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "--change",
        "ENV LANG=C.UTF-8",
        "--change",
        'CMD ["python3"]',
        str(_BASE_TAR),
        BASE_IMAGE,
    )
    return BASE_IMAGE


def build_image(tag: str | None = None) -> str:
    """Build the repository's Dockerfile as it is with buildah, from local images only."""
    ensure_base_image()
    tag = tag or "localhost/hookstream:test"
    # --layers: an unchanged dependency step is reused by the next build.
    _run("buildah", "build", "--pull=never", "--network", "host", "--layers", "-q", "-t", tag, str(ROOT))
    return tag


def remove_image(tag: str) -> None:
    subprocess.run(["podman", "rmi", "-f", tag], capture_output=True, check=False)


def podman_command(
    image: str,
    name: str,
    *,
    env: dict[str, str],
    mounts: dict[Path, str] | None = None,
    entrypoint: list[str] | None = None,
    args: list[str] | None = None,
    user: str | None = None,
    tmpfs: tuple[str, ...] = ("/tmp", "/var/lib/hookstream"),
) -> list[str]:
    """``podman run`` of ``image`` as a pod would run it: read-only root, emptyDir folders writable."""
    command = [*PODMAN_RUN, "--rm", "--name", name, "--read-only"]
    for folder in tmpfs:
        command += ["--tmpfs", f"{folder}:rw,mode=1777"]
    if user:
        command += ["--user", user]
    for key, value in env.items():
        command += ["--env", f"{key}={value}"]
    for source, target in (mounts or {}).items():
        command += ["--volume", f"{source}:{target}:ro"]
    if entrypoint:
        command += ["--entrypoint", entrypoint[0]]
        args = [*entrypoint[1:], *(args or [])]
    return [*command, image, *(args or [])]


def remove_container(name: str) -> None:
    subprocess.run(["podman", "rm", "-f", "-t", "0", name], capture_output=True, check=False)
