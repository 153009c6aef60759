"""A fast webhook receiver for the bench: Debian's nginx answering 200, logging each request's time."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import orjson

from tests.support.service import free_port, wait_listening

__all__ = ["Nginx"]

_CONF = """
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    log_format t '$msec $uri';
    log_format body escape=json '$msec $request_body';
    client_body_temp_path {dir}/body;
    keepalive_requests 1000000;
    upstream sink {{ server 127.0.0.1:{sink_port}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{port};
        access_log {dir}/access.log t buffer=64k flush=100ms;
        location / {{ return 200 'ok'; }}
        # /timed/ reads the body (by passing it on) so that it can be logged with the arrival time.
        location /timed/ {{
            access_log {dir}/bodies.log body buffer=64k flush=100ms;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://sink;
        }}
    }}
    server {{
        listen 127.0.0.1:{sink_port};
        access_log off;
        location / {{ return 200 'ok'; }}
    }}
}}
"""


class Nginx:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="hookstream-nginx-"))
        self.port = free_port()
        self.sink_port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self._hits: list[tuple[float, str]] = []
        self._hits_read = 0

    def __enter__(self) -> Nginx:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        conf = self.dir / "nginx.conf"
        conf.write_text(_CONF.format(dir=self.dir, port=self.port, sink_port=self.sink_port))
        self.proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(self.dir)])
        wait_listening(self.port, "nginx")
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def bodies(self) -> list[tuple[float, dict[str, Any]]]:
        """Arrival time and JSON body of each request to /timed/."""
        log = self.dir / "bodies.log"
        if not log.exists():
            return []
        out = []
        for line in log.read_text().splitlines():
            at, _, body = line.partition(" ")
            try:
                out.append(
                    (float(at), orjson.loads(body.encode().decode("unicode_escape").encode("latin-1")))
                )
            except (orjson.JSONDecodeError, UnicodeError):
                continue
        return out

    def hits(self) -> list[tuple[float, str]]:
        """Arrival time and URI of each request so far; only the lines logged since the last call are read.

        The bench polls this while hookstream runs on the same two cores: reading the
        whole log each time would take CPU from what it measures.
        """
        log = self.dir / "access.log"
        if not log.exists():
            return []
        with log.open("rb") as f:
            f.seek(self._hits_read)
            chunk = f.read()
        end = chunk.rfind(b"\n") + 1  # a line nginx is still writing waits for the next call
        self._hits_read += end
        for line in chunk[:end].decode().splitlines():
            at, _, uri = line.partition(" ")
            self._hits.append((float(at), uri))
        return self._hits
