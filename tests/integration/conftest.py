from __future__ import annotations

import pytest

from tests.conftest import Emulator


@pytest.fixture(scope="session", autouse=True)
def _emulator_first(emulator: Emulator) -> Emulator:
    """Start the shared emulator before any pytest-terraform fixture applies a module."""
    return emulator
