"""local/chaos.py without an emulator: its fault plan is one the emulator accepts, its clients
retry as integrations do (same key, 5xx/409/no answer only), and its cards are its own."""

from __future__ import annotations

import random
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


def test_a_report_counts_every_kind_of_violation() -> None:
    report = chaos.ChaosReport(
        payments=3,
        seconds=1.0,
        fault_rate=0.1,
        injected={"dynamodb:PutItem:throttle": 2},
        statuses={"captured": 3},
        retried_requests=1,
        unanswered_requests=2,
        unbalanced_entries=1,
        currency_imbalance={"EUR": 5},
        ledger_mismatches=["a"],
        double_moves=["b"],
        nonterminal=["c"],
        changed_answers=["d"],
        unhealed=["e"],
    )
    assert report.violations == 9
    assert report.figures()["chaos_double_moves"]["value"] == 1
