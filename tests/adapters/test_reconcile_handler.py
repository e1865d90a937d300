"""The reconcile command over the payments table, the ledger table and the event log on moto
(in process): it finds what is missing, repairs what is safe, and a second run is clean."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.adapters.ledger_table import DynamoLedgerStore
from functions.adapters.payments_table import PaymentsTable
from functions.domain.ledger import PaymentLedger, PostingRules
from functions.domain.payments import EventType, Payment, PaymentStatus, new_payment
from functions.handlers.reconcile import run
from tests.adapters.payment_tables import (
    LEDGER_TABLE,
    PAYMENTS_TABLE,
    REGION,
    create_ledger_table,
    create_payments_table,
    fake_aws_environment,
)

LOG_GROUP = "/aws/events/test-payment-events"
BUS = "test-payments"
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
RULES = PostingRules()


class Aws:
    def __init__(self) -> None:
        self.ddb = boto3.client("dynamodb", region_name=REGION)
        self.logs = boto3.client("logs", region_name=REGION)
        self.events = boto3.client("events", region_name=REGION)
        self.table = PaymentsTable(self.ddb, PAYMENTS_TABLE)
        self.store = DynamoLedgerStore(self.ddb, LEDGER_TABLE)
        self.ledger = PaymentLedger(self.store, RULES)
        self._sequence = 0

    def record_event(self, payment: Payment, kind: EventType, amount: int | None = None) -> None:
        """What the bus's archive rule writes to the event log: the EventBridge envelope."""
        entry = payment.event(kind, BUS, amount=amount)
        envelope = {
            "id": f"e{self._sequence}",
            "detail-type": entry["DetailType"],
            "detail": entry["Detail"],
        }
        self._sequence += 1
        self.logs.put_log_events(
            logGroupName=LOG_GROUP,
            logStreamName="events",
            logEvents=[{"timestamp": int(NOW.timestamp() * 1000), "message": json.dumps(envelope)}],
        )

    def reconcile(self, repair: bool) -> dict[str, Any]:
        return run(
            self.table,
            self.store,
            RULES,
            self.logs,
            self.events,
            LOG_GROUP,
            BUS,
            repair=repair,
            now=NOW,
        )


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    fake_aws_environment(monkeypatch)
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name=REGION)
        create_payments_table(ddb)
        create_ledger_table(ddb)
        logs = boto3.client("logs", region_name=REGION)
        logs.create_log_group(logGroupName=LOG_GROUP)
        logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName="events")
        boto3.client("events", region_name=REGION).create_event_bus(Name=BUS)
        yield Aws()


def captured_payment(aws: Aws, payment_id: str, amount: int = 4_000) -> Payment:
    context = {
        "payment_id": payment_id,
        "merchant_id": "m_1",
        "amount": amount,
        "currency": "EUR",
        "card": {"token": f"tok_{payment_id}", "brand": "visa", "last4": "4242"},
        "customer": {"id": "c_1"},
    }
    now = "2026-11-22T11:00:00.000+00:00"
    payment = new_payment(context, PaymentStatus.AUTHORIZING, now).authorized("auth_1", now)
    payment = payment.captured(amount, now).evolve(now, version=0)  # stored as a new item
    aws.table.save(payment)
    return payment


def test_a_complete_payment_reconciles_clean(aws: Aws) -> None:
    payment = captured_payment(aws, "pay_ok")
    aws.ledger.record_authorization("pay_ok", "m_1", 4_000, "EUR")
    aws.ledger.record_capture("pay_ok", "m_1", 4_000, "EUR", 1)
    aws.record_event(payment, EventType.AUTHORIZED, 4_000)
    aws.record_event(payment, EventType.CAPTURED, 4_000)
    report = aws.reconcile(repair=False)
    assert report["ok"], report["mismatches"]
    assert report["checked_payments"] == 1


def test_a_lost_ledger_write_and_a_lost_event_are_repaired(aws: Aws) -> None:
    payment = captured_payment(aws, "pay_lost")
    aws.ledger.record_authorization("pay_lost", "m_1", 4_000, "EUR")
    aws.record_event(payment, EventType.AUTHORIZED, 4_000)
    first = aws.reconcile(repair=True)
    kinds = sorted(m["kind"] for m in first["mismatches"])
    assert kinds == ["event_missing", "ledger_entry_missing"]
    assert len(first["repaired"]) == 2
    steps = [e.step for e in aws.store.entries_for("pay_lost")]
    assert sorted(steps) == ["authorization", "capture-1"]
    # The republished event reaches the bus; the archive rule would log it. Record it as such.
    aws.record_event(payment, EventType.CAPTURED, 4_000)
    assert aws.reconcile(repair=False)["ok"]


def test_a_journal_entry_without_a_payment_is_reported_not_repaired(aws: Aws) -> None:
    aws.ledger.record_authorization("pay_ghost", "m_1", 500, "EUR")
    report = aws.reconcile(repair=True)
    assert [m["kind"] for m in report["mismatches"]] == ["ledger_without_payment"]
    assert report["repaired"] == []


def test_a_payment_left_authorizing_is_listed_as_stuck(aws: Aws) -> None:
    context = {
        "payment_id": "pay_stuck",
        "merchant_id": "m_1",
        "amount": 100,
        "currency": "EUR",
        "card": {"token": "tok_s", "brand": "visa", "last4": "0408"},
    }
    aws.table.save(new_payment(context, PaymentStatus.AUTHORIZING, "2026-11-22T11:00:00.000+00:00"))
    report = aws.reconcile(repair=False)
    assert report["stuck_authorizations"] == ["pay_stuck"]
    assert report["ok"] is False
