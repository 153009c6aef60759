"""A webhook receiver that notes each request's arrival to the microsecond: ``python -m bench.receiver``.

nginx logs arrival times to the millisecond only (``$msec``), too coarse for a
produce-to-receipt time well under a millisecond. This one is a separate
process on uvloop, serving HTTP/1.1 keep-alive requests with a
``Content-Length`` body (what aiohttp, and so hookstream, sends), answering
``200 ok`` and noting ``time.time()`` when a request's last byte is read. The
JSON body's ``event_id`` and the arrival time go to ``LOG`` as
``<seconds> <event_id>`` lines, written every 100 ms and on SIGTERM.

    python -m bench.receiver PORT LOG
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import cast

import orjson
import uvloop

from tests.support.service import free_port, wait_listening

_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


class _Connection(asyncio.Protocol):
    def __init__(self, arrivals: list[tuple[float, bytes]]) -> None:
        self._arrivals = arrivals
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without deriving from it.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self._buffer += data
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            length = 0
            for line in self._buffer[:end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self._buffer) < end + 4 + length:
                return
            body = self._buffer[end + 4 : end + 4 + length]
            self._buffer = self._buffer[end + 4 + length :]
            self._arrivals.append((now, body))
            assert self._transport is not None
            self._transport.write(_OK)


def _event_id(body: bytes) -> str:
    try:
        return str(orjson.loads(body).get("event_id", "-"))
    except (orjson.JSONDecodeError, AttributeError):
        return "-"


async def _serve(port: int, log: Path) -> None:
    loop = asyncio.get_running_loop()
    arrivals: list[tuple[float, bytes]] = []
    server = await loop.create_server(lambda: _Connection(arrivals), "127.0.0.1", port, backlog=1024)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    with log.open("a") as out:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.1)
            out.writelines(f"{at:.6f} {_event_id(body)}\n" for at, body in arrivals)
            arrivals.clear()
            out.flush()
    server.close()


class TimedReceiver:
    """``with TimedReceiver() as r``: ``r.url("/hook")``, then ``r.arrivals()``: event id to arrival time."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="hookstream-receiver-"))
        self.log = self.dir / "arrivals.log"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> TimedReceiver:
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.receiver", str(self.port), str(self.log)])
        wait_listening(self.port, "the timed receiver")
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def arrivals(self) -> dict[str, float]:
        """Each event id's first arrival time (epoch seconds), as far as written (every 100 ms)."""
        found: dict[str, float] = {}
        if self.log.exists():
            for line in self.log.read_text().splitlines():
                at, _, event_id = line.partition(" ")
                found.setdefault(event_id, float(at))
        return found


def main() -> int:
    port, log = int(sys.argv[1]), Path(sys.argv[2])
    uvloop.run(_serve(port, log))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
