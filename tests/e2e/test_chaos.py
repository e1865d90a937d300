"""The small chaos run of ``make test`` (``make chaos`` runs 10,000): payments through the local
API while a tenth of every dependency call is faulted, then the money invariants
(local/chaos.py says which and why)."""

from __future__ import annotations

import os
from typing import Any

from local.api_client import ApiClient, user_credentials
from local.chaos import Stack, run_chaos
from tests.conftest import Emulator

# Small enough for make test (about a minute on a loaded two-core machine); make chaos runs 10,000.
PAYMENTS = int(os.environ.get("CHAOS_TEST_PAYMENTS", "60"))


def test_money_holds_under_injected_faults(emulator: Emulator, api_env: dict[str, Any]) -> None:
    api = ApiClient(
        emulator.api_endpoint,
        user_credentials(emulator.client("iam"), "merchant-chaos-e2e"),
        None,
        api_env["api_name"],
    )
    report = run_chaos(
        api,
        Stack.from_outputs(emulator.endpoint, api_env),
        payments=PAYMENTS,
        concurrency=8,
        fault_rate=0.1,
        seed=11,
    )
    report.print()
    assert sum(report.injected.values()) > 0, "no fault was injected: the run tested nothing"
    assert report.statuses.get("captured", 0) + report.statuses.get("partially_refunded", 0) > 0
    assert report.violations == 0, (
        report.unbalanced_entries,
        report.currency_imbalance,
        report.ledger_mismatches[:5],
        report.double_moves[:5],
        report.nonterminal[:5],
        report.changed_answers[:5],
    )
