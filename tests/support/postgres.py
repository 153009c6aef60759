"""A real PostgreSQL server for tests: Debian's binaries, a throwaway cluster, a database per test.

The cluster lives in a temporary directory, listens on a free loopback port (and a socket in that
directory) with trust authentication, and is stopped and removed at the end. initdb refuses to run
as root, so under root every server command runs as the ``postgres`` user that Debian's package
creates, and the directory is handed to that user.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

__all__ = ["PostgresServer", "find_bindir", "running_postgres"]

SUPERUSER = "postgres"


def find_bindir() -> Path:
    """HOOKSTREAM_PG_BINDIR, else the newest /usr/lib/postgresql/<version>/bin, else pg_ctl on PATH."""
    configured = os.environ.get("HOOKSTREAM_PG_BINDIR")
    if configured:
        return Path(configured)
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    if versions:
        return versions[-1].parent
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl is None:
        raise RuntimeError("PostgreSQL server binaries not found: install Debian's postgresql package")
    return Path(pg_ctl).resolve().parent


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    control: Callable[[str], None] | None = None
    """Runs ``pg_ctl stop`` or ``pg_ctl start`` on the cluster (for outage tests)."""

    def stop(self) -> None:
        assert self.control is not None
        self.control("stop")

    def start(self) -> None:
        assert self.control is not None
        self.control("start")

    def url(self, database: str, driver: str = "asyncpg") -> str:
        return f"postgresql+{driver}://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host=self.host, port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True
        )

    def create_database(self) -> str:
        """A new empty database; its name is returned."""
        name = f"test_{uuid.uuid4().hex[:12]}"
        with self._admin() as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        if not re.fullmatch(r"test_[0-9a-f]{12}", name):
            raise ValueError(f"not a test database: {name!r}")
        with self._admin() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """Start a throwaway cluster, yield it, then stop it and delete its files."""
    bindir = find_bindir()
    base = Path(tempfile.mkdtemp(prefix="hookstream-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError("running as root needs the 'postgres' user of Debian's package") from None
        os.chown(base, account.pw_uid, account.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]

    def run(*args: str) -> None:
        subprocess.run([*run_as, *args], check=True, capture_output=True, text=True)

    data, log = base / "data", base / "server.log"
    try:
        run(
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        port = _free_port()
        # -F: no fsync; durability of a throwaway cluster does not matter and it saves seconds.
        options = f"-F -p {port} -k {base} -c listen_addresses=127.0.0.1"
        try:
            run(
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            )
        except subprocess.CalledProcessError as exc:
            server_log = log.read_text() if log.exists() else ""
            raise RuntimeError(f"PostgreSQL did not start:\n{exc.stderr}\n{server_log}") from exc

        def control(action: str) -> None:
            pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data), "-w", "-t", "60"]
            if action == "stop":
                run(*pg_ctl, "-m", "fast", "stop")
            else:
                run(*pg_ctl, "-l", str(log), "-o", options, "start")

        try:
            yield PostgresServer(host="127.0.0.1", port=port, control=control)
        finally:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(base, ignore_errors=True)
