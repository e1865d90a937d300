"""local/chaos.py without an emulator: its fault plan is one the emulator accepts, its clients
retry as integrations do (same key, 5xx/409/no answer only), and its cards are its own."""

from __future__ import annotations

import datetime as dt
import io
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from functions.domain.acquirer import (
    TEST_CARDS,
    AcquirerOperation,
    AcquirerRejectedError,
    AcquirerSimulator,
    Authentication,
    AuthorizationRequest,
    CardReference,
    OperationKind,
    OperationStatus,
)
from functions.domain.cards import luhn_valid
from functions.domain.credit.ledger import (
    ACQUIRER_RECEIVABLE,
    CreditEntry,
    entry_id_of,
    merchant_payable,
    receivable,
)
from functions.domain.ledger import JournalLine
from functions.domain.payments import Payment, PaymentStatus, new_payment
from functions.services.reconciliation import stuck_authorizations
from local import chaos, faults
from local.api_client import ApiResponse
from tests.unit.services.fakes import PaymentRecords


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
        moved_after_void=["g"],
    )
    assert report.violations == 11
    assert report.figures()["chaos_double_moves"]["value"] == 1
    assert report.figures()["chaos_acquirer_keys_resent_changed"]["value"] == 1
    assert report.figures()["chaos_moved_after_void"]["value"] == 1


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
        "chaos_moved_after_void",
        "chaos_nonterminal",
        "chaos_payments_per_s",
    )
    assert {name: merged[name]["value"] for name in issue_names} == {
        "chaos_payments": 150,
        "chaos_fault_rate": 0.1,
        "chaos_unbalanced_entries": 0,
        "chaos_ledger_mismatches": 0,
        "chaos_double_moves": 0,
        "chaos_moved_after_void": 0,
        "chaos_nonterminal": 0,
        "chaos_payments_per_s": 1.25,
    }


def operation(
    kind: str,
    reference: str,
    amount: int = 600,
    auth: str = "auth_1",
    status: OperationStatus = OperationStatus.SUCCEEDED,
) -> AcquirerOperation:
    currency = "EUR" if amount else ""
    return AcquirerOperation(OperationKind(kind), reference, auth, amount, currency, status)


def test_a_payment_captured_and_refunded_or_only_voided_moved_nothing_after_a_void() -> None:
    operations = [
        operation("capture", "pay_1:capture:1"),
        operation("refund", "pay_1:refund:re_1", 200),
        operation("void", "pay_2:void", 0, "auth_2"),
        operation("void", "pay_3:authorize", 0, ""),  # by the authorize key
        # A capture that failed at the acquirer moved nothing.
        operation("capture", "pay_2:capture:1", 600, "auth_2", OperationStatus.FAILED),
    ]
    assert chaos.moved_after_void(operations) == []


def test_money_moved_on_a_voided_authorization_is_a_violation() -> None:
    operations = [
        # Captured after compensation voided it (or voided after its capture): either order.
        operation("void", "pay_1:void", 0),
        operation("capture", "pay_1:capture:1"),
        # Voided by the authorize key, which names no authorization, then refunded.
        operation("void", "pay_2:authorize", 0, ""),
        operation("refund", "pay_2:refund:re_1", 100, "auth_2"),
        # A void of another authorization of the same payment is no clash.
        operation("void", "pay_3:void", 0, "auth_3a"),
        operation("capture", "pay_3:capture:1", 600, "auth_3b"),
    ]
    found = chaos.moved_after_void(operations)
    assert found == [
        "pay_1: voided ['pay_1:void'], moved ['capture pay_1:capture:1 600']",
        "pay_2: voided ['pay_2:authorize'], moved ['refund pay_2:refund:re_1 100']",
    ]
    report = clean_report(moved_after_void=found)
    assert report.violations == 2
    assert report.figures()["chaos_moved_after_void"] == {"value": 2, "unit": "payments"}


