"""The BNPL reconciliation on in-memory ports: every outcome of a BNPL payment reconciles
clean, and each way its record, its plan and the credit ledger can part is reported under its
own kind (the card reconciliation skips BNPL payments: their money is in the credit ledger)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence

import pytest

from functions.contracts.bnpl_steps import BnplStepInput, ReconcileInput
from functions.contracts.credit import PlanClaim
from functions.domain.credit.reconciliation import CardMoves, check_plan_charges
from functions.domain.payments import Payment
from functions.services.credit_plans import CollectionPolicy
from functions.services.credit_reconciliation import (
    DEFAULT_WINDOW,
    BnplCursor,
    BnplReconciliation,
)
from functions.services.reconciliation import SETTLE_TIME, Position, instant
from tests.unit.credit.fakes import FakeAcquirer
from tests.unit.credit.test_bnpl_checkout import (
    World,
    checkout,
    compensate,
    payment,
    refund,
    step,
)

LEASE = CollectionPolicy().claim_lease
# When the fake acquirer executed an operation, unless a test says otherwise: inside every
# window below and older than the lease.
EXECUTED_AT = "2027-01-02T00:00:00.000+00:00"


class BnplRecords:
    """The payments' update-time index over the world's store."""

    def __init__(self, world: World) -> None:
        self._world = world

    def updated_between(
        self, start: str, end: str, after: Position, *, bnpl: bool = False
    ) -> Iterator[Payment]:
        for p in sorted(self._world.payments.all(), key=lambda p: (p.updated_at, p.payment_id)):
            placed = Position(p.updated_at, p.payment_id)
            if (p.bnpl is not None) == bnpl and start <= p.updated_at < end and placed > after:
                yield p


class AcquirerBook:
    """The reconciliation's view of the fake acquirer (``PlanCharges``): each charge it made
    and each refund, executed at ``executed_at[key]`` (``EXECUTED_AT`` unless set)."""

    def __init__(self, acquirer: FakeAcquirer) -> None:
        self._acquirer = acquirer
        self.executed_at: dict[str, str] = {}
        self.asked_until: list[str] = []

    def moved(self, charge_keys: Sequence[str]) -> CardMoves:
        charged, refunded = self._acquirer.charged, self._acquirer.refunded
        return CardMoves(
            sum(charged[key][0] for key in charge_keys if key in charged),
            sum(refunded[key] for key in charge_keys if key in refunded),
        )

    def plans_charged_between(
        self, start: str, end: str, after: Position
    ) -> Iterator[tuple[Position, str]]:
        self.asked_until.append(end)
        moved = [k for k, (amount, _) in self._acquirer.charged.items() if amount]
        keys = dict.fromkeys([*moved, *self._acquirer.refunded])
        placed = sorted(Position(self.executed_at.get(k, EXECUTED_AT), k) for k in keys)
        for place in placed:
            if start <= place.updated_at < end and place > after:
                yield place, place.payment_id.split(":", 1)[0]


def reconcile(
    world: World,
    since: dt.datetime = dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
    book: AcquirerBook | None = None,
    checked: int = 1,
) -> dict[str, int]:
    """The run's counts, with the acquirer's record of the world's charges compared."""
    clock = lambda: dt.datetime.combine(world.today, world.time, dt.UTC)  # noqa: E731
    run = BnplReconciliation(
        BnplRecords(world),
        world.plans,
        world.ledger_store,
        LEASE,
        clock,
        charges=book or AcquirerBook(world.acquirer),
    )
    report = run.run(since, dt.datetime(2028, 1, 1, tzinfo=dt.UTC))
    assert report.checked == checked
    return dict(report.counts)


def captured(world: World) -> str:
    answer = checkout(world, payment(60_000))
    world.today = dt.date.fromisoformat(answer.payment.bnpl.instalments[1].due_date)
    world.checkout.collect(world.today)
    return str(answer.payment.bnpl.plan_id)


