"""Reconciliation (application service): payments, ledger, published events and the acquirer's
record, over ports. The comparison itself is pure (``functions.domain.reconciliation``); this
module gathers its inputs, runs the safe repairs and reports the rest.

A run reads what changed in a time window, never a whole table (docs/ledger.md,
"Reconciliation at volume"):

1. Holds due for the sweeper are found by the payments' open-holds index, one query per kind
   (``HoldKind``) bounded by its due time: uncaptured authorizations older than their validity
   and expired 3-D Secure challenges are canceled (``stale_payments``); a payment left
   ``authorizing`` beyond an Express execution's lifetime is compensated as the workflow would
   have (voided by its authorization's idempotency key, unless the acquirer took its capture);
   a capture or refund whose acquirer answer was lost is settled by asking the acquirer
   (``PaymentOperations.resolve``), and the events of what it settled are published.
2. The window's payments are read from the update-time index, in (updated_at, payment_id)
   order, one slice of time at a time; for each, its journal entries (one query of its ledger
   partition), its events in the slice's stretch of the event record and the acquirer's
   operations (by reference, and those executed in the slice) are compared.
   The payments the sweeps changed are written after the window's end: each is compared
   after the window, by its own record.
3. With ``repair``, the safe repairs are applied as each payment is compared: a movement the
   record shows but the ledger lacks is posted (the exact entry the workflow would have posted,
   idempotent by its id), a missing event is published again (same ``event_id``).
   Everything else is reported for a person to decide.

The run stops before ``out_of_time`` says so and answers where it got to (``reached``); the
scheduled caller keeps that as its checkpoint, so a backlog is worked off over several runs.
Memory is bounded by one slice: a slice's payments, their events and operations, and at most
``listed`` mismatches (the rest are counted).
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field

from functions.contracts.steps import PaymentContext, StepFailure
from functions.domain.acquirer import AcquirerError, AcquirerOperation
from functions.domain.credit.schedule import is_plan_id
from functions.domain.ledger import JournalEntry, PostingRules
from functions.domain.payments import (
    DEFAULT_AUTHORIZATION_VALIDITY,
    EventType,
    Payment,
    PaymentRuleError,
    PaymentStatus,
    StaleWriteError,
    stale_payments,
)
from functions.domain.reconciliation import (
    Mismatch,
    MismatchKind,
    PaymentFacts,
    PublishedEvent,
    ReconciliationReport,
    RepairAction,
    reconcile,
)
from functions.services.payment_processing import StepOutcome

logger = Logger(child=True)

# An EXPRESS execution ends within 5 minutes: a payment still ``authorizing`` after that was
# left by a workflow that died before it could compensate.
STUCK_AFTER = dt.timedelta(minutes=5)
# What a sweep compensates with: the failure Step Functions reports for an execution that timed
# out, so the payment ends as the workflow's own compensation would have left it.
SWEPT = StepFailure(Error="States.Timeout", Cause="left authorizing by a workflow that ended")

_AUTHORIZED_STATUSES = frozenset(
    {
        PaymentStatus.AUTHORIZED,
        PaymentStatus.CAPTURE_PENDING,
        PaymentStatus.CAPTURED,
        PaymentStatus.PARTIALLY_REFUNDED,
        PaymentStatus.REFUNDED,
        PaymentStatus.CANCELED,
    }
)
# Statuses that publish an event of their own (payment.declined, .requires_action, .canceled).
_STATUS_EVENT_STATUSES = frozenset(
    {
        PaymentStatus.DECLINED,
        PaymentStatus.FAILED,
        PaymentStatus.REQUIRES_ACTION,
        PaymentStatus.CANCELED,
    }
)
# Index partitions per hour (update-time index) and per hold kind (open-holds index): a write
# lands on one of them by its payment id, so a busy hour spreads over this many partition
# keys (each takes 1,000 writes/s on DynamoDB: 4,000 together, some 1,300 payments a second
# at three writes each) and a reader queries each. Fixed: writers and readers must agree, and
# changing it re-keys every item.
INDEX_SHARDS = 4


def shard_of(payment_id: str) -> int:
    # crc32, not hash(): the same in every process (hash() is salted per interpreter).
    return zlib.crc32(payment_id.encode()) % INDEX_SHARDS


def instant(value: dt.datetime) -> str:
    """The timestamp format of the records (``now_iso``), which the indexes compare as text."""
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def _normalized(value: str | None) -> str | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return instant(parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC))


class HoldKind(StrEnum):
    """What the sweeper looks for, each with the time it is due from (``open_hold``)."""

    AUTHORIZING = "authorizing"
    AUTHORIZED = "authorized"
    CHALLENGE = "challenge"
    PENDING = "pending"


def open_hold(payment: Payment) -> tuple[HoldKind, str] | None:
    """The hold a payment keeps open, and the time it counts from: what the open-holds index
    stores (sparse: a settled payment has none, so the index holds only what may need the
    sweeper). A pending operation comes first (such a payment is never stale)."""
    if payment.has_pending_operation:
        due = _normalized(payment.updated_at)
        kind = HoldKind.PENDING
    elif payment.status is PaymentStatus.AUTHORIZING:
        due, kind = _normalized(payment.updated_at), HoldKind.AUTHORIZING
    elif payment.status is PaymentStatus.AUTHORIZED:
        due = _normalized(payment.authorized_at or payment.created_at)
        kind = HoldKind.AUTHORIZED
    elif payment.status is PaymentStatus.REQUIRES_ACTION and payment.next_action:
        due = _normalized(str(payment.next_action.get("expires_at", "")))
        kind = HoldKind.CHALLENGE
    else:
        return None
    return None if due is None else (kind, due)


# -------------------------------------------------------------------------------- the ports


@dataclass(frozen=True, slots=True, order=True)
class Position:
    """A place in the update-time order: every payment whose (updated_at, payment_id) is at or
    before it is done. ``Position(t)`` is the start of ``t``: nothing updated at ``t`` is done."""

    updated_at: str
    payment_id: str = ""


class PaymentRecords(Protocol):
    def updated_between(self, start: str, end: str, after: Position) -> Iterable[Payment]:
        """Payments whose last update is in [start, end) and after ``after``, in
        (updated_at, payment_id) order."""
        ...

    def holds_due(self, kind: HoldKind, before: str) -> Iterable[Payment]:
        """Payments whose open hold is ``kind`` and counts from before ``before``."""
        ...

    def get(self, payment_id: str) -> Payment | None: ...


class LedgerRecords(Protocol):
    def entries_for(self, payment_id: str) -> list[JournalEntry]: ...

    def post(self, entry: JournalEntry, *, repair: bool = False) -> bool: ...

    def subjects_recorded_between(self, start: str, end: str) -> Iterable[str]:
        """The payment of every payment entry written in [start, end) (settlements and
        payouts excluded), in any order, a payment once per entry."""
        ...


class EventRecord(Protocol):
    """The payment events the bus delivered to its record (the archive rule's log group)."""

    def read_between(self, start: str, end: str) -> Iterable[tuple[str, PublishedEvent]]:
        """(when recorded, event) of every event recorded in [start, end]."""
        ...


class AcquirerRecord(Protocol):
    """The acquirer's own record of what it executed."""

    def find(self, reference: str) -> AcquirerOperation | None: ...

    def operations_between(self, start: str, end: str) -> Iterable[AcquirerOperation]:
        """The operations it executed in [start, end)."""
        ...


class Checkpoints(Protocol):
    """Where the scheduled run got to, kept between runs."""

    def load(self) -> Position | None: ...

    def save(self, position: Position) -> None: ...


class EventPublisher(Protocol):
    def publish(self, entries: Sequence[Mapping[str, Any]]) -> int:
        """Publishes PutEvents entries; answers how many were not accepted."""
        ...


class PaymentOperations(Protocol):
    """What the reconciliation asks of the payment processor: each answer carries the
    payment view and the PutEvents entries (``events``) of what it changed."""

    def cancel(self, payment_id: str, reason: str | None) -> StepOutcome: ...

    def resolve(self, payment_id: str) -> Sequence[StepOutcome]: ...

    def void(
        self, payment_id: str, failure: StepFailure, context: PaymentContext | None
    ) -> StepOutcome: ...


# ----------------------------------------------------------------------------- contracts


class ReconcileRequest(BaseModel):
    """The function's input: the schedule's event (an EventBridge envelope, detail-type
    "Scheduled Event"), or a request by hand: ``{"repair": false}``, optionally with a window
    (``since``, ``until``). Without ``repair`` the function's configuration decides
    (``RECONCILE_REPAIR``, off unless the environment turns it on): a scheduled run only
    reports unless someone chose otherwise. Other envelope fields are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    repair: bool | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    detail_type: str | None = Field(default=None, alias="detail-type")

    @property
    def scheduled(self) -> bool:
        return self.detail_type == "Scheduled Event"


# A scheduled run's window ends this long before now: the update-time index (eventually
# consistent on DynamoDB) and the event record (written after the record) catch up first.
SETTLE_TIME = dt.timedelta(minutes=2)
# How far back a first scheduled run (no checkpoint) or a run by hand without ``since`` looks.
FIRST_WINDOW = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class WindowSettings:
    """How a run walks its window. ``slice_length`` bounds memory (one slice's payments and
    events are held at a time); the event record is read from ``event_lookback`` before a
    slice (a payment updated in the slice may have published its earlier events then) to
    ``event_lag`` after it (an event is recorded after the write that caused it)."""

    slice_length: dt.timedelta = dt.timedelta(minutes=15)
    event_lookback: dt.timedelta = dt.timedelta(minutes=90)
    event_lag: dt.timedelta = dt.timedelta(minutes=2)
    listed: int = 200


@dataclass(frozen=True, slots=True)
class StaleHold:
    payment_id: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"payment_id": self.payment_id, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class ReconciliationOutcome:
    report: ReconciliationReport
    repaired: tuple[Mismatch, ...] = ()
    # Payments whose pending capture or refund the acquirer's answer settled.
    resolved: tuple[str, ...] = ()
    canceled: tuple[StaleHold, ...] = ()
    # Stale holds left as they are: a report-only run, or a void the acquirer did not take.
    stale: tuple[StaleHold, ...] = ()
    # Payments found stuck ``authorizing`` and compensated by this run (see _sweep_stuck).
    swept: tuple[str, ...] = ()
    # Sales found stuck ``authorizing`` after the acquirer took their capture, and recorded
    # captured by this run.
    finished: tuple[str, ...] = ()
    stuck_authorizations: tuple[str, ...] = ()
    # The window: where it began and ended, and how far the run got (``complete`` when it
    # reached the end; otherwise the next run continues from ``reached``).
    start: Position = Position("")
    end: str = ""
    reached: Position = Position("")
    complete: bool = True

    @property
    def ok(self) -> bool:
        return self.report.ok and not self.stuck_authorizations

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON data (the function's answer)."""
        return {
            **self.report.to_dict(),
            "repaired": [m.to_dict() for m in self.repaired],
            "resolved": list(self.resolved),
            "canceled": len(self.canceled),
            "canceled_payments": [c.to_dict() for c in self.canceled],
            "stale": [s.to_dict() for s in self.stale],
            "swept": list(self.swept),
            "finished": list(self.finished),
            "stuck_authorizations": list(self.stuck_authorizations),
            "window": {
                "start": self.start.updated_at,
                "end": self.end,
                "reached": {
                    "updated_at": self.reached.updated_at,
                    "payment_id": self.reached.payment_id,
                },
                "complete": self.complete,
            },
            "ok": self.ok,
        }


class _OutOfTime(Exception):
    """Raised inside a run when its time budget is spent; the run answers what it did."""


@dataclass(frozen=True, slots=True)
class _EventsRead:
    """A stretch of the event record read: (when recorded, event) from ``read_from`` to
    ``read_to``."""

    recorded: list[tuple[str, PublishedEvent]]
    read_from: str
    read_to: str


@dataclass
class _Progress:
    report: ReconciliationReport
    listed: int
    now: dt.datetime
    repaired: list[Mismatch] = field(default_factory=list)
    reached: Position = Position("")


# ---------------------------------------------------------------------------- the service


class Reconciliation:
    def __init__(
        self,
        payments: PaymentRecords,
        ledger: LedgerRecords,
        events: EventRecord,
        publisher: EventPublisher,
        rules: PostingRules,
        bus_name: str,
        *,
        operations: PaymentOperations | None = None,
        acquirer: AcquirerRecord | None = None,
        authorization_validity: dt.timedelta = DEFAULT_AUTHORIZATION_VALIDITY,
        window: WindowSettings = WindowSettings(),
        readers: int = 16,
    ) -> None:
        self._payments = payments
        self._ledger = ledger
        self._events = events
        self._publisher = publisher
        self._rules = rules
        self._bus = bus_name
        self._operations = operations
        self._acquirer = acquirer
        self._validity = authorization_validity
        self._window = window
        self._readers = readers

    def serve(
        self,
        request: ReconcileRequest,
        *,
        now: dt.datetime,
        repair_by_default: bool,
        checkpoints: Checkpoints,
        out_of_time: Callable[[], bool] = lambda: False,
    ) -> ReconciliationOutcome:
        """One invocation: a scheduled run continues from the checkpoint to shortly before
        now and moves the checkpoint on; a run by hand covers the window it names (the last
        day up to now by default) and leaves the checkpoint alone."""
        repair = repair_by_default if request.repair is None else request.repair
        if request.scheduled:
            start = checkpoints.load() or Position(instant(now - FIRST_WINDOW))
            end = now - SETTLE_TIME
        else:
            start = Position(instant(request.since or now - FIRST_WINDOW))
            end = request.until or now
        outcome = self.run(repair=repair, now=now, start=start, end=end, out_of_time=out_of_time)
        if request.scheduled:
            checkpoints.save(outcome.reached)
        return outcome

    def run(
        self,
        *,
        repair: bool,
        now: dt.datetime,
        start: Position,
        end: dt.datetime,
        out_of_time: Callable[[], bool] = lambda: False,
    ) -> ReconciliationOutcome:
        """Sweeps the holds due at ``now``, then compares every payment updated after
        ``start`` and before ``end``, until done or ``out_of_time``."""
        operations = self._operations if repair else None
        progress = _Progress(ReconciliationReport(0), self._window.listed, now, reached=start)
        canceled: tuple[StaleHold, ...] = ()
        stale: tuple[StaleHold, ...] = ()
        swept: tuple[str, ...] = ()
        finished: tuple[str, ...] = ()
        stuck: tuple[str, ...] = ()
        resolved: tuple[str, ...] = ()
        complete = False
        try:
            canceled, stale, made = self._cancel_stale(operations, now, out_of_time)
            swept, finished, stuck, sweep_events = self._sweep_stuck(operations, now, out_of_time)
            made.extend(sweep_events)
            if operations is not None:
                resolved, resolve_events = self._resolve_pending(operations, now, out_of_time)
                made.extend(resolve_events)
            # Published now, so counted as published (the event record may not hold them yet);
            # if the bus refused them they are missing, and the repairs publish them again.
            just_published: dict[str, list[PublishedEvent]] = defaultdict(list)
            if self._publish(made):
                for entry in made:
                    event = _published(entry)
                    just_published[event.payment_id].append(event)
            read = self._compare_window(
                progress, start, instant(end), just_published, repair, out_of_time
            )
            # What the run changed was written after its window began to be read, so the
            # window never holds it: compared now, so that one repair run leaves nothing of
            # its own for the next.
            changed = {*(c.payment_id for c in canceled), *swept, *finished, *resolved}
            self._compare_changed(
                progress, changed, start, instant(end), read, just_published, repair, out_of_time
            )
            complete = True
        except _OutOfTime:
            logger.warning(
                "reconciliation stopped before its time ran out",
                extra={"reached": progress.reached.updated_at, "end": instant(end)},
            )
        outcome = ReconciliationOutcome(
            report=progress.report,
            repaired=tuple(progress.repaired),
            resolved=resolved,
            canceled=canceled,
            stale=stale,
            swept=swept,
            finished=finished,
            stuck_authorizations=stuck,
            start=start,
            end=instant(end),
            # Never backwards: a window that ends before its start changes nothing.
            reached=max(start, Position(instant(end))) if complete else progress.reached,
            complete=complete,
        )
        logger.info(
            "reconciliation finished",
            extra={
                "checked": progress.report.checked_payments,
                "counts": progress.report.counts(),
                "repaired": len(progress.repaired),
                "canceled": len(canceled),
                "complete": complete,
            },
        )
        return outcome

    # ------------------------------------------------------------------- the window

    def _compare_window(
        self,
        progress: _Progress,
        start: Position,
        end: str,
        just_published: Mapping[str, list[PublishedEvent]],
        repair: bool,
        out_of_time: Callable[[], bool],
    ) -> _EventsRead | None:
        """Compares the window slice by slice; answers the stretch of the event record its
        last slice held (None when it had none)."""
        after = start
        # The stretch of the event record the current slice needs, kept as the run slides on:
        # each record is read once, and only the lookback's worth is held.
        recorded: list[tuple[str, PublishedEvent]] = []
        read_to: str | None = None
        for slice_start, slice_end in self._slices(start.updated_at, end):
            if out_of_time():
                raise _OutOfTime
            payments = list(self._payments.updated_between(slice_start, slice_end, after))
            ids = {p.payment_id for p in payments}
            # Before the slice's payments: a run that stops among them resumes after the last
            # one it compared, so this part of the slice is not read twice nor skipped.
            self._check_entries_of_no_payment(
                progress, max(slice_start, after.updated_at), slice_end, ids
            )
            read_from = _shifted(slice_start, -self._window.event_lookback)
            read_end = _shifted(slice_end, self._window.event_lag)
            recorded = [(at, event) for at, event in recorded if at >= read_from]
            # FilterLogEvents' endTime is inclusive: the next read starts a millisecond on.
            fresh_from = read_from if read_to is None else max(read_from, _shifted(read_to, _MS))
            if fresh_from <= read_end:
                recorded.extend(self._events.read_between(fresh_from, read_end))
                read_to = read_end
            executed = self._executed_between(slice_start, slice_end)
            self._compare_each(
                progress,
                payments,
                recorded,
                just_published,
                executed,
                read_from,
                repair,
                out_of_time,
                advance=True,
            )
            # Operations of payments updated since (or never recorded): each against its
            # payment's current record, for what the acquirer did that no record shows.
            for payment_id, operations in sorted(executed.items()):
                self._check_unrecorded(progress, payment_id, operations)
            progress.reached = after = Position(slice_end)
        return None if read_to is None else _EventsRead(recorded, read_from, read_to)

    def _compare_changed(
        self,
        progress: _Progress,
        changed: set[str],
        start: Position,
        end: str,
        read: _EventsRead | None,
        just_published: Mapping[str, list[PublishedEvent]],
        repair: bool,
        out_of_time: Callable[[], bool],
    ) -> None:
        """Compares the payments the run itself changed (canceled, swept, finished, resolved)
        that the window did not, as a slice's payments are: against the stretch of the event
        record the window's last slice read when it reaches the run's start (a scheduled run's
        and a run by hand up to now do), else against one read from a lookback before it."""
        if not changed:
            return
        with ThreadPoolExecutor(self._readers) as pool:
            found = list(pool.map(self._payments.get, sorted(changed)))
        payments = [
            p
            for p in found
            if p is not None and not start < Position(p.updated_at, p.payment_id) < Position(end)
        ]
        if not payments:
            return
        if read is None or read.read_to < instant(progress.now):
            read_from = instant(progress.now - self._window.event_lookback)
            read_to = instant(progress.now + self._window.event_lag)
            read = _EventsRead(
                list(self._events.read_between(read_from, read_to)), read_from, read_to
            )
        self._compare_each(
            progress,
            payments,
            read.recorded,
            just_published,
            {},
            read.read_from,
            repair,
            out_of_time,
        )

    def _compare_each(
        self,
        progress: _Progress,
        payments: list[Payment],
        recorded: Iterable[tuple[str, PublishedEvent]],
        just_published: Mapping[str, list[PublishedEvent]],
        executed: dict[str, list[AcquirerOperation]],
        read_from: str,
        repair: bool,
        out_of_time: Callable[[], bool],
        *,
        advance: bool = False,
    ) -> None:
        """Compares each payment with its entries, its events in ``recorded`` (the event
        record read from ``read_from``) and ``just_published``, and the acquirer's operations
        (by reference, and its own in ``executed``, popped); ``advance`` moves the run's place
        past each payment compared."""
        ids = {p.payment_id for p in payments}
        events: dict[str, list[PublishedEvent]] = defaultdict(list)
        for _, event in recorded:
            if event.payment_id in ids:
                events[event.payment_id].append(event)
        for payment_id, published in just_published.items():
            if payment_id in ids:
                events[payment_id].extend(published)
        # The reads of each payment (its ledger partition, the acquirer's operations by
        # reference) are independent round trips: run side by side, compared in order.
        pool = ThreadPoolExecutor(self._readers)
        try:
            reads = pool.map(self._read, payments)
            for payment, (entries, found) in zip(payments, reads, strict=True):
                if out_of_time():
                    raise _OutOfTime
                report = self._compare(
                    payment,
                    entries,
                    events.get(payment.payment_id, []),
                    [*found, *executed.pop(payment.payment_id, [])],
                    # An event dated a little after the read began may have been recorded
                    # just before it: only those dated well inside the read are expected.
                    events_since=_shifted(read_from, self._window.event_lag),
                )
                self._record(progress, report, payment, repair)
                if advance:
                    progress.reached = Position(payment.updated_at, payment.payment_id)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _slices(self, start: str, end: str) -> Iterable[tuple[str, str]]:
        """[start, end) cut at multiples of the slice length (from the epoch): a slice of a
        length that divides an hour reads one hour's partitions of the update-time index."""
        length = self._window.slice_length.total_seconds()
        at = start
        while at < end:
            epoch = dt.datetime.fromisoformat(at).timestamp()
            boundary = dt.datetime.fromtimestamp((epoch // length + 1) * length, dt.UTC)
            following = min(instant(boundary), end)
            yield at, following
            at = following

    def _executed_between(self, start: str, end: str) -> dict[str, list[AcquirerOperation]]:
        executed: dict[str, list[AcquirerOperation]] = defaultdict(list)
        if self._acquirer is not None:
            for operation in self._acquirer.operations_between(start, end):
                # A BNPL plan's card charges share the acquirer's record; the credit
                # reconciliation answers for them, against the plan and its credit ledger.
                if not is_plan_id(operation.payment_id):
                    executed[operation.payment_id].append(operation)
        return executed

    def _read(self, payment: Payment) -> tuple[list[JournalEntry], list[AcquirerOperation]]:
        """A payment's journal entries, and the acquirer's operations its record names."""
        found: list[AcquirerOperation] = []
        if self._acquirer is not None:
            for reference in facts_of(payment).acquirer_references():
                operation = self._acquirer.find(reference)
                if operation is not None:
                    found.append(operation)
        return self._ledger.entries_for(payment.payment_id), found

    def _compare(
        self,
        payment: Payment,
        entries: list[JournalEntry],
        events: list[PublishedEvent],
        operations: list[AcquirerOperation],
        events_since: str,
    ) -> ReconciliationReport:
        return reconcile(
            [facts_of(payment)],
            entries,
            [e for e in events if not expected_history(payment, e)],
            self._rules,
            # One operation per reference (found by it, and executed in the slice).
            acquirer=None
            if self._acquirer is None
            else list({o.reference: o for o in operations}.values()),
            events_since=events_since,
        )

    def _check_entries_of_no_payment(
        self, progress: _Progress, start: str, end: str, compared: set[str]
    ) -> None:
        """Entries written in [start, end) whose payment does not exist. Almost every entry
        belongs to a payment the slice compares (it was written in the step that updated the
        record); the rest (a write straddling the slice's edge, a chargeback, a repair) cost
        one read of the record each, and only a missing one its entries."""
        others = set(self._ledger.subjects_recorded_between(start, end)) - compared
        if not others:
            return
        with ThreadPoolExecutor(self._readers) as pool:
            found = dict(zip(others, pool.map(self._payments.get, others), strict=True))
        for payment_id in sorted(p for p, payment in found.items() if payment is None):
            report = reconcile([], self._ledger.entries_for(payment_id), [], self._rules)
            report.checked_payments = 0
            progress.report.add(report, progress.listed)

    def _check_unrecorded(
        self, progress: _Progress, payment_id: str, operations: list[AcquirerOperation]
    ) -> None:
        payment = self._payments.get(payment_id)
        facts = [] if payment is None else [facts_of(payment)]
        report = reconcile(facts, [], [], self._rules, acquirer=operations)
        # Only what the acquirer did that the record lacks: the payment's own window checks
        # the rest (an operation the record shows but the acquirer lacks, its entries).
        report.mismatches = [
            m
            for m in report.mismatches
            if m.kind
            in (MismatchKind.ACQUIRER_OPERATION_UNRECORDED, MismatchKind.ACQUIRER_AMOUNT_DIFFERS)
        ]
        report.checked_payments = 0
        progress.report.add(report, progress.listed)

    def _record(
        self, progress: _Progress, found: ReconciliationReport, payment: Payment, repair: bool
    ) -> None:
        progress.report.add(found, progress.listed)
        if repair:
            progress.repaired.extend(self._repair(found, payment, progress.now))

    # ------------------------------------------------------------------- the holds

    def _cancel_stale(
        self,
        operations: PaymentOperations | None,
        now: dt.datetime,
        out_of_time: Callable[[], bool],
    ) -> tuple[tuple[StaleHold, ...], tuple[StaleHold, ...], list[Mapping[str, Any]]]:
        """Cancels every stale payment (``operations`` None: none, only listed). Answers the
        canceled holds, those left as they are, and the events the cancels made."""
        due = [
            *self._payments.holds_due(HoldKind.AUTHORIZED, instant(now - self._validity)),
            *self._payments.holds_due(HoldKind.CHALLENGE, instant(now)),
        ]
        canceled: list[StaleHold] = []
        left: list[StaleHold] = []
        events: list[Mapping[str, Any]] = []
        for payment_id, reason in stale_payments(due, now, self._validity):
            hold = StaleHold(payment_id, str(reason))
            if operations is None:
                left.append(hold)
                continue
            if out_of_time():
                raise _OutOfTime
            try:
                answer = operations.cancel(payment_id, reason)
            except AcquirerError as error:
                # The acquirer took no void (or its answer was lost): a later run tries again.
                logger.warning(
                    "stale payment not canceled", extra={**hold.to_dict(), "code": error.code}
                )
                left.append(hold)
                continue
            except (PaymentRuleError, StaleWriteError):
                continue  # changed since it was read (captured, resumed): no longer stale
            canceled.append(hold)
            events.extend(answer.entries())
        return tuple(canceled), tuple(left), events

    def _sweep_stuck(
        self,
        operations: PaymentOperations | None,
        now: dt.datetime,
        out_of_time: Callable[[], bool],
    ) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], list[Mapping[str, Any]]]:
        """Resolves every payment left ``authorizing`` by a workflow that died between the
        sale's two writes (the hot path writes the record twice, ADR 0003) as the workflow's
        own compensation would, by the processor's ``void``: the authorization voided by its
        idempotency key, the payment failed and its entries reversed; or, when the acquirer
        took the sale's capture (which no void undoes), the sale finished from the acquirer's
        record of that capture: recorded captured, its entry posted, its events published. An
        acquirer without an answer, or a capture that does not match the record, leaves the
        payment stuck and reported, for the next run or an operator. Answers the swept, the
        finished, those still stuck, and the events the sweeps made."""
        stuck = stuck_authorizations(
            self._payments.holds_due(HoldKind.AUTHORIZING, instant(now - STUCK_AFTER)), now
        )
        if operations is None:
            return (), (), stuck, []
        swept: list[str] = []
        finished: list[str] = []
        events: list[Mapping[str, Any]] = []
        for payment_id in stuck:
            if out_of_time():
                raise _OutOfTime
            try:
                answer = operations.void(payment_id, SWEPT, None)
            except AcquirerError as error:
                logger.warning(
                    "stuck payment not resolved",
                    extra={"payment_id": payment_id, "code": error.code},
                )
                continue
            except StaleWriteError:
                continue  # its workflow moved it on since it was read
            if answer.pending:
                logger.warning(
                    "stuck payment left for an operator", extra={"payment_id": payment_id}
                )
                continue
            captured = answer.payment.status == PaymentStatus.CAPTURED
            (finished if captured else swept).append(payment_id)
            events.extend(answer.entries())
        left = tuple(p for p in stuck if p not in swept and p not in finished)
        return tuple(swept), tuple(finished), left, events

    def _resolve_pending(
        self, operations: PaymentOperations, now: dt.datetime, out_of_time: Callable[[], bool]
    ) -> tuple[tuple[str, ...], list[Mapping[str, Any]]]:
        """Settles what the acquirer did with every pending capture and refund. Answers the
        payments settled and the events of what it confirmed, for the run to publish as the
        workflow would have (an entry the processor could not post is left to the repairs)."""
        resolved: list[str] = []
        events: list[Mapping[str, Any]] = []
        for payment in self._payments.holds_due(HoldKind.PENDING, instant(now)):
            if not payment.has_pending_operation:
                continue
            if out_of_time():
                raise _OutOfTime
            try:
                settled = operations.resolve(payment.payment_id)
            except AcquirerError as error:
                # Still no answer: it stays pending (and reported) until a later run.
                logger.warning(
                    "pending operation unresolved",
                    extra={"payment_id": payment.payment_id, "code": error.code},
                )
                continue
            if settled:
                resolved.append(payment.payment_id)
                events.extend(entry for answer in settled for entry in answer.entries())
        return tuple(resolved), events

    def _repair(
        self, report: ReconciliationReport, payment: Payment, now: dt.datetime
    ) -> Iterable[Mismatch]:
        """Applies each safe repair; yields the mismatches it repaired."""
        for mismatch in report.repairable():
            fix = mismatch.repair
            if fix is None:
                continue
            if fix.action == RepairAction.POST_ENTRY and fix.entry is not None:
                self._ledger.post(fix.entry, repair=True)
                yield mismatch
            elif fix.action == RepairAction.PUBLISH_EVENT:
                event = payment.event(EventType(str(fix.event_type)), self._bus, amount=fix.amount)
                if self._publish([_dated(event, fix.at, now)]):
                    yield mismatch

    def _publish(self, entries: Sequence[Mapping[str, Any]]) -> bool:
        if not entries:
            return True
        refused = self._publisher.publish(entries)
        if refused:
            logger.warning("events not republished", extra={"refused": refused})
        return not refused


# CloudWatch Logs refuses a log event more than 14 days old: an older event is republished at
# the time of the repair.
_BACKDATED_AT_MOST = dt.timedelta(days=13)


def _dated(entry: dict[str, Any], at: str | None, now: dt.datetime) -> dict[str, Any]:
    """A republished event carries the time it should have been published (PutEvents
    ``Time``): the archive rule dates its record by it, so the window that holds the payment
    finds it there, and consumers see when it happened, not when it was repaired."""
    if at is None:
        return entry
    when = dt.datetime.fromisoformat(at)
    when = when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)
    if now - when > _BACKDATED_AT_MOST:
        return entry
    return {**entry, "Time": when}


