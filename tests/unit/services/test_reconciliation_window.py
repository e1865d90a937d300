"""The reconciliation at volume, on in-memory ports: a run reads only the payments updated in
its window (by the update-time index), the event record only around each slice, the holds due
by the open-holds index; it stops when its time is spent and the next run continues from its
checkpoint; the schedule repairs only when configured to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from functions.domain.acquirer import AcquirerOperation, OperationKind
from functions.domain.ledger import PaymentLedger, PostingRules
from functions.domain.payments import EventType, Payment, PaymentStatus, new_payment
from functions.services.reconciliation import (
    HoldKind,
    Position,
    ReconcileRequest,
    Reconciliation,
    WindowSettings,
    instant,
    open_hold,
)
from tests.unit.services.fakes import (
    EventLog,
    LedgerRecords,
    PaymentRecords,
    TimedOperationLog,
    event_of,
)

BUS = "payments"
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
RULES = PostingRules()
SCHEDULED = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}


def at(minutes_before_now: float) -> str:
    return instant(NOW - dt.timedelta(minutes=minutes_before_now))


def context(payment_id: str) -> dict[str, Any]:
    return {
        "payment_id": payment_id,
        "merchant_id": "m_1",
        "amount": 1_000,
        "currency": "EUR",
        "capture": False,
        "card": {"token": f"tok_{payment_id}", "brand": "visa", "last4": "4242"},
    }


class Checkpoint:
    def __init__(self, position: Position | None = None) -> None:
        self.position = position
        self.saved: list[Position] = []

    def load(self) -> Position | None:
        return self.position

    def save(self, position: Position) -> None:
        self.position = position
        self.saved.append(position)


class World:
    def __init__(self, window: WindowSettings | None = None) -> None:
        self.payments = PaymentRecords()
        self.store = LedgerRecords()
        self.ledger = PaymentLedger(self.store, RULES)
        self.events = EventLog(clock=instant(NOW))
        self.acquirer = TimedOperationLog()
        self.service = Reconciliation(
            self.payments,
            self.store,
            self.events,
            self.events,
            RULES,
            BUS,
            acquirer=self.acquirer,
            window=window or WindowSettings(),
        )

    def authorized(self, payment_id: str, when: str, *, booked: bool = True) -> Payment:
        """An authorization made at ``when``: its entry and its event, unless ``booked`` is
        False (then the ledger lacks the entry: one mismatch)."""
        payment = (
            new_payment(context(payment_id), PaymentStatus.AUTHORIZING, when)
            .authorized("auth_1", when)
            .evolve(when, version=0)
        )
        self.payments.save(payment)
        if booked:
            self.ledger.record_authorization(payment_id, "m_1", 1_000, "EUR", at=when)
        self.events.record(event_of(payment.event(EventType.AUTHORIZED, BUS, amount=1_000)), when)
        return payment

    def captured(
        self, payment: Payment, when: str, *, published: bool = True, at_acquirer: bool = True
    ) -> Payment:
        """``payment`` captured at ``when``: its entry, and unless told otherwise its event and
        the acquirer's operation."""
        captured = payment.captured(1_000, when).evolve(when, version=payment.version + 1)
        self.payments.save(captured)
        self.ledger.record_capture(payment.payment_id, "m_1", 1_000, "EUR", 1, at=when)
        if published:
            event = captured.event(EventType.CAPTURED, BUS, amount=1_000)
            self.events.record(event_of(event), when)
        if at_acquirer:
            self.acquirer.clock = when
            self.acquirer.record(
                AcquirerOperation(
                    OperationKind.CAPTURE, f"{payment.payment_id}:capture:1", "auth_1", 1_000, "EUR"
                )
            )
        return captured

    def run(
        self,
        start: str,
        end: str,
        *,
        repair: bool = False,
        out_of_time: Callable[[], bool] = lambda: False,
    ) -> dict[str, Any]:
        outcome = self.service.run(
            repair=repair,
            now=NOW,
            start=Position(start),
            end=dt.datetime.fromisoformat(end),
            out_of_time=out_of_time,
        )
        return outcome.to_dict()


def kinds(report: dict[str, Any]) -> list[str]:
    return sorted(m["kind"] for m in report["mismatches"])


def test_a_payment_updated_at_the_windows_end_belongs_to_the_next_window() -> None:
    world = World()
    world.authorized("pay_start", at(60), booked=False)
    world.authorized("pay_edge", at(30), booked=False)
    first = world.run(at(60), at(30))
    # [start, end): the one at the start is in, the one at the end is not.
    assert [m["payment_id"] for m in first["mismatches"]] == ["pay_start"]
    assert first["checked_payments"] == 1
    second = world.run(at(30), at(0))
    assert [m["payment_id"] for m in second["mismatches"]] == ["pay_edge"]


def test_payments_outside_the_window_are_not_read() -> None:
    world = World()
    world.authorized("pay_old", at(3 * 60), booked=False)
    world.authorized("pay_new", at(10))
    report = world.run(at(60), at(0))
    assert report["checked_payments"] == 1 and report["ok"]