def test_the_simulators_own_record_never_shows_money_moved_after_a_void() -> None:
    """What the simulator lets through: the refused operation is not in its record."""
    simulator = AcquirerSimulator(b"chaos-test-key-0123456789", 1.0, sleep=lambda _: None)
    authorization_id = simulator.authorize(
        AuthorizationRequest(
            "pay_1",
            "m_1",
            600,
            "EUR",
            CardReference("tok_1", "visa", "4242", 12, 2030),
            Authentication("05", "AAAB", None),
            "pay_1:authorize",
        )
    ).authorization_id
    assert authorization_id is not None
    simulator.void(authorization_id, "pay_1:void")
    with pytest.raises(AcquirerRejectedError):
        simulator.capture(authorization_id, 600, "EUR", "pay_1:capture:1")
    assert chaos.moved_after_void(simulator.records.operations()) == []


def credit_entry(step: str, moves: dict[str, int]) -> CreditEntry:
    """One of plan pl_1's credit ledger entries: ``moves`` debit-positive per account."""
    lines = tuple(
        JournalLine(account, "EUR", max(delta, 0), max(-delta, 0))
        for account, delta in moves.items()
    )
    return CreditEntry(entry_id_of("pl_1", step), "pl_1", step, lines, "2026-12-02T07:00:00Z")


OPENED = credit_entry("open", {receivable("cus_1"): 4_000, merchant_payable("m_1"): -4_000})
FIRST = credit_entry("collect-1", {ACQUIRER_RECEIVABLE: 1_000, receivable("cus_1"): -1_000})
REFUND = credit_entry(
    "refund",
    {merchant_payable("m_1"): 4_000, receivable("cus_1"): -3_000, ACQUIRER_RECEIVABLE: -1_000},
)


def bnpl_plan(status: str, first: str) -> dict[str, Any]:
    rest = "canceled" if status == "refunded" else "due"
    return {
        "id": "pl_1",
        "status": status,
        "instalments": [{"amount": 1_000, "status": s} for s in (first, rest, rest, rest)],
    }


def acquirer(capture: int, refund: int) -> dict[str, Counter[str]]:
    return {"pl_1": Counter({"capture": capture, "refund": refund})}


def test_a_bnpl_payment_whose_plan_ledger_and_acquirer_agree_is_clean() -> None:
    view = {"id": "pay_1", "status": "captured"}
    assert (
        chaos.bnpl_difference(
            view, bnpl_plan("active", "collected"), [OPENED, FIRST], acquirer(1_000, 0)
        )
        is None
    )
    refunded = {"id": "pay_1", "status": "refunded"}
    assert (
        chaos.bnpl_difference(
            refunded,
            bnpl_plan("refunded", "refunded"),
            [OPENED, FIRST, REFUND],
            acquirer(1_000, 1_000),
        )
        is None
    )


def test_a_bnpl_instalment_charged_twice_or_not_given_back_is_a_violation() -> None:
    view = {"id": "pay_1", "status": "captured"}
    twice = chaos.bnpl_difference(
        view, bnpl_plan("active", "collected"), [OPENED, FIRST], acquirer(2_000, 0)
    )
    assert twice is not None and "acquirer 2000/0" in twice
    refunded = {"id": "pay_1", "status": "refunded"}
    kept = chaos.bnpl_difference(
        refunded, bnpl_plan("refunded", "refunded"), [OPENED, FIRST, REFUND], acquirer(1_000, 0)
    )
    assert kept is not None and "acquirer 1000/0" in kept
    # The payment says refunded, the plan does not (nor the ledger): all three reported.
    stale = chaos.bnpl_difference(
        refunded, bnpl_plan("active", "collected"), [OPENED, FIRST], acquirer(1_000, 0)
    )
    assert stale is not None and "plan active" in stale


def test_bnpl_violations_count_in_the_report() -> None:
    report = clean_report(bnpl_payments=2, bnpl_mismatches=["a"], bnpl_unreconciled=["b", "c"])
    assert report.violations == 3
    assert report.figures()["chaos_bnpl_mismatches"]["value"] == 3


