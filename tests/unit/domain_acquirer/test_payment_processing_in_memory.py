"""The payment processing service over its in-memory ports (no AWS): the PaymentStore fake
refuses a stale write like the table does, and an unknown refund outcome stays reserved."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from functions.contracts.steps import PaymentContext, StepFailure
from functions.domain.acquirer import (
    AcquirerRejectedError,
    AcquirerSimulator,
    AcquirerTimeoutError,
    AcquirerUnavailableError,
)
from functions.domain.payments import (
    InMemoryPaymentStore,
    PaymentRuleError,
    PaymentStatus,
    StaleWriteError,
    new_payment,
)
from functions.domain.sca import MitAgreement
from functions.services.payment_processing import PaymentProcessor, RefundDone
from functions.services.risk import InMemoryMitAgreements

KEY = b"in-memory-simulator-key-0123456789"
NOW = "2026-11-22T10:00:00.000+00:00"


def typed(state: dict[str, Any]) -> PaymentContext:
    return PaymentContext.model_validate(state)


def context(last4: str) -> dict[str, Any]:
    return {
        "payment_id": "pay_1",
        "merchant_id": "m_1",
        "amount": 900,
        "currency": "EUR",
        "capture": False,
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
    processor.authorize(typed(context("0259")))  # the card whose first answers are lost
    with pytest.raises(AcquirerTimeoutError):
        processor.capture("pay_1", None, "k")
    # Nothing is refundable while the capture's outcome is unknown.
    with pytest.raises(PaymentRuleError, match="capture_pending"):
        processor.refund("pay_1", "re_1", 400)
    assert [a.payment.status for a in processor.resolve("pay_1")] == ["captured"]
    with pytest.raises(AcquirerTimeoutError):
        processor.refund("pay_1", "re_1", 400)
    # The pending 400 still counts: 500 are left, not 900.
    with pytest.raises(PaymentRuleError) as refused:
        processor.refund("pay_1", "re_2", 600)
    assert refused.value.code == "amount_too_large"
    assert [a.refund for a in processor.resolve("pay_1")] == [RefundDone(id="re_1", amount=400)]
    assert [o.reference for o in simulator.records.operations()] == [
        "pay_1:capture:1",
        "pay_1:refund:re_1",
    ]


class RecordingAgreements(InMemoryMitAgreements):
    def __init__(self) -> None:
        super().__init__()
        self.confirm_calls: list[str] = []

    def confirm(self, initial_payment_id: str, network_reference: str) -> MitAgreement | None:
        self.confirm_calls.append(initial_payment_id)
        return super().confirm(initial_payment_id, network_reference)


def challenged(last4: str = "4242") -> dict[str, Any]:
    state = context(last4)
    state["card"] = {**state["card"], "card_key": "ck_1", "first6": "424242"}
    state["sca"] = {"result": {"required": True, "eci": "05", "authentication_value": "AAAB"}}
    return state


def test_a_challenged_authorization_confirms_the_agreement_it_opened() -> None:
    """EBA Q&A 2018_4031: a MIT rests on an agreement set up with SCA and on the network
    reference of that first authorization, which later MITs quote."""
    agreements = RecordingAgreements()
    agreements.open(MitAgreement("m_1", "ck_1", "pay_1", None, True))
    simulator = AcquirerSimulator(KEY, 0.01, lambda _s: None)
    processor = PaymentProcessor(
        InMemoryPaymentStore(), simulator, "bus", lambda: NOW, agreements=agreements
    )
    assert processor.authorize(typed(challenged())).approved is True
    confirmed = agreements.find("m_1", "ck_1")
    assert confirmed is not None and confirmed.network_reference
    assert confirmed.initial_payment_id == "pay_1"


def test_an_exempted_authorization_does_not_look_for_an_agreement() -> None:
    agreements = RecordingAgreements()
    simulator = AcquirerSimulator(KEY, 0.01, lambda _s: None)
    processor = PaymentProcessor(
        InMemoryPaymentStore(), simulator, "bus", lambda: NOW, agreements=agreements
    )
    assert processor.authorize(typed(context("4242"))).approved is True
    assert agreements.confirm_calls == []


def test_a_declined_challenged_payment_confirms_no_agreement() -> None:
    agreements = RecordingAgreements()
    agreements.open(MitAgreement("m_1", "ck_1", "pay_1", None, True))
    simulator = AcquirerSimulator(KEY, 0.01, lambda _s: None)
    processor = PaymentProcessor(
        InMemoryPaymentStore(), simulator, "bus", lambda: NOW, agreements=agreements
    )
    assert processor.authorize(typed(challenged(last4="0002"))).approved is False
    assert agreements.find("m_1", "ck_1") is None


def test_the_saved_resume_state_keeps_no_bin_beside_the_card_key() -> None:
    """PCI DSS 3.5.1: no truncated card number beside a value that identifies the card, outside
    the vault. The resumed authorization needs the token and the expiry only."""
    store = InMemoryPaymentStore()
    processor = PaymentProcessor(
        store, AcquirerSimulator(KEY, 0.01, lambda _s: None), "bus", lambda: NOW
    )
    state = challenged()
    state["card"] = {**state["card"], "exp_month": 12, "exp_year": 2030}
    challenge = {
        "type": "three_ds_challenge",
        "challenge_id": "ch_1",
        "method": "otp",
        "expires_at": "2026-11-22T10:10:00+00:00",
    }
    state["sca"] = {"result": {"required": True, "challenge": challenge}}
    processor.require_action(typed(state))
    saved = store.get("pay_1")
    assert saved is not None and saved.resume_context is not None
    card = saved.resume_context["card"]
    assert "first6" not in card
    assert (card["token"], card["exp_month"], card["exp_year"]) == ("tok_1", 12, 2030)


# Compensation after a step whose answer was lost on every try (issue 17's chaos run: a
# runtime that died after the write, an answer lost to a timeout): the workflow's Catch runs
# Compensate although the step recorded its outcome. Only what is unfinished is voided.


def _processor() -> tuple[PaymentProcessor, InMemoryPaymentStore, AcquirerSimulator]:
    store = InMemoryPaymentStore()
    simulator = AcquirerSimulator(KEY, 0.01, lambda _s: None)
    return PaymentProcessor(store, simulator, "bus", lambda: NOW), store, simulator


def _compensate(last4: str, *, capture: bool) -> tuple[Any, AcquirerSimulator]:
    processor, _, simulator = _processor()
    state = {**context(last4), "capture": capture}
    # A sale whose capture the acquirer refuses raises: what compensation is for.
    with contextlib.suppress(AcquirerUnavailableError):
        processor.authorize(typed(state), new=True)
    failure = StepFailure(Error="Runtime.ExitError", Cause="the answer was lost")
    answer = processor.void("pay_1", failure, typed(state))
    return answer, simulator


def _voids(simulator: AcquirerSimulator) -> list[str]:
    return [r.reference for r in simulator.request_log.requests() if r.kind == "void"]


@pytest.mark.parametrize(
    ("last4", "capture", "status"),
    [
        ("0002", False, PaymentStatus.DECLINED),  # the decline was published: not a failure
        ("4242", False, PaymentStatus.AUTHORIZED),  # an authorization kept, not thrown away
        ("4242", True, PaymentStatus.CAPTURED),  # money moved: a void cannot undo a capture
    ],
)
def test_compensation_answers_an_outcome_the_step_recorded_and_voids_nothing(
    last4: str, capture: bool, status: PaymentStatus
) -> None:
    answer, simulator = _compensate(last4, capture=capture)
    assert answer.payment.status == status
    assert _voids(simulator) == []


def test_compensation_still_voids_a_sale_whose_capture_the_acquirer_refused() -> None:
    answer, simulator = _compensate("0341", capture=True)  # authorized; its capture fails
    assert answer.payment.status == PaymentStatus.CANCELED
    assert _voids(simulator) == ["pay_1:void"]


# A client's retry of a create whose answer was lost starts a second execution, whose
# assessment counts the first attempt in the velocity rules and may block what the first let
# through (issue 17's chaos run: a declined record with a published payment.authorized).


def _blocked(state: dict[str, Any]) -> PaymentContext:
    return typed({**state, "fraud": {"result": {"decision": "block", "score": 99}}})


@pytest.mark.parametrize("capture", [False, True])
def test_a_fraud_block_on_a_retried_create_keeps_the_recorded_outcome(capture: bool) -> None:
    processor, store, _ = _processor()
    state = {**context("4242"), "capture": capture}
    first = processor.create(typed(state))
    again = processor.create(_blocked(state))
    assert again.payment.status == first.payment.status != PaymentStatus.DECLINED
    stored = store.get("pay_1")
    assert stored is not None and stored.status == first.payment.status


def test_a_fraud_block_on_a_retried_create_finishes_an_authorization_in_flight() -> None:
    processor, store, _ = _processor()
    state = context("4242")
    store.save(new_payment(typed(state).state(), PaymentStatus.AUTHORIZING, NOW))
    answer = processor.create(_blocked(state))
    assert answer.payment.status == PaymentStatus.AUTHORIZED


def test_a_first_fraud_block_still_declines() -> None:
    processor, _, _ = _processor()
    answer = processor.create(_blocked(context("4242")))
    assert answer.payment.status == PaymentStatus.DECLINED


# A capture or refund the acquirer refuses (an authorization it voided, say the stale-hold
# sweeper's void racing the merchant's capture) is the merchant's answer: a 422 naming the
# refusal, the reservation released, never a 200 "authorized" or a 5xx to retry in vain.


def _authorized(processor: PaymentProcessor, store: InMemoryPaymentStore, *, capture: bool) -> str:
    processor.authorize(typed({**context("4242"), "capture": capture}), new=True)
    stored = store.get("pay_1")
    assert stored is not None and stored.authorization_id is not None
    return stored.authorization_id


def test_a_capture_the_acquirer_refuses_is_a_422_and_releases_the_reservation() -> None:
    processor, store, simulator = _processor()
    simulator.void(_authorized(processor, store, capture=False), "sweeper:void")
    with pytest.raises(PaymentRuleError) as refused:
        processor.capture("pay_1", None, "m_1:capture-key")
    assert (refused.value.code, refused.value.http_status) == ("capture_refused", 422)
    assert "authorization_voided" in refused.value.message
    stored = store.get("pay_1")
    assert stored is not None and stored.status == PaymentStatus.AUTHORIZED
    assert stored.capture_pending == 0 and stored.amount_captured == 0


def test_a_refund_the_acquirer_refuses_is_a_422_and_releases_the_reservation() -> None:
    processor, store, simulator = _processor()
    _authorized(processor, store, capture=True)
    original = simulator.refund

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AcquirerRejectedError("refund_not_allowed")

    simulator.refund = refuse  # type: ignore[method-assign]
    with pytest.raises(PaymentRuleError) as refused:
        processor.refund("pay_1", "re_1", 100)
    simulator.refund = original  # type: ignore[method-assign]
    assert (refused.value.code, refused.value.http_status) == ("refund_refused", 422)
    stored = store.get("pay_1")
    assert stored is not None and stored.amount_refunded == 0 and not stored.pending_refunds


def test_reconciliation_still_sees_a_refused_pending_capture_as_the_acquirer_s_error() -> None:
    """resolve() is the reconciliation's: it keeps the acquirer's own error, which it logs
    and moves on from, rather than the merchant's answer."""
    processor, store, simulator = _processor()
    authorization_id = _authorized(processor, store, capture=False)
    payment = store.get("pay_1")
    assert payment is not None
    store.save(payment.capture_reserved(900, NOW, "m_1:capture-key"))
    simulator.void(authorization_id, "sweeper:void")
    with pytest.raises(AcquirerRejectedError):
        processor.resolve("pay_1")
    stored = store.get("pay_1")
    assert stored is not None and stored.status == PaymentStatus.AUTHORIZED
