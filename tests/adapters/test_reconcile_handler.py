"""The reconcile command over the payments table, the ledger table and the event log on moto
(in process): it finds what is missing, repairs what is safe, and a second run is clean."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.events.utils import EventMessageType, EventTemplateParser

from functions.adapters import clients
from functions.adapters import payment_wiring as wiring
from functions.adapters.ledger_table import DynamoLedgerStore
from functions.adapters.payment_event_log import LogGroupEventRecord, payment_event
from functions.adapters.payment_events import EventBridgePublisher
from functions.adapters.payments_table import (
    AcquirerOperationsTable,
    PaymentsTable,
    ReconcileCheckpoint,
)
from functions.domain.acquirer import (
    AcquirerOperation,
    AcquirerSimulator,
    Authentication,
    AuthorizationRequest,
    CardReference,
    OperationKind,
)
from functions.domain.ledger import PaymentLedger, PostingRules
from functions.domain.ledger import merchant_payable as merchant_payable_account
from functions.domain.payments import (
    DEFAULT_AUTHORIZATION_VALIDITY,
    EVENT_SOURCE,
    EventType,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    new_payment,
)
from functions.domain.reconciliation import PublishedEvent
from functions.handlers import reconcile as reconcile_function
from functions.services.payment_processing import PaymentProcessor
from functions.services.reconciliation import (
    AcquirerRecord,
    Position,
    Reconciliation,
    instant,
)
from tests.adapters import test_payment_steps as payment_steps
from tests.adapters.payment_tables import (
    LEDGER_TABLE,
    PAYMENTS_TABLE,
    REGION,
    create_ledger_table,
    create_payments_table,
    fake_aws_environment,
)
from tests.adapters.service_calls import process
from tests.adapters.test_payments_api import Context

LOG_GROUP = "/aws/events/test-payment-events"
BUS = "test-payments"
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
# A window that holds every payment these tests make.
SINCE = Position("2026-11-22T10:30:00.000+00:00")
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
        """What the bus's archive rule writes to the event log: its input template
        (modules/payment_workflow/events.tf) applied to the EventBridge envelope, dated by the
        event's time (the write that published it)."""
        entry = payment.event(kind, BUS, amount=amount)
        when = dt.datetime.fromisoformat(payment.updated_at)
        envelope: EventMessageType = {
            "id": f"e{self._sequence}",
            "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "source": entry["Source"],
            "detail-type": entry["DetailType"],
            "detail": entry["Detail"],
        }
        self._sequence += 1
        self.logs.put_log_events(
            logGroupName=LOG_GROUP,
            logStreamName="events",
            logEvents=[{"timestamp": int(when.timestamp() * 1000), "message": archived(envelope)}],
        )

    def reconcile(
        self,
        repair: bool,
        *,
        processor: PaymentProcessor | None = None,
        acquirer_records: AcquirerRecord | None = None,
        authorization_validity: dt.timedelta = DEFAULT_AUTHORIZATION_VALIDITY,
    ) -> dict[str, Any]:
        service = Reconciliation(
            self.table,
            self.store,
            LogGroupEventRecord(self.logs, LOG_GROUP),
            EventBridgePublisher(self.events),
            RULES,
            BUS,
            operations=processor,
            acquirer=acquirer_records,
            authorization_validity=authorization_validity,
        )
        return service.run(repair=repair, now=NOW, start=SINCE, end=NOW).to_dict()


EVENTS_TF = Path(__file__).parents[2] / "modules" / "payment_workflow" / "events.tf"