def test_a_bnpl_checkout_pays_on_a_token_and_refunds_the_whole_purchase() -> None:
    api = ScriptedApi(
        [
            ApiResponse(201, {"token": "tok_chaos"}),
            ApiResponse(201, {"id": "pay_b", "status": "captured"}),
            ApiResponse(201, {"id": "pay_b", "status": "refunded"}),
        ]
    )
    sent = client(api)

    class Refunding(random.Random):
        def random(self) -> float:
            return 0.0  # always the refunded half

    made = chaos.run_bnpl(sent, Refunding(3), "m_1", 7, "4242424242424242")
    assert made == "pay_b"
    token, create, refund = sent.sent
    assert token.path == "/v1/tokens" and token.body["customer_id"] == "cus_chaos_7"
    method = create.body["payment_method"]
    assert (method["type"], method["plan"], method["token"]) == ("bnpl", "pay_in_4", "tok_chaos")
    assert 3_000 <= create.body["amount"] < 20_000  # within the local credit policy's bounds
    # A BNPL refund is of the whole purchase: no amount.
    assert (refund.path, refund.body) == ("/v1/payments/pay_b/refunds", {})
    assert api.keys == ["m_1-7-token", "m_1-7-create", "m_1-7-refund"]


def test_a_plan_charge_missing_from_the_acquirers_record_or_the_ledger_is_a_violation() -> None:
    view = {"id": "pay_1", "status": "refunded"}
    refunded = bnpl_plan("refunded", "refunded")
    missing = chaos.bnpl_difference(view, refunded, [OPENED, FIRST, REFUND], {})
    assert missing is not None and "acquirer 0/0" in missing
    # The plan says its first instalment was paid; the ledger has no charge.
    found = chaos.bnpl_difference(view, refunded, [OPENED], acquirer(1_000, 1_000))
    assert found is not None and "ledger 0/0" in found


def test_progress_prints_every_few_payments_and_at_the_end(
    capsys: pytest.CaptureFixture[str],
) -> None:
    progress = chaos.Progress(7, started=0.0, faults_so_far=lambda: {"a": 2, "b": 1}, every=3)
    for _ in range(7):
        progress.done_one()
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["3/7", "6/7", "7/7"]
    assert all(line.endswith("3 faults so far") for line in lines)


