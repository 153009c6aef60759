"""deploy/local/kafka.sh trusts its pid file only when it names its own broker.

Each test uses a data folder and port of its own; the shared broker on 9092 is
never touched. No broker is started: stand-in processes play the pid file's part.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.kafka import KAFKA_SH


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return dict(os.environ, HOOKSTREAM_KAFKA_DIR=str(tmp_path), HOOKSTREAM_KAFKA_PORT=str(_free_port()))


def _spawn(*argv: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    spawned: list[subprocess.Popen[bytes]] = []
    yield spawned
    for process in spawned:
        process.kill()
        process.wait()


def _script(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KAFKA_SH), command], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def _stand_in(data_dir: str) -> list[str]:
    """A live process whose command line reads like a broker's for ``data_dir``."""
    return [
        sys.executable,
        "-c",
        "import time; time.sleep(300)",
        "kafka.Kafka",
        f"{data_dir}/server.properties",
    ]


def _alive(process: subprocess.Popen[bytes]) -> bool:
    return process.poll() is None


@pytest.mark.parametrize("kind", ["unrelated", "another_broker"])
def test_a_pid_file_naming_another_process_is_not_the_broker(
    env: dict[str, str], processes: list[subprocess.Popen[bytes]], tmp_path: Path, kind: str
) -> None:
    # After a crash the pid in the file may belong to anything: here a sleep, or
    # a broker of another data folder.
    argv = ["sleep", "300"] if kind == "unrelated" else _stand_in(str(tmp_path / "elsewhere"))
    other = _spawn(*argv)
    processes.append(other)
    (tmp_path / "kafka.pid").write_text(f"{other.pid}\n")

    status = _script("status", env)
    stop = _script("stop", env)

    assert (status.returncode, status.stdout.strip()) == (3, "kafka.sh: not running")
    assert (stop.returncode, stop.stdout.strip()) == (0, "kafka.sh: not running")
    assert _alive(other)
    assert not (tmp_path / "kafka.pid").exists()


def test_the_pid_file_naming_its_own_broker_is_trusted(
    env: dict[str, str], processes: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    broker = _spawn(*_stand_in(str(tmp_path)))
    processes.append(broker)
    (tmp_path / "kafka.pid").write_text(f"{broker.pid}\n")

    status = _script("status", env)
    stop = _script("stop", env)

    assert status.returncode == 0
    assert f"(pid {broker.pid})" in status.stdout
    assert (stop.returncode, stop.stdout.strip()) == (0, "kafka.sh: stopped")
    assert broker.wait(timeout=10) != 0
