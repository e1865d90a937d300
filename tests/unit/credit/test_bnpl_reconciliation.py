"""The BNPL reconciliation on in-memory ports: every outcome of a BNPL payment reconciles
clean, and each way its record, its plan and the credit ledger can part is reported under its
own kind (the card reconciliation skips BNPL payments: their money is in the credit ledger)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from functions.contracts.credit import PlanClaim
from functions.domain.payments import Payment
from functions.services.credit_plans import CollectionPolicy
from functions.services.credit_reconciliation import BnplReconciliation
from functions.services.reconciliation import Position
from tests.unit.credit.test_bnpl_checkout import World, checkout, compensate, payment, refund

LEASE = CollectionPolicy().claim_lease


class BnplRecords:
    """The payments' update-time index over the world's store."""

    def __init__(self, world: World) -> None:
        self._world = world

    def updated_between(
        self, start: str, end: str, after: Position, *, bnpl: bool = False
    ) -> Iterator[Payment]:
        for p in sorted(self._world.payments.all(), key=lambda p: (p.updated_at, p.payment_id)):
            if (p.bnpl is not None) == bnpl and start <= p.updated_at < end:
                yield p


def reconcile(world: World) -> dict[str, int]:
    clock = lambda: dt.datetime.combine(world.today, world.time, dt.UTC)  # noqa: E731
    run = BnplReconciliation(BnplRecords(world), world.plans, world.ledger_store, LEASE, clock)
    report = run.run(dt.datetime(2027, 1, 1, tzinfo=dt.UTC), dt.datetime(2028, 1, 1, tzinfo=dt.UTC))
    assert report.checked == 1
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
    assert reconcile(world) == {"bnpl_not_reversed": 1}


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
