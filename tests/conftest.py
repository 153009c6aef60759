from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.kafka import bootstrap_servers


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """A real Kafka broker for the whole test session (started once, left running for reuse)."""
    yield from bootstrap_servers()
