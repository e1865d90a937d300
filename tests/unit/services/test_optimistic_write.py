"""The one optimistic-write loop: a write that lost to a concurrent one is read and decided
again, at most three times; anything else the decision raises is its answer and is not retried.
Then the payment service through it, on the in-memory store: a capture that loses its write to a
concurrent cancel is decided again on the canceled payment, never written over it."""

from __future__ import annotations

import pytest

from functions.contracts.steps import PaymentContext
from functions.domain.acquirer import AcquirerSimulator
from functions.domain.payments import (
    InMemoryPaymentStore,
    Payment,
    PaymentRuleError,
    PaymentStatus,
    StaleWriteError,
)
from functions.services.optimistic_write import (
    SAVE_ATTEMPTS,
    WriteContentionError,
    retry_on_conflict,
)
from functions.services.payment_processing import PaymentProcessor

KEY = b"in-memory-simulator-key-0123456789"
NOW = "2026-11-22T10:00:00.000+00:00"


class Record:
    """A versioned value whose first ``conflicts`` writes lose to a concurrent writer."""

    def __init__(self, conflicts: int) -> None:
        self.version = 0
        self.loads = 0
        self.conflicts = conflicts

    def load(self) -> int:
        self.loads += 1
        return self.version

    def write(self, read: int) -> str:
        if self.conflicts:
            self.conflicts -= 1
            self.version += 1  # someone else wrote in between
            raise StaleWriteError("rec_1")
        assert read == self.version, "decided on an old version"
        self.version += 1
        return f"wrote v{self.version}"


def test_a_conflict_is_read_and_decided_again_then_written() -> None:
    record = Record(conflicts=1)
    assert retry_on_conflict("rec_1", record.load, record.write) == "wrote v2"
    assert record.loads == 2


def test_a_write_that_always_loses_gives_up_with_the_typed_error() -> None:
    record = Record(conflicts=SAVE_ATTEMPTS)
    with pytest.raises(WriteContentionError) as raised:
        retry_on_conflict("rec_1", record.load, record.write)
    assert record.loads == SAVE_ATTEMPTS
    assert raised.value.key == "rec_1" and raised.value.attempts == SAVE_ATTEMPTS
    # Still a lost race to callers that already treat one as "changed since it was read".
    assert isinstance(raised.value, StaleWriteError)


def test_another_error_is_the_answer_and_is_not_retried() -> None:
    record = Record(conflicts=0)

    def refuse(_read: int) -> str:
        raise PaymentRuleError("payment_unexpected_state", "no", None)

    with pytest.raises(PaymentRuleError):
        retry_on_conflict("rec_1", record.load, refuse)
    assert record.loads == 1


class CancelBeforeFirstSave(InMemoryPaymentStore):
    """Records the payment canceled (a concurrent cancel request) just before the service's
    first write after ``arm``, so that write is over a version that is no longer the latest."""

    def __init__(self) -> None:
        super().__init__()
        self.armed = False

    def save(self, payment: Payment) -> None:
        if self.armed:
            self.armed = False
            current = self.get(payment.payment_id)
            assert current is not None
            super().save(current.canceled("requested_by_customer", NOW))
        super().save(payment)


def authorized(store: InMemoryPaymentStore) -> PaymentProcessor:
    processor = PaymentProcessor(store, AcquirerSimulator(KEY, 0.01, lambda _s: None), "bus", now)
    context = PaymentContext.model_validate(
        {
            "payment_id": "pay_1",
            "merchant_id": "m_1",
            "amount": 900,
            "currency": "EUR",
            "capture": False,
            "card": {"token": "tok_1", "brand": "visa", "last4": "4242"},
            "sca": {"result": {"required": False, "exemption": "low_value"}},
        }
    )
    assert processor.authorize(context).payment.status == "authorized"
    return processor


def now() -> str:
    return NOW


def test_a_capture_that_lost_to_a_concurrent_cancel_is_refused_on_the_canceled_payment() -> None:
    store = CancelBeforeFirstSave()
    processor = authorized(store)
    store.armed = True
    with pytest.raises(PaymentRuleError):
        processor.capture("pay_1", None, "cap_1")
    saved = store.get("pay_1")
    assert saved is not None and saved.status is PaymentStatus.CANCELED
    assert saved.amount_captured == 0 and saved.capture_pending == 0


def test_a_cancel_that_lost_to_a_concurrent_cancel_answers_the_canceled_payment() -> None:
    store = CancelBeforeFirstSave()
    processor = authorized(store)
    store.armed = True
    answer = processor.cancel("pay_1", "duplicate")
    assert answer.payment.status == "canceled"
    # The concurrent request's reason stands: this call wrote nothing over it.
    assert answer.payment.cancellation_reason == "requested_by_customer"
    assert [e.DetailType for e in answer.events] == ["payment.canceled"]