def test_every_outcome_of_a_bnpl_payment_reconciles_clean() -> None:
    world = World()
    captured(world)
    assert reconcile(world) == {}
    refund(world)
    assert reconcile(world) == {}

    declined = World()
    checkout(declined, payment(60_000, **{"customer.date_of_birth": "2012-01-01"}))
    assert reconcile(declined) == {}

    failed = World()
    checkout(failed, payment(60_000))
    compensate(failed, payment(60_000))
    assert reconcile(failed) == {}

    settled = World()
    plan_id = captured(settled)
    settled.service.settle_early(plan_id, "m_1")
    assert reconcile(settled) == {}


def test_a_collection_booked_but_lost_from_the_plan_record_is_reported() -> None:
    """What the refund-collection race used to leave: the ledger says instalment 2 was paid,
    the plan record says it is still due."""
    world = World()
    answer = checkout(world, payment(60_000))
    plan_id = str(answer.payment.bnpl.plan_id)
    before = world.plans.get(plan_id)
    world.today = dt.date.fromisoformat(answer.payment.bnpl.instalments[1].due_date)
    world.checkout.collect(world.today)
    assert before is not None
    world.plans.plans[plan_id] = before
    assert reconcile(world) == {"bnpl_entry_unexpected": 1, "bnpl_amount_differs": 1}


def test_a_missing_opening_entry_or_a_plan_refunded_under_a_captured_payment_is_reported() -> None:
    world = World()
    plan_id = captured(world)
    world.ledger_store._by_plan[plan_id] = [
        e for e in world.ledger_store._by_plan[plan_id] if e.step != "plan"
    ]
    assert reconcile(world)["bnpl_entry_missing"] == 1

    other = World()
    plan_id = captured(other)
    plan = other.plans.get(plan_id)
    assert plan is not None
    other.plans.plans[plan_id] = plan.model_copy(update={"status": "canceled"})
    assert reconcile(other) == {"bnpl_plan_status_differs": 1}


def test_a_compensated_payment_whose_entries_were_not_reversed_is_reported() -> None:
    world = World()
    answer = checkout(world, payment(60_000))
    compensate(world, payment(60_000))
    plan_id = str(answer.payment.bnpl.plan_id)
    world.ledger_store._by_plan[plan_id] = [
        e for e in world.ledger_store._by_plan[plan_id] if not e.step.startswith("reverse-")
    ]
    # The acquirer gave the first charge back; the ledger still says the card paid it.
    assert reconcile(world) == {"bnpl_not_reversed": 1, "bnpl_acquirer_differs": 1}


@pytest.mark.parametrize(("age", "expected"), [(9, {}), (11, {"bnpl_claim_lapsed": 1})])
def test_a_claim_is_reported_only_once_its_lease_lapsed(age: int, expected: dict[str, int]) -> None:
    world = World()
    plan_id = captured(world)
    plan = world.plans.get(plan_id)
    assert plan is not None
    claimed_at = dt.datetime.combine(world.today, world.time, dt.UTC)
    world.plans.plans[plan_id] = plan.model_copy(
        update={"claim": PlanClaim(operation="collect", at=claimed_at.isoformat(), day=world.today)}
    )
    world.time = (claimed_at + dt.timedelta(minutes=age)).time()
    assert reconcile(world) == expected


def lost_collection(world: World) -> tuple[str, str]:
    """A collection whose charge reached the acquirer and whose answer never came back: the
    card paid instalment 3, nothing was booked and the plan still shows it due."""
    plan_id = captured(world)
    plan = world.plans.get(plan_id)
    assert plan is not None
    key = f"{plan_id}:3:1"
    world.acquirer.charge(plan.token, 20_000, "EUR", key, customer_present=False)
    return plan_id, key


def test_a_charge_whose_answer_was_lost_is_reported_from_the_acquirer_record() -> None:
    world = World()
    lost_collection(world)
    assert reconcile(world) == {"bnpl_acquirer_differs": 1}


