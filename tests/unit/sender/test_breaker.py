from __future__ import annotations

from sender.breaker import BreakerState, CircuitBreaker
from sender.settings import BreakerSettings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock, **settings: object) -> CircuitBreaker:
    values: dict[str, object] = {"failure_rate": 0.5, "min_requests": 4, "window": 100, "open_for": 30}
    values.update(settings)
    return CircuitBreaker(BreakerSettings.model_validate(values), clock)


def state(b: CircuitBreaker) -> BreakerState:
    """Read through a call, so that mypy does not narrow ``b.state`` from one assertion to the next."""
    return b.state


def run(b: CircuitBreaker, *failures: bool) -> None:
    for failure in failures:
        permit = b.acquire()
        assert permit is not None
        b.record(permit, failure)


def test_opens_at_the_failure_rate_once_enough_requests_are_seen() -> None:
    b = breaker(Clock())
    run(b, True, True, True)
    assert state(b) == "closed"  # 3 < min_requests
    run(b, False)
    assert state(b) == "open"  # 3 of 4 >= 50 %
    assert b.acquire() is None


def test_stays_closed_below_the_failure_rate() -> None:
    b = breaker(Clock())
    run(b, False, True, False, False, True, False, False)
    assert state(b) == "closed"


def test_failures_older_than_the_window_are_forgotten() -> None:
    clock = Clock()
    b = breaker(clock)
    run(b, True, True, True)
    clock.now += 150
    run(b, True, False, False)
    assert state(b) == "closed"


def test_half_open_lets_one_probe_through_and_a_success_closes() -> None:
    clock = Clock()
    b = breaker(clock)
    run(b, True, True, True, True)
    clock.now += 31
    assert state(b) == "half_open"
    probe = b.acquire()
    assert probe is not None
    assert b.acquire() is None  # one probe at a time
    b.record(probe, False)
    assert state(b) == "closed"
    run(b, True, True, True)
    assert state(b) == "closed"  # counting started afresh


def test_a_failed_probe_opens_again() -> None:
    clock = Clock()
    b = breaker(clock)
    run(b, True, True, True, True)
    clock.now += 31
    probe = b.acquire()
    assert probe is not None
    b.record(probe, True)
    assert state(b) == "open"
    clock.now += 29
    assert b.acquire() is None


def test_a_cancelled_probe_frees_its_place() -> None:
    clock = Clock()
    b = breaker(clock)
    run(b, True, True, True, True)
    clock.now += 31
    probe = b.acquire()
    assert probe is not None
    b.record(probe, None)
    assert state(b) == "half_open"
    assert b.acquire() is not None


def test_results_from_before_the_circuit_opened_are_ignored() -> None:
    clock = Clock()
    b = breaker(clock)
    slow = b.acquire()
    assert slow is not None
    run(b, True, True, True, True)
    clock.now += 31
    probe = b.acquire()
    assert probe is not None
    b.record(slow, False)  # a straggler's success must not close the circuit
    assert state(b) == "half_open"
    b.record(probe, True)
    assert state(b) == "open"
