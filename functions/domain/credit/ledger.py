"""The BNPL credit ledger (pure domain): what a plan owes and is owed, double entry.

Accounts (``CREDIT_ACCOUNTS``; balances debit-positive, as in ``functions.domain.ledger``):

* ``bnpl_receivable:{customer_id}`` (asset): what the customer still owes on their plans;
* ``bnpl_merchant_payable:{merchant_id}`` (liability): what the platform owes the merchant,
  paid in full at capture less the BNPL fee (the platform carries the credit, not the
  merchant);
* ``bnpl_fee_income`` (income): the merchant's BNPL fee (``FeeSchedule``, as for card
  payments);
* ``acquirer_receivable`` (asset): instalments the platform charged to the customer's card,
  owed by the acquirer until settled (the same asset as the card ledger's, docs/ledger.md);
* ``credit_loss_allowance`` (contra-asset, credit-balanced): the expected loss held against
  the receivable, booked at origination (``allowance_bps`` of the credit, IFRS 9's
  expected-credit-loss allowance from day one);
* ``credit_loss_expense`` (expense): the charge that builds the allowance, and what a write-off
  costs beyond it;
* ``bnpl_late_fee_income`` (income): late fees, added to the instalment that went late and
  never more in all than the plan's configured cap (the service decides the fee).

Entries, ``bnpl:{plan_id}#{step}``, each balanced per currency when built:

| step | when | lines |
| --- | --- | --- |
| ``plan`` | the plan is captured | Dr receivable t / Cr merchant payable t - f / Cr fee income f |
| ``allowance`` | with the plan | Dr loss expense a / Cr allowance a |
| ``late-fee-{n}`` | instalment n first goes late | Dr receivable / Cr late fee income |
| ``collect-{n}`` | instalment n charged (1 at checkout), late fee too | Dr acquirer receivable |
| | | / Cr receivable |
| ``settle-early`` | the customer pays everything left | Dr acquirer receivable / Cr receivable |
| ``write-off`` | N days past due | Dr allowance (up to what it holds) / Dr loss expense |
| | | (the rest) / Cr receivable (all that is left) |
| ``allowance-release`` | the plan is paid in full | Dr allowance a / Cr loss expense a |
| ``recovery-{n}`` | instalment n paid after write-off | Dr acquirer receivable / Cr loss expense |
| ``refund`` | the payment refunded in full (the | Dr merchant payable t / Dr late fee income |
| | goods returned): nothing more is owed, | (all booked) / Cr receivable (all left) / Cr |
| | all paid goes back to the card | acquirer receivable (all paid) / Cr loss expense |
| | | (what a write-off took, less recoveries) |

Ids are deterministic, so a step posted twice is posted once (``CreditLedgerStore.post``
answers False on a replay and refuses other lines). ``plan_position`` derives what is left from
the entries; ``BnplLedger`` refuses a movement the position does not allow (collecting an
instalment twice, collecting after a write-off or more than is owed).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from functions.domain.credit.schedule import Schedule
from functions.domain.ledger import (
    ConflictingEntryError,
    JournalLine,
    LedgerRuleError,
    UnbalancedEntryError,
    unbalanced_currencies,
)

BNPL_RECEIVABLE = "bnpl_receivable"
BNPL_MERCHANT_PAYABLE = "bnpl_merchant_payable"
BNPL_FEE_INCOME = "bnpl_fee_income"
ACQUIRER_RECEIVABLE = "acquirer_receivable"
CREDIT_LOSS_ALLOWANCE = "credit_loss_allowance"
CREDIT_LOSS_EXPENSE = "credit_loss_expense"
LATE_FEE_INCOME = "bnpl_late_fee_income"
CREDIT_ACCOUNTS = {
    BNPL_RECEIVABLE: "asset",
    BNPL_MERCHANT_PAYABLE: "liability",
    BNPL_FEE_INCOME: "income",
    ACQUIRER_RECEIVABLE: "asset",
    CREDIT_LOSS_ALLOWANCE: "contra-asset",
    CREDIT_LOSS_EXPENSE: "expense",
    LATE_FEE_INCOME: "income",
}
SUBJECT_PREFIX = "bnpl:"
REFUND_STEP = "refund"


class PlanMovementError(LedgerRuleError):
    """A movement the plan's position does not allow; nothing was posted."""


