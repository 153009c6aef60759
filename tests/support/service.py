"""hookstream as a real process, started the way an operator would (``hookstream run``), for crash tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from tests.support.kafka import ROOT

__all__ = ["ServiceProcess", "free_port", "wait_listening", "write_subscriptions"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, what: str, timeout: float = 10.0) -> None:
    """Return once something accepts connections on ``port`` of the loopback; ``what`` names it if not."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(0.05)


def write_subscriptions(path: Path, subscriptions: list[dict[str, Any]]) -> Path:
    path.write_text(yaml.safe_dump({"subscriptions": subscriptions}, sort_keys=False))
    return path


class ServiceProcess:
    """One ``hookstream run`` process with its own topics and group (``prefix``)."""

    def __init__(
        self,
        bootstrap: str,
        prefix: str,
        subscriptions: Path,
        log_dir: Path,
        *,
        role: str = "all",
        env: dict[str, str] | None = None,
        command: list[str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        # By default the checkout's code; an installed wheel or an image passes its own command.
        self.command = command or [sys.executable, "-m", "consumer.cli", "run"]
        self.cwd = cwd or ROOT
        self.prefix = prefix
        self.input_topic = f"{prefix}.events"
        self.admin_port = free_port()
        self.log_path = log_dir / f"hookstream-{prefix}-{role}.log"
        self.env = {
            **os.environ,
            "HOOKSTREAM_ROLE": role,
            "HOOKSTREAM_KAFKA__BOOTSTRAP_SERVERS": bootstrap,
            "HOOKSTREAM_KAFKA__TOPIC_PREFIX": prefix,
            "HOOKSTREAM_KAFKA__GROUP_ID": prefix,
            "HOOKSTREAM_KAFKA__INPUT_TOPICS": json.dumps([self.input_topic]),
            "HOOKSTREAM_SUBSCRIPTIONS": str(subscriptions),
            "HOOKSTREAM_DEVELOPMENT": "true",
            "HOOKSTREAM_ADMIN_HOST": "127.0.0.1",
            "HOOKSTREAM_ADMIN_PORT": str(self.admin_port),
            "HOOKSTREAM_SENDER__SSRF_ALLOW": json.dumps(["127.0.0.0/8", "::1/128"]),
            "HOOKSTREAM_STORE_URL": f"sqlite+aiosqlite:///{log_dir / (prefix + '.db')}",
            "HOOKSTREAM_GRACE_PERIOD": "20",
            # Text, as in development: its log is read by people when a test fails.
            "HOOKSTREAM_LOG_FORMAT": "text",
            **(env or {}),
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *, wait_ready: bool = True) -> ServiceProcess:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(self.command, cwd=self.cwd, env=self.env, stdout=log, stderr=log)
        if wait_ready:
            self.wait_ready()
        return self

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}{path}", timeout=5) as resp:
                return int(resp.status), bytes(resp.read())
        except urllib.error.HTTPError as exc:
            return int(exc.code), bytes(exc.read())

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"hookstream exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if self.get("/readyz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"hookstream not ready within {timeout}s:\n{self.log()}")

    def metric(self, name: str, **labels: str) -> float:
        """The sum of a metric's samples whose labels include ``labels``."""
        _status, body = self.get("/metrics")
        total = 0.0
        for line in body.decode().splitlines():
            if not line.startswith(name) or line.startswith("#"):
                continue
            head, _, value = line.rpartition(" ")
            if all(f'{k}="{v}"' in head for k, v in labels.items()) and head.split("{")[0] == name:
                total += float(value)
        return total

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:] if self.log_path.exists() else ""