def archived(envelope: EventMessageType) -> str:
    """The log event the archive rule's target writes for an envelope: its input paths and
    template read from the module, applied as EventBridge applies them (moto's parser, which
    the emulator uses), then the template's ``message``, which a log group target writes."""
    source = EVENTS_TF.read_text()
    target = source[source.index('resource "aws_cloudwatch_event_target" "payment_events"') :]
    paths_block = re.search(r"input_paths = \{(.*?)\}", target, re.S)
    template = re.search(r"<<-EOT\n(.*?)\n\s*EOT", target, re.S)
    assert paths_block is not None and template is not None
    paths = dict(re.findall(r'(\w+)\s*=\s*"([^"]+)"', paths_block.group(1)))
    # When EventBridge received the event, a Unix time (the template does not read it).
    ingested = dt.datetime.fromisoformat(str(envelope["time"])).timestamp()
    rendered = EventTemplateParser.parse(
        input_template=template.group(1).strip(),
        input_paths_map=paths,
        event={**envelope, "ingestion-time": ingested},
    )
    assert set(rendered) == {"timestamp", "message"}  # the only shape a log group target takes
    return str(rendered["message"])


def test_the_event_log_reads_the_archive_rule_records_and_older_envelopes() -> None:
    envelope: EventMessageType = {
        "id": "e1",
        "time": "2026-11-22T12:00:00Z",
        "source": EVENT_SOURCE,
        "detail-type": "payment.captured",
        "detail": {"event_id": "pay_1:payment.captured:c1", "payment_id": "pay_1"},
    }
    compact = payment_event(json.loads(archived({**envelope})))
    with_amount: EventMessageType = {
        **envelope,
        "detail": {**envelope["detail"], "operation_amount": 1_500},
    }
    assert compact == PublishedEvent("pay_1:payment.captured:c1", "payment.captured", "pay_1", None)
    assert payment_event(json.loads(archived(with_amount))) == PublishedEvent(
        "pay_1:payment.captured:c1", "payment.captured", "pay_1", 1_500
    )
    assert payment_event(with_amount) == PublishedEvent(
        "pay_1:payment.captured:c1", "payment.captured", "pay_1", 1_500
    )
    # Records that name no payment are not payment events.
    assert payment_event({"event_id": "x", "type": "fraud.alert", "payment_id": ""}) is None
    assert payment_event({"event_id": "x", "payment_id": "<payment_id>"}) is None
    assert payment_event(["not", "a", "record"]) is None


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
        # Authorized, then captured by its own request: entries for each (a sale has one).
        "capture": False,
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


# ----------------------------------------------- issue 19: acquirer record, pending, balances


def operation_record(aws: Aws) -> AcquirerOperationsTable:
    """The simulator's record in the payments table, every operation executed at 11:05."""
    executed_at = dt.datetime(2026, 11, 22, 11, 5, tzinfo=dt.UTC)
    return AcquirerOperationsTable(aws.ddb, PAYMENTS_TABLE, clock=lambda: executed_at)


def _processor(aws: Aws, acquirer: AcquirerSimulator) -> PaymentProcessor:
    return PaymentProcessor(aws.table, acquirer, BUS, lambda: "2026-11-22T11:30:00.000+00:00")


class DiesAfterCapture(PaymentsTable):
    """The sale's step dies (a crash, its timeout) on every attempt after the acquirer took the
    capture and before the write recording it, and so does its compensation, which would
    finish the sale with that write."""

    def save(self, payment: Payment) -> None:
        if payment.status is PaymentStatus.CAPTURED:
            raise RuntimeError("Runtime.ExitError")
        super().save(payment)


