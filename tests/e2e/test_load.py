"""``make load``'s tool, small, on the shared apply (runs near the end of the session,
tests/e2e/conftest.py): every create answered without a 5xx and every payment at rest in a
settled state. A smoke test of the tool, not a measurement (bench/results.json has those)."""

from __future__ import annotations

from typing import Any

from local import endpoints
from local.load import Checkout, run_level, unsettled
from tests.conftest import Emulator
from tests.e2e.test_local_environment import merchant_api


def test_the_load_tool_pays_twenty_at_concurrency_four_without_a_5xx(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    api = merchant_api(emulator, api_env)
    pid = endpoints.published(emulator.state_dir).pid
    level = run_level(Checkout(api, seed=4), concurrency=4, payments=20, emulator_pid=pid)
    level.print()
    assert level.answers == {"201": 20}, level.errors
    assert level.server_errors == 0 and len(level.payment_ids) == 20
    assert unsettled(api, level.payment_ids) == []
    # The profile read the emulator's workers: the payment functions used CPU.
    assert level.cpu is not None and level.cpu.emulator > 0
    assert any("process-payment" in name for name, s in level.cpu.workers.items() if s > 0)
