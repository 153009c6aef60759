"""Fixtures for sender tests: a real receiver on loopback and a started Sender allowed to reach it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sender import Sender
from tests.support.receivers.http import Receiver
from tests.support.receivers.loopback import loopback_settings


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Receiver() as r:
        yield r


@pytest.fixture
async def sender() -> AsyncIterator[Sender]:
    async with Sender(loopback_settings()) as s:
        yield s
