"""The settle function on moto: from its environment (the module's MERCHANT_SERVICE_CHARGE, the
ledger table, the simulator's operation record in the payments table) it books the simulator's
daily batch and pays the merchant once the funds' value date has come."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from functions.adapters import clients
from functions.adapters import payment_wiring as wiring
from functions.domain.acquirer import Authentication, AuthorizationRequest, CardReference
from functions.domain.ledger import Dispute, logical_balances
from functions.handlers import settle
from tests.adapters.payment_tables import (
    LEDGER_TABLE,
    PAYMENTS_TABLE,
    REGION,
    create_ledger_table,
    create_payments_table,
    fake_aws_environment,
)
from tests.adapters.test_payments_api import Context

FEES = '{"default": {"EUR": {"bps": 140, "fixed": "0.25"}}}'


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    fake_aws_environment(
        monkeypatch,
        PAYMENTS_TABLE_NAME=PAYMENTS_TABLE,
        LEDGER_TABLE_NAME=LEDGER_TABLE,
        MERCHANT_SERVICE_CHARGE=FEES,
        ACQUIRER_TIMEOUT_MS="100",
    )
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name=REGION)
        create_payments_table(ddb)
        create_ledger_table(ddb)
        clients.clear()
        wiring.clear()
        yield
        wiring.clear()
        clients.clear()


def sale(payment_id: str, amount: int) -> None:
    """What process_payment does for a sale, through the same wiring."""
    acquirer = wiring.acquirer()
    result = acquirer.authorize(
        AuthorizationRequest(
            payment_id,
            "m_1",
            amount,
            "EUR",
            CardReference("tok_1", "visa", "4242", 12, 2030),
            Authentication(None, None, None),
            f"{payment_id}:authorize",
        )
    )
    assert result.authorization_id is not None
    acquirer.capture(result.authorization_id, amount, "EUR", f"{payment_id}:capture:1")
    wiring.ledger().record_sale(payment_id, "m_1", amount, "EUR", "2026-11-30T10:00:00+00:00")


def test_the_function_settles_the_days_batch_then_pays_out(aws: None) -> None:
    sale("pay_1", 10_000)
    first = settle.handler({"through": "2026-11-30", "source": "aws.events"}, Context())
    assert first["settled"] == ["sim-2026-11-30"] and first["payouts"] == [] and first["ok"]
    second = settle.handler({"through": "2026-12-01"}, Context())
    assert second["payouts"] == [
        {
            "merchant_id": "m_1",
            "currency": "EUR",
            "value_date": "2026-12-01",
            "amount": 10_000 - 165,  # the service charge from the environment stays
            "entry_id": "payout:m_1:2026-12-01#payout-EUR",
        }
    ]
    assert settle.handler({"through": "2026-12-01"}, Context())["posted"] == 0
    held = logical_balances(wiring.ledger_store().scan_entries())
    assert held["acquirer_receivable", "EUR"] == 0
    assert held["cash", "EUR"] == 165 - 30  # the charge less interchange and scheme fees
    assert held["msc_income", "EUR"] == -165 and held["acquirer_fees", "EUR"] == 30


def test_payouts_can_be_left_for_later(aws: None) -> None:
    sale("pay_1", 10_000)
    settle.handler({"through": "2026-11-30"}, Context())
    report = settle.handler({"through": "2026-12-01", "payouts": False}, Context())
    assert report["payouts"] == [] and report["posted"] == 0


def test_each_run_stores_the_monitored_fraud_rate_the_sca_step_reads(aws: None) -> None:
    """Issue 19 item 4: the Art. 19 measurement runs on the settle schedule and lands in the
    payments table item that assess_risk's wiring reads (fail closed before the first run)."""
    assert wiring.tra_monitoring().latest() is None
    sale("pay_1", 10_000)
    report = settle.handler({"through": "2026-11-30", "tra_restart_notified": [25_000]}, Context())
    record = report["fraud_rate"]
    assert record["regulation"] == "EU 2018/389 Art. 19-20"
    wiring.clear()  # a new container: nothing cached
    stored = wiring.tra_monitoring().latest()
    assert stored is not None and stored.to_dict() == record["monitoring"]
    assert [band["limit_eur_minor"] for band in record["monitoring"]["bands"]] == [
        10_000,
        25_000,
        50_000,
    ]


def test_a_band_above_its_reference_is_logged_for_the_alarm(
    aws: None, caplog: pytest.LogCaptureFixture
) -> None:
    """RTS Art. 20(1): the record is reported at once; alarms.tf's tra_fraud_rate filter reads
    the settle log for the very field and value the handler writes."""
    yesterday = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat()
    rules = wiring.posting_rules()
    store = wiring.ledger_store()
    store.post(rules.sale("pay_1", "m_1", 10_000, "EUR", yesterday))
    dispute = Dispute("pay_1", "m_1", "EUR", "dp_1", yesterday, None, reason_code="10.4")
    store.post(rules.chargeback(dispute, merchant_part=10_000, recoverable_part=0))
    with caplog.at_level(logging.WARNING):
        report = settle.handler({"payouts": False}, Context())
    assert report["fraud_rate"]["exceeded_limits_eur_minor"] == [10_000, 25_000, 50_000]
    (logged,) = [vars(r) for r in caplog.records if getattr(r, "tra_alarm", None)]
    alarms = Path("modules/payment_workflow/alarms.tf").read_text()
    entry = re.search(
        r'tra_fraud_rate = \{\s*function\s*=\s*"(\w+)"\s*pattern\s*=\s*"(.*)"', alarms
    )
    assert entry is not None and entry[1] == "settle"
    assert f'($.tra_alarm = \\"{logged["tra_alarm"]}\\")' in entry[2]
    assert wiring.tra_monitoring().latest() is not None
