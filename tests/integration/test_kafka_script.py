"""deploy/local/kafka.sh trusts its pid file only when it names its own broker.

Each test uses a data folder and port of its own; the shared broker on 9092 is
never touched. Stand-in processes play the pid file's part; one test starts a real
broker, to see `fresh` begin on empty storage.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.kafka import KAFKA_SH, free_port_pair


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


def test_fresh_leaves_a_running_broker_and_its_data_alone(
    env: dict[str, str], processes: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    broker = _spawn(*_stand_in(str(tmp_path)))
    processes.append(broker)
    (tmp_path / "kafka.pid").write_text(f"{broker.pid}\n")
    (tmp_path / "logs" / "orders-0").mkdir(parents=True)

    fresh = _script("fresh", env)

    assert fresh.returncode == 0
    assert f"running on 127.0.0.1:{env['HOOKSTREAM_KAFKA_PORT']} (pid {broker.pid})" in fresh.stdout
    assert (tmp_path / "logs" / "orders-0").is_dir()


def test_fresh_starts_a_stopped_broker_on_empty_storage(env: dict[str, str], tmp_path: Path) -> None:
    # What earlier runs left behind: a topic's folder, and a pid file of a broker long gone.
    (tmp_path / "logs" / "t-1a2b3c4d-events-0").mkdir(parents=True)
    (tmp_path / "kafka.pid").write_text("999999\n")
    env = dict(env, HOOKSTREAM_KAFKA_PORT=str(free_port_pair()))
    try:
        fresh = subprocess.run(
            [str(KAFKA_SH), "fresh"], env=env, capture_output=True, text=True, timeout=240, check=False
        )
        assert fresh.returncode == 0, fresh.stderr
        assert "kafka.sh: started on" in fresh.stdout
        assert not (tmp_path / "logs" / "t-1a2b3c4d-events-0").exists()
        assert (tmp_path / "logs" / "meta.properties").is_file()
    finally:
        _script("stop", env)