def receivable(customer_id: str) -> str:
    return f"{BNPL_RECEIVABLE}:{_id(customer_id, 'customer_id')}"


def merchant_payable(merchant_id: str) -> str:
    return f"{BNPL_MERCHANT_PAYABLE}:{_id(merchant_id, 'merchant_id')}"


def _id(value: str, name: str) -> str:
    if not isinstance(value, str) or not value or any(c in value for c in "#:"):
        raise LedgerRuleError(f"{name} must be a non-empty string without '#' or ':'")
    return value


def entry_id_of(plan_id: str, step: str) -> str:
    return f"{SUBJECT_PREFIX}{plan_id}#{step}"


def base_account(account: str) -> str:
    return account.split(":", 1)[0]


@dataclass(frozen=True, slots=True)
class CreditEntry:
    entry_id: str
    plan_id: str
    step: str
    lines: tuple[JournalLine, ...]
    effective_at: str

    def __post_init__(self) -> None:
        _id(self.plan_id, "plan_id")
        if self.entry_id != entry_id_of(self.plan_id, self.step):
            raise LedgerRuleError("entry_id must be 'bnpl:{plan_id}#{step}'")
        if len(self.lines) < 2:
            raise LedgerRuleError("an entry needs at least two lines")
        for line in self.lines:
            if base_account(line.account) not in CREDIT_ACCOUNTS:
                raise LedgerRuleError(f"{line.account!r} is not a credit account")
        unbalanced = unbalanced_currencies(self.lines)
        if unbalanced:
            raise UnbalancedEntryError(f"entry {self.entry_id} is unbalanced: {unbalanced}")

    def on(self, base: str) -> int:
        """The entry's debit-positive effect on the accounts named ``base``."""
        return sum(line.delta for line in self.lines if base_account(line.account) == base)


@dataclass(frozen=True, slots=True)
class BnplPlan:
    """What the ledger needs of a plan: who owes whom, and its schedule."""

    plan_id: str
    customer_id: str
    merchant_id: str
    schedule: Schedule


@dataclass(frozen=True, slots=True)
class PlanPosition:
    owed: int  # the receivable left
    allowance: int  # the allowance held against it
    collected: frozenset[int]  # instalment numbers collected (or recovered after a write-off)
    late_fees: dict[int, int]  # instalment number -> its late fee
    settled_early: bool
    written_off: bool
    paid: int = 0  # what the customer's card paid on the plan (instalments, fees, recoveries)
    refunded: bool = False

    @property
    def closed(self) -> bool:
        return self.owed == 0


def plan_position(entries: Iterable[CreditEntry]) -> PlanPosition:
    owed = allowance = 0
    collected: set[int] = set()
    late_fees: dict[int, int] = {}
    settled_early = written_off = refunded = False
    paid = 0
    for entry in entries:
        owed += entry.on(BNPL_RECEIVABLE)
        paid += entry.on(ACQUIRER_RECEIVABLE)
        allowance -= entry.on(CREDIT_LOSS_ALLOWANCE)
        if entry.step.startswith(("collect-", "recovery-")):
            collected.add(int(entry.step.rpartition("-")[2]))
        if entry.step.startswith("late-fee-"):
            late_fees[int(entry.step.removeprefix("late-fee-"))] = -entry.on(LATE_FEE_INCOME)
        settled_early |= entry.step == "settle-early"
        written_off |= entry.step == "write-off"
        refunded |= entry.step == REFUND_STEP
    return PlanPosition(
        owed,
        allowance,
        frozenset(collected),
        late_fees,
        settled_early,
        written_off,
        paid,
        refunded,
    )


def _lines(currency: str, debits: dict[str, int]) -> tuple[JournalLine, ...]:
    return tuple(
        JournalLine(account, currency, debit=max(v, 0), credit=max(-v, 0))
        for account, v in debits.items()
        if v
    )


