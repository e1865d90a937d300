"""The reconciliation's reads on moto: the update-time index in (updated_at, payment_id) order
across hours and shards, the open-holds index by kind and due time, the checkpoint, and the
event record read by time range, paced to its share of the FilterLogEvents quota."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest
from moto import mock_aws

from functions.adapters.payment_event_log import LogGroupEventRecord
from functions.adapters.payments_table import (
    AcquirerOperationsTable,
    BnplReconcileCheckpoint,
    PaymentsTable,
    ReconcileCheckpoint,
    to_item,
)
from functions.domain.acquirer import AcquirerOperation, OperationKind
from functions.domain.payments import Payment, PaymentStatus, new_payment
from functions.services.credit_reconciliation import BnplCursor
from functions.services.reconciliation import HoldKind, Position
from tests.adapters.payment_tables import (
    PAYMENTS_TABLE,
    REGION,
    create_payments_table,
    fake_aws_environment,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[PaymentsTable]:
    fake_aws_environment(monkeypatch)
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name=REGION)
        create_payments_table(ddb)
        yield PaymentsTable(ddb, PAYMENTS_TABLE)


def made(payment_id: str, at: str) -> Payment:
    context = {
        "payment_id": payment_id,
        "merchant_id": "m_1",
        "amount": 500,
        "currency": "EUR",
        "card": {"token": f"tok_{payment_id}", "brand": "visa", "last4": "4242"},
    }
    return new_payment(context, PaymentStatus.AUTHORIZING, at)


def saved(table: PaymentsTable, payment_id: str, at: str, *, authorized: bool = False) -> Payment:
    payment = made(payment_id, at)
    if authorized:
        payment = payment.authorized("auth_1", at).evolve(at, version=0)
    table.save(payment)
    return payment


def test_the_window_is_read_in_update_order_across_hours_and_shards(table: PaymentsTable) -> None:
    times = {
        "pay_a": "2026-11-22T10:59:59.999+00:00",
        "pay_b": "2026-11-22T11:00:00.000+00:00",
        "pay_c": "2026-11-22T11:00:00.000+00:00",  # the same instant: ordered by id
        "pay_d": "2026-11-22T11:30:00.000+00:00",
        "pay_e": "2026-11-22T12:00:00.000+00:00",  # at the end: the next window's
        "pay_f": "2026-11-22T09:59:59.999+00:00",  # before the start
    }
    for payment_id, at in times.items():
        saved(table, payment_id, at)
    window = table.updated_between(
        "2026-11-22T10:00:00.000+00:00", "2026-11-22T12:00:00.000+00:00", Position("")
    )
    assert [p.payment_id for p in window] == ["pay_a", "pay_b", "pay_c", "pay_d"]
    # From a checkpoint inside the window: only what comes after it.
    resumed = table.updated_between(
        "2026-11-22T10:00:00.000+00:00",
        "2026-11-22T12:00:00.000+00:00",
        Position("2026-11-22T11:00:00.000+00:00", "pay_b"),
    )
    assert [p.payment_id for p in resumed] == ["pay_c", "pay_d"]


class PagedIndex:
    """A DynamoDB client whose index Query answers ``pages`` for the partition keys it names
    (nothing for the others), as DynamoDB may: the index sorts by ``updated_at`` alone, so items
    that share one come in any order, and a run of them may straddle two pages."""

    def __init__(self, pages: dict[str, list[list[dict[str, Any]]]]) -> None:
        self._pages = pages

    def get_paginator(self, operation: str) -> PagedIndex:
        assert operation == "query"
        return self

    def paginate(self, **request: Any) -> list[dict[str, Any]]:
        key = request["ExpressionAttributeValues"][":key"]["S"]
        return [{"Items": items} for items in self._pages.get(key, [])]


AT = "2026-11-22T10:15:00.000+00:00"
LATER = "2026-11-22T10:15:00.001+00:00"
HOUR = ("2026-11-22T10:00:00.000+00:00", "2026-11-22T11:00:00.000+00:00")


def test_payments_sharing_an_update_time_are_read_in_id_order_across_pages() -> None:
    def item(payment_id: str, at: str) -> dict[str, Any]:
        return to_item(made(payment_id, at))

    pages = [[item("pay_b", AT)], [item("pay_c", AT), item("pay_a", AT), item("pay_d", LATER)]]
    table = PaymentsTable(
        cast("DynamoDBClient", PagedIndex({"upd#2026-11-22T10#00": pages})), "payments"
    )
    read = [p.payment_id for p in table.updated_between(*HOUR, Position(""))]
    # A run that stopped after pay_b would otherwise resume past pay_a, never to read it.
    assert read == ["pay_a", "pay_b", "pay_c", "pay_d"]
    resumed = table.updated_between(*HOUR, Position(AT, "pay_b"))
    assert [p.payment_id for p in resumed] == ["pay_c", "pay_d"]


def test_operations_sharing_an_execution_time_are_read_in_reference_order_across_pages() -> None:
    def item(reference: str, at: str) -> dict[str, Any]:
        operation = AcquirerOperation(OperationKind.CAPTURE, reference, "auth_1", 500, "EUR")
        return AcquirerOperationsTable.item(operation, dt.datetime.fromisoformat(at))

    pages = [[item("pay_b:capture:1", AT)], [item("pay_a:capture:1", AT)]]
    pages[1].append(item("pay_c:capture:1", LATER))
    operations = AcquirerOperationsTable(
        cast("DynamoDBClient", PagedIndex({"acq#2026-11-22T10#00": pages})), "payments"
    )
    read = [o.reference for _, o in operations.positioned_between(*HOUR, Position(""))]
    assert read == ["pay_a:capture:1", "pay_b:capture:1", "pay_c:capture:1"]


def test_each_reconciliation_reads_only_its_own_kind_of_payment(table: PaymentsTable) -> None:
    """Card payments for the card reconciliation, BNPL ones for the BNPL reconciliation: the
    other kind never comes back from DynamoDB, and no page is read as the wrong kind."""
    at = "2026-11-22T11:00:00.000+00:00"
    saved(table, "pay_card", at)
    card = saved(table, "pay_card2", at)
    table.save(
        dataclasses.replace(card, payment_id="pay_bnpl", bnpl={"decision_id": "dec_1"}, version=0)
    )
    window = ("2026-11-22T10:00:00.000+00:00", "2026-11-22T12:00:00.000+00:00", Position(""))
    assert [p.payment_id for p in table.updated_between(*window)] == ["pay_card", "pay_card2"]
    assert [p.payment_id for p in table.updated_between(*window, bnpl=True)] == ["pay_bnpl"]


def test_a_payments_later_write_moves_it_to_its_new_window(table: PaymentsTable) -> None:
    payment = saved(table, "pay_1", "2026-11-22T10:10:00.000+00:00", authorized=True)
    table.save(payment.captured(500, "2026-11-22T11:10:00.000+00:00"))
    first = table.updated_between(
        "2026-11-22T10:00:00.000+00:00", "2026-11-22T11:00:00.000+00:00", Position("")
    )
    second = table.updated_between(
        "2026-11-22T11:00:00.000+00:00", "2026-11-22T12:00:00.000+00:00", Position("")
    )
    assert ([p.payment_id for p in first], [p.payment_id for p in second]) == ([], ["pay_1"])


def test_holds_are_found_by_kind_and_due_time_and_leave_the_index_when_settled(
    table: PaymentsTable,
) -> None:
    old = saved(table, "pay_old", "2026-11-10T10:00:00.000+00:00", authorized=True)
    saved(table, "pay_new", "2026-11-21T10:00:00.000+00:00", authorized=True)
    saved(table, "pay_stuck", "2026-11-22T10:00:00.000+00:00")
    cutoff = "2026-11-15T12:00:00.000+00:00"
    assert [p.payment_id for p in table.holds_due(HoldKind.AUTHORIZED, cutoff)] == ["pay_old"]
    assert [p.payment_id for p in table.holds_due(HoldKind.AUTHORIZING, "2026-11-22T11:00")] == [
        "pay_stuck"
    ]
    table.save(old.captured(500, "2026-11-22T10:30:00.000+00:00"))
    assert list(table.holds_due(HoldKind.AUTHORIZED, cutoff)) == []


def test_the_checkpoint_round_trips(table: PaymentsTable) -> None:
    checkpoint = ReconcileCheckpoint(boto3.client("dynamodb", region_name=REGION), PAYMENTS_TABLE)
    assert checkpoint.load() is None
    checkpoint.save(Position("2026-11-22T11:00:00.000+00:00", "pay_b"))
    assert checkpoint.load() == Position("2026-11-22T11:00:00.000+00:00", "pay_b")
    checkpoint.save(Position("2026-11-22T12:00:00.000+00:00"))
    assert checkpoint.load() == Position("2026-11-22T12:00:00.000+00:00")


def test_the_bnpl_checkpoint_round_trips_beside_the_card_one(table: PaymentsTable) -> None:
    client = boto3.client("dynamodb", region_name=REGION)
    card, bnpl = (
        ReconcileCheckpoint(client, PAYMENTS_TABLE),
        BnplReconcileCheckpoint(client, PAYMENTS_TABLE),
    )
    assert bnpl.load() is None
    card.save(Position("2026-11-22T10:00:00.000+00:00", "pay_a"))
    cursor = BnplCursor(
        Position("2026-11-22T11:00:00.000+00:00", "pay_b"),
        Position("2026-11-22T10:30:00.000+00:00", "pl_1:2:1"),
    )
    bnpl.save(cursor)
    assert bnpl.load() == cursor
    # The start of an instant (no id) as well, and each reconciliation keeps its own.
    bnpl.save(BnplCursor(Position("2026-11-22T12:00:00.000+00:00"), cursor.operations))
    assert bnpl.load() == BnplCursor(Position("2026-11-22T12:00:00.000+00:00"), cursor.operations)
    assert card.load() == Position("2026-11-22T10:00:00.000+00:00", "pay_a")


class PagedLogs:
    """A CloudWatch Logs client whose FilterLogEvents answers three pages."""

    def __init__(self, clock: list[float]) -> None:
        self.clock = clock
        self.asked: list[dict[str, Any]] = []
        self.fetched_at: list[float] = []

    def get_paginator(self, name: str) -> Any:
        assert name == "filter_log_events"
        return self

    def paginate(self, **request: Any) -> Iterator[dict[str, Any]]:
        self.asked.append(request)
        for page in range(3):
            self.fetched_at.append(self.clock[0])
            message = json.dumps(
                {"event_id": f"e{page}", "type": "payment.captured", "payment_id": f"pay_{page}"}
                | {"amount": "100"}
            )
            yield {"events": [{"timestamp": 1_795_000_000_000 + page, "message": message}]}


def test_the_event_record_is_read_by_time_range_paced_to_its_quota_share() -> None:
    clock = [100.0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    logs = PagedLogs(clock)
    record = LogGroupEventRecord(
        logs,  # type: ignore[arg-type]
        "/aws/events/test",
        pages_per_second=2.0,
        clock=lambda: clock[0],
        sleep=sleep,
    )
    read = list(
        record.read_between("2026-11-22T11:00:00.000+00:00", "2026-11-22T12:00:00.000+00:00")
    )
    assert [(event.payment_id, event.amount) for _, event in read] == [
        ("pay_0", 100),
        ("pay_1", 100),
        ("pay_2", 100),
    ]
    start = int(dt.datetime(2026, 11, 22, 11, tzinfo=dt.UTC).timestamp() * 1000)
    assert logs.asked == [
        {"logGroupName": "/aws/events/test", "startTime": start, "endTime": start + 3_600_000}
    ]
    # Half a second apart at 2 pages/s, the first at once.
    assert logs.fetched_at == [100.0, 100.5, 101.0]
    # Each event with the time the record holds it at.
    assert read[0][0] == "2026-11-18T11:06:40.000+00:00"