def test_a_sale_whose_capture_outlived_its_workflow_is_finished_by_the_sweeper(aws: Aws) -> None:
    records = operation_record(aws)
    acquirer = AcquirerSimulator(
        b"test-simulator-key-0123456789", 0.01, lambda _s: None, records=records
    )
    dying = DiesAfterCapture(aws.ddb, PAYMENTS_TABLE)
    step = PaymentProcessor(dying, acquirer, BUS, lambda: "2026-11-22T11:00:00.000+00:00")
    sale = {**payment_steps.context("pay_sale", amount=610), "capture": True}
    for _attempt in range(3):  # the task's retries, each dying the same way
        with pytest.raises(RuntimeError):
            process({"action": "create", "payment": sale}, step)
    for _attempt in range(3):  # the compensation's retries: the execution ends uncompensated
        with pytest.raises(RuntimeError):
            process({"action": "void", "payment_id": "pay_sale", "failure": {}}, step)
    left = aws.table.get("pay_sale")
    assert left is not None and left.status is PaymentStatus.AUTHORIZING
    (capture,) = records.operations()
    assert capture.reference == "pay_sale:capture:1"
    before = aws.reconcile(False, acquirer_records=records)
    assert before["stuck_authorizations"] == ["pay_sale"]
    assert [m["kind"] for m in before["mismatches"]] == ["acquirer_operation_unrecorded"]

    # The client had its answer and never retries: the scheduled run finishes the sale.
    sweeper = PaymentProcessor(
        aws.table, acquirer, BUS, lambda: "2026-11-22T11:59:00.000+00:00", ledger=aws.ledger
    )
    report = aws.reconcile(True, processor=sweeper, acquirer_records=records)
    assert (report["finished"], report["swept"], report["stuck_authorizations"]) == (
        ["pay_sale"],
        [],
        [],
    )
    assert report["ok"], report["mismatches"]
    stored = aws.table.get("pay_sale")
    assert stored is not None and stored.status is PaymentStatus.CAPTURED
    assert (stored.authorization_id, stored.amount_captured) == (capture.authorization_id, 610)
    assert [e.step for e in aws.store.entries_for("pay_sale")] == ["sale"]
    assert aws.ledger.position("pay_sale").captured == 610
    assert records.operations() == [capture]  # nothing sent again, nothing voided
    # What the bus's archive rule logs of the two events; then the next run has nothing to do.
    aws.record_event(stored, EventType.AUTHORIZED, 610)
    aws.record_event(stored, EventType.CAPTURED, 610)
    after = aws.reconcile(True, processor=sweeper, acquirer_records=records)
    assert (after["finished"], after["stuck_authorizations"]) == ([], [])
    assert after["ok"], after["mismatches"]


def test_a_refund_paid_twice_at_the_acquirer_is_reported(aws: Aws) -> None:
    payment = captured_payment(aws, "pay_twice", amount=600)
    aws.ledger.record_authorization("pay_twice", "m_1", 600, "EUR")
    aws.ledger.record_capture("pay_twice", "m_1", 600, "EUR", 1)
    records = operation_record(aws)
    for reference, kind, amount in (
        ("pay_twice:capture:1", OperationKind.CAPTURE, 600),
        ("pay_twice:refund:re_key1", OperationKind.REFUND, 600),  # its answer was lost
    ):
        records.record(AcquirerOperation(kind, reference, "auth_1", amount, "EUR"))
    aws.record_event(payment, EventType.AUTHORIZED, 600)
    aws.record_event(payment, EventType.CAPTURED, 600)
    report = aws.reconcile(False, acquirer_records=records)
    assert [m["kind"] for m in report["mismatches"]] == ["acquirer_operation_unrecorded"]
    assert "pay_twice:refund:re_key1" in report["mismatches"][0]["detail"]


