"""The small chaos run of ``make test`` (``make chaos`` runs 10,000): payments (BNPL checkouts
among them) through the local API while a tenth of every dependency call is faulted, then the
money invariants (local/chaos.py says which and why). Runs last in the session
(tests/e2e/conftest.py): its payments and faults must not become another test's data."""

from __future__ import annotations

import os
from typing import Any

from local import faults
from local.chaos import Stack, fault_state, run_chaos
from tests.conftest import Emulator
from tests.e2e.test_local_environment import merchant_api

# Small enough for make test (about a minute on a loaded two-core machine); make chaos runs 10,000.
PAYMENTS = int(os.environ.get("CHAOS_TEST_PAYMENTS", "60"))


def test_money_holds_under_injected_faults(emulator: Emulator, api_env: dict[str, Any]) -> None:
    report = run_chaos(
        merchant_api(emulator, api_env),
        Stack.from_outputs(emulator.endpoint, api_env),
        payments=PAYMENTS,
        concurrency=8,
        fault_rate=0.1,
        seed=11,
    )
    report.print()
    assert sum(report.injected.values()) > 0, "no fault was injected: the run tested nothing"
    assert report.statuses.get("captured", 0) + report.statuses.get("partially_refunded", 0) > 0
    # The seed's mix holds BNPL checkouts (3 of the 60), checked against their plans.
    assert report.bnpl_payments > 0
    assert report.violations == 0, (
        report.unbalanced_entries,
        report.currency_imbalance,
        report.ledger_mismatches[:5],
        report.double_moves[:5],
        report.nonterminal[:5],
        report.changed_answers[:5],
        report.unanswered[:5],
        report.unhealed[:5],
        report.bnpl_mismatches[:5],
        report.bnpl_unreconciled[:5],
    )
    # The run leaves no fault behind for whatever the emulator serves next.
    assert fault_state(emulator.endpoint) == {"plan": faults.Plan().model_dump(), "injected": {}}