class CreditPostingRules:
    """Builds each entry of a plan. ``allowance_bps`` is the expected loss booked at
    origination, in basis points of the credit (the total less the checkout instalment)."""

    def __init__(self, allowance_bps: int) -> None:
        if isinstance(allowance_bps, bool) or not 0 <= allowance_bps <= 10_000:
            raise LedgerRuleError("allowance_bps must be 0 to 10000")
        self.allowance_bps = allowance_bps

    def _entry(self, plan: BnplPlan, step: str, debits: dict[str, int], at: str) -> CreditEntry:
        return CreditEntry(
            entry_id_of(plan.plan_id, step),
            plan.plan_id,
            step,
            _lines(plan.schedule.currency, debits),
            at,
        )

    def plan(self, plan: BnplPlan, fee: int, at: str) -> CreditEntry:
        total = plan.schedule.total
        if isinstance(fee, bool) or not 0 <= fee <= total:
            raise LedgerRuleError("the fee must be between 0 and the plan's total")
        return self._entry(
            plan,
            "plan",
            {
                receivable(plan.customer_id): total,
                merchant_payable(plan.merchant_id): -(total - fee),
                BNPL_FEE_INCOME: -fee,
            },
            at,
        )

    def allowance_for(self, plan: BnplPlan) -> int:
        credit = Decimal(plan.schedule.credit) * self.allowance_bps / 10_000
        return int(credit.to_integral_value(rounding=ROUND_HALF_UP))

    def allowance(self, plan: BnplPlan, at: str) -> CreditEntry | None:
        amount = self.allowance_for(plan)
        if not amount:
            return None
        return self._entry(
            plan, "allowance", {CREDIT_LOSS_EXPENSE: amount, CREDIT_LOSS_ALLOWANCE: -amount}, at
        )

    def late_fee(self, plan: BnplPlan, number: int, fee: int, at: str) -> CreditEntry:
        return self._entry(
            plan,
            f"late-fee-{number}",
            {receivable(plan.customer_id): fee, LATE_FEE_INCOME: -fee},
            at,
        )

    def collect(self, plan: BnplPlan, number: int, at: str, late_fee: int = 0) -> CreditEntry:
        amount = plan.schedule.instalments[number - 1].amount + late_fee
        return self._entry(
            plan,
            f"collect-{number}",
            {ACQUIRER_RECEIVABLE: amount, receivable(plan.customer_id): -amount},
            at,
        )

    def recovery(self, plan: BnplPlan, number: int, at: str, late_fee: int = 0) -> CreditEntry:
        amount = plan.schedule.instalments[number - 1].amount + late_fee
        return self._entry(
            plan,
            f"recovery-{number}",
            {ACQUIRER_RECEIVABLE: amount, CREDIT_LOSS_EXPENSE: -amount},
            at,
        )

    def settle_early(self, plan: BnplPlan, owed: int, at: str) -> CreditEntry:
        return self._entry(
            plan,
            "settle-early",
            {ACQUIRER_RECEIVABLE: owed, receivable(plan.customer_id): -owed},
            at,
        )

    def write_off(self, plan: BnplPlan, position: PlanPosition, at: str) -> CreditEntry:
        from_allowance = min(position.allowance, position.owed)
        return self._entry(
            plan,
            "write-off",
            {
                CREDIT_LOSS_ALLOWANCE: from_allowance,
                CREDIT_LOSS_EXPENSE: position.owed - from_allowance,
                receivable(plan.customer_id): -position.owed,
            },
            at,
        )

    def refund(self, plan: BnplPlan, position: PlanPosition, at: str) -> CreditEntry:
        """The payment refunded in full: the merchant gives back the total (its fee is not
        returned, as for a card refund), the customer owes nothing more (the receivable left
        and the late fees it booked are given up), everything the card paid goes back to it,
        and what a write-off had taken off the receivable comes back off the loss."""
        total, fees = plan.schedule.total, sum(position.late_fees.values())
        return self._entry(
            plan,
            REFUND_STEP,
            {
                merchant_payable(plan.merchant_id): total,
                LATE_FEE_INCOME: fees,
                receivable(plan.customer_id): -position.owed,
                ACQUIRER_RECEIVABLE: -position.paid,
                CREDIT_LOSS_EXPENSE: -(total + fees - position.owed - position.paid),
            },
            at,
        )

    def allowance_release(self, plan: BnplPlan, allowance: int, at: str) -> CreditEntry:
        return self._entry(
            plan,
            "allowance-release",
            {CREDIT_LOSS_ALLOWANCE: allowance, CREDIT_LOSS_EXPENSE: -allowance},
            at,
        )