def test_a_pending_refund_is_settled_by_the_acquirer_record_then_booked(aws: Aws) -> None:
    payment = captured_payment(aws, "pay_pend", amount=600)
    aws.ledger.record_authorization("pay_pend", "m_1", 600, "EUR")
    aws.ledger.record_capture("pay_pend", "m_1", 600, "EUR", 1)
    aws.record_event(payment, EventType.AUTHORIZED, 600)
    aws.record_event(payment, EventType.CAPTURED, 600)
    records = operation_record(aws)
    acquirer = AcquirerSimulator(
        b"test-simulator-key-0123456789", 0.01, lambda _s: None, records=records
    )
    acquirer.capture(
        acquirer.authorize(authorization_request("pay_pend", 600)).authorization_id or "",
        600,
        "EUR",
        "pay_pend:capture:1",
    )
    stored = aws.table.get("pay_pend")
    assert stored is not None
    pending = Refund("re_1", 250, "2026-11-22T11:10:00.000+00:00", RefundStatus.PENDING)
    stored = stored.evolve(
        "2026-11-22T11:10:00.000+00:00", authorization_id=_auth(acquirer), version=stored.version
    )
    aws.table.save(stored.refunded(pending, "2026-11-22T11:10:00.000+00:00"))
    # The refund executed at the acquirer, but its answer never reached the workflow.
    acquirer.refund(_auth(acquirer), 250, "EUR", "pay_pend:refund:re_1")
    unresolved = aws.reconcile(False, acquirer_records=records)
    assert [m["kind"] for m in unresolved["mismatches"]] == ["operation_pending"]
    first = aws.reconcile(True, processor=_processor(aws, acquirer), acquirer_records=records)
    assert first["resolved"] == ["pay_pend"]
    # The run publishes the refund's event itself, as the workflow would have; the entry
    # this processor (no ledger of its own) could not post is the repairs'.
    assert [m["kind"] for m in first["mismatches"]] == ["ledger_entry_missing"]
    assert [m["kind"] for m in first["repaired"]] == ["ledger_entry_missing"]
    settled = aws.table.get("pay_pend")
    assert settled is not None and [str(r.status) for r in settled.refunds] == ["succeeded"]
    assert aws.ledger.position("pay_pend").refunded == 250
    assert len(records.operations()) == 2  # nothing executed twice
    aws.record_event(settled, EventType.REFUNDED, 250)
    assert aws.reconcile(False, acquirer_records=records)["ok"]


def test_an_entry_whose_amount_was_edited_by_hand_is_reported(aws: Aws) -> None:
    # Balances are the sums of the entries (nothing stored can drift from them), so an edit
    # shows as an entry that no longer matches what the payment record proves.
    payment = captured_payment(aws, "pay_drift")
    aws.ledger.record_authorization("pay_drift", "m_1", 4_000, "EUR")
    aws.ledger.record_capture("pay_drift", "m_1", 4_000, "EUR", 1)
    aws.record_event(payment, EventType.AUTHORIZED, 4_000)
    aws.record_event(payment, EventType.CAPTURED, 4_000)
    key = {"pk": {"S": "payment#pay_drift"}, "sk": {"S": "entry#capture-1"}}
    item = aws.ddb.get_item(TableName=LEDGER_TABLE, Key=key)["Item"]
    for line in item["lines"]["L"]:
        for side in ("debit", "credit"):
            if line["M"][side]["N"] != "0":
                line["M"][side]["N"] = "12345"
    aws.ddb.put_item(TableName=LEDGER_TABLE, Item=item)
    report = aws.reconcile(repair=False)
    assert [m["kind"] for m in report["mismatches"]] == ["ledger_amount_differs"]
    assert aws.store.balance(merchant_payable_account("m_1"), "EUR") == -12345


def _auth(acquirer: AcquirerSimulator) -> str:
    result = acquirer.authorize(authorization_request("pay_pend", 600))
    assert result.authorization_id is not None
    return result.authorization_id


def authorization_request(payment_id: str, amount: int) -> AuthorizationRequest:
    return AuthorizationRequest(
        payment_id=payment_id,
        merchant_id="m_1",
        amount=amount,
        currency="EUR",
        card=CardReference("tok_x", "visa", "4242", 12, 2030),
        authentication=Authentication(None, None, None),
        idempotency_key=f"{payment_id}:authorize",
    )


