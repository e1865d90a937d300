"""Reconciliation (application service): payments, ledger, published events and the acquirer's
record, over ports. The comparison itself is pure (``functions.domain.reconciliation``); this
module gathers its inputs, runs the safe repairs and reports the rest.

One run:

1. Cancels the holds that outlived their use (``stale_payments``): an uncaptured authorization
   older than the authorization validity (reason ``expired``: voided at the acquirer, its entry
   reversed) and a payment whose 3-D Secure challenge expired (``abandoned``).
2. Compensates every payment left ``authorizing`` for longer than an Express execution can
   run (a sale that died between its two writes), as the workflow's compensation would:
   voided by its authorization's idempotency key, unless the acquirer took its capture.
3. Settles every capture or refund whose acquirer answer was lost (pending on the record) by
   asking the acquirer by its idempotency key (``PaymentOperations.resolve``).
4. Compares every payment record, every journal entry (balances are the entries' sums, so
   there is no stored balance to drift), every payment event the bus's archive rule recorded
   and the acquirer's own operation record.
5. With ``repair``, applies the safe repairs: a movement the payment record shows but the
   ledger lacks is posted (the exact entry the workflow would have posted, idempotent by its
   id), and a missing event is published again (same ``event_id``, so consumers can drop a
   duplicate). Everything else is reported for a person to decide.

Steps 1 to 3 change payments only with ``repair`` and a ``PaymentOperations``; a report-only
run lists the stale holds and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict

from functions.contracts.steps import PaymentContext, StepFailure
from functions.domain.acquirer import AcquirerError, AcquirerRecords
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


# -------------------------------------------------------------------------------- the ports


class PaymentRecords(Protocol):
    def scan_payments(self) -> Iterable[Payment]: ...


class LedgerRecords(Protocol):
    def scan_entries(self) -> Iterable[JournalEntry]: ...

    def post(self, entry: JournalEntry, *, repair: bool = False) -> bool: ...


class EventRecord(Protocol):
    """The payment events the bus delivered to its record (the archive rule's log group)."""

    def read(self) -> Iterable[PublishedEvent]: ...


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
    """The function's input: the schedule's event or ``{"repair": false}`` for a report. Other
    fields (an EventBridge envelope's) are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    repair: bool = True


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
    stuck_authorizations: tuple[str, ...] = ()

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
            "stuck_authorizations": list(self.stuck_authorizations),
            "ok": self.ok,
        }


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
        acquirer: AcquirerRecords | None = None,
        authorization_validity: dt.timedelta = DEFAULT_AUTHORIZATION_VALIDITY,
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

    def run(self, *, repair: bool, now: dt.datetime) -> ReconciliationOutcome:
        operations = self._operations if repair else None
        # One scan serves both: canceling a stale hold never touches an ``authorizing`` payment.
        before = list(self._payments.scan_payments())
        canceled, stale, cancel_events = self._cancel_stale(before, operations, now)
        swept, sweep_events = self._sweep_stuck(before, operations, now)
        made = [*cancel_events, *sweep_events]
        # Published now, so counted as published (the event record may not hold them yet);
        # if the bus refused them they are missing, and the repairs below publish them again.
        just_published = [_published(entry) for entry in made] if self._publish(made) else []
        resolved = self._resolve_pending(operations) if operations is not None else ()
        payments = {p.payment_id: p for p in self._payments.scan_payments()}
        events = just_published + [
            event
            for event in self._events.read()
            if event.payment_id not in payments
            or not expected_history(payments[event.payment_id], event)
        ]
        report = reconcile(
            [facts_of(p) for p in payments.values()],
            list(self._ledger.scan_entries()),
            events,
            self._rules,
            acquirer=self._acquirer.operations() if self._acquirer is not None else None,
        )
        repaired = tuple(self._repair(report, payments)) if repair else ()
        outcome = ReconciliationOutcome(
            report=report,
            repaired=repaired,
            resolved=resolved,
            canceled=canceled,
            stale=stale,
            swept=swept,
            stuck_authorizations=stuck_authorizations(payments.values(), now),
        )
        logger.info(
            "reconciliation finished",
            extra={
                "checked": report.checked_payments,
                "counts": report.counts(),
                "repaired": len(repaired),
                "canceled": len(canceled),
            },
        )
        return outcome

    def _cancel_stale(
        self, payments: Iterable[Payment], operations: PaymentOperations | None, now: dt.datetime
    ) -> tuple[tuple[StaleHold, ...], tuple[StaleHold, ...], list[Mapping[str, Any]]]:
        """Cancels every stale payment (``operations`` None: none, only listed). Answers the
        canceled holds, those left as they are, and the events the cancels made."""
        canceled: list[StaleHold] = []
        left: list[StaleHold] = []
        events: list[Mapping[str, Any]] = []
        for payment_id, reason in stale_payments(payments, now, self._validity):
            hold = StaleHold(payment_id, str(reason))
            if operations is None:
                left.append(hold)
                continue
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
                continue  # changed since the scan (captured, resumed): no longer stale
            canceled.append(hold)
            events.extend(answer.entries())
        return tuple(canceled), tuple(left), events

    def _sweep_stuck(
        self, payments: Iterable[Payment], operations: PaymentOperations | None, now: dt.datetime
    ) -> tuple[tuple[str, ...], list[Mapping[str, Any]]]:
        """Compensates every payment left ``authorizing`` by a workflow that died between the
        sale's two writes (the hot path writes the record twice, ADR 0003): as the workflow's
        own compensation would, by the processor's ``void``: the authorization is voided by
        its idempotency key and the payment ends failed, its entries reversed. It never voids
        a capture the acquirer took: a capture found under the sale's capture key leaves the
        payment as it is, still reported as stuck, for the sale's own retry or an operator
        (the record lacks what the authorization and capture answered). An acquirer without an
        answer leaves it stuck and reported too, for the next run."""
        if operations is None:
            return (), []
        swept: list[str] = []
        events: list[Mapping[str, Any]] = []
        for payment_id in stuck_authorizations(payments, now):
            try:
                answer = operations.void(payment_id, SWEPT, None)
            except AcquirerError as error:
                logger.warning(
                    "stuck payment not compensated",
                    extra={"payment_id": payment_id, "code": error.code},
                )
                continue
            except StaleWriteError:
                continue  # its workflow moved it on since the scan
            if answer.pending:
                logger.warning(
                    "stuck payment's capture reached the acquirer", extra={"payment_id": payment_id}
                )
                continue
            swept.append(payment_id)
            events.extend(answer.entries())
        return tuple(swept), events

    def _resolve_pending(self, operations: PaymentOperations) -> tuple[str, ...]:
        """Settles what the acquirer did with every pending capture and refund; the events of
        those it confirms (and any entry the processor could not post) are then published and
        posted by the repairs."""
        resolved: list[str] = []
        for payment in self._payments.scan_payments():
            if not payment.has_pending_operation:
                continue
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
        return tuple(resolved)

    def _repair(
        self, report: ReconciliationReport, payments: Mapping[str, Payment]
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
                payment = payments.get(mismatch.payment_id or "")
                if payment is None:
                    continue
                event = payment.event(EventType(str(fix.event_type)), self._bus, amount=fix.amount)
                if self._publish([event]):
                    yield mismatch

    def _publish(self, entries: Sequence[Mapping[str, Any]]) -> bool:
        if not entries:
            return True
        refused = self._publisher.publish(entries)
        if refused:
            logger.warning("events not republished", extra={"refused": refused})
        return not refused


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