def test_progress_survives_an_injector_that_does_not_answer(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def unreachable() -> dict[str, int]:
        raise ConnectionRefusedError

    progress = chaos.Progress(1, started=0.0, faults_so_far=unreachable)
    progress.done_one()
    assert "-1 faults so far" in capsys.readouterr().out


def test_the_checks_wait_for_a_reconciliation_longer_than_botocores_default_and_never_resend() -> (
    None
):
    from local.aws import emulator_client

    waited = emulator_client("lambda", "http://127.0.0.1:1", read_timeout_s=chaos.RECONCILE_WAIT_S)
    assert waited.meta.config.read_timeout == chaos.RECONCILE_WAIT_S > 300
    assert waited.meta.config.retries["total_max_attempts"] == 1
    default = emulator_client("lambda", "http://127.0.0.1:1")
    assert default.meta.config.read_timeout == 60


def _payment(payment_id: str, status: PaymentStatus, at: str) -> Payment:
    context = {
        "payment_id": payment_id,
        "merchant_id": "m_1",
        "amount": 610,
        "currency": "EUR",
        "capture": True,
        "card": {"token": f"tok_{payment_id}", "brand": "visa", "last4": "4242"},
    }
    return new_payment(context, status, at)


def test_the_check_waits_for_the_sweeper_only_while_a_payment_is_left_authorizing() -> None:
    now = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
    records = PaymentRecords()
    records.save(_payment("pay_done", PaymentStatus.CAPTURED, "2026-12-03T11:59:00.000+00:00"))
    slept: list[float] = []
    assert chaos.wait_out_stuck(records, lambda: now, slept.append) == 0.0 and slept == []
    records.save(_payment("pay_old", PaymentStatus.AUTHORIZING, "2026-12-03T11:50:00.000+00:00"))
    # Older than the bound already: the sweeper takes it now.
    assert chaos.wait_out_stuck(records, lambda: now, slept.append) == 0.0 and slept == []
    records.save(_payment("pay_new", PaymentStatus.AUTHORIZING, "2026-12-03T11:58:30.000+00:00"))
    # The newest decides: 90 s ago, so 210 s until the bound, and a second over it.
    assert chaos.wait_out_stuck(records, lambda: now, slept.append) == 211.0
    assert slept == [211.0]
    # What the wait is for: the sweeper's own test of a stuck payment then takes both.
    after = now + dt.timedelta(seconds=211)
    assert stuck_authorizations(records.all(), after) == ("pay_new", "pay_old")


def test_a_card_reconciliation_that_stops_for_time_is_invoked_again_from_where_it_got() -> None:
    since = dt.datetime(2026, 12, 3, 18, tzinfo=dt.UTC)
    reached = "2026-12-03T18:40:00.000+00:00"
    asked: list[tuple[bool, dt.datetime | None]] = []

    def run(repair: bool, start: dt.datetime | None) -> dict[str, Any]:
        asked.append((repair, start))
        first = len(asked) == 1
        return {
            "checked_payments": 3 if first else 2,
            "mismatches": [{"kind": "event_missing", "payment_id": f"pay_{len(asked)}"}],
            "repaired": [],
            "window": {"complete": not first, "reached": {"updated_at": reached}},
        }

    whole = chaos.reconcile_whole(run, repair=True, since=since)
    assert asked == [(True, since), (True, dt.datetime.fromisoformat(reached))]
    assert whole["checked_payments"] == 5 and whole["window"]["complete"] and whole["runs"] == 2
    assert [m["payment_id"] for m in whole["mismatches"]] == ["pay_1", "pay_2"]
    assert [a["checked_payments"] for a in whole["answers"]] == [3, 2]

    asked.clear()
    never = chaos.reconcile_whole(
        lambda repair, start: {
            **run(repair, start),
            "window": {"complete": False, "reached": {"updated_at": reached}},
        },
        repair=False,
        since=since,
    )
    assert len(asked) == chaos.RECONCILE_RUNS and not never["window"]["complete"]


class BnplFunction:
    """The bnpl function's answers to the check's reconcile requests: stopped for time twice."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def invoke(self, FunctionName: str, Payload: bytes) -> dict[str, Any]:
        self.requests.append(json.loads(Payload))
        n = len(self.requests)
        reached = {
            "payments": {"at": f"t{n}", "id": f"pay_{n}"},
            "operations": {"at": "t0", "id": ""},
        }
        answer = {
            "checked_payments": 10,
            "mismatch_count": 1 if n == 2 else 0,
            "mismatches": [{"kind": "bnpl_entry_missing"}] if n == 2 else [],
            "complete": n == 3,
            "reached": reached,
        }
        return {"Payload": io.BytesIO(json.dumps(answer).encode())}


def test_a_bnpl_reconciliation_that_stops_for_time_continues_over_the_same_window() -> None:
    function = BnplFunction()
    since = dt.datetime(2026, 12, 3, 18, tzinfo=dt.UTC)
    whole = chaos.reconcile_bnpl(function, "bnpl", since)
    first, second, third = function.requests
    assert first["since"] == since.isoformat() and "after" not in first
    # The same window each time (``until`` fixed at the first), from where the last stopped.
    assert {r["until"] for r in function.requests} == {first["until"]}
    assert second["after"]["payments"] == {"at": "t1", "id": "pay_1"}
    assert third["after"]["payments"] == {"at": "t2", "id": "pay_2"}
    assert (whole["checked_payments"], whole["mismatch_count"], whole["complete"]) == (30, 1, True)
    assert whole["runs"] == 3
    assert whole["mismatches"] == [{"kind": "bnpl_entry_missing"}]