class CreditLedgerStore(Protocol):
    def post(self, entry: CreditEntry) -> bool:
        """Write ``entry`` once: True when written, False on a replay with the same lines;
        ``ConflictingEntryError`` when the id holds other lines."""
        ...

    def entries_for(self, plan_id: str) -> list[CreditEntry]: ...


class InMemoryCreditLedgerStore:
    """A ``CreditLedgerStore`` in a dict, for tests and benchmarks. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, CreditEntry] = {}
        self._by_plan: dict[str, list[CreditEntry]] = defaultdict(list)

    def post(self, entry: CreditEntry) -> bool:
        with self._lock:
            existing = self._entries.get(entry.entry_id)
            if existing is not None:
                if existing.lines != entry.lines:
                    raise ConflictingEntryError(f"{entry.entry_id} is posted with other lines")
                return False
            self._entries[entry.entry_id] = entry
            self._by_plan[entry.plan_id].append(entry)
            return True

    def entries_for(self, plan_id: str) -> list[CreditEntry]:
        with self._lock:
            return list(self._by_plan.get(plan_id, ()))

    def all_entries(self) -> list[CreditEntry]:
        with self._lock:
            return list(self._entries.values())


def credit_balances(entries: Iterable[CreditEntry]) -> dict[tuple[str, str], int]:
    """Debit-positive balance per (account, currency)."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for entry in entries:
        for line in entry.lines:
            totals[line.account, line.currency] += line.delta
    return dict(totals)


REVERSAL = "reverse-"