def test_an_entry_deleted_by_hand_is_reposted_and_the_double_count_reported(aws: Aws) -> None:
    payment = captured_payment(aws, "pay_hand")
    aws.ledger.record_authorization("pay_hand", "m_1", 4_000, "EUR")
    aws.ledger.record_capture("pay_hand", "m_1", 4_000, "EUR", 1)
    aws.record_event(payment, EventType.AUTHORIZED, 4_000)
    aws.record_event(payment, EventType.CAPTURED, 4_000)
    # Only the entry item goes: the position still counts it.
    aws.ddb.delete_item(
        TableName=LEDGER_TABLE,
        Key={"pk": {"S": "payment#pay_hand"}, "sk": {"S": "entry#capture-1"}},
    )
    first = aws.reconcile(True)
    assert [m["kind"] for m in first["repaired"]] == ["ledger_entry_missing"]
    assert [e.step for e in aws.store.entries_for("pay_hand")] == ["authorization", "capture-1"]
    assert aws.store.stored_position("pay_hand")["captured"] == 4_000
    # The balances are the entries' sums again: nothing is counted twice.
    assert aws.reconcile(False)["ok"]
    assert aws.store.balance("merchant_payable:m_1", "EUR") == -4_000


# ------------------------------------------------- issue 19 item 9: holds never expire


def _held(aws: Aws, acquirer: AcquirerSimulator, payment_id: str, authorized_at: str) -> Payment:
    """An uncaptured authorization the simulator issued, with its entry and event."""
    context = {
        "payment_id": payment_id,
        "merchant_id": "m_1",
        "amount": 700,
        "currency": "EUR",
        "capture": False,
        "card": {"token": f"tok_{payment_id}", "brand": "visa", "last4": "4242"},
    }
    result = acquirer.authorize(authorization_request(payment_id, 700))
    assert result.authorization_id is not None
    payment = new_payment(context, PaymentStatus.AUTHORIZING, authorized_at)
    payment = payment.authorized(result.authorization_id, authorized_at).evolve(
        authorized_at, version=0
    )
    aws.table.save(payment)
    aws.ledger.record_authorization(payment_id, "m_1", 700, "EUR")
    aws.record_event(payment, EventType.AUTHORIZED, 700)
    return payment


def _challenged(aws: Aws, payment_id: str, expires_at: str) -> Payment:
    context = {
        "payment_id": payment_id,
        "merchant_id": "m_1",
        "amount": 30_000,
        "currency": "EUR",
        "card": {"token": f"tok_{payment_id}", "brand": "visa", "last4": "4242"},
        "sca": {"result": {"required": True, "reason": "no_exemption"}},
    }
    challenge = {
        "type": "three_ds_challenge",
        "challenge_id": f"ch_{payment_id}",
        "method": "otp",
        "expires_at": expires_at,
    }
    payment = new_payment(
        context,
        PaymentStatus.REQUIRES_ACTION,
        "2026-11-22T11:00:00.000+00:00",
        next_action=challenge,
    )
    aws.table.save(payment)
    aws.record_event(payment, EventType.REQUIRES_ACTION)
    return payment


