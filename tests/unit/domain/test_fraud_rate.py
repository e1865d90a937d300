"""The Art. 19 fraud rate, its Art. 20 report, and TRA stopping when a band's monitored rate
exceeds its reference rate (Commission Delegated Regulation (EU) 2018/389)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from functions.domain.fraud_rate import (
    ANNEX_REMOTE_CARD_BANDS,
    FraudKind,
    FraudRateReport,
    FraudReport,
    InMemoryFraudRecords,
    JournalFraudRecords,
    RemotePayment,
    TraMonitoring,
    fraud_rate_report,
    monitor,
)
from functions.domain.fx import EurRates
from functions.domain.ledger import Dispute, JournalEntry, PostingRules
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


# ------------------------------------------- the window's edges, band selection, Art. 20 state


@pytest.mark.parametrize(
    ("created_at", "counted"),
    [
        (NOW - dt.timedelta(days=90), False),  # exactly 90 days before: outside (since, now]
        (NOW - dt.timedelta(days=90) + dt.timedelta(microseconds=1), True),
        (NOW, True),  # the run's own instant is inside
        (NOW + dt.timedelta(microseconds=1), False),  # after the run: the next window's
    ],
)
def test_art19_the_window_is_exactly_the_90_days_up_to_the_run(
    created_at: dt.datetime, counted: bool
) -> None:
    found = InMemoryFraudRecords()
    found.payments.append(RemotePayment("edge", created_at, 10_000))
    found.payments.append(RemotePayment("inside", NOW - dt.timedelta(days=1), 10_000))
    found.reports.append(FraudReport("edge", 10_000, FraudKind.UNAUTHORISED))
    overall = fraud_rate_report(found, NOW).overall
    assert (overall.fraud_eur_minor, overall.total_eur_minor) == (
        (10_000, 20_000) if counted else (0, 10_000)
    )


@pytest.mark.parametrize(
    ("fraud", "offered"),
    [
        # EUR 50,000 of EUR 50 payments: one fraud cent is 0.00002 %.
        (500, (True, True, True)),  # 0.01 %: every band, EUR 500 at its very reference
        (501, (True, True, False)),  # just above 0.01 %
        (3_000, (True, True, False)),  # 0.06 %: EUR 250 at its reference
        (3_001, (True, False, False)),
        (6_500, (True, False, False)),  # 0.13 %
        (6_501, (False, False, False)),  # above every reference: no TRA at all
    ],
)
def test_band_selection_follows_the_annex_references_exactly(
    fraud: int, offered: tuple[bool, bool, bool]
) -> None:
    found = records(*[(f"p{i}", 5_000, 1) for i in range(1_000)])
    left, n = fraud, 0
    while left > 0:
        found.reports.append(FraudReport(f"p{n}", min(left, 5_000), FraudKind.UNAUTHORISED))
        left -= 5_000
        n += 1
    state = monitor(None, fraud_rate_report(found, NOW), NOW).state
    assert tuple(state.band_offered(band) for band in ANNEX_REMOTE_CARD_BANDS) == offered


RULES = PostingRules()
AT = (NOW - dt.timedelta(days=3)).isoformat()


def chargeback(payment_id: str, amount: int, reason: str, currency: str = "EUR") -> JournalEntry:
    dispute = Dispute(payment_id, "m_1", currency, "dp_1", AT, None, reason_code=reason)
    return RULES.chargeback(dispute, merchant_part=amount, recoverable_part=0)


def test_art19_the_ledger_gives_remote_payments_and_fraud_chargebacks() -> None:
    rates = EurRates(rates={"USD": Decimal("0.5")})
    sold = RULES.sale("pay_1", "m_1", 10_000, "EUR", AT)
    compensated = RULES.sale("pay_2", "m_1", 50_000, "EUR", AT)
    usd = RULES.sale("pay_3", "m_1", 20_000, "USD", AT)
    no_rate = RULES.sale("pay_4", "m_1", 9_999, "CHF", AT)
    found = JournalFraudRecords(
        [
            sold,
            compensated,
            RULES.reversal(compensated, AT),  # never executed: not a payment
            usd,
            no_rate,
            chargeback("pay_1", 4_000, "10.4"),  # Visa card-absent fraud
            chargeback("pay_3", 20_000, "13.1"),  # goods not received: commercial, not fraud
        ],
        rates,
    )
    report = fraud_rate_report(found, NOW)
    assert (report.overall.fraud_eur_minor, report.overall.total_eur_minor) == (4_000, 20_000)
    assert found.unconverted == 1


def test_a_fraud_chargeback_a_mastercard_code_and_a_dispute_won_still_count() -> None:
    """'Whether the funds have been recovered or not' (Art. 19(2)): a won dispute stays fraud."""
    sold = RULES.sale("pay_1", "m_1", 10_000, "EUR", AT)
    taken = chargeback("pay_1", 10_000, "4837")
    won = RULES.dispute_won(taken, AT)
    found = JournalFraudRecords([sold, taken, won], EurRates(rates={}))
    assert fraud_rate_report(found, NOW).overall.fraud_eur_minor == 10_000


def measured(fraud: int, at: dt.datetime) -> FraudRateReport:
    """One EUR 100 payment the day before ``at`` with ``fraud`` cents of fraud."""
    found = InMemoryFraudRecords()
    found.payments.append(RemotePayment("p", at - dt.timedelta(days=1), 10_000))
    if fraud:
        found.reports.append(FraudReport("p", fraud, FraudKind.UNAUTHORISED))
    return fraud_rate_report(found, at)


def test_art20_a_band_above_its_reference_stops_at_once_and_is_reported() -> None:
    first = monitor(None, measured(13, NOW), NOW)
    assert first.state.band_offered(BAND_100) and first.exceeded == (25_000, 50_000)
    above = monitor(first.state, measured(14, NOW + dt.timedelta(days=1)), NOW)
    assert not above.state.band_offered(BAND_100)
    assert above.exceeded == (10_000, 25_000, 50_000)
    # Back within the next day: still stopped (Art. 20(3) wants a quarter within).
    back = monitor(above.state, measured(13, NOW + dt.timedelta(days=2)), NOW)
    assert not back.state.band_offered(BAND_100) and back.restart_due == ()


def test_art20_a_stopped_band_restarts_after_a_quarter_within_and_the_notification() -> None:
    day0 = NOW
    stopped = monitor(monitor(None, measured(13, day0), day0).state, measured(14, day0), day0)
    within_from = day0 + dt.timedelta(days=1)
    state = monitor(stopped.state, measured(13, within_from), within_from).state
    almost = within_from + dt.timedelta(days=89)
    early = monitor(state, measured(13, almost), almost, notified=frozenset({10_000}))
    assert not early.state.band_offered(BAND_100) and early.restarted == ()
    quarter = within_from + dt.timedelta(days=90)
    due = monitor(early.state, measured(13, quarter), quarter)
    assert due.restart_due == (10_000,) and not due.state.band_offered(BAND_100)
    restarted = monitor(due.state, measured(13, quarter), quarter, notified=frozenset({10_000}))
    assert restarted.restarted == (10_000,) and restarted.state.band_offered(BAND_100)


def test_art20_a_measurement_above_the_reference_restarts_the_quarter() -> None:
    stopped = monitor(monitor(None, measured(13, NOW), NOW).state, measured(14, NOW), NOW)
    day = NOW + dt.timedelta(days=1)
    state = monitor(stopped.state, measured(13, day), day).state
    relapse = NOW + dt.timedelta(days=50)
    state = monitor(state, measured(14, relapse), relapse).state
    quarter = day + dt.timedelta(days=90)
    after = monitor(state, measured(13, quarter), quarter, notified=frozenset({10_000}))
    assert not after.state.band_offered(BAND_100) and after.restarted == ()


def test_the_monitored_state_survives_its_stored_form() -> None:
    state = monitor(None, measured(13, NOW), NOW).state
    assert TraMonitoring.from_dict(json.loads(json.dumps(state.to_dict()))) == state


def test_no_monitoring_means_no_tra_whatever_rate_is_configured() -> None:
    policy = ScaPolicy(rates=EurRates(rates={}), tra_fraud_rate_percent=Decimal("0.01"))
    request = ScaRequest(
        "m_1", 9_000, "EUR", Exemption.TRANSACTION_RISK_ANALYSIS, "allow", LowValueCounter()
    )
    assert policy.tra_limit_eur_minor() is None
    assert decide(request, policy).reason == "tra_fraud_rate_not_monitored"