class BnplLedger:
    """Posts a plan's movements after checking them against the plan's position. Every
    method is idempotent per plan and step: a retried call posts nothing more."""

    def __init__(self, store: CreditLedgerStore, rules: CreditPostingRules) -> None:
        self._store = store
        self.rules = rules

    def position(self, plan_id: str) -> PlanPosition:
        return plan_position(self._store.entries_for(plan_id))

    def entries(self, plan_id: str) -> list[CreditEntry]:
        return self._store.entries_for(plan_id)

    def open_plan(self, plan: BnplPlan, fee: int, at: str) -> list[CreditEntry]:
        entries = [self.rules.plan(plan, fee, at)]
        allowance = self.rules.allowance(plan, at)
        if allowance is not None:
            entries.append(allowance)
        for entry in entries:
            self._store.post(entry)
        return entries

    def charge_late_fee(self, plan: BnplPlan, number: int, fee: int, at: str) -> CreditEntry:
        """Instalment ``number``'s late fee (the caller keeps the plan's fees within its cap);
        charged once per instalment, never on a closed plan or a collected instalment."""
        if isinstance(fee, bool) or not isinstance(fee, int) or fee <= 0:
            raise PlanMovementError("a late fee is a positive integer")
        entry = self.rules.late_fee(plan, number, fee, at)
        position = self.position(plan.plan_id)
        closed = (
            position.written_off
            or position.settled_early
            or position.refunded
            or number in position.collected
        )
        if number not in position.late_fees and closed:
            raise PlanMovementError(f"instalment {number} of {plan.plan_id} is not late")
        self._store.post(entry)
        return entry

    def collect(self, plan: BnplPlan, number: int, at: str) -> CreditEntry:
        """Instalment ``number`` charged, its late fee included. On a plan written off (a
        collection that raced the write-off, or a customer paying after it) the money is a
        recovery: it reduces the loss instead of a receivable that is gone."""
        if not 1 <= number <= len(plan.schedule.instalments):
            raise PlanMovementError(f"plan {plan.plan_id} has no instalment {number}")
        entries = self._store.entries_for(plan.plan_id)
        done = {f"collect-{number}", f"recovery-{number}"}
        replayed = next((e for e in entries if e.step in done), None)
        if replayed is not None:
            return replayed
        position = plan_position(entries)
        late_fee = position.late_fees.get(number, 0)
        if position.refunded:
            # The refund gave up what was owed: nothing is collected after it, recovery or not.
            raise PlanMovementError(f"plan {plan.plan_id} is refunded")
        if position.written_off:
            entry = self.rules.recovery(plan, number, at, late_fee)
            self._store.post(entry)
            return entry
        if position.settled_early:
            raise PlanMovementError(f"plan {plan.plan_id} is closed")
        entry = self.rules.collect(plan, number, at, late_fee)
        if entry.on(BNPL_RECEIVABLE) + position.owed < 0:
            raise PlanMovementError(f"instalment {number} exceeds what plan {plan.plan_id} owes")
        self._store.post(entry)
        self._release_if_paid(plan, at)
        return entry

    def settle_early(self, plan: BnplPlan, at: str) -> CreditEntry:
        position = self.position(plan.plan_id)
        if position.settled_early:
            existing = next(
                e for e in self._store.entries_for(plan.plan_id) if e.step == "settle-early"
            )
            return existing
        if position.written_off or position.owed <= 0:
            raise PlanMovementError(f"plan {plan.plan_id} owes nothing to settle")
        entry = self.rules.settle_early(plan, position.owed, at)
        self._store.post(entry)
        self._release_if_paid(plan, at)
        return entry

    def write_off(self, plan: BnplPlan, at: str) -> CreditEntry:
        position = self.position(plan.plan_id)
        if position.written_off:
            return next(e for e in self._store.entries_for(plan.plan_id) if e.step == "write-off")
        if position.owed <= 0:
            raise PlanMovementError(f"plan {plan.plan_id} owes nothing to write off")
        entry = self.rules.write_off(plan, position, at)
        self._store.post(entry)
        return entry

    def refund(self, plan: BnplPlan, at: str) -> CreditEntry:
        """The plan unwound for a refund of its payment, once: a repeat answers the entry
        posted. Not after a compensation reversed the plan (nothing is left to unwind)."""
        entries = self._store.entries_for(plan.plan_id)
        posted = next((e for e in entries if e.step == REFUND_STEP), None)
        if posted is not None:
            return posted
        if not entries or any(e.step.startswith(REVERSAL) for e in entries):
            raise PlanMovementError(f"plan {plan.plan_id} has nothing to refund")
        entry = self.rules.refund(plan, plan_position(entries), at)
        self._store.post(entry)
        self._release_if_paid(plan, at)
        return entry

    def reverse_plan(self, plan_id: str, at: str) -> list[CreditEntry]:
        """Every entry of the plan reversed (its lines' sides swapped), for a checkout undone
        half-way: the accounts go back to where they were before the plan. Idempotent: an
        entry reversed already is not reversed again, nor is a reversal."""
        entries = self._store.entries_for(plan_id)
        steps = {e.step for e in entries}
        reversals = [
            CreditEntry(
                entry_id_of(plan_id, f"{REVERSAL}{e.step}"),
                plan_id,
                f"{REVERSAL}{e.step}",
                tuple(
                    JournalLine(line.account, line.currency, debit=line.credit, credit=line.debit)
                    for line in e.lines
                ),
                at,
            )
            for e in entries
            if not e.step.startswith(REVERSAL) and f"{REVERSAL}{e.step}" not in steps
        ]
        for entry in reversals:
            self._store.post(entry)
        return reversals

    def _release_if_paid(self, plan: BnplPlan, at: str) -> None:
        """A plan paid in full needs no allowance: what it held goes back to the expense."""
        position = self.position(plan.plan_id)
        if position.owed == 0 and position.allowance > 0 and not position.written_off:
            self._store.post(self.rules.allowance_release(plan, position.allowance, at))