_MS = dt.timedelta(milliseconds=1)


def _shifted(at: str, by: dt.timedelta) -> str:
    return instant(dt.datetime.fromisoformat(at) + by)


# ------------------------------------------------------------------- pure rules of the run


def facts_of(payment: Payment) -> PaymentFacts:
    """What the ledger and the events must show for this payment record."""
    authorized = payment.amount if payment.status in _AUTHORIZED_STATUSES else 0
    if payment.status is PaymentStatus.CANCELED and payment.authorization_id is None:
        authorized = 0  # an abandoned challenge: canceled before any authorization
    captured = payment.amount_captured
    done = tuple((r.refund_id, r.amount) for r in payment.refunds if not r.pending)
    pending = tuple(payment.refund_idempotency_key(r.refund_id) for r in payment.pending_refunds)
    if payment.status is PaymentStatus.CAPTURE_PENDING:
        pending = (payment.capture_idempotency_key, *pending)
    return PaymentFacts(
        payment_id=payment.payment_id,
        merchant_id=payment.merchant_id,
        currency=payment.currency,
        # A payment that failed before any authorization published payment.declined.
        status="declined" if payment.status is PaymentStatus.FAILED else str(payment.status),
        authorized=authorized,
        captured=captured,
        # A pending refund is reserved on the record but not yet in the ledger or the events.
        refunded=sum(amount for _, amount in done),
        # One capture per payment: the workflow releases the uncaptured remainder with it.
        voided=authorized - captured if captured else 0,
        captures=((payment.capture_sequence, captured),) if captured else (),
        refunds=done,
        compensated=payment.status is PaymentStatus.CANCELED,
        pending=pending,
        # A payment created with capture is a sale: one entry once captured, none before.
        sale=payment.capture_requested,
        occurred_at=occurred_at(payment),
    )


