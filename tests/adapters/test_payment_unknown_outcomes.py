"""Issue 19, item 1: an acquirer timeout means "outcome unknown", never "nothing happened".

The acquirer here executes the operation and then loses its answer (``LostAnswers``), as a
timed-out request at a real acquirer may have done. It counts what it executed by idempotency
key, so a second refund or a capture followed by a void is visible whatever the record says.
"""

from __future__ import annotations

import itertools
from typing import Any

import boto3
import pytest

from functions.adapters.payments_table import AcquirerOperationsTable, PaymentsTable
from functions.domain.acquirer import (
    AcquirerSimulator,
    AcquirerTimeoutError,
    AcquirerUnavailableError,
    OperationResult,
    OperationStatus,
)
from functions.domain.payments import PaymentStatus
from functions.services.payment_processing import PaymentProcessor, RefundDone
from functions.services.reconciliation import Position
from tests import workflow_definition
from tests.adapters import test_payment_steps as steps
from tests.adapters.payment_tables import (
    PAYMENTS_TABLE,
    REGION,
)
from tests.adapters.service_calls import process
from tests.adapters.test_payment_steps import context

BUS = "test-payments"
KEY = b"test-simulator-key-0123456789"


class LostAnswers(AcquirerSimulator):
    """Executes every capture and refund, then loses the answer of the next ``lose[kind]``."""

    def __init__(self) -> None:
        super().__init__(KEY, timeout_s=0.01, sleep=lambda _s: None)
        self.lose = {"capture": 0, "refund": 0}
        self.unavailable = {"capture": 0, "refund": 0}
        self.executed: dict[str, int] = {}
        self.voids: list[str] = []

    def _answer(self, kind: str, key: str, done: OperationResult) -> OperationResult:
        if self.lose[kind]:
            self.lose[kind] -= 1
            raise AcquirerTimeoutError()
        return done

    def capture(
        self, authorization_id: str, amount: int, currency: str, idempotency_key: str
    ) -> OperationResult:
        if self.unavailable["capture"]:
            self.unavailable["capture"] -= 1
            raise AcquirerUnavailableError()
        done = super().capture(authorization_id, amount, currency, idempotency_key)
        self.executed.setdefault(idempotency_key, amount)
        return self._answer("capture", idempotency_key, done)

    def refund(
        self, authorization_id: str, amount: int, currency: str, idempotency_key: str
    ) -> OperationResult:
        if self.unavailable["refund"]:
            self.unavailable["refund"] -= 1
            raise AcquirerUnavailableError()
        done = super().refund(authorization_id, amount, currency, idempotency_key)
        self.executed.setdefault(idempotency_key, amount)
        return self._answer("refund", idempotency_key, done)

    def void(self, authorization_id: str | None, idempotency_key: str) -> OperationResult:
        self.voids.append(idempotency_key)
        return super().void(authorization_id, idempotency_key)

    def total(self, kind: str) -> int:
        return sum(v for k, v in self.executed.items() if f":{kind}:" in k)


table = steps.table  # the payments table on moto, shared with the step tests


@pytest.fixture
def acquirer() -> LostAnswers:
    return LostAnswers()


@pytest.fixture
def processor(table: PaymentsTable, acquirer: LostAnswers) -> PaymentProcessor:
    ticks = itertools.count()
    return PaymentProcessor(
        table, acquirer, BUS, lambda: f"2026-11-22T10:00:{next(ticks) % 60:02d}.000+00:00"
    )


def refund(processor: PaymentProcessor, refund_id: str, amount: int | None) -> dict[str, Any]:
    event = {
        "action": "refund",
        "payment_id": "pay_1",
        "refund": {"refund_id": refund_id, "amount": amount},
    }
    return process(event, processor)


def captured_600(processor: PaymentProcessor) -> None:
    process({"action": "authorize", "payment": context(amount=600)}, processor)
    capture = {"action": "capture", "payment_id": "pay_1", "amount": None, "request_key": "k"}
    assert process(capture, processor)["payment"]["status"] == "captured"


def test_a_refund_whose_answer_is_lost_twice_is_never_paid_twice(
    processor: PaymentProcessor, acquirer: LostAnswers, table: PaymentsTable
) -> None:
    captured_600(processor)
    acquirer.lose["refund"] = 2
    for _ in range(2):  # the step and its one workflow retry, same refund id
        with pytest.raises(AcquirerTimeoutError):
            refund(processor, "re_key1", None)
    # The merchant gives up on the first request and retries with a new Idempotency-Key.
    second = refund(processor, "re_key2", None)
    assert "error" in second, second
    assert acquirer.total("refund") == 600
    stored = table.get("pay_1")
    assert stored is not None and stored.amount_refunded == 600
    assert [(r.refund_id, str(r.status)) for r in stored.refunds] == [("re_key1", "pending")]


