"""The bnpl function's collections settings as modules/credit_decisioning writes them
(BNPL_COLLECTIONS): the retry, the write-off age and the late fees with their cap."""

from __future__ import annotations

import json

import pytest

from functions.adapters import credit_wiring
from functions.services.credit_plans import LateFee


def test_the_late_fees_and_their_cap_reach_the_collections(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = {
        "retry_every_days": 3,
        "write_off_after_days": 90,
        "late_fees": {"EUR": {"amount": 500, "cap": 1000}},
    }
    monkeypatch.setenv("BNPL_COLLECTIONS", json.dumps(settings))
    credit_wiring.clear_bnpl()
    try:
        policy = credit_wiring.collection_policy()
    finally:
        credit_wiring.clear_bnpl()
    assert policy.late_fees == {"EUR": LateFee(500, 1000)}
    assert (policy.retry_every_days, policy.write_off_after_days) == (3, 90)
