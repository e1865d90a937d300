"""The settle function on moto: from its environment (the module's MERCHANT_SERVICE_CHARGE, the
ledger table, the simulator's operation record in the payments table) it books the simulator's
daily batch and pays the merchant once the funds' value date has come."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from functions.adapters import clients
from functions.adapters import payment_wiring as wiring
from functions.domain.acquirer import Authentication, AuthorizationRequest, CardReference
from functions.domain.ledger import logical_balances
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