def test_a_pending_refund_is_settled_by_the_same_key_not_by_a_second_refund(
    processor: PaymentProcessor, acquirer: LostAnswers, table: PaymentsTable
) -> None:
    captured_600(processor)
    acquirer.lose["refund"] = 1
    with pytest.raises(AcquirerTimeoutError):
        refund(processor, "re_key1", 200)
    # A further refund may take only what the pending one left.
    assert refund(processor, "re_key2", 401)["error"]["code"] == "amount_too_large"
    settled = processor.resolve("pay_1")
    assert [a.refund for a in settled] == [RefundDone(id="re_key1", amount=200)]
    assert [e.DetailType for e in settled[0].events] == ["payment.refunded"]
    stored = table.get("pay_1")
    assert stored is not None and [str(r.status) for r in stored.refunds] == ["succeeded"]
    assert acquirer.total("refund") == 200
    assert processor.resolve("pay_1") == []


def test_a_refund_the_acquirer_refused_is_released(
    processor: PaymentProcessor, acquirer: LostAnswers, table: PaymentsTable
) -> None:
    captured_600(processor)
    acquirer.unavailable["refund"] = 1
    with pytest.raises(AcquirerUnavailableError):
        refund(processor, "re_1", None)
    stored = table.get("pay_1")
    assert stored is not None
    assert (stored.status, stored.amount_refunded, stored.refunds) == (
        PaymentStatus.CAPTURED,
        0,
        (),
    )
    assert refund(processor, "re_2", None)["refund"] == {"id": "re_2", "amount": 600}


def test_a_capture_whose_answer_is_lost_twice_stays_pending_and_is_never_voided(
    processor: PaymentProcessor, acquirer: LostAnswers, table: PaymentsTable
) -> None:
    process({"action": "authorize", "payment": context(amount=1_000)}, processor)
    acquirer.lose["capture"] = 2
    capture = {"action": "capture", "payment_id": "pay_1", "amount": None, "request_key": "pay_1"}
    for _ in range(2):
        with pytest.raises(AcquirerTimeoutError):
            process(capture, processor)
    stored = table.get("pay_1")
    assert stored is not None
    assert (stored.status, stored.capture_pending) == (PaymentStatus.CAPTURE_PENDING, 1_000)
    assert acquirer.executed == {"pay_1:capture:1": 1_000}
    # Compensation must not void money the acquirer may have captured: it answers the payment
    # as it stands, pending, with no event.
    failure = {"Error": "AcquirerTimeoutError", "Cause": "{}"}
    left = process({"action": "void", "payment_id": "pay_1", "failure": failure}, processor)
    assert left["payment"]["status"] == "capture_pending" and left["events"] == []
    assert acquirer.voids == []
    pending = process({"action": "pending", "payment_id": "pay_1"}, processor)
    assert pending["payment"]["status"] == "capture_pending" and pending["events"] == []
    # The scheduled resolution asks the acquirer, which captured: the capture is confirmed.
    settled = processor.resolve("pay_1")
    assert settled[0].captured_amount == 1_000 and settled[0].sequence == 1
    stored = table.get("pay_1")
    assert stored is not None and stored.status is PaymentStatus.CAPTURED
    assert acquirer.executed == {"pay_1:capture:1": 1_000}


def test_a_retried_capture_step_sends_the_same_acquirer_key(
    processor: PaymentProcessor, acquirer: LostAnswers
) -> None:
    process({"action": "authorize", "payment": context(amount=1_000)}, processor)
    acquirer.lose["capture"] = 1
    capture = {"action": "capture", "payment_id": "pay_1", "amount": None, "request_key": "pay_1"}
    with pytest.raises(AcquirerTimeoutError):
        process(capture, processor)
    answer = process(capture, processor)
    assert answer["payment"]["status"] == "captured" and answer["sequence"] == 1
    assert acquirer.executed == {"pay_1:capture:1": 1_000}
    # The same request once more is answered as before; another capture is refused (400).
    assert process(capture, processor)["sequence"] == 1
    again = process({**capture, "request_key": "other"}, processor)
    assert (again["http_status"], again["error"]["code"]) == (400, "payment_unexpected_state")


def test_a_pending_capture_the_acquirer_never_saw_is_sent_again_by_the_resolution(
    processor: PaymentProcessor, acquirer: LostAnswers, table: PaymentsTable
) -> None:
    process({"action": "authorize", "payment": context(amount=1_000)}, processor)
    stored = table.get("pay_1")
    assert stored is not None
    # A step that died after reserving and before asking the acquirer.
    table.save(stored.capture_reserved(1_000, "2026-11-22T10:01:00.000+00:00", "pay_1"))
    assert acquirer.operation_status("pay_1:capture:1") == "not_found"
    settled = processor.resolve("pay_1")
    assert settled[0].payment.status == "captured"
    assert acquirer.operation_status("pay_1:capture:1") == "succeeded"