def test_the_event_record_is_read_once_around_the_slices_as_the_run_slides() -> None:
    window = WindowSettings(
        slice_length=dt.timedelta(minutes=15),
        event_lookback=dt.timedelta(minutes=30),
        event_lag=dt.timedelta(minutes=2),
    )
    world = World(window)
    # Authorized in the first slice, captured in the third: the authorization's event, read
    # with the first slice, is still held when the third compares the payment.
    world.captured(world.authorized("pay_1", at(55)), at(25))
    report = world.run(at(60), at(0))
    assert report["ok"], report["mismatches"]
    # Four slices of 15 minutes: the first read reaches 30 minutes back, each later one starts
    # where the last ended; none goes more than 2 minutes past its slice.
    one_ms = dt.timedelta(milliseconds=1)
    assert world.events.reads == [
        (at(90), at(43)),
        *(
            (instant(NOW - dt.timedelta(minutes=m - 2) + one_ms), at(m - 15 - 2))
            for m in (45, 30, 15)
        ),
    ]


def test_an_event_before_the_record_read_is_not_expected_one_inside_is() -> None:
    window = WindowSettings(event_lookback=dt.timedelta(minutes=30))
    world = World(window)
    # Authorized 3 hours ago (its event then), captured now: the run sees the capture only.
    world.captured(world.authorized("pay_1", at(180)), at(10), published=False)
    report = world.run(at(15), at(0))
    # The authorization's event is out of the read (an earlier run checked it); the capture's
    # event is in it and missing.
    assert [m["detail"] for m in report["mismatches"]] == [
        "payment.captured of 1000 was not published"
    ]


def test_a_run_out_of_time_stops_and_the_next_continues_from_its_checkpoint() -> None:
    world = World()
    for n in range(6):
        world.authorized(f"pay_{n}", at(50 - n), booked=False)
    checkpoint = Checkpoint(Position(at(60)))
    budget = iter([False] * 5 + [True])  # time for some payments, not all

    first = world.service.serve(
        ReconcileRequest.model_validate(SCHEDULED),
        now=NOW,
        repair_by_default=False,
        checkpoints=checkpoint,
        out_of_time=lambda: next(budget, True),
    )
    assert not first.complete and 0 < first.report.checked_payments < 6
    assert checkpoint.saved == [first.reached]
    done = first.report.checked_payments
    assert first.reached == Position(at(50 - (done - 1)), f"pay_{done - 1}")

    second = world.service.serve(
        ReconcileRequest.model_validate(SCHEDULED),
        now=NOW,
        repair_by_default=False,
        checkpoints=checkpoint,
    )
    assert second.complete and second.start == first.reached
    # Every payment checked once over the two runs, none twice.
    checked: list[str] = []
    for mismatch in (*first.report.mismatches, *second.report.mismatches):
        assert mismatch.payment_id is not None
        checked.append(mismatch.payment_id)
    assert sorted(checked) == [f"pay_{n}" for n in range(6)]
    # The schedule's window ends shortly before now; the checkpoint moves to that end.
    assert checkpoint.position == Position(at(2))


def test_a_run_with_no_time_left_keeps_its_start() -> None:
    world = World()
    world.authorized("pay_1", at(30), booked=False)
    report = world.run(at(60), at(0), out_of_time=lambda: True)
    assert report["window"]["complete"] is False
    assert report["window"]["reached"] == {"updated_at": at(60), "payment_id": ""}
    assert report["checked_payments"] == 0


def test_a_checkpoint_past_the_windows_end_is_not_moved_back() -> None:
    world = World()
    ahead = Checkpoint(Position(at(1), "pay_z"))
    world.service.serve(
        ReconcileRequest.model_validate(SCHEDULED),
        now=NOW,
        repair_by_default=False,
        checkpoints=ahead,
    )
    assert ahead.position == Position(at(1), "pay_z")


@pytest.mark.parametrize(
    ("request_body", "by_default", "posted"),
    [
        (SCHEDULED, False, False),  # the schedule, configured to report only
        (SCHEDULED, True, True),  # the schedule, configured to repair
        ({"repair": True}, False, True),  # by hand, after reading the report
        ({"repair": False}, True, False),
    ],
)
def test_the_schedule_repairs_only_when_configured_to(
    request_body: dict[str, Any], by_default: bool, posted: bool
) -> None:
    world = World()
    world.authorized("pay_1", at(30), booked=False)
    outcome = world.service.serve(
        ReconcileRequest.model_validate({**request_body, "since": at(60)}),
        now=NOW,
        repair_by_default=by_default,
        checkpoints=Checkpoint(Position(at(60))),
    )
    assert [m.kind.value for m in outcome.report.mismatches] == ["ledger_entry_missing"]
    assert bool(world.store.entries_for("pay_1")) is posted
    assert len(outcome.repaired) == int(posted)


