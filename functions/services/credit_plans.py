"""BNPL plans: opened from an approved credit decision, the first instalment charged at
checkout, later instalments collected on schedule with retries, a plan written off after the
configured days past due, and early settlement; every movement posted to the credit ledger
(``functions.domain.credit.ledger``) and announced as a ``bnpl.*`` event.

Ports: the plan records, a card charger (the acquirer connector, charging the customer's vault
token), the credit ledger store and the event publisher.

Money never moves twice: each charge carries an idempotency key fixed by the plan, the
instalment and the attempt number (``{plan}:{n}:{attempt}``; at checkout ``{plan}:1:{token}``;
``{plan}:settle``), and the attempt is written to the plan record only after the charge
answered; a run that dies between the two repeats the same attempt with the same key, and the
acquirer answers the first result. Ledger entries have
deterministic ids, and a plan record is replaced only at the version it was read at.

One operation moves a plan's money at a time: collection, settlement and refund each claim the
plan (a version bump recording the operation) before any charge, refund or entry, and release
it with their final save. Another operation's live claim makes a refund or settlement answer
409 and a collection run pass the plan by; a lapsed claim (older than the policy's lease: its
run died) is finished first, by whoever finds it, with the same keys.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from functions.contracts.credit import (
    BnplEventDetail,
    BnplEventType,
    PlanCard,
    PlanClaim,
    PlanInstalment,
    PlanOperation,
    PlanRecord,
    PlanStatus,
)
from functions.domain.credit.ledger import ACQUIRER_RECEIVABLE, BnplLedger, BnplPlan, CreditEntry
from functions.domain.credit.policy import Exposure
from functions.domain.credit.schedule import (
    PLAN_ID_PREFIX,
    Instalment,
    Schedule,
    build_schedule,
)
from functions.domain.fees import FeeSchedule
from functions.domain.payments import derived_id
from functions.errors import ApiError
from functions.models.tokens import ApiProblem
from functions.services.credit_decisions import CreditDecisions


@dataclass(frozen=True, slots=True)
class ChargeResult:
    succeeded: bool
    reference: str | None = None
    decline_code: str | None = None


class CardCharger(Protocol):
    def charge(
        self,
        token: str,
        amount: int,
        currency: str,
        idempotency_key: str,
        card: PlanCard | None = None,
        *,
        customer_present: bool,
    ) -> ChargeResult:
        """Charge the card behind ``token`` (``card``: its brand and last four, when the
        connector needs them); the same key answers the same result. ``customer_present``:
        the customer makes this charge (checkout, early settlement); otherwise the lender
        charges the stored card on its own (a collection), which issuers judge apart."""
        ...

    def refund(
        self,
        token: str,
        amount: int,
        currency: str,
        idempotency_key: str,
        card: PlanCard | None = None,
        *,
        customer_present: bool,
    ) -> bool:
        """Give back what the charge under ``idempotency_key`` (made with
        ``customer_present`` as given) took, once (True), or nothing when that charge never
        succeeded (False)."""
        ...


class PlanStore(Protocol):
    def create(self, plan: PlanRecord) -> PlanRecord:
        """Store ``plan`` unless its id exists; answer what is stored under the id."""
        ...

    def get(self, plan_id: str) -> PlanRecord | None: ...

    def replace(self, plan: PlanRecord, expected_version: int) -> bool:
        """Store ``plan`` (its version one more) if the stored one is at ``expected_version``."""
        ...

    def due(self, today: dt.date) -> Iterable[PlanRecord]:
        """Active plans with an instalment due on or before ``today``."""
        ...

    def of_customer(self, customer_id: str) -> Iterable[PlanRecord]: ...

    def of_merchant(self, merchant_id: str) -> Iterable[PlanRecord]: ...


class EventPublisher(Protocol):
    def publish(self, detail_type: BnplEventType, detail: BnplEventDetail) -> None: ...


@dataclass(frozen=True, slots=True)
class LateFee:
    """Per currency, in its minor units: the fee when an instalment first goes late, and the
    most a plan is ever charged in late fees (regulators cap them: a fee must reflect the
    lender's costs, not penalise)."""

    amount: int
    cap: int

    def __post_init__(self) -> None:
        if not 0 <= self.amount <= self.cap:
            raise ValueError("a late fee is from 0 to its cap")


@dataclass(frozen=True, slots=True)
class CollectionPolicy:
    """Collections, and how long a decision may open a plan: a decision read the customer's
    exposure and arrears when it was made, so an old one would lend on stale figures."""

    retry_every_days: int = 3
    write_off_after_days: int = 90
    late_fees: Mapping[str, LateFee] = field(default_factory=dict)
    decision_valid_for: dt.timedelta = dt.timedelta(hours=24)
    # How long a claim on a plan is its claimant's alone. Longer than one operation can run:
    # a plan has at most 12 charges or refunds, each bounded by the acquirer connector's
    # timeout, and the functions that run them stop after 5 minutes at most.
    claim_lease: dt.timedelta = dt.timedelta(minutes=10)

    def __post_init__(self) -> None:
        if not 1 <= self.retry_every_days <= self.write_off_after_days:
            raise ValueError("retry_every_days must be from 1 to write_off_after_days")
        if self.decision_valid_for <= dt.timedelta(0):
            raise ValueError("decision_valid_for must be positive")
        if self.claim_lease <= dt.timedelta(0):
            raise ValueError("claim_lease must be positive")

    def late_fee(self, plan: PlanRecord) -> int:
        """The fee for an instalment of ``plan`` going late now: the configured fee, less
        whatever would take the plan's late fees past the cap (0 without a fee)."""
        fee = self.late_fees.get(plan.currency)
        return 0 if fee is None else max(0, min(fee.amount, fee.cap - plan.late_fees()))


class PlanConflictError(Exception):
    """The plan record changed since it was read (another collection run); nothing was lost:
    the charge keys make the next run repeat, not double, what this one did."""


class PlanBusyError(PlanConflictError):
    """Another operation holds the plan (its claim is within the lease): a collection run
    leaves the plan to its next run, a refund or settlement answers 409 to be asked again."""


_BUSY_MESSAGE = (
    "Money is moving on this plan (a collection, refund or settlement is running); "
    "try again in a few minutes."
)


def _problem(code: str, message: str, param: str | None, status: int = 400) -> ApiProblem:
    kind = "card_error" if status == 402 else "invalid_request_error"
    return ApiProblem(ApiError(kind, code, message, param, status))


def _schedule(plan: PlanRecord) -> Schedule:
    return Schedule(
        plan.plan,
        plan.currency,
        plan.total,
        tuple(Instalment(i.number, i.due_date, i.amount) for i in plan.instalments),
    )


def ledger_plan(plan: PlanRecord) -> BnplPlan:
    return BnplPlan(plan.id, plan.customer_id, plan.merchant_id, _schedule(plan))


class BnplPlans:
    def __init__(
        self,
        decisions: CreditDecisions,
        plans: PlanStore,
        charger: CardCharger,
        ledger: BnplLedger,
        events: EventPublisher,
        fees: FeeSchedule,
        collection: CollectionPolicy,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._decisions = decisions
        self._plans = plans
        self._charger = charger
        self._ledger = ledger
        self._events = events
        self._fees = fees
        self._collection = collection
        self._clock = clock

    # ------------------------------------------------------------------------ checkout

    def open(
        self, decision_id: str, merchant_id: str, token: str, card: PlanCard | None = None
    ) -> PlanRecord:
        """The plan of an approved (or reduced) decision, its first instalment charged now.
        Idempotent per decision: a decision opens one plan."""
        decision = self._decisions.get(decision_id, merchant_id.__eq__)
        plan_id = derived_id(PLAN_ID_PREFIX, decision_id)
        existing = self._plans.get(plan_id)
        if existing is not None:
            if existing.token != token:
                raise _problem(
                    "plan_exists", "This decision already has a plan.", "decision_id", 409
                )
            self._book_opening(existing)
            return existing
        if decision.effective_outcome == "declined":
            raise _problem("credit_declined", "The credit decision was declined.", "decision_id")
        now = self._clock()
        decided = dt.datetime.fromisoformat(
            decision.reviews[-1].at if decision.reviews else decision.created_at
        )
        if now - decided > self._collection.decision_valid_for:
            raise _problem(
                "credit_decision_expired",
                "The credit decision is too old to open a plan; ask for a new one.",
                "decision_id",
            )
        request = decision.request
        schedule = build_schedule(
            request.plan, decision.effective_amount, request.currency, now.date()
        )
        first = schedule.instalments[0]
        # Keyed by the card too: a checkout declined on one card may be paid with another,
        # and the same card asked again answers its first result.
        charged = self._charger.charge(
            token,
            first.amount,
            request.currency,
            first_instalment_key(plan_id, token),
            card,
            customer_present=True,
        )
        if not charged.succeeded:
            raise _problem(
                "first_instalment_declined",
                f"The card was declined for the first instalment ({charged.decline_code}).",
                "token",
                402,
            )
        plan = PlanRecord(
            id=plan_id,
            decision_id=decision_id,
            merchant_id=merchant_id,
            customer_id=request.customer.id,
            token=token,
            card=card,
            currency=request.currency,
            plan=request.plan,
            total=schedule.total,
            merchant_fee=self._fees.charge(merchant_id, schedule.total, request.currency),
            created_at=now.isoformat(timespec="milliseconds"),
            instalments=tuple(
                PlanInstalment(
                    number=i.number,
                    due_date=i.due_date,
                    amount=i.amount,
                    status="collected" if i.number == 1 else "due",
                    attempts=1 if i.number == 1 else 0,
                    last_attempt=now.date() if i.number == 1 else None,
                )
                for i in schedule.instalments
            ),
        )
        plan = self._plans.create(plan)
        self._book_opening(plan)
        return plan

    def _book_opening(self, plan: PlanRecord) -> None:
        at = plan.created_at
        self._ledger.open_plan(ledger_plan(plan), plan.merchant_fee, at)
        self._ledger.collect(ledger_plan(plan), 1, at)
        self._publish("bnpl.plan_created", plan, 0, plan.total, at)
        self._publish("bnpl.instalment_collected", plan, 1, plan.instalments[0].amount, at)

    def get(self, plan_id: str, merchant_id: str) -> PlanRecord:
        return plan_for(self._plans, plan_id, merchant_id.__eq__)

    # ------------------------------------------------------------------------- claims

    def _claim(self, plan_id: str, operation: PlanOperation, day: dt.date) -> PlanRecord:
        """``plan_id`` held for ``operation`` before any money moves (a conditional version
        bump), answered as claimed; or as it is when its status leaves nothing to do (the
        operation decides). A claim of the same operation is resumed (a refund or settlement
        asked again after its run died: the keys make it repeat, not double); a live claim of
        another is ``PlanBusyError``; a lapsed one is finished first, as its claimant would
        have. Losing the bump to another writer is ``PlanConflictError``."""
        plan = self._plans.get(plan_id)
        for _ in range(3):
            if plan is None:
                raise _problem("resource_missing", "No such plan.", "id", 404)
            claim = plan.claim
            if claim is None:
                if not _claimable(plan, operation):
                    return plan
                now = self._clock().isoformat(timespec="milliseconds")
                return self._save(
                    plan.model_copy(
                        update={"claim": PlanClaim(operation=operation, at=now, day=day)}
                    ),
                    plan.version,
                )
            lapsed = self._clock() - dt.datetime.fromisoformat(claim.at) > (
                self._collection.claim_lease
            )
            # A collection is never resumed as such: finished as a lapsed claim (on its own
            # day), then today's collection claims afresh.
            if claim.operation == operation and operation != "collect":
                return plan
            if not lapsed:
                raise PlanBusyError(plan.id)
            self._finish(plan)
            plan = self._plans.get(plan_id)
        raise PlanBusyError(plan_id)

    def _finish(self, plan: PlanRecord) -> PlanRecord:
        """The operation a lapsed claim on ``plan`` started, carried out to its end."""
        assert plan.claim is not None
        if plan.claim.operation == "collect":
            return self._collect_claimed(plan)
        if plan.claim.operation == "settle":
            return self._settle_claimed(plan)
        return self._refund_claimed(plan)

    def _release(self, plan: PlanRecord, target: PlanStatus) -> PlanRecord:
        """The final save of a claimed operation. Lost to another finisher of the same claim
        (a resumed refund, a lapsed claim finished twice): the plan that finisher stored, when
        it reached ``target``."""
        try:
            return self._save(plan.model_copy(update={"claim": None}), plan.version)
        except PlanConflictError:
            stored = self._plans.get(plan.id)
            if stored is not None and stored.claim is None and stored.status == target:
                return stored
            raise

    # ---------------------------------------------------------------------- collections

    def collect_due(self, today: dt.date) -> list[PlanRecord]:
        """One collection run: every active plan with something due. A plan another operation
        holds or changed meanwhile is left to the next run."""
        done = []
        for plan in list(self._plans.due(today)):
            try:
                claimed = self._claim(plan.id, "collect", today)
            except PlanConflictError:
                continue
            # Refunded, settled or written off since the index was read: nothing to collect.
            if claimed.claim is not None:
                done.append(self._collect_claimed(claimed))
        return done

    def collect_plan(self, plan_id: str, today: dt.date) -> PlanRecord:
        plan = self._claim(plan_id, "collect", today)
        if plan.claim is None:
            raise _problem("resource_missing", "No such active plan.", "id", 404)
        return self._collect_claimed(plan)

    def _collect_claimed(self, plan: PlanRecord) -> PlanRecord:
        assert plan.claim is not None
        today = plan.claim.day
        at = self._clock().isoformat(timespec="milliseconds")
        instalments = list(plan.instalments)
        for index, instalment in enumerate(instalments):
            if instalment.status not in ("due", "late") or instalment.due_date > today:
                continue
            if (today - instalment.due_date).days >= self._collection.write_off_after_days:
                return self._write_off(plan, instalments, at)
            if instalment.last_attempt and (
                (today - instalment.last_attempt).days < self._collection.retry_every_days
            ):
                continue
            attempt = instalment.attempts + 1
            key = instalment_key(plan.id, instalment.number, attempt)
            due = instalment.amount + instalment.late_fee
            result = self._charger.charge(
                plan.token, due, plan.currency, key, plan.card, customer_present=False
            )
            late_fee = instalment.late_fee
            if not result.succeeded and instalment.status == "due":
                so_far = plan.model_copy(update={"instalments": tuple(instalments)})
                late_fee = self._collection.late_fee(so_far)
            instalments[index] = instalment.model_copy(
                update={
                    "status": "collected" if result.succeeded else "late",
                    "attempts": attempt,
                    "last_attempt": today,
                    "decline_code": result.decline_code,
                    "late_fee": late_fee,
                }
            )
        status: PlanStatus = (
            "paid" if all(i.status == "collected" for i in instalments) else "active"
        )
        updated = plan.model_copy(update={"instalments": tuple(instalments), "status": status})
        # The ledger and the events first, the record last: a run that dies in between leaves
        # the claim, and whoever finishes it repeats the same attempts with the same keys,
        # entry ids and event ids.
        for before, after in zip(plan.instalments, instalments, strict=True):
            if before == after:
                continue
            if after.late_fee > before.late_fee:
                self._ledger.charge_late_fee(ledger_plan(plan), after.number, after.late_fee, at)
            if after.status == "collected":
                self._ledger.collect(ledger_plan(plan), after.number, at)
                self._publish(
                    "bnpl.instalment_collected",
                    updated,
                    after.number,
                    after.amount + after.late_fee,
                    at,
                    attempt=after.attempts,
                )
            else:
                self._publish(
                    "bnpl.instalment_missed",
                    updated,
                    after.number,
                    after.amount + after.late_fee,
                    at,
                    attempt=after.attempts,
                    decline_code=after.decline_code,
                )
        return self._release(updated, status)

    def _write_off(
        self, plan: PlanRecord, instalments: list[PlanInstalment], at: str
    ) -> PlanRecord:
        written = tuple(
            i.model_copy(update={"status": "written_off"}) if i.status in ("due", "late") else i
            for i in instalments
        )
        updated = plan.model_copy(update={"instalments": written, "status": "written_off"})
        entry = self._ledger.write_off(ledger_plan(plan), at)
        self._publish(
            "bnpl.instalment_missed",
            updated,
            0,
            -entry.on("bnpl_receivable"),
            at,
            decline_code="written_off",
        )
        return self._release(updated, "written_off")

    def settle_early(self, plan_id: str, merchant_id: str) -> PlanRecord:
        """The customer pays everything left now, on the same card."""
        self.get(plan_id, merchant_id)
        plan = self._claim_or_409(plan_id, "settle")
        if plan.claim is None:
            if plan.status == "settled_early":
                return plan
            raise _problem("plan_closed", f"The plan is {plan.status}.", "id", 409)
        return self._settle_claimed(plan)

    def _settle_claimed(self, plan: PlanRecord) -> PlanRecord:
        owed = plan.outstanding()
        # The customer asks to settle (their right to repay early), so they make the charge.
        result = self._charger.charge(
            plan.token, owed, plan.currency, settle_key(plan.id), plan.card, customer_present=True
        )
        if not result.succeeded:
            # Nothing moved: the claim goes, the plan stays as it was.
            self._release(plan, plan.status)
            raise _problem("settlement_declined", "The card was declined.", "token", 402)
        updated = plan.model_copy(
            update={
                "status": "settled_early",
                "instalments": tuple(
                    i.model_copy(update={"status": "collected"})
                    if i.status in ("due", "late")
                    else i
                    for i in plan.instalments
                ),
            }
        )
        at = self._clock().isoformat(timespec="milliseconds")
        self._ledger.settle_early(ledger_plan(plan), at)
        self._publish("bnpl.instalment_collected", updated, 0, owed, at, attempt=0)
        return self._release(updated, "settled_early")

    def refund(self, plan_id: str, merchant_id: str) -> PlanRecord:
        """The plan's payment refunded in full (the goods returned): nothing more is owed (the
        instalments left and their late fees canceled) and every charge the customer paid goes
        back to their card, each once, under a key derived from its own. Claimed first, so no
        collection or settlement charges the card while the refund counts the charges; then
        the ledger entry, the card refunds, the event, and the record last: a run that dies
        repeats the same entry, keys and event id. A plan written off is refused: what it
        still owed is a loss booked, not a sale to unwind."""
        self.get(plan_id, merchant_id)
        plan = self._claim_or_409(plan_id, "refund")
        if plan.claim is None:
            if plan.status == "refunded":
                return plan
            raise _problem(
                "payment_unexpected_state",
                f"The payment's plan is {plan.status}; it cannot be refunded automatically.",
                None,
            )
        return self._refund_claimed(plan)

    def _refund_claimed(self, plan: PlanRecord) -> PlanRecord:
        at = self._clock().isoformat(timespec="milliseconds")
        self._ledger.refund(ledger_plan(plan), at)
        given_back = 0
        for charge in paid_charges(plan, self._ledger.entries(plan.id)):
            refunded = self._charger.refund(
                plan.token,
                charge.amount,
                plan.currency,
                charge.key,
                plan.card,
                customer_present=charge.customer_present,
            )
            if not refunded:
                # The ledger says the card paid it: a refund that finds no charge is a fault to
                # look into, never a refund to answer as done.
                raise RuntimeError(f"no charge under {charge.key} to refund")
            given_back += charge.amount
        updated = plan.model_copy(
            update={
                "status": "refunded",
                "instalments": tuple(
                    i.model_copy(
                        update={"status": "refunded" if i.status == "collected" else "canceled"}
                    )
                    for i in plan.instalments
                ),
            }
        )
        self._publish("bnpl.plan_canceled", updated, 0, given_back, at, attempt=0)
        return self._release(updated, "refunded")

    def _claim_or_409(self, plan_id: str, operation: PlanOperation) -> PlanRecord:
        try:
            return self._claim(plan_id, operation, self._clock().date())
        except PlanConflictError:
            raise _problem("plan_busy", _BUSY_MESSAGE, "id", 409) from None

    # ---------------------------------------------------------------------------- helpers

    def _save(self, plan: PlanRecord, read_version: int) -> PlanRecord:
        saved = plan.model_copy(update={"version": read_version + 1})
        if not self._plans.replace(saved, read_version):
            raise PlanConflictError(plan.id)
        return saved

    def _publish(
        self,
        detail_type: BnplEventType,
        plan: PlanRecord,
        number: int,
        amount: int,
        at: str,
        *,
        attempt: int = 1,
        decline_code: str | None = None,
    ) -> None:
        """An event whose id is fixed by the plan, the instalment and the attempt: a repeated
        run publishes the same id, which consumers drop."""
        self._events.publish(
            detail_type,
            BnplEventDetail(
                event_id=f"{plan.id}:{detail_type}:{number}:{attempt}",
                plan_id=plan.id,
                merchant_id=plan.merchant_id,
                currency=plan.currency,
                amount=amount,
                instalment=number,
                status=plan.status,
                occurred_at=at,
                decline_code=decline_code,
            ),
        )


def _claimable(plan: PlanRecord, operation: PlanOperation) -> bool:
    """Whether ``operation`` has anything to do on ``plan`` as it stands."""
    if operation == "refund":
        return plan.status in ("active", "paid", "settled_early")
    return plan.status == "active"


def first_instalment_key(plan_id: str, token: str) -> str:
    return f"{plan_id}:1:{token}"


def instalment_key(plan_id: str, number: int, attempt: int) -> str:
    """A collection's charge key: one per attempt, so a retry days later is a new charge."""
    return f"{plan_id}:{number}:{attempt}"


def settle_key(plan_id: str) -> str:
    return f"{plan_id}:settle"


@dataclass(frozen=True, slots=True)
class PaidCharge:
    key: str
    amount: int
    customer_present: bool


def paid_charges(plan: PlanRecord, entries: Iterable[CreditEntry]) -> list[PaidCharge]:
    """The card charges that paid ``plan``, from its ledger (the record may lag a collection
    whose save lost a race: its instalment then shows the attempt before the one that paid)."""
    charges = []
    for entry in entries:
        amount = entry.on(ACQUIRER_RECEIVABLE)
        if entry.step == "collect-1":
            charges.append(PaidCharge(first_instalment_key(plan.id, plan.token), amount, True))
        elif entry.step.startswith("collect-"):
            instalment = plan.instalments[int(entry.step.removeprefix("collect-")) - 1]
            attempt = instalment.attempts + (instalment.status != "collected")
            key = instalment_key(plan.id, instalment.number, attempt)
            charges.append(PaidCharge(key, amount, False))
        elif entry.step == "settle-early":
            charges.append(PaidCharge(settle_key(plan.id), amount, True))
    return charges


def charge_keys(plan: PlanRecord) -> list[str]:
    """Every key a charge of ``plan`` on its card can have been sent under: the first
    instalment's, each attempt of the others' up to the one a record lagging its collection
    does not show yet (see ``paid_charges``), and the early settlement's."""
    keys = [first_instalment_key(plan.id, plan.token)]
    for instalment in plan.instalments[1:]:
        attempts = range(1, instalment.attempts + 2)
        keys += [instalment_key(plan.id, instalment.number, a) for a in attempts]
    return [*keys, settle_key(plan.id)]


def plan_for(plans: PlanStore, plan_id: str, may_act_for: Callable[[str], bool]) -> PlanRecord:
    """``GET /v1/bnpl/plans/{id}``: another merchant's plan answers as one that does not
    exist."""
    plan = plans.get(plan_id)
    if plan is None or not may_act_for(plan.merchant_id):
        raise _problem("resource_missing", "No such plan.", "id", 404)
    return plan


class PlanExposures:
    """The decisions' ``ExposureSource`` over the platform's own plans, as of the clock's day.

    A customer's figures are read on every decision: they decide affordability and arrears. A
    merchant's are the concentration limit's, which tolerates a little staleness, and reading
    every plan of a large merchant on every decision would cost reads in proportion to its
    book: they are kept per container for ``merchant_cache_seconds``."""

    def __init__(
        self,
        plans: PlanStore,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        merchant_cache_seconds: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._plans = plans
        self._clock = clock
        self._cache_seconds = merchant_cache_seconds
        self._monotonic = monotonic
        self._merchants: dict[tuple[str, str], tuple[float, Exposure]] = {}

    def customer(self, customer_id: str, currency: str) -> Exposure:
        return exposure(self._plans.of_customer(customer_id), currency, self._clock().date())

    def merchant(self, merchant_id: str, currency: str) -> Exposure:
        now = self._monotonic()
        cached = self._merchants.get((merchant_id, currency))
        if cached is not None and now - cached[0] < self._cache_seconds:
            return cached[1]
        figures = exposure(self._plans.of_merchant(merchant_id), currency, self._clock().date())
        self._merchants[(merchant_id, currency)] = (now, figures)
        return figures


def exposure(plans: Iterable[PlanRecord], currency: str, today: dt.date) -> Exposure:
    """What the plans in ``currency`` add up to for a credit decision: credit outstanding, the
    most falling due in one month from now on, and the oldest unpaid instalment's days past
    due (late or still due after its date)."""
    outstanding = past_due = 0
    by_month: dict[tuple[int, int], int] = {}
    for plan in plans:
        if plan.currency != currency or plan.status != "active":
            continue
        for i in plan.instalments:
            if i.status not in ("due", "late"):
                continue
            outstanding += i.amount + i.late_fee
            if i.due_date < today:
                past_due = max(past_due, (today - i.due_date).days)
            key = (i.due_date.year, i.due_date.month)
            by_month[key] = by_month.get(key, 0) + i.amount + i.late_fee
    return Exposure(outstanding, max(by_month.values(), default=0), past_due)