def _workflow() -> dict[str, Any]:
    return workflow_definition.states()


def _catch_target(state: dict[str, Any], error: str) -> str | None:
    for catcher in state.get("Catch", []):
        if error in catcher["ErrorEquals"] or "States.ALL" in catcher["ErrorEquals"]:
            return str(catcher["Next"])
    return None


UNKNOWN_OUTCOMES = [
    ("Process", "CaptureOutcomeUnknownError"),
    ("Resume", "CaptureOutcomeUnknownError"),
    ("Capture", "AcquirerTimeoutError"),
    ("Capture", "States.Timeout"),
    ("Refund", "AcquirerTimeoutError"),
    ("Refund", "States.Timeout"),
]


@pytest.mark.parametrize(("step", "error"), UNKNOWN_OUTCOMES)
def test_the_workflow_never_compensates_an_unknown_capture_or_refund(step: str, error: str) -> None:
    states = _workflow()
    target = _catch_target(states[step], error)
    assert target is not None and target != "Compensate"
    # The pending answer reads the record and ends: no ledger entry, no void, no event.
    pending = states[target]
    assert pending["Parameters"]["Payload"]["action"] == "pending"
    assert pending["End"] is True


def test_the_workflow_still_compensates_a_sale_the_acquirer_refused_to_capture() -> None:
    states = _workflow()
    for step in ("Process", "Resume"):
        assert _catch_target(states[step], "AcquirerUnavailableError") == "Compensate"
        assert _catch_target(states[step], "AcquirerRejectedError") == "Compensate"


def test_every_capture_step_names_its_request() -> None:
    # A sale's capture is named by its payment id (the service passes it); a later capture by
    # the request's key.
    assert "request_key.$" in _workflow()["Capture"]["Parameters"]["Payload"]


def test_the_simulator_keeps_its_record_in_the_payments_table(table: PaymentsTable) -> None:
    ddb = boto3.client("dynamodb", region_name=REGION)
    records = AcquirerOperationsTable(ddb, PAYMENTS_TABLE)
    first = AcquirerSimulator(KEY, 0.01, lambda _s: None, records=records)
    process_with = PaymentProcessor(table, first, BUS, lambda: "2026-11-22T10:00:00.000+00:00")
    process({"action": "authorize", "payment": context(amount=600)}, process_with)
    capture = {"action": "capture", "payment_id": "pay_1", "amount": None, "request_key": "k"}
    process(capture, process_with)
    # Another container (or the reconciliation) sees what the first one's simulator did.
    other = AcquirerSimulator(KEY, 0.01, lambda _s: None, records=records)
    assert other.operation_status("pay_1:capture:1") is OperationStatus.SUCCEEDED
    assert [(o.reference, o.amount) for o in records.operations()] == [("pay_1:capture:1", 600)]
    # Its records are not payments: the window's read of the update-time index sees pay_1 only.
    window = table.updated_between(
        "2026-11-22T09:00:00.000+00:00", "2026-11-22T11:00:00.000+00:00", Position("")
    )
    assert [p.payment_id for p in window] == ["pay_1"]


def test_the_lost_answers_test_card_refund_is_resolved_by_the_workflow_retry(
    table: PaymentsTable,
) -> None:
    simulator = AcquirerSimulator(KEY, 0.01, lambda _s: None)
    processor = PaymentProcessor(table, simulator, BUS, lambda: "2026-11-22T10:00:00.000+00:00")
    process({"action": "authorize", "payment": context(last4="0259", amount=600)}, processor)
    capture = {"action": "capture", "payment_id": "pay_1", "amount": None, "request_key": "k"}
    with pytest.raises(AcquirerTimeoutError):
        process(capture, processor)
    assert process(capture, processor)["payment"]["status"] == "captured"  # the step's retry
    with pytest.raises(AcquirerTimeoutError):
        refund(processor, "re_1", None)
    answer = refund(processor, "re_1", None)  # the step's retry: same key, no second refund
    assert answer["refund"] == {"id": "re_1", "amount": 600}
    assert answer["payment"]["refunds"] == [{"id": "re_1", "amount": 600, "status": "succeeded"}]
    assert "error" in refund(processor, "re_2", None)
    refunds = [o for o in simulator.records.operations() if o.kind == "refund"]
    assert [(o.reference, o.amount) for o in refunds] == [("pay_1:refund:re_1", 600)]
