"""A payment's metadata: taken from the workflow's context when the payment is first recorded,
answered with the payment, kept out of its events (the fraud stream and the lake never see it)
and not kept a second time in a challenged payment's resume state."""

from __future__ import annotations

from functions.contracts.steps import PaymentContext, PaymentView, StepCard
from functions.domain.payments import EventType, PaymentStatus, new_payment
from functions.services.payment_processing import _resume_state

NOW = "2026-12-02T07:00:00.000+00:00"
METADATA = {"order_id": "ord_1", "cart": "c-9"}


def context() -> PaymentContext:
    return PaymentContext(
        payment_id="pay_1",
        merchant_id="m_1",
        amount=2_500,
        currency="EUR",
        card=StepCard(token="tok_1", brand="visa", last4="4242", first6="424242"),
        metadata=METADATA,
    )


def test_the_first_record_takes_the_metadata_and_the_view_answers_it() -> None:
    payment = new_payment(context().state(), PaymentStatus.AUTHORIZING, NOW)
    assert payment.metadata == METADATA
    assert PaymentView.model_validate(payment.view()).metadata == METADATA


def test_a_payment_without_metadata_answers_an_empty_map() -> None:
    state = context().model_copy(update={"metadata": None}).state()
    assert new_payment(state, PaymentStatus.AUTHORIZING, NOW).view()["metadata"] == {}


def test_metadata_stays_out_of_the_payment_events() -> None:
    payment = new_payment(context().state(), PaymentStatus.AUTHORIZED, NOW)
    for event_type in EventType:
        detail = payment.event(event_type, "bus")["Detail"]
        assert "metadata" not in detail and "ord_1" not in str(detail)


def test_the_resume_state_does_not_repeat_the_metadata() -> None:
    assert "metadata" not in _resume_state(context())
