"""BNPL plans end to end in process: decided with reasons, the first instalment charged at
checkout, due collections run, a failed collection goes late and is retried, a plan past the
write-off age is written off, early settlement; the ledger balances at every end and no charge
moves money twice."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

import pytest

from functions.contracts.credit import CreditDecisionRequest, PlanRecord
from functions.domain.credit.ledger import (
    ACQUIRER_RECEIVABLE,
    BNPL_FEE_INCOME,
    CREDIT_LOSS_ALLOWANCE,
    CREDIT_LOSS_EXPENSE,
    LATE_FEE_INCOME,
    BnplLedger,
    CreditPostingRules,
    InMemoryCreditLedgerStore,
    credit_balances,
    merchant_payable,
    receivable,
)
from functions.domain.credit.policy import CreditDecider
from functions.domain.fees import FeeSchedule
from functions.models.tokens import ApiProblem
from functions.services.credit_decisions import CreditDecisions
from functions.services.credit_plans import (
    BnplPlans,
    CollectionPolicy,
    LateFee,
    PlanConflictError,
    PlanExposures,
)
from tests.unit.credit.conftest import POLICY, SMALL_SCORECARD
from tests.unit.credit.fakes import (
    FakeAcquirer,
    InMemoryDecisionStore,
    InMemoryPlanStore,
    ListEvents,
)
from tests.unit.credit.test_credit_decisions import body

CHECKOUT = dt.date(2027, 1, 31)
TOKEN = "tok_live_1"


class World:
    def __init__(self, collection: CollectionPolicy | None = None) -> None:
        self.today = CHECKOUT
        self.time = dt.time(9)
        self.plans = InMemoryPlanStore()
        clock = lambda: dt.datetime.combine(self.today, self.time, dt.UTC)  # noqa: E731
        self.decisions = CreditDecisions(
            CreditDecider(POLICY, SMALL_SCORECARD),
            InMemoryDecisionStore(),
            PlanExposures(self.plans, clock),
            clock,
        )
        self.acquirer = FakeAcquirer()
        self.ledger_store = InMemoryCreditLedgerStore()
        self.events = ListEvents()
        self.service = BnplPlans(
            self.decisions,
            self.plans,
            self.acquirer,
            BnplLedger(self.ledger_store, CreditPostingRules(allowance_bps=300)),
            self.events,
            FeeSchedule.from_config({"default": {"EUR": {"bps": "329", "fixed": "0.30"}}}),
            collection or CollectionPolicy(retry_every_days=3, write_off_after_days=60),
            clock,
        )

    def on(self, day: dt.date) -> None:
        self.today = day

    def buy(self, key: str = "k1", **changes: object) -> PlanRecord:
        decision = self.decisions.decide(CreditDecisionRequest.model_validate(body(**changes)), key)
        return self.service.open(decision.id, "m_1", TOKEN)

    def balances(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for (account, _), value in credit_balances(self.ledger_store.all_entries()).items():
            out[account] += value
        assert sum(out.values()) == 0, out
        return out

    def event_types(self) -> list[str]:
        return [kind for kind, _ in self.events.events]


def test_a_plan_paid_on_schedule_pays_the_merchant_less_the_fee() -> None:
    world = World()
    plan = world.buy()
    assert [(i.due_date.isoformat(), i.amount, i.status) for i in plan.instalments] == [
        ("2027-01-31", 20_000, "collected"),
        ("2027-02-28", 20_000, "due"),
        ("2027-03-31", 20_000, "due"),
    ]
    # 3.29 % of 600.00 is 19.74, plus 0.30.
    assert plan.merchant_fee == 2_004
    assert world.acquirer.money_moved() == 20_000
    world.on(dt.date(2027, 2, 27))
    assert world.service.collect_due(world.today) == []
    world.on(dt.date(2027, 2, 28))
    world.service.collect_due(world.today)
    world.on(dt.date(2027, 3, 31))
    (paid,) = world.service.collect_due(world.today)
    assert paid.status == "paid"
    balances = world.balances()
    assert balances[receivable("cus_1")] == 0
    assert balances[ACQUIRER_RECEIVABLE] == 60_000 == world.acquirer.money_moved()
    assert balances[merchant_payable("m_1")] == -(60_000 - 2_004)
    assert balances[BNPL_FEE_INCOME] == -2_004
    assert balances[CREDIT_LOSS_ALLOWANCE] == balances[CREDIT_LOSS_EXPENSE] == 0
    assert world.event_types() == [
        "bnpl.plan_created",
        "bnpl.instalment_collected",
        "bnpl.instalment_collected",
        "bnpl.instalment_collected",
    ]


def test_a_failed_collection_goes_late_is_retried_on_schedule_and_blocks_new_credit() -> None:
    world = World()
    plan = world.buy()
    world.acquirer.declining.add(TOKEN)
    world.on(dt.date(2027, 2, 28))
    (late,) = world.service.collect_due(world.today)
    assert late.instalments[1].status == "late"
    assert late.instalments[1].decline_code == "insufficient_funds"
    assert world.event_types()[-1] == "bnpl.instalment_missed"
    world.on(dt.date(2027, 3, 2))  # two days on: not yet time to retry
    (same,) = world.service.collect_due(world.today)
    assert same.instalments[1].attempts == 1
    # A new purchase while late is declined for the arrears, whatever the score.
    again = world.decisions.decide(CreditDecisionRequest.model_validate(body()), "k2")
    assert [r.code for r in again.reasons] == ["in_arrears"]
    world.acquirer.declining.clear()
    world.on(dt.date(2027, 3, 3))
    (caught_up,) = world.service.collect_due(world.today)
    assert caught_up.instalments[1].status == "collected"
    assert caught_up.instalments[1].attempts == 2
    assert world.acquirer.money_moved() == 40_000
    assert world.balances()[receivable("cus_1")] == 20_000
    assert plan.id == caught_up.id


def test_the_customer_makes_the_checkout_and_settlement_charges_the_lender_the_collections() -> (
    None
):
    """A card with funds while its holder pays and none when the lender charges it alone (the
    simulator's 5100 card) pays the checkout and an early settlement, and fails collections."""
    world = World()
    plan = world.buy()
    world.acquirer.declining_unattended.add(TOKEN)
    world.on(dt.date(2027, 2, 28))
    (late,) = world.service.collect_due(world.today)
    assert late.instalments[1].status == "late"
    settled = world.service.settle_early(plan.id, "m_1")
    assert settled.status == "settled_early"
    assert world.acquirer.present == {
        f"{plan.id}:1:{TOKEN}": True,
        f"{plan.id}:2:1": False,
        f"{plan.id}:settle": True,
    }
    assert world.balances()[receivable("cus_1")] == 0


def test_a_plan_past_the_write_off_age_is_written_off_against_the_allowance() -> None:
    world = World()
    world.buy()
    world.acquirer.declining.add(TOKEN)
    day = dt.date(2027, 2, 28)
    while day <= dt.date(2027, 5, 1):
        world.on(day)
        world.service.collect_due(day)
        day += dt.timedelta(days=1)
    plan = next(iter(world.plans.plans.values()))
    assert plan.status == "written_off"
    assert [i.status for i in plan.instalments] == ["collected", "written_off", "written_off"]
    # Retries every third day from 28 February until the write-off on 29 April (60 days).
    assert plan.instalments[1].attempts == 20
    balances = world.balances()
    assert balances[receivable("cus_1")] == 0
    # The 3 % allowance (1,200 of the 40,000 lent) absorbed its part; the rest is expense.
    assert balances[CREDIT_LOSS_ALLOWANCE] == 0
    assert balances[CREDIT_LOSS_EXPENSE] == 40_000
    assert world.acquirer.money_moved() == 20_000
    assert world.service.collect_due(dt.date(2027, 6, 1)) == []


def test_a_charge_whose_answer_was_lost_is_repeated_with_its_key_not_doubled() -> None:
    world = World()
    plan = world.buy()
    world.on(dt.date(2027, 2, 28))
    world.acquirer.crash_after.add(f"{plan.id}:2:1")
    with pytest.raises(TimeoutError):
        world.service.collect_due(world.today)
    assert world.plans.plans[plan.id].instalments[1].status == "due"
    # The dead run's claim holds the plan for the lease (10 minutes), then the next run
    # finishes it with the same key.
    world.time = dt.time(9, 9)
    assert world.service.collect_due(world.today) == []
    world.time = dt.time(9, 11)
    (collected,) = world.service.collect_due(world.today)
    assert collected.instalments[1].status == "collected" and collected.claim is None
    assert world.acquirer.money_moved() == 40_000
    assert world.balances()[ACQUIRER_RECEIVABLE] == 40_000


def test_early_settlement_charges_what_is_left_once() -> None:
    world = World()
    plan = world.buy()
    settled = world.service.settle_early(plan.id, "m_1")
    assert settled.status == "settled_early"
    assert world.service.settle_early(plan.id, "m_1") == settled
    assert world.acquirer.money_moved() == 60_000
    assert world.balances()[receivable("cus_1")] == 0
    world.on(dt.date(2027, 3, 31))
    assert world.service.collect_due(world.today) == []


def test_a_declined_decision_or_first_instalment_opens_no_plan() -> None:
    world = World()
    with pytest.raises(ApiProblem) as declined:
        world.buy(**{"customer.date_of_birth": "2012-01-01"})
    assert (declined.value.error.code, declined.value.error.status) == ("credit_declined", 400)
    world.acquirer.declining.add(TOKEN)
    with pytest.raises(ApiProblem) as card:
        world.buy("k2")
    assert (card.value.error.code, card.value.error.status) == ("first_instalment_declined", 402)
    assert world.plans.plans == {} and world.ledger_store.all_entries() == []


def test_opening_twice_opens_one_plan_and_another_merchant_cannot_read_it() -> None:
    world = World()
    first = world.buy()
    decision_id = first.decision_id
    assert world.service.open(decision_id, "m_1", TOKEN) == first
    assert world.acquirer.money_moved() == 20_000
    assert len(world.ledger_store.all_entries()) == 3  # plan, allowance, first instalment
    with pytest.raises(ApiProblem) as missing:
        world.service.get(first.id, "m_2")
    assert missing.value.error.status == 404


def test_the_reduced_amount_is_what_the_plan_lends() -> None:
    world = World()
    plan = world.buy("k1", **{"finances.monthly_net_income": 199_999})
    assert plan.total == 59_999
    assert Decimal(plan.instalments[0].amount) == Decimal(20_001)


def test_late_fees_are_charged_once_per_late_instalment_and_never_past_the_cap() -> None:
    fees = {"EUR": LateFee(amount=1_200, cap=2_000)}
    world = World(CollectionPolicy(retry_every_days=3, write_off_after_days=60, late_fees=fees))
    plan = world.buy(plan="pay_monthly_6", amount=60_000)
    world.acquirer.declining.add(TOKEN)
    for day in (dt.date(2027, 2, 28), dt.date(2027, 3, 3), dt.date(2027, 3, 31)):
        world.on(day)
        world.service.collect_due(day)
    late = world.plans.plans[plan.id]
    # 12.00 on the first late instalment, only 8.00 on the second: the plan's cap is 20.00.
    assert [i.late_fee for i in late.instalments] == [0, 1_200, 800, 0, 0, 0]
    assert late.instalments[1].attempts == 3  # retries add no second fee
    assert world.balances()[LATE_FEE_INCOME] == -2_000
    world.acquirer.declining.clear()
    world.on(dt.date(2027, 4, 3))
    (caught_up,) = world.service.collect_due(world.today)
    assert [i.status for i in caught_up.instalments[:3]] == ["collected"] * 3
    charged = [amount for amount, _ in world.acquirer.charged.values()]
    assert 10_000 + 1_200 in charged and 10_000 + 800 in charged
    balances = world.balances()
    assert balances[receivable("cus_1")] == 30_000
    assert balances[ACQUIRER_RECEIVABLE] == world.acquirer.money_moved() == 32_000


def test_a_written_off_plan_writes_off_its_late_fees_too() -> None:
    fees = {"EUR": LateFee(amount=1_000, cap=1_000)}
    world = World(CollectionPolicy(retry_every_days=3, write_off_after_days=60, late_fees=fees))
    world.buy()
    world.acquirer.declining.add(TOKEN)
    for day in (dt.date(2027, 2, 28), dt.date(2027, 4, 29)):
        world.on(day)
        world.service.collect_due(day)
    balances = world.balances()
    assert balances[receivable("cus_1")] == 0
    assert balances[LATE_FEE_INCOME] == -1_000
    assert balances[CREDIT_LOSS_EXPENSE] == 41_000


def test_two_collection_runs_on_one_plan_charge_once() -> None:
    """Two runs read the plan at the same version: the second's save is refused, and its charge
    reused the first's key, so the acquirer moved the money once."""
    world = World()
    plan = world.buy()
    world.on(dt.date(2027, 2, 28))
    stale = world.plans.get(plan.id)
    assert stale is not None
    world.service.collect_due(world.today)
    real_get = world.plans.get
    world.plans.get = lambda plan_id: stale  # type: ignore[method-assign]
    with pytest.raises(PlanConflictError):
        world.service.collect_plan(plan.id, world.today)
    world.plans.get = real_get  # type: ignore[method-assign]
    assert world.acquirer.money_moved() == 40_000
    assert world.balances()[ACQUIRER_RECEIVABLE] == 40_000
    assert len(world.acquirer.charged) == 2


def test_a_stale_decision_opens_no_plan() -> None:
    world = World()
    decision = world.decisions.decide(CreditDecisionRequest.model_validate(body()), "k1")
    world.on(CHECKOUT + dt.timedelta(days=2))
    with pytest.raises(ApiProblem) as expired:
        world.service.open(decision.id, "m_1", TOKEN)
    assert (expired.value.error.code, expired.value.error.param) == (
        "credit_decision_expired",
        "decision_id",
    )
    assert world.acquirer.charged == {}


def test_a_checkout_declined_on_one_card_can_be_paid_with_another() -> None:
    world = World()
    decision = world.decisions.decide(CreditDecisionRequest.model_validate(body()), "k1")
    world.acquirer.declining.add("tok_empty_1")
    with pytest.raises(ApiProblem):
        world.service.open(decision.id, "m_1", "tok_empty_1")
    plan = world.service.open(decision.id, "m_1", TOKEN)
    assert plan.token == TOKEN and world.acquirer.money_moved() == 20_000


def test_a_merchants_figures_are_read_once_a_minute_a_customers_every_time() -> None:
    plans = InMemoryPlanStore()
    reads: list[str] = []
    real_customer, real_merchant = plans.of_customer, plans.of_merchant
    plans.of_customer = lambda c: reads.append("customer") or real_customer(c)  # type: ignore[method-assign,func-returns-value,assignment]
    plans.of_merchant = lambda m: reads.append("merchant") or real_merchant(m)  # type: ignore[method-assign,func-returns-value,assignment]
    tick = [0.0]
    exposures = PlanExposures(plans, merchant_cache_seconds=60, monotonic=lambda: tick[0])
    for at in (0.0, 30.0, 59.9, 60.0):
        tick[0] = at
        exposures.customer("cus_1", "EUR")
        exposures.merchant("m_1", "EUR")
    assert reads.count("customer") == 4
    assert reads.count("merchant") == 2


@pytest.mark.parametrize("token", ["tok_W_82fjBFNSimCWF-4R1B_A", "4242421234564242"])
def test_a_plan_opens_on_any_token_the_vault_issues(token: str) -> None:
    """Opaque tokens are URL-safe base64 (with "-"), format-preserving ones are digits: the
    plan record refused the first ("-" outside its pattern) after the card was charged, and the
    checkout was compensated."""
    world = World()
    decision = world.decisions.decide(CreditDecisionRequest.model_validate(body()), "k1")
    plan = world.service.open(decision.id, "m_1", token)
    assert plan.token == token and world.plans.get(plan.id) == plan


# ---------------------------------------------------------------- operations racing on a plan
# Before plans were claimed, a refund that saved while a collection was charging the card
# counted the charges without that one: the card paid an instalment nobody refunded or booked.


def busy(call: Callable[[], object]) -> ApiProblem:
    with pytest.raises(ApiProblem) as refused:
        call()
    return refused.value


def test_a_refund_while_a_collection_charges_the_card_is_refused_and_moves_nothing() -> None:
    world = World()
    plan = world.buy()
    world.on(dt.date(2027, 2, 28))
    answers: list[ApiProblem] = []
    world.acquirer.meanwhile[f"{plan.id}:2:1"] = lambda: answers.append(
        busy(lambda: world.service.refund(plan.id, "m_1"))
    )
    (collected,) = world.service.collect_due(world.today)
    (refused,) = answers
    assert (refused.error.status, refused.error.code, refused.error.param) == (
        409,
        "plan_busy",
        "id",
    )
    assert collected.instalments[1].status == "collected"
    refunded = world.service.refund(plan.id, "m_1")
    assert refunded.status == "refunded" and refunded.claim is None
    assert world.acquirer.money_moved() == 0
    assert sorted(world.acquirer.refunded) == sorted(world.acquirer.charged)
    assert world.balances()[ACQUIRER_RECEIVABLE] == 0


def test_a_collection_while_a_refund_gives_money_back_leaves_the_plan_alone() -> None:
    world = World()
    plan = world.buy()
    world.on(dt.date(2027, 2, 28))
    runs: list[list[PlanRecord]] = []
    first_charge = next(iter(world.acquirer.charged))
    world.acquirer.meanwhile[first_charge] = lambda: runs.append(
        world.service.collect_due(world.today)
    )
    refunded = world.service.refund(plan.id, "m_1")
    assert runs == [[]]
    assert refunded.status == "refunded"
    assert world.service.collect_due(world.today) == []
    assert world.acquirer.money_moved() == 0 and len(world.acquirer.charged) == 1
    assert world.balances()[receivable("cus_1")] == 0


def test_settling_while_a_collection_charges_the_card_is_refused_then_charges_only_the_rest() -> (
    None
):
    world = World()
    plan = world.buy()
    world.on(dt.date(2027, 2, 28))
    answers: list[ApiProblem] = []
    world.acquirer.meanwhile[f"{plan.id}:2:1"] = lambda: answers.append(
        busy(lambda: world.service.settle_early(plan.id, "m_1"))
    )
    world.service.collect_due(world.today)
    assert [a.error.code for a in answers] == ["plan_busy"]
    settled = world.service.settle_early(plan.id, "m_1")
    assert settled.status == "settled_early"
    assert world.acquirer.money_moved() == 60_000 == world.balances()[ACQUIRER_RECEIVABLE]


def test_a_refund_after_a_collection_died_mid_charge_finishes_the_collection_first() -> None:
    """The collector died after the card paid and before anything was booked: its claim holds
    the plan for the lease; then the refund carries the collection out (same key: the charge
    is answered, not repeated), books it, and gives that instalment back too."""
    world = World()
    plan = world.buy()
    world.on(dt.date(2027, 2, 28))
    world.acquirer.crash_after.add(f"{plan.id}:2:1")
    with pytest.raises(TimeoutError):
        world.service.collect_due(world.today)
    assert world.acquirer.money_moved() == 40_000
    assert busy(lambda: world.service.refund(plan.id, "m_1")).error.code == "plan_busy"
    world.time = dt.time(9, 11)
    refunded = world.service.refund(plan.id, "m_1")
    assert [i.status for i in refunded.instalments] == ["refunded", "refunded", "canceled"]
    assert world.acquirer.money_moved() == 0
    assert len(world.acquirer.charged) == 2 == len(world.acquirer.refunded)
    balances = world.balances()
    assert balances[ACQUIRER_RECEIVABLE] == 0 and balances[receivable("cus_1")] == 0
    assert "bnpl.plan_canceled" in world.event_types()


def test_a_refund_asked_again_after_its_run_died_resumes_its_own_claim() -> None:
    world = World()
    plan = world.buy()
    first_charge = next(iter(world.acquirer.charged))

    def die() -> None:
        raise TimeoutError("refund answer lost")

    world.acquirer.meanwhile[first_charge] = die
    with pytest.raises(TimeoutError):
        world.service.refund(plan.id, "m_1")
    stored = world.plans.get(plan.id)
    assert stored is not None and stored.claim is not None
    assert stored.claim.operation == "refund"
    # Within the lease: the same operation resumes at once (a retried refund step).
    refunded = world.service.refund(plan.id, "m_1")
    assert refunded.status == "refunded" and world.acquirer.money_moved() == 0
    assert world.service.refund(plan.id, "m_1") == refunded
