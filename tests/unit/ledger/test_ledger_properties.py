"""A state machine over ``PaymentLedger`` on the in-memory store: random authorizations,
partial captures and refunds, voids, compensations and replays of earlier calls, checked
against a model and the double-entry invariants after every step."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from functions.domain.fees import FeeSchedule
from functions.domain.ledger import (
    ACQUIRER_RECEIVABLE,
    AUTHORIZATION_HOLDS,
    ConflictingEntryError,
    InMemoryLedgerStore,
    JournalEntry,
    LedgerRuleError,
    PaymentLedger,
    PaymentPosition,
    PostingRules,
    balance_sheet,
    balances,
    is_memo,
    logical_account,
    logical_balances,
    position,
    unbalanced_currencies,
)

# payment id -> (merchant, currency)
PAYMENTS = {
    "pay_a": ("m_1", "EUR"),
    "pay_b": ("m_1", "EUR"),
    "pay_c": ("m_2", "JPY"),
    "pay_d": ("m_2", "KWD"),
}
FEES = FeeSchedule.from_config(
    {
        "default": {
            "EUR": {"bps": 140, "fixed": "0.25"},
            "JPY": {"bps": 290, "fixed": "30"},
            "KWD": {"bps": "150.5", "fixed": "0.001"},
        }
    }
)
payment_ids = st.sampled_from(sorted(PAYMENTS))
amounts = st.integers(min_value=1, max_value=5_000)
# Either any amount, or one a few units either side of what the payment still allows, so the
# limits are probed at their edge.
near = st.integers(min_value=-2, max_value=2)
requests = st.one_of(amounts.map(lambda a: ("any", a)), near.map(lambda d: ("edge", d)))


def _amount(request: tuple[str, int], room: int) -> int:
    how, value = request
    return value if how == "any" else max(1, room + value)


@dataclass
class Model:
    """What the ledger should say about one payment."""

    authorized: int | None = None  # the authorization as posted (never changes)
    position: PaymentPosition = field(default_factory=PaymentPosition)
    next_capture: int = 1
    next_refund: int = 1
    void: JournalEntry | None = None
    compensated: bool = False


@dataclass(frozen=True)
class Call:
    """A call that succeeded, kept for replay, with what it returned."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    result: Any


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.store = InMemoryLedgerStore()
        # A service charge in every currency the machine uses, rounded at each exponent.
        self.posting = PostingRules(shards=3, fees=FEES)
        self.ledger = PaymentLedger(self.store, self.posting)
        self.model: dict[str, Model] = defaultdict(Model)
        self.calls: list[Call] = []

    def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        result = fn(*args)
        self.calls.append(Call(fn, args, result))
        return result

    @rule(pid=payment_ids, amount=amounts)
    def authorize(self, pid: str, amount: int) -> None:
        merchant, currency = PAYMENTS[pid]
        m = self.model[pid]
        if m.authorized is None and m.compensated:
            # Compensation is terminal: the workflow never authorizes a compensated payment
            # (a late one is left to reconciliation, which posts its missing reversal).
            return
        if m.authorized is not None and m.authorized != amount:
            before = self.store.all_balances()
            with pytest.raises(ConflictingEntryError):
                self.ledger.record_authorization(pid, merchant, amount, currency)
            assert self.store.all_balances() == before
            return
        self._call(self.ledger.record_authorization, pid, merchant, amount, currency)
        if m.authorized is None:
            m.authorized = amount
            m.position = PaymentPosition(authorized=amount)

    @rule(pid=payment_ids, request=requests)
    def capture(self, pid: str, request: tuple[str, int]) -> None:
        merchant, currency = PAYMENTS[pid]
        m = self.model[pid]
        p = m.position
        amount = _amount(request, p.uncaptured)
        args = (pid, merchant, amount, currency, m.next_capture)
        if p.captured + amount > p.authorized - p.voided:
            with pytest.raises(LedgerRuleError):
                self.ledger.record_capture(*args)
            return
        self._call(self.ledger.record_capture, *args)
        m.next_capture += 1
        m.position = PaymentPosition(p.authorized, p.captured + amount, p.voided, p.refunded)

    @rule(pid=payment_ids, request=requests)
    def refund(self, pid: str, request: tuple[str, int]) -> None:
        merchant, currency = PAYMENTS[pid]
        m = self.model[pid]
        p = m.position
        amount = _amount(request, p.captured - p.refunded)
        args = (pid, merchant, amount, currency, f"re_{m.next_refund}")
        if p.refunded + amount > p.captured:
            with pytest.raises(LedgerRuleError):
                self.ledger.record_refund(*args)
            return
        self._call(self.ledger.record_refund, *args)
        m.next_refund += 1
        m.position = PaymentPosition(p.authorized, p.captured, p.voided, p.refunded + amount)

    @rule(pid=payment_ids)
    def void(self, pid: str) -> None:
        merchant, currency = PAYMENTS[pid]
        m = self.model[pid]
        p = m.position
        result = self.ledger.record_void(pid, merchant, currency)
        if m.void is not None and not m.compensated:
            assert result == m.void
        elif p.uncaptured > 0:
            assert result is not None
            assert self.store.entries_for(pid)[-1] == result
            m.void = result
            m.position = PaymentPosition(p.authorized, p.captured, p.uncaptured, p.refunded)
            self.calls.append(Call(self.ledger.record_void, (pid, merchant, currency), result))
        else:
            assert result is None

    @rule(pid=payment_ids)
    def reverse_all(self, pid: str) -> None:
        m = self.model[pid]
        before = self.store.entries_for(pid)
        reversals = self._call(self.ledger.reverse_all, pid)
        if m.compensated:
            assert reversals == []
        # newest first: the payment stays within its limits after each single reversal
        for done in range(len(reversals) + 1):
            p = position([*before, *reversals[:done]])
            assert 0 <= p.refunded <= p.captured <= p.authorized - p.voided
        m.compensated = True
        m.position = PaymentPosition()
        assert self.ledger.position(pid) == PaymentPosition()

    @precondition(lambda self: bool(self.calls))
    @rule(index=st.integers(min_value=0))
    def replay(self, index: int) -> None:
        call = self.calls[index % len(self.calls)]
        before = self.store.all_balances()
        count = len(self.store.all_entries())
        result = call.fn(*call.args)
        assert self.store.all_balances() == before
        assert len(self.store.all_entries()) == count
        if call.fn == self.ledger.reverse_all:
            assert result == []
        elif call.fn == self.ledger.record_void:
            # the void itself, or None once a compensation reversed it
            assert result in (call.result, None)
        else:
            assert result == call.result

    # ------------------------------------------------------------------------ invariants

    @invariant()
    def entries_balance_per_currency(self) -> None:
        for entry in self.store.all_entries():
            assert unbalanced_currencies(entry.lines) == {}

    @invariant()
    def store_balances_match_the_entries(self) -> None:
        entries = self.store.all_entries()
        expected = balances(entries)
        assert self.store.all_balances() == expected
        for (account, currency), value in logical_balances(entries).items():
            assert self.store.balance(account, currency) == value
        for (account, currency), value in expected.items():
            if logical_account(account) != account:
                assert self.store.balance(account, currency) == value

    @invariant()
    def balances_sum_to_zero_per_currency(self) -> None:
        totals: dict[str, int] = defaultdict(int)
        for (_, currency), value in self.store.all_balances().items():
            totals[currency] += value
        assert all(total == 0 for total in totals.values())

    @invariant()
    def the_memo_ledger_stays_off_the_balance_sheet(self) -> None:
        memo: dict[str, int] = defaultdict(int)
        for (account, currency), value in self.store.all_balances().items():
            if is_memo(account):
                memo[currency] += value
        assert all(total == 0 for total in memo.values())
        # Whatever was only authorized appears on no asset or liability.
        for pid in PAYMENTS:
            if self.ledger.position(pid).captured == 0:
                sheet = balance_sheet(balances(self.store.entries_for(pid)))
                assert all(value == 0 for value in sheet.values())

    @invariant()
    def payments_stay_within_their_limits(self) -> None:
        for pid in PAYMENTS:
            entries = self.store.entries_for(pid)
            p = self.ledger.position(pid)
            assert p == self.model[pid].position
            assert 0 <= p.captured <= p.authorized - p.voided
            assert 0 <= p.refunded <= p.captured
            # The position the store guards the caps on is the one the entries add up to, and
            # refunded ≤ captured ≤ authorized holds on it too.
            stored = self.store.stored_position(pid)
            assert (
                stored["authorized"],
                stored["captured"],
                stored["voided"],
                stored["refunded"],
            ) == (p.authorized, p.captured, p.voided, p.refunded)
            assert stored["capturable"] == p.uncaptured >= 0
            assert stored["refundable"] == p.captured - p.refunded >= 0
            assert 0 <= stored["refunded"] <= stored["captured"] <= stored["authorized"]
            held = balances(entries)
            holds = sum(
                v for (a, _), v in held.items() if logical_account(a) == AUTHORIZATION_HOLDS
            )
            receivable = sum(
                v for (a, _), v in held.items() if logical_account(a) == ACQUIRER_RECEIVABLE
            )
            assert holds == p.uncaptured >= 0
            assert receivable == p.captured - p.refunded >= 0


LedgerMachine.TestCase.settings = settings(max_examples=75, stateful_step_count=30, deadline=None)
TestLedgerMachine = LedgerMachine.TestCase