def test_stale_holds_are_canceled_first_and_counted_in_the_report(aws: Aws) -> None:
    acquirer = AcquirerSimulator(b"test-simulator-key-0123456789", 0.01, lambda _s: None)
    _held(aws, acquirer, "pay_old", "2026-11-14T11:59:59.000+00:00")  # 8 days before NOW
    _held(aws, acquirer, "pay_new", "2026-11-20T12:00:00.000+00:00")  # 2 days
    _challenged(aws, "pay_gone", "2026-11-22T11:10:00+00:00")  # expired 50 minutes ago
    _challenged(aws, "pay_open", "2026-11-22T12:05:00+00:00")
    processor = PaymentProcessor(
        aws.table, acquirer, BUS, lambda: "2026-11-22T12:00:00.000+00:00", ledger=aws.ledger
    )
    expected = [
        {"payment_id": "pay_gone", "reason": "abandoned"},
        {"payment_id": "pay_old", "reason": "expired"},
    ]

    # A report-only run lists them and changes nothing.
    listed = aws.reconcile(False, processor=processor)
    assert (listed["canceled"], listed["canceled_payments"]) == (0, [])
    assert listed["stale"] == expected
    assert listed["ok"], listed["mismatches"]
    assert acquirer.records.operations() == []

    report = aws.reconcile(True, processor=processor)
    assert (report["canceled"], report["canceled_payments"], report["stale"]) == (2, expected, [])
    # Voided and reversed by the cancel itself, its event counted as published: nothing to repair.
    assert report["ok"], report["mismatches"]
    assert report["repaired"] == []
    stored = {p: aws.table.get(p) for p in ("pay_old", "pay_new", "pay_gone", "pay_open")}
    statuses = {
        p: (str(s.status), s.cancellation_reason) for p, s in stored.items() if s is not None
    }
    assert statuses == {
        "pay_old": ("canceled", "expired"),
        "pay_new": ("authorized", None),
        "pay_gone": ("canceled", "abandoned"),
        "pay_open": ("requires_action", None),
    }
    voids = [o.reference for o in acquirer.records.operations()]
    assert voids == ["pay_old:void"]
    steps = sorted(e.step for e in aws.store.entries_for("pay_old"))
    assert steps == ["authorization", "reversal-authorization"]
    assert aws.store.entries_for("pay_gone") == []

    # The bus's archive rule would log the two cancellations; then a run finds nothing stale.
    for payment_id in ("pay_old", "pay_gone"):
        canceled = aws.table.get(payment_id)
        assert canceled is not None
        aws.record_event(canceled, EventType.CANCELED)
    after = aws.reconcile(True, processor=processor)
    assert (after["canceled"], after["stale"]) == (0, [])
    assert after["ok"], after["mismatches"]


def test_a_stale_hold_whose_void_fails_is_left_for_the_next_run(aws: Aws) -> None:
    acquirer = AcquirerSimulator(b"test-simulator-key-0123456789", 0.01, lambda _s: None)
    payment = _held(aws, acquirer, "pay_old", "2026-11-01T12:00:00.000+00:00")
    # An authorization id this acquirer never issued: the void is refused.
    aws.table.save(payment.evolve(payment.updated_at, authorization_id="auth_unknown"))
    processor = PaymentProcessor(
        aws.table, acquirer, BUS, lambda: "2026-11-22T12:00:00.000+00:00", ledger=aws.ledger
    )
    report = aws.reconcile(True, processor=processor, authorization_validity=dt.timedelta(days=30))
    assert (report["canceled"], report["stale"]) == (0, [])  # 21 days: valid for 30
    report = aws.reconcile(True, processor=processor)
    assert report["canceled"] == 0
    assert report["stale"] == [{"payment_id": "pay_old", "reason": "expired"}]
    stored = aws.table.get("pay_old")
    assert stored is not None and stored.status is PaymentStatus.AUTHORIZED
    assert report["ok"], report["mismatches"]


