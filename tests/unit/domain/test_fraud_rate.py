"""The Art. 19 fraud rate, its Art. 20 report, and TRA stopping when a band's monitored rate
exceeds its reference rate (Commission Delegated Regulation (EU) 2018/389)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from functions.domain.fraud_rate import (
    ANNEX_REMOTE_CARD_BANDS,
    FraudKind,
    FraudReport,
    InMemoryFraudRecords,
    RemotePayment,
    fraud_rate_report,
)
from functions.domain.fx import EurRates
from functions.domain.sca import Exemption, LowValueCounter, ScaPolicy, ScaRequest, decide

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
BAND_100, BAND_250, BAND_500 = ANNEX_REMOTE_CARD_BANDS


def records(
    *payments: tuple[str, int, int], fraud: dict[str, int] | None = None
) -> InMemoryFraudRecords:
    """(payment id, EUR cents, days ago) and {payment id: fraud EUR cents}."""
    found = InMemoryFraudRecords()
    for payment_id, amount, days_ago in payments:
        found.payments.append(RemotePayment(payment_id, NOW - dt.timedelta(days=days_ago), amount))
    for payment_id, amount in (fraud or {}).items():
        found.reports.append(FraudReport(payment_id, amount, FraudKind.FRAUDULENT))
    return found


def test_art19_rate_is_fraud_value_over_all_remote_value() -> None:
    # EUR 1,000,000 of EUR 50 payments with EUR 150 of fraud: 0.015 %.
    payments = [(f"p{i}", 5_000, 1) for i in range(20_000)]
    report = fraud_rate_report(
        records(*payments, fraud={"p0": 5_000, "p1": 5_000, "p2": 5_000}), NOW
    )
    assert report.overall.rate_percent == Decimal("0.015")
    assert report.band_offered(BAND_250) and report.band_offered(BAND_100)
    assert not report.band_offered(BAND_500)  # 0.015 % > 0.01 %
    assert report.exceeded() == (BAND_500,)


def test_art19_window_is_rolling_90_days() -> None:
    report = fraud_rate_report(
        records(("old", 1_000_000, 90), ("new", 1_000_000, 89), fraud={"old": 1_000_000}), NOW
    )
    assert (report.overall.fraud_eur_minor, report.overall.total_eur_minor) == (0, 1_000_000)


def test_art19_a_payment_counts_once_and_at_most_its_value() -> None:
    report = fraud_rate_report(records(("p", 10_000, 1), fraud={"p": 8_000}), NOW)
    twice = records(("p", 10_000, 1))
    twice.reports += [
        FraudReport("p", 8_000, FraudKind.FRAUDULENT),
        FraudReport("p", 8_000, FraudKind.UNAUTHORISED),
    ]
    assert report.overall.fraud_eur_minor == 8_000
    assert fraud_rate_report(twice, NOW).overall.fraud_eur_minor == 10_000


def test_art19_rate_per_band_counts_payments_up_to_its_threshold() -> None:
    # Fraud only on small payments: the EUR 100 band's own rate is high, the overall rate low.
    payments = [("small", 10_000, 1), ("big", 100_000_000, 1)]
    report = fraud_rate_report(records(*payments, fraud={"small": 1_000}), NOW)
    assert report.overall.at_or_below(Decimal("0.01"))
    assert not report.band_offered(BAND_100)  # 10 % within the band


def test_no_volume_means_no_band() -> None:
    report = fraud_rate_report(records(), NOW)
    assert report.exceeded() == ANNEX_REMOTE_CARD_BANDS


def test_art20_report_is_an_object_to_file() -> None:
    report = fraud_rate_report(records(("p", 10_000, 1), fraud={"p": 13}), NOW)
    filed = report.to_dict()
    assert filed["transaction_type"] == "remote_card"
    assert filed["overall"] == {
        "fraud_eur_minor": 13,
        "total_eur_minor": 10_000,
        "rate_percent": "0.130000",
    }
    assert [(b["limit_eur_minor"], b["tra_offered"]) for b in filed["bands"]] == [
        (10_000, True),
        (25_000, False),
        (50_000, False),
    ]


@pytest.mark.parametrize(
    ("fraud", "reason"), [(13, "tra_within_band"), (14, "tra_suspended_fraud_rate_exceeded")]
)
def test_item4_tra_stops_when_the_monitored_rate_exceeds_the_reference(
    fraud: int, reason: str
) -> None:
    report = fraud_rate_report(records(("p", 10_000, 1), fraud={"p": fraud}), NOW)
    policy = ScaPolicy(
        rates=EurRates(rates={}), tra_fraud_rate_percent=Decimal("0.05"), monitoring=report
    )
    request = ScaRequest(
        "m_1", 9_000, "EUR", Exemption.TRANSACTION_RISK_ANALYSIS, "allow", LowValueCounter()
    )
    assert decide(request, policy).reason == reason
