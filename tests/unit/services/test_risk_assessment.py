"""The risk step's use case (``services.risk_assessment``) on in-memory ports: fraud first, then
SCA judged with the fraud outcome in hand (RTS Art. 18(2)(c)), one typed answer."""

from __future__ import annotations

import datetime as dt
from typing import Any

from functions.contracts.steps import AssessAnswer, PaymentContext
from functions.domain.fraud import FraudRules, Reason, RulesFraudScorer
from functions.domain.fx import EurRates
from functions.domain.geo import IpCountryTable, IssuerCountryTable
from functions.domain.payments import PaymentStatus, new_payment
from functions.domain.sca import ScaPolicy
from functions.domain.three_ds import SimulatedAcs
from functions.services.risk import InMemoryMitAgreements, InMemoryRiskStore, ScaService
from functions.services.risk_assessment import RiskAssessment
from tests.unit.services.fakes import IndexedPaymentRecords
from tests.unit.vault.helpers import make_harness

NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
RATES = EurRates.from_json('{"EUR": "1"}')
HARNESS = make_harness()
VISA = "4242424242424242"


def card(customer: str) -> dict[str, Any]:
    tokenized = HARNESS.vault.tokenize("m_1", VISA, customer_id=customer)
    return {
        "token": tokenized.token,
        "brand": tokenized.brand.value,
        "last4": tokenized.last4,
        "first6": "424242",
        "card_key": tokenized.card_key,
    }


def context(payment_id: str, amount: int, customer: str, minutes_ago: int = 0) -> dict[str, Any]:
    at = (NOW - dt.timedelta(minutes=minutes_ago)).isoformat(timespec="milliseconds")
    return {
        "payment_id": payment_id,
        "received_at": at,
        "merchant_id": "m_1",
        "amount": amount,
        "currency": "EUR",
        "card": card(customer),
        "customer": {"id": customer, "device_id": f"dev_{payment_id}"},
    }


# Card velocity alone (weight 40) sends a payment to review under these rules.
RULES = FraudRules(review_threshold=40)


def risk(records: IndexedPaymentRecords) -> RiskAssessment:
    sca = ScaService(
        counters=InMemoryRiskStore(),
        mandates=InMemoryRiskStore(),
        agreements=InMemoryMitAgreements(),
        issuers=IssuerCountryTable.TEST,
        acs=SimulatedAcs(b"test-acs-key-0123456789"),
        policy=lambda: ScaPolicy(rates=RATES),
    )
    return RiskAssessment(
        scorer=RulesFraudScorer(RULES),
        velocity=records,
        rates=RATES,
        ips=IpCountryTable.TEST,
        issuers=IssuerCountryTable.TEST,
        stream=None,
        sca=sca,
        payments=records,
    )


def test_a_clean_payment_is_answered_with_both_results_and_its_context_unchanged() -> None:
    payment = PaymentContext.model_validate(context("pay_clean", 2_000, "c_1"))
    answer = risk(IndexedPaymentRecords()).assess(payment, NOW)
    assert isinstance(answer, AssessAnswer)
    assessed = answer.payment
    assert assessed.fraud is not None and assessed.fraud.result.decision == "allow"
    assert assessed.sca is not None and assessed.sca.result.required is False
    assert assessed.sca.result.exemption == "low_value"
    assert assessed.model_dump(exclude={"fraud", "sca"}) == payment.model_dump(
        exclude={"fraud", "sca"}
    )


def test_sca_is_decided_with_the_fraud_outcome_in_hand() -> None:
    """A card seen too often in the last hour fires velocity: the same low amount that was
    exempt above now gets no exemption (a fraud review steps up to SCA) and a challenge."""
    records = IndexedPaymentRecords()
    for n in range(RULES.card_velocity_per_hour):
        earlier = context(f"pay_{n}", 2_000, "c_2", minutes_ago=5)
        records.save(new_payment(earlier, PaymentStatus.DECLINED, ""))
    payment = PaymentContext.model_validate(context("pay_next", 2_000, "c_2"))
    assessed = risk(records).assess(payment, NOW).payment
    assert assessed.fraud is not None and assessed.sca is not None
    assert Reason.VELOCITY_CARD.value in assessed.fraud.result.reasons
    assert assessed.fraud.result.decision == "review"
    assert (assessed.sca.result.required, assessed.sca.result.reason) == (
        True,
        "fraud_review_step_up",
    )
    assert assessed.sca.result.challenge is not None


def test_resuming_an_unknown_payment_is_a_404_answer_not_an_exception() -> None:
    answer = risk(IndexedPaymentRecords()).verify("pay_nothing", "123456", NOW)
    assert (answer.http_status, answer.error is not None) == (404, True)
    assert answer.payment is None
