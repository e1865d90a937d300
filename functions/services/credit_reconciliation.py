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

Ports: the payment records (the update-time index, BNPL payments only), the plan records, the
credit ledger and, optionally, the acquirer's record of the plans' charges.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
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
from functions.services.reconciliation import Position, instant


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

    def plans_charged_between(self, start: str, end: str) -> Iterable[str]:
        """The plans it captured or refunded money for in [start, end), each once."""
        ...


# The checkout's statuses after which its first charge is booked, or reversed.
_SETTLED = frozenset({"captured", "refunded", "failed", "declined"})


@dataclass
class BnplReconciliationReport:
    since: str
    until: str
    checked: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    mismatches: list[BnplMismatch] = field(default_factory=list)

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

    def run(
        self, since: dt.datetime, until: dt.datetime, listed: int = 100
    ) -> BnplReconciliationReport:
        """Every BNPL payment updated in [since, until); at most ``listed`` mismatches listed,
        every one counted."""
        start, end = instant(since), instant(until)
        report = BnplReconciliationReport(start, end)
        now = self._clock()
        checked_plans: set[str] = set()
        for payment in self._payments.updated_between(start, end, Position(start), bnpl=True):
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
        if self._charges is not None:
            # Only operations older than the lease: a checkout in flight has charged the card
            # and not yet stored or booked its plan.
            settled_before = min(end, instant(now - self._lease))
            for plan_id in self._charges.plans_charged_between(start, settled_before):
                plan = None if plan_id in checked_plans else self._plans.get(plan_id)
                if plan is not None:
                    self._add(report, self._check_charges(None, plan, None), listed)
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
