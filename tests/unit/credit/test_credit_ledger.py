"""The BNPL ledger: a state machine of plans opened, instalments collected (and replayed),
early settlements, write-offs and refunds, with the double-entry invariants checked after every
step, and the edges each refusal exists for."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from functions.domain.credit.ledger import (
    ACQUIRER_RECEIVABLE,
    BNPL_FEE_INCOME,
    CREDIT_LOSS_ALLOWANCE,
    CREDIT_LOSS_EXPENSE,
    LATE_FEE_INCOME,
    BnplLedger,
    BnplPlan,
    CreditEntry,
    CreditPostingRules,
    InMemoryCreditLedgerStore,
    PlanMovementError,
    credit_balances,
    merchant_payable,
    receivable,
)
from functions.domain.credit.schedule import Plan, build_schedule
from functions.domain.ledger import ConflictingEntryError, JournalLine, LedgerRuleError

AT = "2026-12-01T10:00:00.000+00:00"


def _plan(
    plan_id: str, total: int = 10_000, kind: Plan = Plan.PAY_IN_3, currency: str = "EUR"
) -> BnplPlan:
    return BnplPlan(
        plan_id, "cus_1", "m_1", build_schedule(kind, total, currency, dt.date(2026, 12, 1))
    )


def _ledger() -> tuple[BnplLedger, InMemoryCreditLedgerStore]:
    store = InMemoryCreditLedgerStore()
    return BnplLedger(store, CreditPostingRules(allowance_bps=300)), store


def test_opening_a_plan_pays_the_merchant_in_full_less_the_fee() -> None:
    ledger, store = _ledger()
    ledger.open_plan(_plan("pl_1"), fee=329, at=AT)
    balances = credit_balances(store.all_entries())
    assert balances[receivable("cus_1"), "EUR"] == 10_000
    assert balances[merchant_payable("m_1"), "EUR"] == -9_671
    assert balances[BNPL_FEE_INCOME, "EUR"] == -329
    # 3 % of the credit (6,666 after the 3,334 taken at checkout), rounded half up.
    assert balances[CREDIT_LOSS_ALLOWANCE, "EUR"] == -200
    assert balances[CREDIT_LOSS_EXPENSE, "EUR"] == 200


def test_paying_every_instalment_closes_the_plan_and_releases_the_allowance() -> None:
    ledger, store = _ledger()
    plan = _plan("pl_1")
    ledger.open_plan(plan, fee=0, at=AT)
    for number in (1, 2, 3):
        ledger.collect(plan, number, AT)
    balances = credit_balances(store.all_entries())
    assert balances[receivable("cus_1"), "EUR"] == 0
    assert balances[ACQUIRER_RECEIVABLE, "EUR"] == 10_000
    assert balances[CREDIT_LOSS_ALLOWANCE, "EUR"] == 0
    assert balances[CREDIT_LOSS_EXPENSE, "EUR"] == 0


def test_an_instalment_collected_twice_moves_money_once() -> None:
    ledger, store = _ledger()
    plan = _plan("pl_1")
    ledger.open_plan(plan, fee=0, at=AT)
    first = ledger.collect(plan, 1, AT)
    again = ledger.collect(plan, 1, "2026-12-02T00:00:00.000+00:00")
    assert first.lines == again.lines
    assert credit_balances(store.all_entries())[ACQUIRER_RECEIVABLE, "EUR"] == 3_334


def test_money_after_a_write_off_is_a_recovery_and_nothing_follows_an_early_settlement() -> None:
    ledger, store = _ledger()
    plan = _plan("pl_1")
    ledger.open_plan(plan, fee=0, at=AT)
    ledger.collect(plan, 1, AT)
    written = ledger.write_off(plan, AT)
    # The allowance (200) absorbs its part of the 6,666 left; the expense takes the rest.
    assert written.on(CREDIT_LOSS_ALLOWANCE) == 200
    assert written.on(CREDIT_LOSS_EXPENSE) == 6_466
    assert ledger.write_off(plan, AT) == written
    # A collection that raced the write-off (or a customer paying later) reduces the loss.
    recovered = ledger.collect(plan, 2, AT)
    assert recovered.step == "recovery-2" and ledger.collect(plan, 2, AT) == recovered
    balances = credit_balances(store.all_entries())
    assert balances[receivable("cus_1"), "EUR"] == 0
    assert balances[CREDIT_LOSS_EXPENSE, "EUR"] == 200 + 6_466 - 3_333
    settled = _plan("pl_2")
    ledger.open_plan(settled, fee=0, at=AT)
    ledger.settle_early(settled, AT)
    with pytest.raises(PlanMovementError, match="closed"):
        ledger.collect(settled, 3, AT)
    assert ledger.position("pl_2").owed == 0


def test_a_replayed_step_with_other_lines_is_refused() -> None:
    _, store = _ledger()
    rules = CreditPostingRules(300)
    store.post(rules.plan(_plan("pl_1"), 0, AT))
    with pytest.raises(ConflictingEntryError):
        store.post(rules.plan(_plan("pl_1"), 100, AT))


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            (JournalLine("bnpl_receivable:c", "EUR", 5, 0), JournalLine("cash", "EUR", 0, 5)),
            "not a credit account",
        ),
        (
            (
                JournalLine("bnpl_receivable:c", "EUR", 5, 0),
                JournalLine("bnpl_fee_income", "EUR", 0, 4),
            ),
            "unbalanced",
        ),
        ((JournalLine("bnpl_receivable:c", "EUR", 5, 0),), "two lines"),
    ],
)
def test_malformed_entries_are_refused(lines: tuple[JournalLine, ...], message: str) -> None:
    with pytest.raises(LedgerRuleError, match=message):
        CreditEntry("bnpl:pl_1#plan", "pl_1", "plan", lines, AT)


PLANS = {
    f"pl_{i}": (kind, currency)
    for i, (kind, currency) in enumerate(
        [
            (Plan.PAY_IN_3, "EUR"),
            (Plan.PAY_IN_4, "EUR"),
            (Plan.PAY_MONTHLY_6, "JPY"),
            (Plan.PAY_MONTHLY_12, "KWD"),
        ]
    )
}


class BnplLedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.ledger, self.store = _ledger()
        self.plans: dict[str, BnplPlan] = {}
        self.fees: dict[str, int] = {}
        self.collected: dict[str, set[int]] = defaultdict(set)
        self.late_fees: dict[str, dict[int, int]] = defaultdict(dict)
        self.closed: dict[str, str] = {}
        self.refunded: set[str] = set()

    @rule(
        plan_id=st.sampled_from(sorted(PLANS)),
        total=st.integers(12, 10**7),
        fee_bps=st.integers(0, 10_000),
    )
    def open(self, plan_id: str, total: int, fee_bps: int) -> None:
        if plan_id in self.plans:
            return
        kind, currency = PLANS[plan_id]
        plan = BnplPlan(
            plan_id, "cus_1", "m_1", build_schedule(kind, total, currency, dt.date(2026, 1, 31))
        )
        fee = total * fee_bps // 10_000
        self.ledger.open_plan(plan, fee, AT)
        self.ledger.open_plan(plan, fee, AT)  # a retried step posts nothing more
        self.plans[plan_id], self.fees[plan_id] = plan, fee

    @rule(plan_id=st.sampled_from(sorted(PLANS)), number=st.integers(0, 13))
    def collect(self, plan_id: str, number: int) -> None:
        plan = self.plans.get(plan_id)
        if plan is None:
            return
        valid = 1 <= number <= len(plan.schedule.instalments)
        replay = number in self.collected[plan_id]
        ended = self.closed.get(plan_id) == "settle-early" or plan_id in self.refunded
        if not valid or (ended and not replay):
            with pytest.raises(PlanMovementError):
                self.ledger.collect(plan, number, AT)
            return
        entry = self.ledger.collect(plan, number, AT)
        if self.closed.get(plan_id) == "write-off" and not replay:
            # Paid after the write-off: a recovery, which reduces the loss.
            assert entry.step == f"recovery-{number}"
            assert entry.on(CREDIT_LOSS_EXPENSE) < 0
        self.collected[plan_id].add(number)

    @rule(
        plan_id=st.sampled_from(sorted(PLANS)),
        number=st.integers(1, 12),
        fee=st.integers(1, 5_000),
    )
    def late_fee(self, plan_id: str, number: int, fee: int) -> None:
        plan = self.plans.get(plan_id)
        if plan is None or number > len(plan.schedule.instalments):
            return
        fees = self.late_fees[plan_id]
        if number in fees:
            # A retried step with another fee is refused; with the same fee it posts nothing.
            with pytest.raises(ConflictingEntryError):
                self.ledger.charge_late_fee(plan, number, fees[number] + 1, AT)
            self.ledger.charge_late_fee(plan, number, fees[number], AT)
            return
        if plan_id in self.closed or plan_id in self.refunded or number in self.collected[plan_id]:
            with pytest.raises(PlanMovementError):
                self.ledger.charge_late_fee(plan, number, fee, AT)
            return
        self.ledger.charge_late_fee(plan, number, fee, AT)
        fees[number] = fee

    @rule(
        plan_id=st.sampled_from(sorted(PLANS)), how=st.sampled_from(["settle-early", "write-off"])
    )
    def close(self, plan_id: str, how: str) -> None:
        plan = self.plans.get(plan_id)
        if plan is None:
            return
        owed = self.ledger.position(plan_id).owed
        action = self.ledger.settle_early if how == "settle-early" else self.ledger.write_off
        if self.closed.get(plan_id, how) != how or (owed == 0 and plan_id not in self.closed):
            with pytest.raises(PlanMovementError):
                action(plan, AT)
            return
        action(plan, AT)
        self.closed[plan_id] = how

    @rule(plan_id=st.sampled_from(sorted(PLANS)))
    def refund(self, plan_id: str) -> None:
        """The payment refunded in full, from any state of its plan; a repeat posts nothing."""
        plan = self.plans.get(plan_id)
        if plan is None:
            return
        entry = self.ledger.refund(plan, AT)
        assert self.ledger.refund(plan, AT) == entry
        self.refunded.add(plan_id)

    @invariant()
    def a_refunded_plan_leaves_no_one_owing_and_the_merchant_its_fee(self) -> None:
        for plan_id in self.refunded:
            by_base: dict[str, int] = defaultdict(int)
            for (account, _), value in credit_balances(self.store.entries_for(plan_id)).items():
                by_base[account.split(":", 1)[0]] += value
            assert by_base["bnpl_receivable"] == by_base[ACQUIRER_RECEIVABLE] == 0
            assert by_base[LATE_FEE_INCOME] == 0
            assert (
                by_base["bnpl_merchant_payable"] == self.fees[plan_id] == -by_base[BNPL_FEE_INCOME]
            )
            assert by_base[CREDIT_LOSS_EXPENSE] + by_base[CREDIT_LOSS_ALLOWANCE] == 0

    @invariant()
    def every_currency_balances(self) -> None:
        totals: dict[str, int] = defaultdict(int)
        for (_, currency), value in credit_balances(self.store.all_entries()).items():
            totals[currency] += value
        assert all(value == 0 for value in totals.values())

    @invariant()
    def each_plan_owes_what_is_left(self) -> None:
        for plan_id, plan in self.plans.items():
            position = self.ledger.position(plan_id)
            fees = self.late_fees[plan_id]
            paid = sum(
                plan.schedule.instalments[n - 1].amount + fees.get(n, 0)
                for n in self.collected[plan_id]
            )
            if plan_id in self.closed or plan_id in self.refunded:
                assert position.owed == 0
            else:
                assert position.owed == plan.schedule.total + sum(fees.values()) - paid
            assert position.allowance >= 0
            if position.owed == 0 and self.closed.get(plan_id) != "write-off":
                assert position.allowance == 0
            entries = self.store.entries_for(plan_id)
            assert len({e.entry_id for e in entries}) == len(entries)
            money_in = sum(e.on(ACQUIRER_RECEIVABLE) for e in entries)
            assert money_in <= plan.schedule.total + sum(fees.values())
            fee = -sum(e.on(BNPL_FEE_INCOME) for e in entries)
            assert fee == self.fees[plan_id]


TestBnplLedgerMachine = BnplLedgerMachine.TestCase
TestBnplLedgerMachine.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
