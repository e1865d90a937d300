from __future__ import annotations

# The end-to-end tests share the session's emulator, started before anything is applied.
from tests.integration.conftest import _emulator_first

__all__ = ["_emulator_first"]