def occurred_at(payment: Payment) -> tuple[tuple[str, str], ...]:
    """When each movement happened, as the record knows it, so that a repaired entry carries
    the business date of its event (docs/ledger.md: effective_at) and lands in the right period,
    not the day of the repair. The record keeps when the issuer approved (``authorized_at``),
    when the acquirer confirmed the capture (``captured_at``; a record written before it existed
    and still ``captured`` was last written by that capture), when each refund was asked for
    (its reservation, written in the same step that confirms it), and, for a canceled payment,
    its last write (cancel is terminal). A step it cannot date is dated at the repair."""
    found: dict[str, str] = {}
    if payment.authorized_at:
        found["authorization"] = payment.authorized_at
    captured = payment.captured_at
    if captured is None and payment.status is PaymentStatus.CAPTURED:
        captured = payment.updated_at
    if captured and payment.amount_captured:
        if payment.capture_requested:
            found["sale"] = captured
        else:
            found[f"capture-{payment.capture_sequence}"] = captured
            found["void"] = captured  # the uncaptured remainder is released with the capture
    for refund in payment.refunds:
        if not refund.pending:
            found[f"refund-{refund.refund_id}"] = refund.created_at
    if payment.status is PaymentStatus.CANCELED:
        found["reversal"] = payment.updated_at
    if payment.status in _STATUS_EVENT_STATUSES:
        # The status event was published when the payment took it: its last write, since
        # nothing but a resume (which leaves the status) writes it again.
        found["status"] = payment.updated_at
    return tuple(sorted(found.items()))


def expected_history(payment: Payment, event: PublishedEvent) -> bool:
    """Events a payment legitimately left behind on its way to its current state: the challenge
    of a payment that was then authenticated, the authorization of one later compensated."""
    if event.type == EventType.REQUIRES_ACTION and payment.sca.get("required"):
        return payment.status is not PaymentStatus.REQUIRES_ACTION
    return event.type == EventType.AUTHORIZED and payment.status is PaymentStatus.CANCELED


def stuck_authorizations(payments: Iterable[Payment], now: dt.datetime) -> tuple[str, ...]:
    """Payments left ``authorizing`` by a workflow that died before compensating: listed, to be
    voided by their authorize idempotency key."""
    cutoff = (now - STUCK_AFTER).isoformat(timespec="milliseconds")
    return tuple(
        sorted(
            p.payment_id
            for p in payments
            if p.status is PaymentStatus.AUTHORIZING and p.updated_at < cutoff
        )
    )


def _published(entry: Mapping[str, Any]) -> PublishedEvent:
    detail = entry["Detail"]
    return PublishedEvent(detail["event_id"], entry["DetailType"], detail["payment_id"])
