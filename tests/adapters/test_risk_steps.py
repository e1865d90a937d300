"""The fraud and SCA workflow steps over the payments table on moto (in process): velocity
counted from the indexes, PSD2 low-value counters kept per card, a challenge verified on resume
and a recurring series remembered after its first strongly authenticated payment."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.adapters.payments_table import PaymentsTable
from functions.domain.fraud import FraudRules, RulesFraudScorer
from functions.domain.fx import EurRates
from functions.domain.geo import IpCountryTable, IssuerCountryTable
from functions.domain.payments import PaymentStatus, new_payment
from functions.domain.sca import ScaPolicy
from functions.domain.three_ds import SimulatedAcs
from functions.handlers.decide_sca import decide_payment, verify_challenge
from functions.handlers.score_fraud import signals
from tests.adapters.payment_tables import (
    PAYMENTS_TABLE,
    REGION,
    create_payments_table,
    fake_aws_environment,
)

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
RATES = EurRates.from_json('{"EUR": "1", "USD": "0.92"}')
POLICY = ScaPolicy(rates=RATES, tra_reference_fraud_rate_bps=13)
ACS = SimulatedAcs(b"test-acs-key-0123456789")


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[PaymentsTable]:
    fake_aws_environment(monkeypatch)
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name=REGION)
        create_payments_table(ddb)
        yield PaymentsTable(ddb, PAYMENTS_TABLE)


def state(
    payment_id: str,
    amount: int,
    *,
    exemption: str | None = None,
    decision: str = "allow",
    currency: str = "EUR",
) -> dict[str, Any]:
    return {
        "payment_id": payment_id,
        "received_at": NOW.isoformat(timespec="milliseconds"),
        "merchant_id": "m_1",
        "amount": amount,
        "currency": currency,
        "capture": True,
        "customer": {"id": "c_1", "ip": "192.0.2.7", "country": "DE", "device_id": "dev-1"},
        "sca_preferences": {"exemption_requested": exemption},
        "card": {
            "token": "tok_card1",
            "brand": "visa",
            "last4": "4242",
            "fingerprint": "fp_1",
            "first6": "424242",
        },
        "fraud": {"result": {"score": 10, "decision": decision, "reasons": []}},
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
        IpCountryTable.DEFAULT,
        IssuerCountryTable.DEFAULT,
        NOW,
    )
    assert (found.card_payments_last_hour, found.device_payments_last_hour) == (3, 3)
    assert (found.card_country, found.ip_country, found.customer_country) == ("GB", "DE", "DE")
    assessment = RulesFraudScorer(FraudRules()).assess(found)
    assert "velocity_card" not in assessment.reasons  # 3 previous payments: under the limit of 5


def test_low_value_exemptions_are_counted_per_card_until_the_sixth(table: PaymentsTable) -> None:
    decisions = [
        decide_payment(state(f"pay_{n}", 1_000, exemption="low_value"), table, POLICY, ACS, NOW)
        for n in range(6)
    ]
    assert [d["required"] for d in decisions] == [False] * 5 + [True]
    assert decisions[0]["exemption"] == "low_value"
    assert decisions[5]["reason"] == "low_value_count_exceeded"
    assert decisions[5]["challenge"]["type"] == "three_ds_challenge"
    assert table.read_counter("fp_1")[:2] == (5, 5_000)


def test_a_challenge_verified_on_resume_resets_the_counters(table: PaymentsTable) -> None:
    for n in range(5):
        decide_payment(state(f"pay_{n}", 1_000, exemption="low_value"), table, POLICY, ACS, NOW)
    waiting = state("pay_sca", 1_000, exemption="low_value")
    decision = decide_payment(waiting, table, POLICY, ACS, NOW)
    payment = new_payment(
        {**waiting, "sca": {"result": decision}},
        PaymentStatus.REQUIRES_ACTION,
        NOW.isoformat(),
        next_action=decision["challenge"],
        resume_context=waiting,
    )
    table.save(payment)
    wrong = verify_challenge("pay_sca", "000000", table, ACS, NOW)
    assert wrong["authenticated"] is False
    assert table.read_counter("fp_1")[:2] == (5, 5_000)
    passed = verify_challenge("pay_sca", SimulatedAcs.PASSING_CODE, table, ACS, NOW)
    assert passed["authenticated"] is True
    assert passed["payment"]["sca"]["result"]["eci"] == "05"
    assert passed["payment"]["card"]["token"] == "tok_card1"
    assert table.read_counter("fp_1")[:2] == (0, 0)
    assert verify_challenge("pay_unknown", "123456", table, ACS, NOW)["http_status"] == 404


def test_a_recurring_series_is_exempt_after_its_first_authenticated_payment(
    table: PaymentsTable,
) -> None:
    first = state("pay_first", 9_900, exemption="recurring")
    decision = decide_payment(first, table, POLICY, ACS, NOW)
    assert (decision["required"], decision["reason"]) == (True, "recurring_first_payment")
    table.save(
        new_payment(
            {**first, "sca": {"result": decision}},
            PaymentStatus.REQUIRES_ACTION,
            NOW.isoformat(),
            next_action=decision["challenge"],
            resume_context=first,
        )
    )
    assert verify_challenge("pay_first", SimulatedAcs.PASSING_CODE, table, ACS, NOW)[
        "authenticated"
    ]
    same = decide_payment(
        state("pay_second", 9_900, exemption="recurring"), table, POLICY, ACS, NOW
    )
    assert (same["required"], same["exemption"]) == (False, "recurring")
    changed = decide_payment(
        state("pay_third", 9_901, exemption="recurring"), table, POLICY, ACS, NOW
    )
    assert (changed["required"], changed["reason"]) == (True, "recurring_amount_changed")


def test_usd_is_converted_before_the_tra_band_applies(table: PaymentsTable) -> None:
    within = decide_payment(state("pay_usd", 10_800, currency="USD"), table, POLICY, ACS, NOW)
    assert (within["required"], within["exemption"], within["amount_eur_minor"]) == (
        False,
        "transaction_risk_analysis",
        9_936,
    )
    above = decide_payment(state("pay_usd2", 10_900, currency="USD"), table, POLICY, ACS, NOW)
    assert above["required"] is True
