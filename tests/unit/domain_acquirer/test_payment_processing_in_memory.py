"""The payment processing service over its in-memory ports (no AWS): the PaymentStore fake
refuses a stale write like the table does, and an unknown refund outcome stays reserved."""

from __future__ import annotations

from typing import Any

import pytest

from functions.domain.acquirer import AcquirerSimulator, AcquirerTimeoutError
from functions.domain.payments import (
    InMemoryPaymentStore,
    PaymentRuleError,
    PaymentStatus,
    StaleWriteError,
    new_payment,
)
from functions.services.payment_processing import PaymentProcessor

KEY = b"in-memory-simulator-key-0123456789"
NOW = "2026-11-22T10:00:00.000+00:00"


def context(last4: str) -> dict[str, Any]:
    return {
        "payment_id": "pay_1",
        "merchant_id": "m_1",
        "amount": 900,
        "currency": "EUR",
        "card": {"token": "tok_1", "brand": "visa", "last4": last4},
        "sca": {"result": {"required": False, "exemption": "low_value"}},
    }


def test_the_in_memory_store_refuses_a_write_over_a_version_it_did_not_read() -> None:
    store = InMemoryPaymentStore()
    first = new_payment(context("4242"), PaymentStatus.AUTHORIZING, NOW)
    store.save(first)
    with pytest.raises(StaleWriteError):
        store.save(first)  # version 0 again: the payment exists
    store.save(first.authorized("auth_1", NOW))
    with pytest.raises(StaleWriteError):
        store.save(first.declined("do_not_honor", NOW))  # derived from version 0, not 1


def test_a_lost_refund_answer_keeps_its_reservation_until_the_acquirer_record_settles_it() -> None:
    store = InMemoryPaymentStore()
    simulator = AcquirerSimulator(KEY, 0.01, lambda _s: None)
    processor = PaymentProcessor(store, simulator, "bus", lambda: NOW)
    processor.authorize(context("0259"))  # the card whose first answers are lost
    with pytest.raises(AcquirerTimeoutError):
        processor.capture("pay_1", None, "k")
    # Nothing is refundable while the capture's outcome is unknown.
    with pytest.raises(PaymentRuleError, match="capture_pending"):
        processor.refund("pay_1", "re_1", 400)
    assert [a["payment"]["status"] for a in processor.resolve("pay_1")] == ["captured"]
    with pytest.raises(AcquirerTimeoutError):
        processor.refund("pay_1", "re_1", 400)
    # The pending 400 still counts: 500 are left, not 900.
    with pytest.raises(PaymentRuleError) as refused:
        processor.refund("pay_1", "re_2", 600)
    assert refused.value.code == "amount_too_large"
    assert [a["refund"] for a in processor.resolve("pay_1")] == [{"id": "re_1", "amount": 400}]
    assert [o.reference for o in simulator.records.operations()] == [
        "pay_1:capture:1",
        "pay_1:refund:re_1",
    ]