def test_a_plan_the_acquirer_moved_money_for_is_checked_though_its_payment_is_not_updated() -> None:
    """A collection updates the plan, not the payment: only the acquirer's record brings the
    plan into a window that starts after the checkout."""
    world = World()
    plan_id, key = lost_collection(world)
    book = AcquirerBook(world.acquirer)
    book.executed_at[key] = "2027-02-10T00:00:00.000+00:00"
    after_checkout = dt.datetime(2027, 2, 1, tzinfo=dt.UTC)
    assert reconcile(world, after_checkout, book, checked=0) == {"bnpl_acquirer_differs": 1}
    # Without the lost charge the same window finds the plan clean.
    del world.acquirer.charged[key]
    book.executed_at[f"{plan_id}:2:1"] = "2027-02-10T00:00:00.000+00:00"
    assert reconcile(world, after_checkout, book, checked=0) == {}


def test_operations_newer_than_the_lease_are_left_to_the_next_run() -> None:
    """A checkout in flight has charged the card and not yet stored or booked its plan."""
    world = World()
    _, key = lost_collection(world)
    book = AcquirerBook(world.acquirer)
    now = dt.datetime.combine(world.today, world.time, dt.UTC)
    book.executed_at[key] = instant(now - LEASE / 2)
    after_checkout = dt.datetime(2027, 2, 1, tzinfo=dt.UTC)
    assert reconcile(world, after_checkout, book, checked=0) == {}
    assert book.asked_until == [instant(now - LEASE)]


def test_a_plan_under_a_live_claim_is_not_compared_with_the_acquirer() -> None:
    world = World()
    plan_id, _ = lost_collection(world)
    plan = world.plans.get(plan_id)
    assert plan is not None
    claimed_at = dt.datetime.combine(world.today, world.time, dt.UTC)
    world.plans.plans[plan_id] = plan.model_copy(
        update={"claim": PlanClaim(operation="collect", at=claimed_at.isoformat(), day=world.today)}
    )
    assert reconcile(world) == {}


def test_a_refund_booked_but_never_made_at_the_acquirer_is_reported() -> None:
    """The ledger and the plan say the card was given its money back; the acquirer's record
    says the customer still paid: the refund's card refunds never reached it."""
    world = World()
    captured(world)
    refund(world)
    assert reconcile(world) == {}
    assert world.acquirer.refunded
    world.acquirer.refunded.clear()
    assert reconcile(world) == {"bnpl_acquirer_differs": 1}


def test_the_acquirer_rule_compares_what_the_card_kept_not_each_way() -> None:
    """A checkout that charged one card, lost the answer and refunded it before another card
    paid moved nothing the ledger books; the same charge not refunded is money taken."""
    world = World()
    plan_id = captured(world)
    entries = world.ledger_store.entries_for(plan_id)
    booked = world.acquirer.money_moved()
    assert check_plan_charges("pay_1", plan_id, entries, CardMoves(booked, 0)) == []
    given_back = CardMoves(booked + 5_000, 5_000)
    assert check_plan_charges("pay_1", plan_id, entries, given_back) == []
    [kept] = check_plan_charges("pay_1", plan_id, entries, CardMoves(booked + 5_000, 0))
    assert (kept.kind, kept.payment_id, kept.plan_id) == ("bnpl_acquirer_differs", "pay_1", plan_id)
    assert f"captured {booked + 5_000} and refunded 0" in kept.detail


def spends(calls: int) -> Callable[[], bool]:
    """A time budget that runs out after ``calls`` questions."""
    asked = iter(range(calls + 1))
    return lambda: next(asked, calls) >= calls


def reconciliation(world: World, book: AcquirerBook | None = None) -> BnplReconciliation:
    clock = lambda: dt.datetime.combine(world.today, world.time, dt.UTC)  # noqa: E731
    charges = book or AcquirerBook(world.acquirer)
    return BnplReconciliation(
        BnplRecords(world), world.plans, world.ledger_store, LEASE, clock, charges=charges
    )


YEAR = (dt.datetime(2027, 1, 1, tzinfo=dt.UTC), dt.datetime(2028, 1, 1, tzinfo=dt.UTC))


