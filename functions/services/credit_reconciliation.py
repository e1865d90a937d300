"""BNPL reconciliation (application service): each BNPL payment updated in a window, against
its plan and the plan's credit ledger entries (``functions.domain.credit.reconciliation`` has
the rules). Read by the payments' update-time index, one plan and one ledger partition per
payment: never a Scan. It reports; it repairs nothing (a BNPL mismatch is a plan's money, which
a person decides on, and a lapsed claim is finished by the next operation on the plan).

With the acquirer's record it also compares what the card paid under each plan with what the
ledger booked: for each plan it checks, and for each plan the acquirer moved money for in the
window (a collection, a settlement or a refund updates the plan, not the payment, so only the
acquirer's record brings such a plan into a window). Operations newer than the claim lease are
left to the next run: a checkout charges the card before it stores the plan and books it.

A run stops before ``out_of_time`` says so and answers how far each pass got (``reached``, a
``BnplCursor``); the schedule's run (``serve``) keeps that as its checkpoint and continues
from it, so a backlog larger than one invocation is worked off over several, never skipped.

Ports: the payment records (the update-time index, BNPL payments only), the plan records, the
credit ledger and, optionally, the acquirer's record of the plans' charges.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from functions.contracts.credit import PlanRecord
from functions.domain.credit.ledger import CreditEntry
from functions.domain.credit.reconciliation import (
    BnplMismatch,
    BnplPaymentFacts,
    CardMoves,
    PlanFacts,
    check_bnpl_payment,
    check_plan_charges,
)
from functions.domain.credit.schedule import PLAN_ID_PREFIX
from functions.domain.payments import Payment, derived_id
from functions.services.credit_plans import PlanStore, charge_keys
from functions.services.reconciliation import SETTLE_TIME, Position, instant

# A run by hand without a window, and a first scheduled run (no checkpoint), check the last
# hour and a few minutes: the hourly schedule's window before it kept a checkpoint.
DEFAULT_WINDOW = dt.timedelta(minutes=65)


class BnplPaymentRecords(Protocol):
    def updated_between(
        self, start: str, end: str, after: Position, *, bnpl: bool = False
    ) -> Iterable[Payment]:
        """Payments last updated in [start, end), BNPL ones only when ``bnpl``."""
        ...


class CreditEntries(Protocol):
    def entries_for(self, plan_id: str) -> list[CreditEntry]: ...


class PlanCharges(Protocol):
    """The acquirer's record, as the plans' card charges left it."""

    def moved(self, charge_keys: Sequence[str]) -> CardMoves:
        """What it captured and refunded for the charges sent under these keys."""
        ...

    def plans_charged_between(
        self, start: str, end: str, after: Position
    ) -> Iterable[tuple[Position, str]]:
        """The plan of each capture or refund it executed in [start, end) after ``after``, in
        (executed at, reference) order, with the operation's place in that order."""
        ...


@dataclass(frozen=True, slots=True)
class BnplCursor:
    """How far a run got: every BNPL payment up to ``payments`` (update-time order) and the
    plan of every acquirer operation up to ``operations`` (execution order) is checked."""

    payments: Position
    operations: Position

    def to_dict(self) -> dict[str, dict[str, str]]:
        """As a run by hand takes it back (``after``): payments by update time and id,
        operations by execution time and reference."""
        return {
            "payments": {"at": self.payments.updated_at, "id": self.payments.payment_id},
            "operations": {"at": self.operations.updated_at, "id": self.operations.payment_id},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Mapping[str, str]]) -> BnplCursor:
        payments, operations = data["payments"], data["operations"]
        return cls(
            Position(payments["at"], payments.get("id", "")),
            Position(operations["at"], operations.get("id", "")),
        )


class BnplCheckpoints(Protocol):
    """Where the scheduled run got to, kept between runs."""

    def load(self) -> BnplCursor | None: ...

    def save(self, cursor: BnplCursor) -> None: ...


# The checkout's statuses after which its first charge is booked, or reversed.
_SETTLED = frozenset({"captured", "refunded", "failed", "declined"})


@dataclass
class BnplReconciliationReport:
    since: str
    until: str
    reached: BnplCursor
    checked: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    mismatches: list[BnplMismatch] = field(default_factory=list)
    # False when the run stopped for time before the window's end (``reached`` says where).
    complete: bool = True

    @property
    def ok(self) -> bool:
        return not self.counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": self.since,
            "until": self.until,
            "checked_payments": self.checked,
            "mismatch_count": sum(self.counts.values()),
            "counts": dict(sorted(self.counts.items())),
            "mismatches": [m.to_dict() for m in self.mismatches],
            "complete": self.complete,
            "reached": self.reached.to_dict(),
        }


def plan_facts(plan: PlanRecord) -> PlanFacts:
    return PlanFacts(
        plan_id=plan.id,
        status=plan.status,
        total=plan.total,
        merchant_fee=plan.merchant_fee,
        instalments={i.number: i.status for i in plan.instalments},
        outstanding=plan.outstanding(),
        claimed_at=None if plan.claim is None else dt.datetime.fromisoformat(plan.claim.at),
    )