def test_a_run_by_hand_covers_its_window_and_leaves_the_checkpoint() -> None:
    world = World()
    world.authorized("pay_1", at(30), booked=False)
    checkpoint = Checkpoint(Position(at(5)))
    outcome = world.service.serve(
        ReconcileRequest.model_validate({"repair": False, "since": at(60), "until": at(20)}),
        now=NOW,
        repair_by_default=False,
        checkpoints=checkpoint,
    )
    assert outcome.report.checked_payments == 1
    assert checkpoint.saved == []


def test_stale_holds_are_found_by_the_open_holds_index_whatever_the_window() -> None:
    world = World()
    old = world.authorized("pay_old", instant(NOW - dt.timedelta(days=8)))
    world.authorized("pay_new", at(30))
    assert open_hold(old) == (HoldKind.AUTHORIZED, old.authorized_at)
    report = world.run(at(60), at(0))
    assert report["stale"] == [{"payment_id": "pay_old", "reason": "expired"}]
    assert report["checked_payments"] == 1  # the window's only payment


def test_a_settled_payment_keeps_no_open_hold() -> None:
    payment = (
        new_payment(context("pay_1"), PaymentStatus.AUTHORIZING, at(10))
        .authorized("auth_1", at(10))
        .captured(1_000, at(5))
    )
    assert open_hold(payment) is None


@pytest.mark.parametrize(
    ("operation", "found"),
    [
        # A refund the acquirer paid whose answer never reached the record, executed later
        # than the payment's last update: found from the slice that holds the operation.
        (
            AcquirerOperation(OperationKind.REFUND, "pay_1:refund:re_lost", "auth_1", 1_000, "EUR"),
            ["acquirer_operation_unrecorded"],
        ),
        # A BNPL plan's charge: the BNPL charger's simulator writes to the same record under
        # the plan's keys; no card payment carries that id, and the credit reconciliation,
        # against the plan and its credit ledger, answers for it.
        (
            AcquirerOperation(
                OperationKind.CAPTURE, "pl_1:charge:1:1:capture", "auth_9", 2_500, "EUR"
            ),
            [],
        ),
    ],
)
def test_an_acquirer_operation_the_record_lacks_is_reported_from_its_slice(
    operation: AcquirerOperation, found: list[str]
) -> None:
    world = World()
    world.captured(world.authorized("pay_1", at(30)), at(30))
    world.acquirer.clock = at(20)
    world.acquirer.record(operation)
    report = world.run(at(60), at(0))
    assert kinds(report) == found
    if found:
        assert operation.reference in report["mismatches"][0]["detail"]


def test_a_capture_the_acquirer_lacks_is_found_by_its_reference() -> None:
    world = World()
    world.captured(world.authorized("pay_1", at(30)), at(30), at_acquirer=False)
    assert kinds(world.run(at(60), at(0))) == ["acquirer_operation_missing"]


class CountedReads(PaymentRecords):
    def __init__(self) -> None:
        super().__init__()
        self.gets: list[str] = []

    def get(self, payment_id: str) -> Payment | None:
        self.gets.append(payment_id)
        return super().get(payment_id)


def test_an_entry_of_no_payment_written_in_the_window_is_reported_and_never_repaired() -> None:
    world = World()
    world.payments = CountedReads()
    world.service = Reconciliation(
        world.payments, world.store, world.events, world.events, RULES, BUS
    )
    world.captured(world.authorized("pay_1", at(40)), at(35))
    world.store.clock = at(30)
    world.ledger.record_authorization("pay_ghost", "m_1", 500, "EUR")
    world.store.clock = at(3 * 60)
    world.ledger.record_authorization("pay_old_ghost", "m_1", 500, "EUR")
    report = world.run(at(60), at(0), repair=True)
    # Found by the time it was written, not by any payment; the one written before the window
    # is an earlier run's to find.
    assert [(m["kind"], m["payment_id"]) for m in report["mismatches"]] == [
        ("ledger_without_payment", "pay_ghost")
    ]
    assert report["repaired"] == [] and report["checked_payments"] == 1
    # pay_1's entries were written in the slice that compares it: only the ghost cost a read.
    assert world.payments.gets == ["pay_ghost"]


def test_an_entry_of_a_payment_compared_in_another_slice_costs_a_read_not_a_mismatch() -> None:
    world = World()
    world.payments = CountedReads()
    world.service = Reconciliation(
        world.payments, world.store, world.events, world.events, RULES, BUS
    )
    # Authorized in one slice, captured (its record's last update) in a later one: the
    # authorization's entry is checked against the record, which exists.
    world.captured(world.authorized("pay_1", at(50)), at(20))
    report = world.run(at(60), at(0))
    assert report["ok"], report["mismatches"]
    assert world.payments.gets == ["pay_1"]


def test_a_run_lists_a_bounded_number_of_mismatches_and_counts_them_all() -> None:
    world = World(WindowSettings(listed=3))
    for n in range(7):
        world.authorized(f"pay_{n}", at(30 - n), booked=False)
    report = world.run(at(60), at(0))
    assert len(report["mismatches"]) == 3
    assert report["counts"] == {"ledger_entry_missing": 7} and not report["ok"]
