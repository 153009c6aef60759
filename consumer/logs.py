"""Logging for ``hookstream run``: JSON lines, or human-readable text in development.

Every room logs through the standard library (``logging.getLogger``), a
line's fields in ``extra={...}``, and so do aiohttp, alembic and librdkafka
(see ``KafkaSettings.client``). One handler on the root logger renders them all
with structlog's ProcessorFormatter, so no room needs to know about structlog.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog
from structlog.stdlib import ProcessorFormatter

__all__ = ["ROOMS", "setup_logging"]

ROOMS = ("consumer", "admin", "router", "sender", "store")


def setup_logging(level: str, *, json: bool, stream: TextIO | None = None) -> None:
    """Send every logger's records to ``stream`` (stderr) at ``level`` and above."""
    shared: list[Any] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if json:
        last: list[Any] = [
            structlog.processors.format_exc_info,
            structlog.processors.EventRenamer("message"),
            _common_first,
            structlog.processors.JSONRenderer(),
        ]
    else:
        # Plain tracebacks: the default (rich's, when installed) prints each frame's locals, secrets included.
        last = [
            structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
        ]
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        ProcessorFormatter(
            foreign_pre_chain=shared, processors=[ProcessorFormatter.remove_processors_meta, *last]
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    if root.level < logging.INFO:
        # Debug is for our own lines: libraries' (aiosqlite's hold every SQL statement with its
        # parameters, failed events' payloads included) stay off.
        for room in ROOMS:
            logging.getLogger(room).setLevel(level)
        root.setLevel(logging.INFO)


def _common_first(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    # For whoever reads a line by eye: the same four keys lead every line, the line's own fields follow.
    return {key: event.pop(key, None) for key in _COMMON} | event


_COMMON = ("timestamp", "level", "logger", "message")
