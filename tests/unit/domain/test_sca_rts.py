"""Issue 19's PSD2 SCA items, one reproduction each: merchant-initiated payments need an
agreement set up with SCA (EBA Q&A 2018_4031), TRA needs a fraud rate and no Art. 18(2)(c) risk
factor, a ``review`` decision steps up, the Art. 16 counters count every unauthenticated remote
payment, and scope (issuer, acquirer, channel) comes before exemptions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from functions.domain.fx import EurRates
from functions.domain.sca import (
    Channel,
    Exemption,
    LowValueCounter,
    MitAgreement,
    ScaPolicy,
    ScaRequest,
    decide,
)
from tests.unit.domain.monitored import MONITORED

RATES = EurRates(rates={"USD": Decimal("0.92")})
AGREEMENT = MitAgreement(
    merchant_id="m_1",
    card_key="fp_1",
    initial_payment_id="pay_cit",
    network_reference="nref_123",
    authenticated=True,
)


def policy(**changes: Any) -> ScaPolicy:
    return ScaPolicy(rates=RATES, **{"monitoring": MONITORED, **changes})


def request(amount: int, exemption: Exemption | None = None, **changes: Any) -> ScaRequest:
    fields: dict[str, Any] = {
        "merchant_id": "m_1",
        "amount_minor": amount,
        "currency": "EUR",
        "exemption_requested": exemption,
        "fraud_decision": "allow",
        "counter": LowValueCounter(),
        "merchant_card_key": "fp_1",
        "issuer_country": "DE",
    }
    return ScaRequest(**{**fields, **changes})


# ------------------------------------------------ item 3: merchant-initiated (EBA Q&A 2018_4031)


def test_item3_mit_without_an_agreement_needs_sca() -> None:
    decision = decide(request(999_999, Exemption.MERCHANT_INITIATED), policy())
    assert (decision.required, decision.reason) == (True, "merchant_initiated_no_agreement")


@pytest.mark.parametrize(
    "agreement",
    [
        MitAgreement("m_2", "fp_1", "pay_cit", "nref_123", True),  # another merchant's
        MitAgreement("m_1", "fp_9", "pay_cit", "nref_123", True),  # another card
        MitAgreement("m_1", "fp_1", "pay_cit", "nref_123", False),  # not set up with SCA
        MitAgreement("m_1", "fp_1", "pay_cit", None, True),  # no network reference yet
    ],
    ids=["other-merchant", "other-card", "not-authenticated", "no-network-reference"],
)
def test_item3_mit_needs_this_merchants_authenticated_agreement(agreement: MitAgreement) -> None:
    decision = decide(
        request(5_000, Exemption.MERCHANT_INITIATED, mit_agreement=agreement), policy()
    )
    assert (decision.required, decision.reason) == (True, "merchant_initiated_no_agreement")


def test_item3_mit_on_an_agreement_is_out_of_scope_and_counts_nothing() -> None:
    decision = decide(
        request(
            999_999,
            Exemption.MERCHANT_INITIATED,
            mit_agreement=AGREEMENT,
            counter=LowValueCounter(5, 10_000),
        ),
        policy(),
    )
    assert (decision.required, decision.exemption, decision.reason) == (
        False,
        Exemption.MERCHANT_INITIATED,
        "merchant_initiated_out_of_scope",
    )
    assert decision.counter_after == LowValueCounter(5, 10_000)


def test_item3_mit_is_refused_when_the_customer_is_present() -> None:
    decision = decide(
        request(
            5_000, Exemption.MERCHANT_INITIATED, mit_agreement=AGREEMENT, customer_present=True
        ),
        policy(),
    )
    assert (decision.required, decision.reason) == (True, "merchant_initiated_customer_present")


# --------------------------------------------------------- item 4: TRA (RTS Art. 18-21)


def test_item4_tra_is_off_by_default() -> None:
    assert ScaPolicy(rates=RATES).tra_limit_eur_minor() is None
    decision = decide(request(9_000, Exemption.TRANSACTION_RISK_ANALYSIS), policy())
    assert decision.reason == "tra_not_offered"


@pytest.mark.parametrize(
    ("rate", "limit"),
    [
        ("0.015", 25_000),  # between 0.01 % and 0.06 %: the EUR 250 band, not EUR 500
        ("0.01", 50_000),
        ("0.0100001", 25_000),
        ("0.06", 25_000),
        ("0.13", 10_000),
        ("0.1300001", None),
    ],
)
def test_item4_a_decimal_fraud_rate_picks_the_annex_band(rate: str, limit: int | None) -> None:
    assert policy(tra_fraud_rate_percent=Decimal(rate)).tra_limit_eur_minor() == limit


def test_item4_tra_is_refused_when_an_art18_2c_risk_factor_fired() -> None:
    # A US card used from Germany by a German customer: abnormal payer location, Art. 18(2)(c)(v).
    reasons = ("country_mismatch_card_ip", "country_mismatch_card_customer")
    decision = decide(
        request(9_000, None, fraud_reasons=reasons, counter=LowValueCounter(0, 0)),
        policy(tra_fraud_rate_percent=Decimal("0.13"), low_value_limit_eur_minor=0),
    )
    assert (decision.required, decision.reason) == (True, "no_exemption")
    requested = decide(
        request(9_000, Exemption.TRANSACTION_RISK_ANALYSIS, fraud_reasons=reasons),
        policy(tra_fraud_rate_percent=Decimal("0.13")),
    )
    assert requested.reason == "tra_risk_factor_present"


@pytest.mark.parametrize(
    "reason",
    ["amount_unusual", "velocity_device", "velocity_card", "country_mismatch_ip_customer", "new"],
)
def test_item4_every_risk_class_refuses_tra(reason: str) -> None:
    decision = decide(
        request(9_000, Exemption.TRANSACTION_RISK_ANALYSIS, fraud_reasons=(reason,)),
        policy(tra_fraud_rate_percent=Decimal("0.13")),
    )
    assert decision.reason == "tra_risk_factor_present"


def test_item4_intra_eea_use_is_not_a_risk_factor() -> None:
    decision = decide(
        request(
            9_000,
            Exemption.TRANSACTION_RISK_ANALYSIS,
            fraud_reasons=("country_mismatch_intra_eea_uk",),
        ),
        policy(tra_fraud_rate_percent=Decimal("0.13")),
    )
    assert (decision.required, decision.reason) == (False, "tra_within_band")


# ------------------------------------------------------------ item 5: review steps up


@pytest.mark.parametrize(
    ("exemption", "extra"),
    [
        (Exemption.LOW_VALUE, {}),
        (None, {}),
        (Exemption.MERCHANT_INITIATED, {"mit_agreement": AGREEMENT}),
    ],
    ids=["low-value", "no-request", "mit"],
)
def test_item5_a_review_decision_steps_up(exemption: Exemption | None, extra: Any) -> None:
    decision = decide(request(2_500, exemption, fraud_decision="review", **extra), policy())
    assert (decision.required, decision.reason) == (True, "fraud_review_step_up")


def test_item5_review_exemptions_are_an_explicit_policy_switch() -> None:
    lenient = policy(review_steps_up=False)
    decision = decide(request(2_500, Exemption.LOW_VALUE, fraud_decision="review"), lenient)
    assert (decision.required, decision.reason) == (False, "low_value_within_limits")


# ------------------------------------------------------- item 6: Art. 16 counters


def test_item6_a_tra_exempted_payment_counts_towards_art16() -> None:
    tra = policy(tra_fraud_rate_percent=Decimal("0.13"))
    counter = LowValueCounter()
    for _ in range(3):
        decision = decide(request(9_000, Exemption.TRANSACTION_RISK_ANALYSIS, counter=counter), tra)
        assert decision.exemption is Exemption.TRANSACTION_RISK_ANALYSIS
        counter = decision.counter_after
    assert counter == LowValueCounter(3, 27_000)
    low_value = decide(request(2_500, Exemption.LOW_VALUE, counter=counter), tra)
    assert (low_value.required, low_value.reason) == (True, "low_value_cumulative_exceeded")


def test_item6_the_request_carries_the_platform_card_key() -> None:
    assert request(100, card_key="card#abc").card_key == "card#abc"


# ---------------------------------------------------------------- item 8: scope


def test_item8_one_leg_out_usd_payment_is_best_effort_not_no_rate() -> None:
    decision = decide(request(50_000, None, currency="CHF", issuer_country="US"), policy())
    assert (decision.required, decision.in_scope, decision.reason) == (
        False,
        False,
        "one_leg_out_issuer",
    )


def test_item8_an_eea_card_without_a_rate_still_needs_sca() -> None:
    decision = decide(request(5_000, None, currency="CHF", issuer_country="FR"), policy())
    assert (decision.required, decision.in_scope, decision.reason) == (
        True,
        True,
        "no_rate_for_currency",
    )


def test_item8_one_leg_out_challenge_is_a_policy_switch() -> None:
    decision = decide(
        request(50_000, None, issuer_country="US"), policy(challenge_one_leg_out=True)
    )
    assert (decision.required, decision.reason) == (True, "one_leg_out_challenged")


def test_item8_uk_cards_and_unknown_issuers_are_in_scope() -> None:
    for country in ("GB", None):
        decision = decide(request(50_000, None, issuer_country=country), policy())
        assert (decision.in_scope, decision.required) == (True, True)


def test_item8_moto_is_out_of_scope() -> None:
    decision = decide(request(50_000, None, channel=Channel.MOTO), policy())
    assert (decision.required, decision.in_scope, decision.reason) == (
        False,
        False,
        "moto_out_of_scope",
    )


def test_item8_acquirer_outside_the_eea_is_out_of_scope() -> None:
    decision = decide(request(50_000, None), policy(acquirer_country="US"))
    assert (decision.required, decision.reason) == (False, "acquirer_outside_eea_uk")
    inside = decide(request(50_000, None), policy(acquirer_country="NL"))
    assert inside.required


def test_item8_a_blocked_payment_is_never_waved_through_by_scope() -> None:
    decision = decide(request(50_000, None, issuer_country="US", fraud_decision="block"), policy())
    assert (decision.required, decision.reason) == (True, "fraud_blocked")
