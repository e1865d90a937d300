"""Issue 19 item 9: holds never expire. ``cancel`` over the payments table on moto (in process),
the acquirer simulator and a ledger: an authorized, uncaptured payment is recorded canceled,
voided by its authorization id under ``{payment_id}:void`` and its authorization entry
reversed; a payment waiting for its challenge is canceled without the acquirer; a canceled
payment is answered again; every other state is a 400; a concurrent capture and cancel never
both reach the acquirer."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import pytest

from functions.adapters.payments_table import PaymentsTable
from functions.domain.acquirer import (
    AcquirerRejectedError,
    AcquirerTimeoutError,
    AcquirerUnavailableError,
    OperationKind,
    OperationResult,
)
from functions.domain.ledger import InMemoryLedgerStore
from functions.domain.payments import PaymentStatus
from functions.handlers import process_payment
from functions.services.payment_processing import PaymentProcessor
from tests.adapters import test_payment_steps as steps
from tests.adapters.service_calls import process
from tests.adapters.test_payment_sale import processor_with
from tests.adapters.test_payment_unknown_outcomes import LostAnswers

table = steps.table  # the payments table on moto, shared with the step tests


class VoidFailures(LostAnswers):
    """Counts authorizations; its next void can be refused (nothing voided) or time out after
    it voided (the answer is lost)."""

    def __init__(self) -> None:
        super().__init__()
        self.refuse_void: type[Exception] | None = None
        self.lose_void = False

    def void(self, authorization_id: str | None, idempotency_key: str) -> OperationResult:
        if self.refuse_void is not None:
            error, self.refuse_void = self.refuse_void, None
            self.voids.append(idempotency_key)
            raise error()
        done = super().void(authorization_id, idempotency_key)
        if self.lose_void:
            self.lose_void = False
            raise AcquirerTimeoutError()
        return done

    def executed_voids(self) -> list[str]:
        return [o.reference for o in self.records.operations() if o.kind is OperationKind.VOID]


@pytest.fixture
def acquirer() -> VoidFailures:
    return VoidFailures()


@pytest.fixture
def ledger() -> InMemoryLedgerStore:
    return InMemoryLedgerStore()


@pytest.fixture
def processor(
    table: PaymentsTable, acquirer: VoidFailures, ledger: InMemoryLedgerStore
) -> PaymentProcessor:
    return processor_with(table, acquirer, ledger)


def cancel(processor: PaymentProcessor, reason: str | None = "requested_by_customer") -> Any:
    return process(
        {"action": "cancel", "payment_id": "pay_1", "cancellation_reason": reason}, processor
    )


def authorized(processor: PaymentProcessor, **kwargs: Any) -> dict[str, Any]:
    answer = process({"action": "authorize", "payment": steps.context(**kwargs)}, processor)
    assert answer["payment"]["status"] == "authorized"
    return answer


def steps_of(ledger: InMemoryLedgerStore) -> list[str]:
    return sorted(e.step for e in ledger.entries_for("pay_1"))


def test_an_uncaptured_authorization_is_voided_reversed_and_answered_again(
    processor: PaymentProcessor, acquirer: VoidFailures, ledger: InMemoryLedgerStore
) -> None:
    authorized(processor)
    answer = cancel(processor, "duplicate")
    payment = answer["payment"]
    assert (payment["status"], payment["cancellation_reason"]) == ("canceled", "duplicate")
    assert (payment["amount_captured"], payment["failure_code"]) == (0, None)
    assert [e["DetailType"] for e in answer["events"]] == ["payment.canceled"]
    assert answer["events"][0]["Detail"]["event_id"] == "pay_1:payment.canceled"
    assert acquirer.executed_voids() == ["pay_1:void"]
    assert acquirer.records.operations()[0].authorization_id.startswith("auth_")
    assert steps_of(ledger) == ["authorization", "reversal-authorization"]

    again = cancel(processor, "fraudulent")  # the reason of the first cancel stands
    assert again["payment"] == payment and again["events"] == answer["events"]
    assert acquirer.executed_voids() == ["pay_1:void"]  # the same key: one void
    assert steps_of(ledger) == ["authorization", "reversal-authorization"]
    capture = process({"action": "capture", "payment_id": "pay_1", "amount": None}, processor)
    assert (capture["http_status"], capture["error"]["code"]) == (400, "payment_unexpected_state")


def test_a_challenge_is_abandoned_without_the_acquirer_and_never_authorized_after(
    processor: PaymentProcessor,
    table: PaymentsTable,
    acquirer: VoidFailures,
    ledger: InMemoryLedgerStore,
) -> None:
    state = steps.context()
    challenge = {
        "type": "three_ds_challenge",
        "challenge_id": "ch_1",
        "method": "otp",
        "expires_at": "2026-11-22T10:10:00+00:00",
    }
    state["sca"] = {"result": {"required": True, "reason": "no_exemption", "challenge": challenge}}
    process({"action": "require_action", "payment": state}, processor)
    saved = table.get("pay_1")
    assert saved is not None and saved.resume_context is not None
    answer = cancel(processor, None)
    assert answer["payment"]["status"] == "canceled"
    assert answer["payment"]["next_action"] is None
    assert answer["payment"]["cancellation_reason"] is None
    assert [e["DetailType"] for e in answer["events"]] == ["payment.canceled"]
    assert acquirer.voids == [] and steps_of(ledger) == []
    stored = table.get("pay_1")
    assert stored is not None and stored.resume_context is None
    # A resume that passed its challenge before the cancel landed finds the payment canceled.
    resumed = dict(saved.resume_context)
    resumed["sca"] = {"result": {"required": True, "reason": "authenticated", "eci": "05"}}
    late = process({"action": "authorize", "payment": resumed}, processor)
    assert late["payment"]["status"] == "canceled"
    assert [e["DetailType"] for e in late["events"]] == ["payment.canceled"]
    assert acquirer.records.operations() == [] and steps_of(ledger) == []


@pytest.mark.parametrize(
    ("prepare", "status"),
    [
        ("captured", "captured"),
        ("capture_pending", "capture_pending"),
        ("declined", "declined"),
        ("authorizing", "authorizing"),
    ],
)
def test_any_other_state_is_a_400_and_nothing_is_voided(
    processor: PaymentProcessor,
    table: PaymentsTable,
    acquirer: VoidFailures,
    ledger: InMemoryLedgerStore,
    prepare: str,
    status: str,
) -> None:
    if prepare == "declined":
        process({"action": "authorize", "payment": steps.context(last4="9995")}, processor)
    elif prepare == "authorizing":
        with pytest.raises(AcquirerTimeoutError):
            process({"action": "authorize", "payment": steps.context(last4="0408")}, processor)
    else:
        authorized(processor)
        acquirer.lose["capture"] = 1 if prepare == "capture_pending" else 0
        capture = {"action": "capture", "payment_id": "pay_1", "amount": None}
        if prepare == "capture_pending":
            with pytest.raises(AcquirerTimeoutError):
                process(capture, processor)
        else:
            process(capture, processor)
    before = table.get("pay_1")
    assert before is not None and str(before.status) == status
    refused = cancel(processor)
    assert (refused["http_status"], refused["error"]["code"]) == (400, "payment_unexpected_state")
    assert status in refused["error"]["message"] or "pending" in refused["error"]["message"]
    assert acquirer.voids == []
    assert table.get("pay_1") == before
    missing = process({"action": "cancel", "payment_id": "pay_404"}, processor)
    assert missing["http_status"] == 404


@pytest.mark.parametrize("error", [AcquirerUnavailableError, AcquirerRejectedError])
def test_a_void_the_acquirer_did_not_take_leaves_the_payment_authorized(
    processor: PaymentProcessor,
    table: PaymentsTable,
    acquirer: VoidFailures,
    ledger: InMemoryLedgerStore,
    error: type[Exception],
) -> None:
    authorized(processor)
    acquirer.refuse_void = error
    with pytest.raises(error):
        cancel(processor)
    stored = table.get("pay_1")
    assert stored is not None
    assert (stored.status, stored.cancellation_reason) == (PaymentStatus.AUTHORIZED, None)
    assert steps_of(ledger) == ["authorization"]  # the hold stays booked while it holds
    assert cancel(processor)["payment"]["status"] == "canceled"  # retried: voided now
    assert acquirer.executed_voids() == ["pay_1:void"]


def test_a_void_whose_answer_was_lost_stays_canceled_and_the_retry_voids_by_the_same_key(
    processor: PaymentProcessor,
    table: PaymentsTable,
    acquirer: VoidFailures,
    ledger: InMemoryLedgerStore,
) -> None:
    authorized(processor)
    acquirer.lose_void = True
    with pytest.raises(AcquirerTimeoutError):
        cancel(processor)
    stored = table.get("pay_1")
    assert stored is not None and stored.status is PaymentStatus.CANCELED
    # Canceled on the record: no capture can reach the acquirer any more.
    capture = process({"action": "capture", "payment_id": "pay_1", "amount": None}, processor)
    assert capture["http_status"] == 400 and acquirer.executed == {}
    answer = cancel(processor)  # the workflow's retry
    assert answer["payment"]["status"] == "canceled"
    assert acquirer.voids == ["pay_1:void", "pay_1:void"]
    assert acquirer.executed_voids() == ["pay_1:void"]
    assert steps_of(ledger) == ["authorization", "reversal-authorization"]


def test_a_concurrent_capture_and_cancel_never_both_reach_the_acquirer(
    processor: PaymentProcessor, table: PaymentsTable, acquirer: VoidFailures
) -> None:
    authorized(processor)
    start = threading.Barrier(2)
    answers: dict[str, dict[str, Any]] = {}

    def run(name: str, event: dict[str, Any]) -> None:
        start.wait()
        answers[name] = process(event, processor)

    threads = [
        threading.Thread(
            target=run,
            args=("capture", {"action": "capture", "payment_id": "pay_1", "amount": None}),
        ),
        threading.Thread(
            target=run,
            args=("cancel", {"action": "cancel", "payment_id": "pay_1"}),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    won = {name for name, answer in answers.items() if "payment" in answer}
    assert len(won) == 1
    lost = answers[({"capture", "cancel"} - won).pop()]
    assert (lost["http_status"], lost["error"]["code"]) == (400, "payment_unexpected_state")
    stored = table.get("pay_1")
    assert stored is not None
    if won == {"cancel"}:
        assert stored.status is PaymentStatus.CANCELED and acquirer.executed == {}
    else:
        assert stored.status is PaymentStatus.CAPTURED and acquirer.voids == []


def test_the_lambda_answers_the_cancel_as_the_api_payment_and_publishes_its_event(
    processor: PaymentProcessor,
) -> None:
    authorized(processor)
    published: list[Sequence[dict[str, Any]]] = []
    step = {"action": "cancel", "payment_id": "pay_1", "cancellation_reason": "fraudulent"}
    answer = process_payment.process(step, processor, published.append)
    assert set(answer) == {"payment"}
    assert (answer["payment"]["status"], answer["payment"]["cancellation_reason"]) == (
        "canceled",
        "fraudulent",
    )
    assert [[e["DetailType"] for e in batch] for batch in published] == [["payment.canceled"]]
    refused = process_payment.process({**step, "payment_id": "pay_404"}, processor)
    assert refused["http_status"] == 404 and refused["error"]["code"] == "resource_missing"
