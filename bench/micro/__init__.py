"""In-process micro-benchmarks: each hand-built speed replacement against the plain way it replaces.

``python -m bench.micro`` prints one JSON line per comparison. Each side runs
in alternating rounds (the machine's speed drifts), CPU time per operation is
the median over the rounds, and the saving is put against the CPU one event
costs end to end (165-186 us, ``cpu_ratio`` of ``make bench``). The decisions
and their numbers are in docs/adr/.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["EVENT_CPU_US", "Comparison", "measure"]

#: CPU per event end to end (Kafka in, HTTP out), low and high, as make bench measured it.
EVENT_CPU_US = (165.0, 186.0)

#: A run of ``n`` operations, returning the CPU seconds they took.
Run = Callable[[int], float]


@dataclass(frozen=True)
class Comparison:
    name: str
    plain: str
    hand_built: str
    #: How many of the operation one event costs (per delivery: one, with one subscription matched).
    ops_per_event: float
    run_plain: Run
    run_hand: Run
    #: What both sides share and neither is charged for (the awaited work around a timer, say).
    run_baseline: Run | None = None
    n: int = 20_000


def cpu(fn: Callable[[], Any]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def measure(c: Comparison, rounds: int = 7) -> dict[str, Any]:
    """Median CPU per op of each side over ``rounds`` alternating rounds (baseline subtracted)."""
    runs = {"plain": c.run_plain, "hand": c.run_hand}
    if c.run_baseline is not None:
        runs["baseline"] = c.run_baseline
    for run in runs.values():
        run(max(1, c.n // 10))  # warm up
    samples: dict[str, list[float]] = {side: [] for side in runs}
    for r in range(rounds):
        order = list(runs) if r % 2 == 0 else list(reversed(runs))
        for side in order:
            samples[side].append(runs[side](c.n) / c.n * 1e6)
    median = {side: statistics.median(values) for side, values in samples.items()}
    base = median.get("baseline", 0.0)
    plain, hand = median["plain"] - base, median["hand"] - base
    saved = (plain - hand) * c.ops_per_event
    low, high = EVENT_CPU_US
    return {
        "comparison": c.name,
        "plain": c.plain,
        "hand_built": c.hand_built,
        "plain_us": round(plain, 3),
        "hand_us": round(hand, 3),
        "ops_per_event": c.ops_per_event,
        "saved_us_per_event": round(saved, 3),
        "share_of_event_cpu_pct": [round(100 * saved / high, 2), round(100 * saved / low, 2)],
        "baseline_us": round(base, 3) if c.run_baseline is not None else None,
        "rounds": rounds,
    }
