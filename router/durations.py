"""Durations as people write them in YAML, settings and on the command line: ``5m``, ``1h30m``, ``2w``.

One parser and its inverse, so a retry interval, a retention and a topic suffix
all read and print the same units.
"""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["DURATION_PATTERN", "format_duration", "parse_duration"]

_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86_400.0, "w": 604_800.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
#: The accepted text, as a regular expression (also published in the subscriptions JSON Schema).
DURATION_PATTERN = r"^\s*(\d+(\.\d+)?(ms|s|m|h|d|w))+\s*$"


def parse_duration(text: str) -> timedelta:
    """``"5m"``, ``"30s"``, ``"1h30m"``, ``"250ms"``, ``"2w"`` as a timedelta; ValueError otherwise."""
    if not re.match(DURATION_PATTERN, text):
        raise ValueError(f"{text!r} is not a duration such as 5m, 30s, 1h30m, 250ms or 2w")
    return timedelta(seconds=sum(float(n) * _UNIT_SECONDS[unit] for n, unit in _PART.findall(text)))


def format_duration(delay: timedelta) -> str:
    """The shortest whole-unit spelling (``5m``, ``30s``, ``1h``, ``250ms``); parse_duration reads it back."""
    ms = round(delay.total_seconds() * 1000)
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"
