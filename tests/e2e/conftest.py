from __future__ import annotations

from tests.integration.conftest import receiver
from tests.integration.test_pipeline import service_factory

__all__ = ["receiver", "service_factory"]