def test_a_run_out_of_time_answers_where_it_got_and_the_next_checks_only_the_rest() -> None:
    world = World()
    for n in range(1, 6):
        world.checkout.checkout(step("checkout", payment(60_000), payment_id=f"pay_{n}"))
    full = reconciliation(world).run(*YEAR)
    assert (full.checked, full.complete) == (5, True)

    first = reconciliation(world).run(*YEAR, out_of_time=spends(2))
    assert (first.checked, first.complete) == (2, False)
    second = world.payments.get("pay_2")
    assert second is not None
    assert first.reached.payments == Position(second.updated_at, "pay_2")
    assert first.reached.operations == Position(instant(YEAR[0]))  # never started
    # As a run by hand takes it back: the answer's ``reached`` is the next run's ``after``.
    after = BnplStepInput.validate_python(
        {"action": "reconcile", "after": first.to_dict()["reached"]}
    )
    assert isinstance(after, ReconcileInput) and after.after is not None
    assert BnplCursor.from_dict(after.after.model_dump()) == first.reached
    rest = reconciliation(world).run(*YEAR, resume=first.reached)
    assert (rest.checked, rest.complete) == (3, True)
    assert rest.reached.payments == Position(instant(YEAR[1]))
    assert dict(rest.counts) == dict(full.counts) == {}


def test_a_run_out_of_time_among_the_acquirers_plans_continues_from_the_last_one_checked() -> None:
    world = World()
    plan_id, key = lost_collection(world)
    book = AcquirerBook(world.acquirer)
    book.executed_at[key] = "2027-02-10T00:00:00.000+00:00"
    after_checkout = (dt.datetime(2027, 2, 1, tzinfo=dt.UTC), YEAR[1])
    stopped = reconciliation(world, book).run(*after_checkout, out_of_time=spends(0))
    assert (stopped.checked, stopped.complete, dict(stopped.counts)) == (0, False, {})
    assert stopped.reached.payments == Position(instant(after_checkout[1]))
    assert stopped.reached.operations == Position(instant(after_checkout[0]))
    resumed = reconciliation(world, book).run(*after_checkout, resume=stopped.reached)
    assert resumed.complete and dict(resumed.counts) == {"bnpl_acquirer_differs": 1}
    assert [m.plan_id for m in resumed.mismatches] == [plan_id]
    now = dt.datetime.combine(world.today, world.time, dt.UTC)
    assert resumed.reached.operations == Position(instant(now - LEASE))


class Checkpoints:
    def __init__(self) -> None:
        self.saved: list[BnplCursor] = []

    def load(self) -> BnplCursor | None:
        return self.saved[-1] if self.saved else None

    def save(self, cursor: BnplCursor) -> None:
        self.saved.append(cursor)


def test_the_schedule_continues_from_its_checkpoint_and_a_run_by_hand_leaves_it() -> None:
    world = World()
    checkout(world, payment(60_000))
    now = dt.datetime.combine(world.today, world.time, dt.UTC)
    checkpoints = Checkpoints()
    run = reconciliation(world)
    first = run.serve(since=None, until=None, scheduled=True, checkpoints=checkpoints)
    end = now - SETTLE_TIME
    assert (first.since, first.until) == (instant(end - DEFAULT_WINDOW), instant(end))
    assert checkpoints.saved == [first.reached]
    assert first.reached.payments == Position(instant(end))

    by_hand = run.serve(since=YEAR[0], until=YEAR[1], scheduled=False, checkpoints=checkpoints)
    assert by_hand.checked == 1 and checkpoints.saved == [first.reached]

    world.today += dt.timedelta(days=3)  # the schedule was off for three days
    stopped = run.serve(
        since=None, until=None, scheduled=True, checkpoints=checkpoints, out_of_time=spends(0)
    )
    # The earlier of the two places: the acquirer's operations are checked up to the lease.
    assert first.reached.operations == Position(instant(now - LEASE))
    assert stopped.since == instant(now - LEASE) and not stopped.complete
    assert checkpoints.saved[-1] == first.reached  # no further: the next run starts there
    caught_up = run.serve(since=None, until=None, scheduled=True, checkpoints=checkpoints)
    later = dt.datetime.combine(world.today, world.time, dt.UTC) - SETTLE_TIME
    assert (caught_up.since, caught_up.until, caught_up.complete) == (
        instant(now - LEASE),
        instant(later),
        True,
    )
    assert checkpoints.saved[-1].payments == Position(instant(later))
