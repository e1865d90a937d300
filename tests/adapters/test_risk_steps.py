"""The fraud and SCA workflow steps over the payments table on moto (in process): velocity
counted from the indexes, PSD2 Art. 16 counters kept per card across the platform, a challenge
verified on resume, a recurring series remembered after its first strongly authenticated
payment, and a merchant-initiated agreement opened by an authenticated payment and confirmed
with its network reference (EBA Q&A 2018_4031)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.adapters import payment_wiring as wiring
from functions.adapters.payments_table import PaymentsTable
from functions.adapters.risk_tables import TableMandates, TableMitAgreements, TableScaCounters
from functions.domain.fraud import FraudRules, RulesFraudScorer
from functions.domain.fx import EurRates
from functions.domain.geo import IpCountryTable, IssuerCountryTable
from functions.domain.payments import PaymentStatus, new_payment
from functions.domain.sca import LowValueCounter, MitAgreement, ScaPolicy
from functions.domain.three_ds import SimulatedAcs
from functions.services.fraud_scoring import signals
from functions.services.risk import PaymentRisk, ScaService, platform_card_key
from tests.adapters.payment_tables import (
    PAYMENTS_TABLE,
    REGION,
    create_payments_table,
    fake_aws_environment,
)
from tests.unit.domain.monitored import MONITORED

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
RATES = EurRates.from_json('{"EUR": "1", "USD": "0.92"}')
POLICY = ScaPolicy(rates=RATES, tra_fraud_rate_percent=Decimal("0.13"), monitoring=MONITORED)
ACS = SimulatedAcs(b"test-acs-key-0123456789")
CARD = {
    "token": "tok_card1",
    "brand": "visa",
    "last4": "4242",
    "card_key": "ck_card1",
    "first6": "424242",
    "exp_month": 12,
    "exp_year": 2030,
}
CARD_KEY = platform_card_key(CARD)


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[PaymentsTable]:
    fake_aws_environment(monkeypatch)
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name=REGION)
        create_payments_table(ddb)
        yield PaymentsTable(ddb, PAYMENTS_TABLE)


def service(table: PaymentsTable, policy: ScaPolicy = POLICY) -> ScaService:
    return ScaService(
        counters=TableScaCounters(table),
        mandates=TableMandates(table),
        agreements=TableMitAgreements(boto3.client("dynamodb", region_name=REGION), PAYMENTS_TABLE),
        issuers=IssuerCountryTable.TEST,
        acs=ACS,
        policy=lambda: policy,
    )


def decide_payment(
    payment: dict[str, Any], table: PaymentsTable, policy: ScaPolicy = POLICY
) -> dict[str, Any]:
    decided = service(table, policy).decide(PaymentRisk.from_state(payment), NOW)
    return decided.model_dump(exclude_none=True)


def verify_challenge(payment_id: str, response: str, table: PaymentsTable) -> dict[str, Any]:
    return service(table).verify(payment_id, response, table, NOW).model_dump(exclude_unset=True)


def awaiting_challenge(
    table: PaymentsTable, payment: dict[str, Any], decision: dict[str, Any]
) -> None:
    """Record ``payment`` as the workflow does when the SCA step answered a challenge."""
    table.save(
        new_payment(
            {**payment, "sca": {"result": decision}},
            PaymentStatus.REQUIRES_ACTION,
            NOW.isoformat(),
            next_action=decision["challenge"],
            resume_context=payment,
        )
    )


def counter(table: PaymentsTable, key: str = CARD_KEY) -> tuple[int, int]:
    found, _ = TableScaCounters(table).read(key)
    return found.consecutive, found.cumulative_eur_minor


def state(
    payment_id: str,
    amount: int,
    *,
    exemption: str | None = None,
    decision: str = "allow",
    currency: str = "EUR",
    merchant: str = "m_1",
    card: dict[str, Any] | None = None,
    reasons: tuple[str, ...] = (),
    customer: dict[str, Any] | None = None,
    **preferences: Any,
) -> dict[str, Any]:
    return {
        "payment_id": payment_id,
        "received_at": NOW.isoformat(timespec="milliseconds"),
        "merchant_id": merchant,
        "amount": amount,
        "currency": currency,
        "capture": True,
        "customer": customer
        if customer is not None
        else {"id": "c_1", "ip": "192.0.2.7", "country": "DE", "device_id": "dev-1"},
        "sca_preferences": {"exemption_requested": exemption, **preferences},
        "card": card or CARD,
        "fraud": {"result": {"score": 10, "decision": decision, "reasons": list(reasons)}},
    }


def record(table: PaymentsTable, payment_id: str, minutes_ago: int) -> None:
    at = (NOW - dt.timedelta(minutes=minutes_ago)).isoformat(timespec="milliseconds")
    context = {**state(payment_id, 100), "received_at": at}
    table.save(new_payment(context, PaymentStatus.DECLINED, at))


def test_velocity_counts_the_last_hour_per_card_and_device(table: PaymentsTable) -> None:
    for n, minutes in enumerate((5, 20, 59, 61, 180)):
        record(table, f"pay_{n}", minutes)
    found = signals(
        state("pay_new", 2_500),
        table,
        RATES,
        IpCountryTable.TEST,
        IssuerCountryTable.TEST,
        NOW,
    )
    assert (found.card_payments_last_hour, found.device_payments_last_hour) == (3, 3)
    assert (found.card_country, found.ip_country, found.customer_country) == ("GB", "DE", "DE")
    assessment = RulesFraudScorer(FraudRules()).assess(found)
    assert "velocity_card" not in assessment.reasons  # 3 previous payments: under the limit of 5


def test_f9_card_velocity_is_counted_on_the_card_key_index_across_tokens(
    table: PaymentsTable,
) -> None:
    """Issue 18, finding 9 on DynamoDB: the same card under a new token per customer (a card
    tester rotating customer.id) is counted through the by_card index, which holds the card key
    and no token; a legacy token without a card key is counted on its own token only."""
    for n in range(5):
        card = {**CARD, "token": f"tok_rotated_{n}"}
        customer = {"id": f"c_{n}", "device_id": f"dev_{n}"}
        context = {**state(f"pay_{n}", 100, card=card, customer=customer)}
        table.save(new_payment(context, PaymentStatus.DECLINED, NOW.isoformat()))
    legacy = {**CARD, "token": "tok_legacy", "card_key": None}
    table.save(new_payment(state("pay_legacy", 100, card=legacy), PaymentStatus.DECLINED, ""))

    rotated = state("pay_new", 100, card={**CARD, "token": "tok_new"}, customer={"id": "c_new"})
    found = signals(rotated, table, RATES, IpCountryTable.TEST, IssuerCountryTable.TEST, NOW)
    assert found.card_payments_last_hour == 5
    assert "velocity_card" in RulesFraudScorer(FraudRules()).assess(found).reasons
    again = state("pay_legacy_2", 100, card=legacy, customer={"id": "c_new"})
    found = signals(again, table, RATES, IpCountryTable.TEST, IssuerCountryTable.TEST, NOW)
    assert found.card_payments_last_hour == 1

    # What the index holds: the card key (or token#<token>), the time and the payment id.
    ddb = boto3.client("dynamodb", region_name=REGION)
    indexed = ddb.scan(TableName=PAYMENTS_TABLE, IndexName="by_card")["Items"]
    assert {item["platform_card_key"]["S"] for item in indexed} == {
        f"card#{CARD['card_key']}",
        "token#tok_legacy",
    }
    assert all(set(item) == {"platform_card_key", "created_at", "payment_id"} for item in indexed)


def test_low_value_exemptions_are_counted_per_card_until_the_sixth(table: PaymentsTable) -> None:
    decisions = [
        decide_payment(state(f"pay_{n}", 1_000, exemption="low_value"), table) for n in range(6)
    ]
    assert [d["required"] for d in decisions] == [False] * 5 + [True]
    assert decisions[0]["exemption"] == "low_value"
    assert decisions[5]["reason"] == "low_value_count_exceeded"
    assert decisions[5]["challenge"]["type"] == "three_ds_challenge"
    assert counter(table) == (5, 5_000)


def test_a_challenge_verified_on_resume_resets_the_counters(table: PaymentsTable) -> None:
    for n in range(5):
        decide_payment(state(f"pay_{n}", 1_000, exemption="low_value"), table)
    waiting = state("pay_sca", 1_000, exemption="low_value")
    decision = decide_payment(waiting, table)
    awaiting_challenge(table, waiting, decision)
    wrong = verify_challenge("pay_sca", "000000", table)
    assert wrong["authenticated"] is False
    assert counter(table) == (5, 5_000)
    passed = verify_challenge("pay_sca", SimulatedAcs.PASSING_CODE, table)
    assert passed["authenticated"] is True
    assert passed["payment"]["sca"]["result"]["eci"] == "05"
    assert passed["payment"]["card"]["token"] == "tok_card1"
    assert counter(table) == (0, 0)
    assert verify_challenge("pay_unknown", "123456", table)["http_status"] == 404


def test_resuming_a_payment_that_requires_no_action_is_a_400_state_error(
    table: PaymentsTable,
) -> None:
    exempted = state("pay_done", 1_000, exemption="low_value")
    decide_payment(exempted, table)
    table.save(new_payment(exempted, PaymentStatus.AUTHORIZED, NOW.isoformat()))
    answer = verify_challenge("pay_done", SimulatedAcs.PASSING_CODE, table)
    assert (answer["http_status"], answer["error"]["code"]) == (400, "payment_unexpected_state")


def test_a_recurring_series_is_exempt_after_its_first_authenticated_payment(
    table: PaymentsTable,
) -> None:
    first = state("pay_first", 9_900, exemption="recurring")
    decision = decide_payment(first, table)
    assert (decision["required"], decision["reason"]) == (True, "recurring_first_payment")
    awaiting_challenge(table, first, decision)
    assert verify_challenge("pay_first", SimulatedAcs.PASSING_CODE, table)["authenticated"]
    same = decide_payment(state("pay_second", 9_900, exemption="recurring"), table)
    assert (same["required"], same["exemption"]) == (False, "recurring")
    changed = decide_payment(state("pay_third", 9_901, exemption="recurring"), table)
    assert (changed["required"], changed["reason"]) == (True, "recurring_amount_changed")


def test_usd_is_converted_before_the_tra_band_applies(table: PaymentsTable) -> None:
    within = decide_payment(state("pay_usd", 10_800, currency="USD"), table)
    assert (within["required"], within["exemption"], within["amount_eur_minor"]) == (
        False,
        "transaction_risk_analysis",
        9_936,
    )
    above = decide_payment(state("pay_usd2", 10_900, currency="USD"), table)
    assert above["required"] is True


def test_item6_the_art16_counter_is_per_card_across_merchants(table: PaymentsTable) -> None:
    # The same card at two merchants: two tokens, one card key (the vault's platform-wide MAC).
    other = {**CARD, "token": "tok_other"}
    for n in range(5):
        answer = decide_payment(state(f"pay_a{n}", 1_000, exemption="low_value"), table)
        assert answer["exemption"] == "low_value"
    sixth = decide_payment(
        state("pay_b", 1_000, exemption="low_value", merchant="m_2", card=other), table
    )
    assert (sixth["required"], sixth["reason"]) == (True, "low_value_count_exceeded")


def test_item6_tra_exemptions_count_and_a_challenge_resets(table: PaymentsTable) -> None:
    for n in range(3):
        answer = decide_payment(state(f"pay_t{n}", 3_000), table)
        assert answer["exemption"] == "transaction_risk_analysis"
    assert counter(table) == (3, 9_000)
    low = decide_payment(state("pay_lv", 2_000, exemption="low_value"), table)
    assert (low["required"], low["reason"]) == (True, "low_value_cumulative_exceeded")


def test_item4_fired_risk_reasons_refuse_tra_in_the_step(table: PaymentsTable) -> None:
    foreign = state("pay_us", 9_000, reasons=("country_mismatch_card_ip",))
    answer = decide_payment(
        foreign,
        table,
        ScaPolicy(
            rates=RATES,
            tra_fraud_rate_percent=Decimal("0.13"),
            low_value_limit_eur_minor=0,
            monitoring=MONITORED,
        ),
    )
    assert (answer["required"], answer["reason"]) == (True, "no_exemption")
    off = decide_payment(state("pay_off", 9_000), table, ScaPolicy(rates=RATES))
    assert (off["required"], off["reason"]) == (True, "no_exemption")  # TRA off by default


def test_item8_a_one_leg_out_card_in_a_currency_without_rate_is_not_challenged(
    table: PaymentsTable,
) -> None:
    us_card = {**CARD, "first6": "400000", "last4": "0002"}
    answer = decide_payment(state("pay_us", 50_000, currency="CHF", card=us_card), table)
    assert (answer["required"], answer["in_scope"], answer["reason"]) == (
        False,
        False,
        "one_leg_out_issuer",
    )
    eea = decide_payment(state("pay_eea", 500, currency="CHF"), table)
    assert (eea["required"], eea["reason"]) == (True, "no_rate_for_currency")


def test_item3_a_mit_rests_on_an_agreement_confirmed_with_its_network_reference(
    table: PaymentsTable,
) -> None:
    offline: dict[str, Any] = {"id": "c_1"}  # no IP or device: the customer is not present
    mit = "merchant_initiated"
    flagged = decide_payment(state("pay_mit0", 999_999, exemption=mit, customer=offline), table)
    assert (flagged["required"], flagged["reason"]) == (True, "merchant_initiated_no_agreement")

    first = state("pay_cit", 2_000, setup_future_usage="off_session")
    decision = decide_payment(first, table, ScaPolicy(rates=RATES, low_value_limit_eur_minor=0))
    assert decision["required"] is True
    awaiting_challenge(table, first, decision)
    assert verify_challenge("pay_cit", SimulatedAcs.PASSING_CODE, table)["authenticated"]
    pending = decide_payment(state("pay_mit1", 5_000, exemption=mit, customer=offline), table)
    assert pending["reason"] == "merchant_initiated_no_agreement"  # no network reference yet

    agreement = service(table).confirm_agreement("pay_cit", "nref_visa_123")
    assert agreement is not None and agreement.network_reference == "nref_visa_123"
    accepted = decide_payment(state("pay_mit2", 5_000, exemption=mit, customer=offline), table)
    assert (accepted["required"], accepted["exemption"]) == (False, "merchant_initiated")
    assert counter(table) == (0, 0)  # a MIT is not a payer-initiated payment: not counted
    present = decide_payment(state("pay_mit3", 5_000, exemption=mit), table)
    assert (present["required"], present["reason"]) == (
        True,
        "merchant_initiated_customer_present",
    )
    elsewhere = decide_payment(
        state("pay_mit4", 5_000, exemption=mit, customer=offline, merchant="m_2"), table
    )
    assert elsewhere["reason"] == "merchant_initiated_no_agreement"


def test_counters_read_back_as_domain_values(table: PaymentsTable) -> None:
    counters = TableScaCounters(table)
    counters.write("card#x", LowValueCounter(2, 500), 0)
    assert counters.read("card#x") == (LowValueCounter(2, 500), 1)


@pytest.mark.parametrize(
    ("env", "limit"),
    [
        ({}, None),  # TRA off unless a measured rate is configured
        ({"SCA_TRA_FRAUD_RATE_PERCENT": "0.015"}, 25_000),
        ({"SCA_TRA_FRAUD_RATE_PERCENT": "0.01"}, 50_000),
        ({"SCA_TRA_REFERENCE_FRAUD_RATE_BPS": "13"}, 10_000),  # the old setting, still read
    ],
)
def test_item4_settings_take_a_decimal_fraud_rate(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], limit: int | None
) -> None:
    for name in ("SCA_TRA_FRAUD_RATE_PERCENT", "SCA_TRA_REFERENCE_FRAUD_RATE_BPS"):
        monkeypatch.delenv(name, raising=False)
    fake_aws_environment(monkeypatch, **env)
    wiring.clear()
    try:
        policy = wiring.sca_policy()
        # The configured rate picks the band; only a monitored state can offer it.
        assert policy.tra_limit_eur_minor() is None
        assert dataclasses.replace(policy, monitoring=MONITORED).tra_limit_eur_minor() == limit
    finally:
        wiring.clear()


def test_item4_settings_refuse_a_rate_above_the_lowest_band(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_aws_environment(monkeypatch, SCA_TRA_FRAUD_RATE_PERCENT="0.2")
    with pytest.raises(ValueError, match="sca_tra_fraud_rate_percent"):
        wiring.PaymentFunctionSettings.from_environ()


def test_item13_country_sources_are_configured_not_built_in(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bins = tmp_path / "bins.csv"
    bins.write_text("prefix,country\n4571,DK\n")
    fake_aws_environment(monkeypatch, PAYMENTS_ENVIRONMENT="prod")
    for name in ("ISSUER_COUNTRY_FILE", "ISSUER_COUNTRY_PREFIXES", "IP_COUNTRY_RANGES"):
        monkeypatch.delenv(name, raising=False)
    wiring.clear()
    try:
        assert wiring.issuer_countries().country_of("424242") is None  # no test BINs in prod
        assert wiring.ip_countries().country_of("192.0.2.10") is None
        monkeypatch.setenv("ISSUER_COUNTRY_FILE", str(bins))
        wiring.clear()
        assert wiring.issuer_countries().country_of("457173") == "DK"
        monkeypatch.setenv("PAYMENTS_ENVIRONMENT", "local")
        monkeypatch.delenv("ISSUER_COUNTRY_FILE")
        wiring.clear()
        assert wiring.issuer_countries().country_of("424242") == "GB"
    finally:
        wiring.clear()


def test_item3_an_accepted_mit_carries_the_network_reference_to_quote(
    table: PaymentsTable,
) -> None:
    agreements = TableMitAgreements(boto3.client("dynamodb", region_name=REGION), PAYMENTS_TABLE)
    agreements.open(MitAgreement("m_1", "ck_card1", "pay_cit", None, True))
    assert agreements.confirm("pay_cit", "nref_1") == agreements.confirm("pay_cit", "nref_1")
    assert agreements.confirm("pay_unknown", "nref_2") is None
    offline: dict[str, Any] = {"id": "c_1"}
    answer = decide_payment(
        state("pay_mit", 5_000, exemption="merchant_initiated", customer=offline), table
    )
    assert (answer["exemption"], answer["network_reference"]) == ("merchant_initiated", "nref_1")


def test_item6_a_legacy_token_without_card_key_counts_on_its_token_only() -> None:
    legacy = {k: v for k, v in CARD.items() if k != "card_key"}
    assert platform_card_key(legacy) == "token#tok_card1"
    assert platform_card_key(CARD) == "card#ck_card1"
    # No digest of the truncated card number stands in for the card key.
    assert "424242" not in platform_card_key(legacy) and "bin#" not in platform_card_key(legacy)
