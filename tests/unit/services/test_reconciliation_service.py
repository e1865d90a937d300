"""The reconciliation run on in-memory ports: what it repairs, what it only reports, and how it
treats stale holds, pending operations and a bus that refuses its events."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from functions.domain.acquirer import (
    AcquirerSimulator,
    AcquirerUnavailableError,
    Authentication,
    AuthorizationRequest,
    CardReference,
    OperationKind,
)
from functions.domain.ledger import PaymentLedger, PostingRules
from functions.domain.payments import (
    EventType,
    Payment,
    PaymentRuleError,
    PaymentStatus,
    Refund,
    RefundStatus,
    new_payment,
)
from functions.services.payment_processing import PaymentProcessor
from functions.services.reconciliation import (
    Position,
    ReconcileRequest,
    Reconciliation,
    instant,
)
from tests.unit.services.fakes import EventLog, LedgerRecords, PaymentRecords, event_of

BUS = "payments"
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
EARLIER = "2026-11-22T11:00:00.000+00:00"
# A window that holds every payment these tests make.
SINCE = Position("2026-10-01T00:00:00.000+00:00")
RULES = PostingRules()


class World:
    def __init__(self) -> None:
        self.payments = PaymentRecords()
        self.store = LedgerRecords()
        self.ledger = PaymentLedger(self.store, RULES)
        self.events = EventLog(clock=NOW.isoformat(timespec="milliseconds"))

    def run(
        self,
        repair: bool,
        operations: Any = None,
        now: dt.datetime = NOW,
        end: dt.datetime | None = None,
    ) -> dict[str, Any]:
        service = Reconciliation(
            self.payments, self.store, self.events, self.events, RULES, BUS, operations=operations
        )
        return service.run(repair=repair, now=now, start=SINCE, end=end or now).to_dict()

    def record(self, payment: Payment, kind: EventType, amount: int | None = None) -> None:
        """The event as the archive rule records it, dated by the write that published it."""
        self.events.record(event_of(payment.event(kind, BUS, amount=amount)), payment.updated_at)

    def captured(self, payment_id: str, amount: int = 4_000) -> Payment:
        payment = (
            new_payment(context(payment_id, amount), PaymentStatus.AUTHORIZING, EARLIER)
            .authorized("auth_1", EARLIER)
            .captured(amount, EARLIER)
            .evolve(EARLIER, version=0)
        )
        self.payments.save(payment)
        return payment

    def held(self, acquirer: AcquirerSimulator, payment_id: str, authorized_at: str) -> Payment:
        result = acquirer.authorize(
            AuthorizationRequest(
                payment_id=payment_id,
                merchant_id="m_1",
                amount=700,
                currency="EUR",
                card=CardReference(f"tok_{payment_id}", "visa", "4242", 12, 2030),
                authentication=Authentication(None, None, None),
                idempotency_key=f"{payment_id}:authorize",
            )
        )
        assert result.authorization_id is not None
        payment = (
            new_payment(context(payment_id, 700), PaymentStatus.AUTHORIZING, authorized_at)
            .authorized(result.authorization_id, authorized_at)
            .evolve(authorized_at, version=0)
        )
        self.payments.save(payment)
        self.ledger.record_authorization(payment_id, "m_1", 700, "EUR")
        self.record(payment, EventType.AUTHORIZED, 700)
        return payment


def context(payment_id: str, amount: int) -> dict[str, Any]:
    return {
        "payment_id": payment_id,
        "merchant_id": "m_1",
        "amount": amount,
        "currency": "EUR",
        "capture": False,
        "card": {"token": f"tok_{payment_id}", "brand": "visa", "last4": "4242"},
    }


@pytest.fixture
def world() -> World:
    return World()


def kinds(report: Mapping[str, Any]) -> list[str]:
    return sorted(m["kind"] for m in report["mismatches"])


def test_a_lost_entry_and_a_lost_event_are_repaired_and_the_next_run_is_clean(
    world: World,
) -> None:
    payment = world.captured("pay_1")
    world.ledger.record_authorization("pay_1", "m_1", 4_000, "EUR")
    world.record(payment, EventType.AUTHORIZED, 4_000)

    report = world.run(repair=False)
    assert kinds(report) == ["event_missing", "ledger_entry_missing"]
    assert report["repaired"] == [] and world.events.published == []
    assert len(world.store.entries_for("pay_1")) == 1

    world.events.archive = True
    repaired = world.run(repair=True)
    assert sorted(m["kind"] for m in repaired["repaired"]) == kinds(report)
    assert [e.step for e in world.store.entries_for("pay_1")] == ["authorization", "capture-1"]
    (event,) = world.events.published
    # The same event id as the original would have had: consumers drop a duplicate.
    assert (
        event["Detail"]["event_id"] == payment.event(EventType.CAPTURED, BUS)["Detail"]["event_id"]
    )
    assert world.run(repair=False)["ok"]


def test_an_event_the_bus_refuses_is_reported_not_counted_as_repaired(world: World) -> None:
    payment = world.captured("pay_1")
    world.ledger.record_authorization("pay_1", "m_1", 4_000, "EUR")
    world.ledger.record_capture("pay_1", "m_1", 4_000, "EUR", 1)
    world.record(payment, EventType.AUTHORIZED, 4_000)
    world.events.refuse = True
    report = world.run(repair=True)
    assert kinds(report) == ["event_missing"] and report["repaired"] == []


def test_a_stuck_authorization_is_only_reported_without_operations(world: World) -> None:
    # A journal entry of no payment is found by the time it was written (the ledger's
    # by_recorded index) and reported, never repaired.
    world.store.clock = EARLIER
    world.ledger.record_authorization("pay_ghost", "m_1", 500, "EUR")
    stuck = new_payment(context("pay_stuck", 100), PaymentStatus.AUTHORIZING, EARLIER)
    world.payments.save(stuck)
    report = world.run(repair=True)
    assert [(m["kind"], m["payment_id"]) for m in report["mismatches"]] == [
        ("ledger_without_payment", "pay_ghost")
    ]
    assert report["repaired"] == []
    assert report["stuck_authorizations"] == ["pay_stuck"] and report["ok"] is False


def test_the_challenge_of_a_payment_later_authenticated_is_expected_history(world: World) -> None:
    payment = world.captured("pay_1")
    payment = payment.evolve(payment.updated_at, sca={"required": True}, version=payment.version)
    world.payments.save(payment.evolve(payment.updated_at, version=payment.version + 1))
    world.ledger.record_authorization("pay_1", "m_1", 4_000, "EUR")
    world.ledger.record_capture("pay_1", "m_1", 4_000, "EUR", 1)
    for kind, amount in (
        (EventType.REQUIRES_ACTION, None),
        (EventType.AUTHORIZED, 4_000),
        (EventType.CAPTURED, 4_000),
    ):
        world.record(payment, kind, amount)
    assert world.run(repair=False)["ok"]


def test_stale_holds_are_listed_by_a_report_and_canceled_by_a_repair(world: World) -> None:
    acquirer = AcquirerSimulator(b"test-simulator-key-0123456789", 0.01, lambda _s: None)
    world.held(acquirer, "pay_old", "2026-11-14T11:59:59.000+00:00")  # 8 days old
    world.held(acquirer, "pay_new", "2026-11-20T12:00:00.000+00:00")
    processor = PaymentProcessor(
        world.payments, acquirer, BUS, lambda: "2026-11-22T12:00:00.000+00:00", ledger=world.ledger
    )
    listed = world.run(repair=False, operations=processor)
    assert listed["stale"] == [{"payment_id": "pay_old", "reason": "expired"}]
    assert listed["canceled"] == 0 and listed["ok"]
    assert world.events.published == []

    report = world.run(repair=True, operations=processor)
    assert report["canceled_payments"] == [{"payment_id": "pay_old", "reason": "expired"}]
    assert report["stale"] == []
    # Its event was just published: counted, not missing, even before the record holds it.
    assert [e["DetailType"] for e in world.events.published] == ["payment.canceled"]
    assert report["ok"], report["mismatches"]
    steps = sorted(e.step for e in world.store.entries_for("pay_old"))
    assert steps == ["authorization", "reversal-authorization"]


@dataclass
class RefusingOperations:
    """Every cancel and resolve refused with ``error``."""

    error: Exception
    asked: list[str] = field(default_factory=list)

    def cancel(self, payment_id: str, reason: str | None) -> Mapping[str, Any]:
        self.asked.append(f"cancel {payment_id}")
        raise self.error

    def resolve(self, payment_id: str) -> list[Mapping[str, Any]]:
        self.asked.append(f"resolve {payment_id}")
        raise self.error


@pytest.mark.parametrize(
    ("error", "stale"),
    [
        # The acquirer took no void: left for the next run.
        (AcquirerUnavailableError("down"), [{"payment_id": "pay_old", "reason": "expired"}]),
        # Changed since the scan (captured, say): no longer stale.
        (PaymentRuleError("payment_unexpected_state", "captured"), []),
    ],
)
def test_a_stale_hold_that_cannot_be_canceled(
    world: World, error: Exception, stale: list[dict[str, str]]
) -> None:
    acquirer = AcquirerSimulator(b"test-simulator-key-0123456789", 0.01, lambda _s: None)
    world.held(acquirer, "pay_old", "2026-11-01T12:00:00.000+00:00")
    operations = RefusingOperations(error)
    report = world.run(repair=True, operations=operations)
    assert operations.asked == ["cancel pay_old"]
    assert (report["canceled"], report["stale"]) == (0, stale)
    assert report["ok"], report["mismatches"]


def test_a_pending_refund_still_unanswered_stays_pending_and_reported(world: World) -> None:
    payment = world.captured("pay_p", 600)
    pending = Refund("re_1", 250, EARLIER, RefundStatus.PENDING)
    world.payments.save(payment.refunded(pending, EARLIER))
    operations = RefusingOperations(AcquirerUnavailableError("down"))
    report = world.run(repair=True, operations=operations)
    assert operations.asked == ["resolve pay_p"]
    assert report["resolved"] == []
    assert "operation_pending" in kinds(report)
    assert world.run(repair=False, operations=operations)["resolved"] == []
    assert operations.asked == ["resolve pay_p"]  # a report never asks the acquirer


@pytest.mark.parametrize("authorized_recorded", [True, False])
@pytest.mark.parametrize("window_end", [NOW, NOW - dt.timedelta(hours=2)], ids=["now", "earlier"])
def test_a_capture_the_run_resolves_is_published_and_compared_by_that_same_run(
    world: World, authorized_recorded: bool, window_end: dt.datetime
) -> None:
    """A capture step that died after the acquirer took it leaves the payment capture_pending.
    The run that resolves it writes the payment after its own window's end, so the window
    cannot hold it: the run publishes the capture's events itself and compares the payment
    (a lost earlier event republished), and the next run finds nothing. The event record the
    window's last slice read serves when it reaches the run's start; a window that ended
    earlier leaves the run to read the stretch before it."""
    acquirer = AcquirerSimulator(b"test-simulator-key-0123456789", 0.01, lambda _s: None)
    held = world.held(acquirer, "pay_p", EARLIER)
    if not authorized_recorded:
        world.events.recorded.clear()
    pending = held.capture_reserved(700, EARLIER, None)
    world.payments.save(pending)
    assert held.authorization_id is not None
    acquirer.capture(held.authorization_id, 700, "EUR", pending.capture_idempotency_key)
    later = NOW + dt.timedelta(seconds=1)
    processor = PaymentProcessor(
        world.payments, acquirer, BUS, lambda: instant(later), ledger=world.ledger
    )
    world.events.archive = True

    report = world.run(repair=True, operations=processor, end=window_end)
    lookback = (instant(NOW - dt.timedelta(minutes=90)), instant(NOW + dt.timedelta(minutes=2)))
    assert (lookback in world.events.reads) is (window_end < NOW)
    stored = world.payments.get("pay_p")
    assert stored is not None and stored.status is PaymentStatus.CAPTURED
    assert stored.updated_at > instant(NOW)  # after the window
    assert report["resolved"] == ["pay_p"] and report["checked_payments"] == 1
    published = [e["DetailType"] for e in world.events.published]
    assert [e.step for e in world.store.entries_for("pay_p")] == ["authorization", "capture-1"]
    if authorized_recorded:
        assert published == ["payment.captured"] and report["mismatches"] == []
    else:
        assert published == ["payment.captured", "payment.authorized"]
        assert [m["kind"] for m in report["repaired"]] == ["event_missing"]

    again = world.run(repair=False, operations=processor, now=later + dt.timedelta(minutes=5))
    assert again["checked_payments"] == 1 and again["resolved"] == []
    assert again["ok"], again["mismatches"]


def test_the_schedules_envelope_says_nothing_of_repair_and_marks_the_run_scheduled() -> None:
    scheduled = ReconcileRequest.model_validate(
        {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    )
    assert scheduled.repair is None and scheduled.scheduled
    by_hand = ReconcileRequest.model_validate({"repair": False})
    assert by_hand.repair is False and not by_hand.scheduled


def test_a_repaired_entry_is_dated_when_the_record_says_its_movement_happened(
    world: World,
) -> None:
    """docs/ledger.md: a repair carries the business date of its event (``effective_at``), so a
    capture lost on the 20th and repaired on the 22nd lands in the 20th's period. facts_of left
    ``occurred_at`` empty, so every repair was dated at the repair."""
    authorized_at, captured_at = "2026-11-20T09:00:00+00:00", "2026-11-20T10:00:00+00:00"
    refunded_at, later = "2026-11-21T08:00:00+00:00", "2026-11-21T23:00:00+00:00"
    payment = (
        new_payment(context("pay_1", 4_000), PaymentStatus.AUTHORIZING, authorized_at)
        .authorized("auth_1", authorized_at)
        .captured(4_000, captured_at)
        # Refunds move updated_at on: the capture's date must not follow it.
        .refunded(Refund("re_1", 1_000, refunded_at, RefundStatus.SUCCEEDED), later)
        .evolve(later, version=0)
    )
    world.payments.save(payment)
    world.run(repair=True)
    dated = {e.step: (e.effective_at, e.value_date) for e in world.store.entries_for("pay_1")}
    assert dated == {
        "authorization": (authorized_at, "2026-11-20"),
        "capture-1": (captured_at, "2026-11-20"),
        "refund-re_1": (refunded_at, "2026-11-21"),
    }


def test_a_sale_recorded_before_captured_at_existed_is_dated_by_its_last_write(
    world: World,
) -> None:
    sold_at = "2026-11-20T10:00:00+00:00"
    payment = dataclasses.replace(
        new_payment(
            {**context("pay_1", 4_000), "capture": True}, PaymentStatus.AUTHORIZING, sold_at
        )
        .authorized("auth_1", sold_at)
        .captured(4_000, sold_at),
        captured_at=None,
        version=0,
    )
    world.payments.save(payment)
    world.run(repair=True)
    ((step, effective_at),) = [(e.step, e.effective_at) for e in world.store.entries_for("pay_1")]
    assert (step, effective_at) == ("sale", sold_at)


def _authorization(payment: Payment) -> AuthorizationRequest:
    return AuthorizationRequest(
        payment_id=payment.payment_id,
        merchant_id="m_1",
        amount=payment.amount,
        currency=payment.currency,
        card=CardReference(f"tok_{payment.payment_id}", "visa", "4242", 12, 2030),
        authentication=Authentication(None, None, None),
        idempotency_key=payment.authorize_idempotency_key,
    )


def _sale_that_died(world: World, acquirer: AcquirerSimulator, *, captured: bool) -> Payment:
    """A sale whose step died after its first write (``authorizing``, the capture reserved):
    the acquirer authorized it, and took the capture too when ``captured``."""
    sale = {**context("pay_died", 700), "capture": True}
    payment = new_payment(sale, PaymentStatus.AUTHORIZING, EARLIER).with_capture_intent()
    world.payments.save(payment)
    result = acquirer.authorize(_authorization(payment))
    assert result.authorization_id is not None
    if captured:
        acquirer.capture(
            result.authorization_id, 700, "EUR", idempotency_key=payment.capture_idempotency_key
        )
    return payment


@pytest.mark.parametrize("captured", [False, True])
def test_a_sale_left_authorizing_is_compensated_or_finished_if_its_capture_was_taken(
    world: World, captured: bool
) -> None:
    acquirer = AcquirerSimulator(b"test-simulator-key-0123456789", 0.01, lambda _s: None)
    _sale_that_died(world, acquirer, captured=captured)
    processor = PaymentProcessor(
        world.payments, acquirer, BUS, lambda: "2026-11-22T12:00:00.000+00:00", ledger=world.ledger
    )
    listed = world.run(repair=False, operations=processor)
    assert listed["stuck_authorizations"] == ["pay_died"] and listed["swept"] == []
    assert listed["finished"] == [] and not world.events.published

    report = world.run(repair=True, operations=processor)
    stored = world.payments.get("pay_died")
    assert stored is not None and report["stuck_authorizations"] == []
    operations = acquirer.records.operations()
    if captured:
        # The acquirer moved the money: never voided, recorded as the sale's step would have.
        assert report["swept"] == [] and report["finished"] == ["pay_died"]
        assert stored.status is PaymentStatus.CAPTURED and stored.amount_captured == 700
        (capture,) = operations
        assert stored.authorization_id == capture.authorization_id and voids(acquirer) == []
        published = ["payment.authorized", "payment.captured"]
        assert [e.step for e in world.store.entries_for("pay_died")] == ["sale"]
    else:
        assert report["swept"] == ["pay_died"] and report["finished"] == []
        assert stored.status is PaymentStatus.FAILED and voids(acquirer) == ["pay_died:authorize"]
        published = ["payment.declined"]
    # The sweep's events are published, and nothing is left unbalanced or unrecorded.
    assert [e["DetailType"] for e in world.events.published] == published
    assert report["ok"], report["mismatches"]
    again = world.run(repair=True, operations=processor)
    assert (again["swept"], again["finished"], again["stuck_authorizations"]) == ([], [], [])
    assert acquirer.records.operations() == operations and len(world.events.published) == len(
        published
    )
    assert again["ok"], again["mismatches"]


@pytest.mark.parametrize(
    ("amount", "currency"), [(699, "EUR"), (700, "USD")], ids=["amount", "currency"]
)
def test_a_stuck_sale_whose_capture_differs_from_its_record_is_left_for_an_operator(
    world: World, amount: int, currency: str
) -> None:
    acquirer = AcquirerSimulator(b"test-simulator-key-0123456789", 0.01, lambda _s: None)
    payment = _sale_that_died(world, acquirer, captured=False)
    authorization = acquirer.authorize(
        dataclasses.replace(_authorization(payment), amount=amount, currency=currency)
    ).authorization_id
    assert authorization is not None
    acquirer.capture(authorization, amount, currency, payment.capture_idempotency_key)
    processor = PaymentProcessor(
        world.payments, acquirer, BUS, lambda: "2026-11-22T12:00:00.000+00:00", ledger=world.ledger
    )
    report = world.run(repair=True, operations=processor)
    assert (report["swept"], report["finished"]) == ([], [])
    assert report["stuck_authorizations"] == ["pay_died"]
    stored = world.payments.get("pay_died")
    assert stored is not None and stored.status is PaymentStatus.AUTHORIZING
    assert voids(acquirer) == [] and not world.events.published


def voids(acquirer: AcquirerSimulator) -> list[str]:
    return [o.reference for o in acquirer.records.operations() if o.kind is OperationKind.VOID]