@pytest.fixture
def function_environment(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    fake_aws_environment(
        monkeypatch,
        PAYMENTS_TABLE_NAME=PAYMENTS_TABLE,
        LEDGER_TABLE_NAME=LEDGER_TABLE,
        EVENT_BUS_NAME=BUS,
        EVENT_LOG_GROUP_NAME=LOG_GROUP,
        POWERTOOLS_SERVICE_NAME="reconcile",
        POWERTOOLS_METRICS_NAMESPACE="test/ledger",
    )
    clients.clear()
    wiring.clear()
    reconcile_function.reconciliation.cache_clear()
    reconcile_function.checkpoints.cache_clear()
    yield
    reconcile_function.reconciliation.cache_clear()
    reconcile_function.checkpoints.cache_clear()
    wiring.clear()
    clients.clear()


def emitted_metrics(output: str) -> dict[str, Any]:
    """The metrics of the EMF record the function printed."""
    (record,) = [json.loads(line) for line in output.splitlines() if line.startswith('{"_aws"')]
    (directive,) = record["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "test/ledger" and record["service"] == "reconcile"
    values = {m["Name"]: record[m["Name"]] for m in directive["Metrics"]}
    return {name: sum(v) if isinstance(v, list) else v for name, v in values.items()}


def test_the_function_reports_only_when_asked_and_emits_a_metric_per_kind(
    aws: Aws, function_environment: None, capsys: pytest.CaptureFixture[str]
) -> None:
    payment = captured_payment(aws, "pay_lost")
    aws.ledger.record_authorization("pay_lost", "m_1", 4_000, "EUR")
    aws.record_event(payment, EventType.AUTHORIZED, 4_000)
    by_hand = {"since": SINCE.updated_at, "until": NOW.isoformat()}
    # Without ``repair`` the configuration decides: RECONCILE_REPAIR is not set, so no repair.
    report = reconcile_function.handler(by_hand, Context())
    # The simulator's operation record (in the payments table) never saw this capture.
    assert sorted(m["kind"] for m in report["mismatches"]) == [
        "acquirer_operation_missing",
        "event_missing",
        "ledger_entry_missing",
    ]
    assert report["repaired"] == [] and report["ok"] is False
    assert [e.step for e in aws.store.entries_for("pay_lost")] == ["authorization"]
    metrics = emitted_metrics(capsys.readouterr().out)
    assert metrics["ledger_entry_missing"] == 1.0 and metrics["event_missing"] == 1.0
    assert metrics["entry_unbalanced"] == 0.0 and metrics["mismatches"] == 3.0
    assert metrics["checked_payments"] == 1.0
    assert metrics["swept_payments"] == 0.0 and metrics["finished_sales"] == 0.0
    repaired = reconcile_function.handler({**by_hand, "repair": True}, Context())
    assert len(repaired["repaired"]) == 2


def test_the_scheduled_run_continues_from_its_checkpoint_and_repairs_only_if_configured(
    aws: Aws, function_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = dt.datetime.now(dt.UTC)
    checkpoint = ReconcileCheckpoint(aws.ddb, PAYMENTS_TABLE)
    checkpoint.save(Position(instant(now - dt.timedelta(minutes=30))))
    when = instant(now - dt.timedelta(minutes=10))
    context = {
        "payment_id": "pay_recent",
        "merchant_id": "m_1",
        "amount": 900,
        "currency": "EUR",
        "capture": False,
        "card": {"token": "tok_r", "brand": "visa", "last4": "4242"},
    }
    payment = new_payment(context, PaymentStatus.AUTHORIZING, when).authorized("auth_1", when)
    aws.table.save(payment.evolve(when, version=0))  # no entry, no event: two mismatches
    scheduled = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}

    report = reconcile_function.handler(scheduled, Context())
    assert report["checked_payments"] == 1 and report["repaired"] == []
    assert sorted(m["kind"] for m in report["mismatches"]) == [
        "event_missing",
        "ledger_entry_missing",
    ]
    assert aws.store.entries_for("pay_recent") == []
    # The checkpoint moved to the window's end, shortly before now: the next run starts there.
    reached = checkpoint.load()
    assert reached is not None and reached.updated_at == report["window"]["end"] > when
    assert reconcile_function.handler(scheduled, Context())["checked_payments"] == 0

    monkeypatch.setenv("RECONCILE_REPAIR", "true")
    wiring.clear()
    checkpoint.save(Position(instant(now - dt.timedelta(minutes=30))))
    repaired = reconcile_function.handler(scheduled, Context())
    assert sorted(m["kind"] for m in repaired["repaired"]) == [
        "event_missing",
        "ledger_entry_missing",
    ]
    assert [e.step for e in aws.store.entries_for("pay_recent")] == ["authorization"]
