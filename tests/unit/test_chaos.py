"""local/chaos.py without an emulator: its fault plan is one the emulator accepts, its clients
retry as integrations do (same key, 5xx/409/no answer only), and its cards are its own."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from functions.domain.acquirer import TEST_CARDS
from functions.domain.cards import luhn_valid
from local import chaos, faults
from local.api_client import ApiResponse


def test_the_fault_plan_is_one_the_emulator_accepts_for_every_dependency() -> None:
    plan = faults.Plan.model_validate(chaos.fault_plan(0.1, seed=3))
    assert {rule.service for rule in plan.rules} == {
        "dynamodb",
        "kms",
        "kinesis",
        "events",
        "lambda",
    }
    assert {rule.fault for rule in plan.rules} == set(faults.Fault.__args__)  # type: ignore[attr-defined]


class ScriptedApi:
    def __init__(self, answers: list[ApiResponse | Exception]) -> None:
        self.answers = answers
        self.keys: list[str | None] = []

    def post(self, path: str, body: Any, *, idempotency_key: str | None = None) -> ApiResponse:
        self.keys.append(idempotency_key)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def client(api: ScriptedApi) -> chaos.Client:
    return chaos.Client(api, sleep=lambda seconds: None)  # type: ignore[arg-type]


def test_a_client_retries_5xx_409_and_silence_with_the_same_key_until_answered() -> None:
    api = ScriptedApi(
        [
            ApiResponse(502, {"error": {"code": "api_error"}}),
            ApiResponse(409, {"error": {"code": "idempotency_in_progress"}}),
            TimeoutError("no answer"),
            ApiResponse(201, {"id": "pay_1", "object": "payment"}),
        ]
    )
    answered = client(api).post("/v1/payments", {}, "k-1")
    assert answered is not None and answered.status == 201
    assert api.keys == ["k-1"] * 4


@pytest.mark.parametrize("status", [400, 402, 404, 422])
def test_a_client_takes_a_4xx_as_the_answer(status: int) -> None:
    api = ScriptedApi([ApiResponse(status, {"error": {"code": "x"}})])
    sender = client(api)
    answered = sender.post("/v1/payments", {}, "k-2")
    assert answered is not None and answered.status == status
    assert not sender.sent[0].retried and len(api.keys) == 1


def test_chaos_cards_are_luhn_valid_unique_and_never_a_simulator_test_card() -> None:
    rng = random.Random(5)
    cards = [chaos.fresh_card(rng) for _ in range(2_000)]
    assert all(luhn_valid(card) and card[-4:] not in TEST_CARDS for card in cards)
    assert len(set(cards)) == len(cards)


def clean_report(**changes: Any) -> chaos.ChaosReport:
    """A run that found nothing wrong, with ``changes``."""
    fields: dict[str, Any] = {
        "payments": 3,
        "seconds": 1.0,
        "fault_rate": 0.1,
        "injected": {"dynamodb:PutItem:throttle": 2},
        "statuses": {"captured": 3},
        "retried_requests": 0,
        "unanswered_requests": 0,
        "unbalanced_entries": 0,
        "currency_imbalance": {},
        "ledger_mismatches": [],
        "double_moves": [],
        "nonterminal": [],
        "changed_answers": [],
    }
    return chaos.ChaosReport(**(fields | changes))


def test_a_report_counts_every_kind_of_violation() -> None:
    assert clean_report().violations == 0
    report = clean_report(
        retried_requests=1,
        unanswered_requests=2,
        unbalanced_entries=1,
        currency_imbalance={"EUR": 5},
        ledger_mismatches=["a"],
        double_moves=["b"],
        nonterminal=["c"],
        changed_answers=["d"],
        unhealed=["e"],
        resent_changed=["f"],
    )
    assert report.violations == 10
    assert report.figures()["chaos_double_moves"]["value"] == 1
    assert report.figures()["chaos_acquirer_keys_resent_changed"]["value"] == 1


def test_a_run_merges_the_issues_figures_into_the_benchmark_results(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"load_ms_p99_c16": {"value": 900, "unit": "ms"}}))
    report = clean_report(payments=150, seconds=120.0, statuses={"captured": 150})
    chaos.record(report, results)
    merged = json.loads(results.read_text())
    assert merged["load_ms_p99_c16"] == {"value": 900, "unit": "ms"}
    issue_names = (
        "chaos_payments",
        "chaos_fault_rate",
        "chaos_unbalanced_entries",
        "chaos_ledger_mismatches",
        "chaos_double_moves",
        "chaos_nonterminal",
        "chaos_payments_per_s",
    )
    assert {name: merged[name]["value"] for name in issue_names} == {
        "chaos_payments": 150,
        "chaos_fault_rate": 0.1,
        "chaos_unbalanced_entries": 0,
        "chaos_ledger_mismatches": 0,
        "chaos_double_moves": 0,
        "chaos_nonterminal": 0,
        "chaos_payments_per_s": 1.25,
    }