def payment_facts(payment: Payment) -> BnplPaymentFacts:
    """The payment's facts; its plan's id is the one its decision opens (``BnplPlans.open``)
    even where the record names none: a compensated checkout may have opened and booked it."""
    bnpl = payment.bnpl or {}
    plan_id = bnpl.get("plan_id")
    if plan_id is None and bnpl.get("decision_id"):
        plan_id = derived_id(PLAN_ID_PREFIX, str(bnpl["decision_id"]))
    return BnplPaymentFacts(
        payment.payment_id,
        str(payment.status),
        payment.amount,
        None if plan_id is None else str(plan_id),
    )


class BnplReconciliation:
    def __init__(
        self,
        payments: BnplPaymentRecords,
        plans: PlanStore,
        ledger: CreditEntries,
        claim_lease: dt.timedelta,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        charges: PlanCharges | None = None,
    ) -> None:
        self._payments = payments
        self._plans = plans
        self._ledger = ledger
        self._lease = claim_lease
        self._clock = clock
        self._charges = charges

    def serve(
        self,
        *,
        since: dt.datetime | None,
        until: dt.datetime | None,
        scheduled: bool,
        checkpoints: BnplCheckpoints,
        after: BnplCursor | None = None,
        out_of_time: Callable[[], bool] = lambda: False,
    ) -> BnplReconciliationReport:
        """One invocation: the schedule's run continues from its checkpoint (the last
        ``DEFAULT_WINDOW`` the first time) to shortly before now, and moves the checkpoint on;
        a run by hand covers the window it names from ``after`` (where a run of that window
        stopped) and leaves the checkpoint alone."""
        now = self._clock()
        if not scheduled:
            end = until or now
            start = since or end - DEFAULT_WINDOW
            return self.run(start, end, resume=after, out_of_time=out_of_time)
        resume = checkpoints.load()
        # The update-time index is eventually consistent: the window ends before its latest.
        end = now - SETTLE_TIME
        start = end - DEFAULT_WINDOW
        if resume is not None:
            earliest = min(resume.payments.updated_at, resume.operations.updated_at)
            start = dt.datetime.fromisoformat(earliest)
        report = self.run(start, end, resume=resume, out_of_time=out_of_time)
        checkpoints.save(report.reached)
        return report

    def run(
        self,
        since: dt.datetime,
        until: dt.datetime,
        listed: int = 100,
        *,
        resume: BnplCursor | None = None,
        out_of_time: Callable[[], bool] = lambda: False,
    ) -> BnplReconciliationReport:
        """Every BNPL payment updated in [since, until) after ``resume``, then the plans the
        acquirer moved money for, until done or ``out_of_time``; at most ``listed`` mismatches
        listed, every one counted."""
        start, end = instant(since), instant(until)
        cursor = resume or BnplCursor(Position(start), Position(start))
        report = BnplReconciliationReport(start, end, cursor)
        now = self._clock()
        checked_plans: set[str] = set()
        for payment in self._payments.updated_between(start, end, cursor.payments, bnpl=True):
            if out_of_time():
                report.complete = False
                return report
            facts = payment_facts(payment)
            plan = None if facts.plan_id is None else self._plans.get(facts.plan_id)
            entries = [] if facts.plan_id is None else self._ledger.entries_for(facts.plan_id)
            found = check_bnpl_payment(
                facts, None if plan is None else plan_facts(plan), entries, now, self._lease
            )
            if plan is not None and facts.status in _SETTLED:
                checked_plans.add(plan.id)
                found += self._check_charges(facts.payment_id, plan, entries)
            report.checked += 1
            self._add(report, found, listed)
            report.reached = replace(
                report.reached, payments=Position(payment.updated_at, payment.payment_id)
            )
        report.reached = replace(report.reached, payments=max(cursor.payments, Position(end)))
        if self._charges is None:
            return report
        # Only operations older than the lease: a checkout in flight has charged the card and
        # not yet stored or booked its plan.
        settled_before = min(end, instant(now - self._lease))
        moved = self._charges.plans_charged_between(start, settled_before, cursor.operations)
        for place, plan_id in moved:
            if plan_id not in checked_plans:
                if out_of_time():
                    report.complete = False
                    return report
                checked_plans.add(plan_id)
                plan = self._plans.get(plan_id)
                if plan is not None:
                    self._add(report, self._check_charges(None, plan, None), listed)
            report.reached = replace(report.reached, operations=place)
        report.reached = replace(
            report.reached, operations=max(report.reached.operations, Position(settled_before))
        )
        return report

    def _check_charges(
        self, payment_id: str | None, plan: PlanRecord, entries: list[CreditEntry] | None
    ) -> list[BnplMismatch]:
        """The acquirer rule, for a plan no claim holds (its money may be in motion)."""
        if self._charges is None or plan.claim is not None:
            return []
        if entries is None:
            entries = self._ledger.entries_for(plan.id)
        moved = self._charges.moved(charge_keys(plan))
        return check_plan_charges(payment_id, plan.id, entries, moved)

    @staticmethod
    def _add(report: BnplReconciliationReport, found: list[BnplMismatch], listed: int) -> None:
        report.counts.update(str(m.kind) for m in found)
        report.mismatches.extend(found[: max(0, listed - len(report.mismatches))])
