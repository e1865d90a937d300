"""The risk step records what it judged a payment on (``FraudResult.inputs``), in the shape the
step contract accepts, and the payment events carry it on to the fraud stream."""

from __future__ import annotations

from functions.contracts.events import parse_entry
from functions.contracts.steps import FraudResult
from functions.domain.fraud import FraudAssessment, FraudDecision, FraudSignals
from functions.domain.payments import EventType, PaymentStatus, new_payment
from functions.services.fraud_scoring import fraud_result

SIGNALS = FraudSignals(
    amount_minor=1_000,
    currency="USD",
    amount_eur_minor=920,
    card_country="US",
    ip_country=None,
    customer_country="DE",
    card_payments_last_hour=0,
    device_payments_last_hour=0,
)
ASSESSMENT = FraudAssessment(score=5, decision=FraudDecision.ALLOW, reasons=())


def test_the_fraud_result_keeps_its_inputs_and_leaves_out_the_unknown() -> None:
    result = fraud_result(ASSESSMENT, SIGNALS, "198.51.100.4")
    assert isinstance(result, FraudResult)
    assert result.model_dump(exclude_none=True)["inputs"] == {
        "ip": "198.51.100.4",
        "billing_country": "DE",
        "card_country": "US",
        "amount_eur_minor": 920,
    }


def test_without_signals_the_result_is_the_score_alone() -> None:
    assert "inputs" not in fraud_result(ASSESSMENT).model_dump(exclude_none=True)


def test_a_declined_payment_event_carries_the_inputs() -> None:
    context = {
        "payment_id": "pay_abc",
        "merchant_id": "m_1",
        "amount": 1_000,
        "currency": "USD",
        "customer": {"device_id": "dev-9"},
        "card": {"token": "tok_1", "brand": "visa", "last4": "4242", "card_key": "ck_x"},
        "fraud": {
            "result": fraud_result(ASSESSMENT, SIGNALS, "198.51.100.4").model_dump(
                exclude_none=True
            )
        },
    }
    payment = new_payment(context, PaymentStatus.DECLINED, "2026-12-01T00:00:00+00:00")
    detail = parse_entry(payment.event(EventType.DECLINED, "bus")).Detail
    assert (detail["ip"], detail["amount_eur_minor"], detail["device_id"]) == (
        "198.51.100.4",
        920,
        "dev-9",
    )
    assert detail["platform_card_key"] == "card#ck_x"
