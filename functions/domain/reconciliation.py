"""Reconciliation (pure domain): what the payments table says happened, against what the ledger
holds, which events were published and, when given, what the acquirer itself says it executed
(its operation record or settlement file, ``AcquirerRecords``): only that last comparison can
see money the acquirer moved that our records do not show, such as a refund paid twice. Given
the acquirer's settlement batches, it reports each batch the ledger has not booked yet.

From a payment's facts the posting rules give the exact entries the ledger should hold (entry
ids are deterministic). A movement the record shows but the ledger lacks is repaired by posting
that entry (idempotent), a recorded state whose event is missing by publishing the event. Every
other difference is reported for a person: the record and the ledger disagree and neither can
be trusted blindly.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from functions.domain.acquirer import (
    AcquirerOperation,
    OperationKind,
    OperationStatus,
    SettlementBatch,
)
from functions.domain.ledger import (
    PAYMENT_KINDS,
    SETTLEMENT_SUBJECT,
    WORKFLOW_KINDS,
    EntryKind,
    JournalEntry,
    LedgerRuleError,
    PostingRules,
    chronological_key,
    is_memo,
    logical_account,
    logical_balances,
    same_movement,
    unbalanced_currencies,
)

AUTHORIZED = "payment.authorized"
CAPTURED = "payment.captured"
REFUNDED = "payment.refunded"
DECLINED = "payment.declined"
REQUIRES_ACTION = "payment.requires_action"
CANCELED = "payment.canceled"

# Payment statuses whose event is expected whatever the amounts say.
_STATUS_EVENTS = {
    "declined": DECLINED,
    "requires_action": REQUIRES_ACTION,
    "canceled": CANCELED,
}


@dataclass(frozen=True, slots=True)
class PaymentFacts:
    """A payment as the payments table records it (amounts in minor units)."""

    payment_id: str
    merchant_id: str
    currency: str
    status: str
    authorized: int
    captured: int
    refunded: int
    voided: int
    captures: tuple[tuple[int, int], ...] = ()  # (sequence, amount)
    refunds: tuple[tuple[str, int], ...] = ()  # (refund_id, amount)
    compensated: bool = False
    # Acquirer references (idempotency keys) of captures and refunds whose outcome is unknown:
    # the acquirer may or may not hold them, and the ledger must not yet.
    pending: tuple[str, ...] = ()
    # Authorized and captured in one step (the request asked for capture): one sale entry.
    sale: bool = False
    # When each movement happened, by step ("authorization", "sale", "capture-1",
    # "refund-re_1", "void", "reversal"), as the record knows it: a repaired entry is dated
    # then, not at the repair (a step it lacks is dated at the repair).
    occurred_at: tuple[tuple[str, str], ...] = ()

    def at(self, step: str) -> str | None:
        return dict(self.occurred_at).get(step)

    def acquirer_references(self) -> dict[str, int]:
        """The acquirer operations the record says succeeded, by reference: amount."""
        found = {f"{self.payment_id}:capture:{seq}": amount for seq, amount in self.captures}
        found.update({f"{self.payment_id}:refund:{rid}": amount for rid, amount in self.refunds})
        return found


@dataclass(frozen=True, slots=True)
class PublishedEvent:
    event_id: str
    type: str
    payment_id: str
    amount: int | None = None


class MismatchKind(StrEnum):
    LEDGER_ENTRY_MISSING = "ledger_entry_missing"
    LEDGER_AMOUNT_DIFFERS = "ledger_amount_differs"
    LEDGER_WITHOUT_PAYMENT = "ledger_without_payment"
    ENTRY_UNBALANCED = "entry_unbalanced"
    EVENT_MISSING = "event_missing"
    EVENT_UNEXPECTED = "event_unexpected"
    BALANCE_DRIFT = "balance_drift"
    TRIAL_BALANCE_NOT_ZERO = "trial_balance_not_zero"
    MEMO_NOT_ZERO = "memo_not_zero"
    SETTLEMENT_UNBOOKED = "settlement_unbooked"
    OPERATION_PENDING = "operation_pending"
    ACQUIRER_OPERATION_UNRECORDED = "acquirer_operation_unrecorded"
    ACQUIRER_OPERATION_MISSING = "acquirer_operation_missing"
    ACQUIRER_AMOUNT_DIFFERS = "acquirer_amount_differs"


class RepairAction(StrEnum):
    POST_ENTRY = "post_entry"
    PUBLISH_EVENT = "publish_event"


@dataclass(frozen=True, slots=True)
class Repair:
    """A safe fix: post ``entry`` (idempotent by its id) or publish ``event_type``.

    ``amount`` is the amount the event carries (None for status events).
    """

    action: str
    entry: JournalEntry | None = None
    event_type: str | None = None
    amount: int | None = None
    # When the event should have been published, as the record dates it (None: unknown).
    at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": str(self.action),
            "entry": None if self.entry is None else entry_to_dict(self.entry),
            "event_type": self.event_type,
            "amount": self.amount,
        }


@dataclass(frozen=True, slots=True)
class Mismatch:
    kind: MismatchKind
    payment_id: str | None
    detail: str
    repair: Repair | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "payment_id": self.payment_id,
            "detail": self.detail,
            "repair": None if self.repair is None else self.repair.to_dict(),
        }


@dataclass
class ReconciliationReport:
    checked_payments: int
    mismatches: list[Mismatch] = field(default_factory=list)
    # Mismatches counted but not listed (a run over many payments lists only the first few:
    # its answer and its memory stay bounded however much is wrong).
    unlisted: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.unlisted

    def repairable(self) -> list[Mismatch]:
        """The mismatches that carry a safe repair, in the order to apply them."""
        return [m for m in self.mismatches if m.repair is not None]

    def counts(self) -> dict[str, int]:
        counts = Counter(m.kind.value for m in self.mismatches)
        counts.update(self.unlisted)
        return dict(counts)

    def add(self, other: ReconciliationReport, listed: int) -> None:
        """Adds a part's findings, listing at most ``listed`` mismatches in all."""
        self.checked_payments += other.checked_payments
        room = max(0, listed - len(self.mismatches))
        self.mismatches.extend(other.mismatches[:room])
        self.unlisted.update(m.kind.value for m in other.mismatches[room:])
        self.unlisted.update(other.unlisted)

    def to_dict(self) -> dict[str, Any]:
        return {
            "checked_payments": self.checked_payments,
            "ok": self.ok,
            "counts": self.counts(),
            "mismatches": [m.to_dict() for m in self.mismatches],
        }


def entry_to_dict(entry: JournalEntry) -> dict[str, Any]:
    return {
        "entry_id": entry.entry_id,
        "payment_id": entry.payment_id,
        "kind": entry.kind.value,
        "step": entry.step,
        "reverses": entry.reverses,
        "lines": [
            {
                "account": line.account,
                "currency": line.currency,
                "debit": line.debit,
                "credit": line.credit,
            }
            for line in entry.lines
        ],
    }


def expected_entries(facts: PaymentFacts, rules: PostingRules) -> list[JournalEntry]:
    """The entries the ledger should hold for the payment, in posting order (the workflow's:
    disputes come from the acquirer's settlement records, not from the payment record)."""
    pid, mid, cur = facts.payment_id, facts.merchant_id, facts.currency
    entries: list[JournalEntry] = []
    if facts.sale:
        # Authorized and captured in one step: one entry once captured; until then (or when
        # the capture never happened and the payment was canceled) the hold is only a memo.
        entries.extend(
            rules.sale(pid, mid, amount, cur, facts.at("sale")) for _, amount in facts.captures
        )
    else:
        if facts.authorized > 0:
            at = facts.at("authorization")
            entries.append(rules.authorization(pid, mid, facts.authorized, cur, at))
        entries.extend(
            rules.capture(pid, mid, amount, cur, seq, facts.at(f"capture-{seq}"))
            for seq, amount in facts.captures
        )
        if facts.voided > 0:
            entries.append(rules.void(pid, mid, facts.voided, cur, facts.at("void")))
    entries.extend(
        rules.refund(pid, mid, amount, cur, rid, facts.at(f"refund-{rid}"))
        for rid, amount in facts.refunds
    )
    if facts.compensated:
        at = facts.at("reversal")
        entries.extend(rules.reversal(e, at) for e in sorted(entries, key=chronological_key)[::-1])
    return entries


def expected_events(facts: PaymentFacts) -> list[tuple[str, int | None]]:
    """(event type, amount) the payment should have published."""
    return [(event_type, amount) for event_type, amount, _ in dated_expected_events(facts)]


def dated_expected_events(facts: PaymentFacts) -> list[tuple[str, int | None, str | None]]:
    """(event type, amount, when it was published as the record knows it, or None)."""
    events: list[tuple[str, int | None, str | None]] = []
    if facts.authorized > 0 and not facts.compensated:
        events.append((AUTHORIZED, facts.authorized, facts.at("authorization")))
    events.extend(
        (CAPTURED, amount, facts.at("sale" if facts.sale else f"capture-{seq}"))
        for seq, amount in facts.captures
    )
    events.extend((REFUNDED, amount, facts.at(f"refund-{rid}")) for rid, amount in facts.refunds)
    status_event = _STATUS_EVENTS.get(facts.status)
    if status_event is not None:
        events.append((status_event, None, facts.at("status")))
    return events


def reconcile(
    payments: Iterable[PaymentFacts],
    entries: Iterable[JournalEntry],
    events: Iterable[PublishedEvent],
    rules: PostingRules,
    *,
    balances: Mapping[tuple[str, str], int] | None = None,
    acquirer: Iterable[AcquirerOperation] | None = None,
    settlements: Iterable[SettlementBatch] | None = None,
    events_since: str | None = None,
) -> ReconciliationReport:
    """Compare the sources; ``entries`` and ``events`` are complete for the period.

    ``events_since``, when given, is where the event record read began: an expected event
    the record dates earlier is out of sight (a run whose window held it checked it), so it is
    not reported missing; one the record cannot date is.

    ``balances``, when given, are the store's account balances keyed by (account, currency),
    physical or logical; they must equal what the entries add up to (``BALANCE_DRIFT``), and
    every currency's accounts must sum to zero (``TRIAL_BALANCE_NOT_ZERO``).
    ``acquirer``, when given, is the acquirer's record of its captures and refunds, complete for
    the period; each must match a succeeded or pending operation of a payment and vice versa.
    ``settlements``, when given, are the acquirer's settlement batches: each must be booked
    (``SETTLEMENT_UNBOOKED`` otherwise: the settle function books it, once the ledger holds
    its lines). Entries of no payment (settlement batches, payouts) and disputes are compared
    with the acquirer's batches, not with the payment records.
    """
    payments = list(payments)
    all_entries = list(entries)
    ledger: dict[str, dict[str, JournalEntry]] = defaultdict(dict)
    for entry in all_entries:
        ledger[entry.payment_id][entry.entry_id] = entry
    published: dict[str, dict[str, PublishedEvent]] = defaultdict(dict)
    for event in events:
        # At-least-once delivery: the same event id seen twice is one event.
        published[event.payment_id][event.event_id] = event

    mismatches: list[Mismatch] = []
    for entry in all_entries:
        unbalanced = unbalanced_currencies(entry.lines)
        if unbalanced:
            mismatches.append(
                Mismatch(
                    MismatchKind.ENTRY_UNBALANCED,
                    entry.payment_id,
                    f"{entry.entry_id} debits minus credits: {unbalanced}",
                )
            )

    known: set[str] = set()
    for facts in payments:
        known.add(facts.payment_id)
        mismatches.extend(_check_ledger(facts, ledger.get(facts.payment_id, {}), rules))
        mismatches.extend(_check_events(facts, published.get(facts.payment_id, {}), events_since))

    for payment_id, held in ledger.items():
        if payment_id not in known and any(e.kind in PAYMENT_KINDS for e in held.values()):
            mismatches.extend(
                Mismatch(
                    MismatchKind.LEDGER_WITHOUT_PAYMENT,
                    payment_id,
                    f"{entry_id} belongs to no known payment",
                )
                for entry_id in sorted(held)
            )
    for payment_id, seen in published.items():
        if payment_id not in known:
            mismatches.extend(
                Mismatch(
                    MismatchKind.EVENT_UNEXPECTED,
                    payment_id,
                    f"{event.type} {event.event_id} for no known payment",
                )
                for event in sorted(seen.values(), key=lambda e: e.event_id)
            )
    mismatches.extend(
        Mismatch(
            MismatchKind.OPERATION_PENDING,
            facts.payment_id,
            f"{reference}: the acquirer's answer is still unknown",
        )
        for facts in payments
        for reference in facts.pending
    )
    if balances is not None:
        mismatches.extend(_check_balances(all_entries, balances))
    if acquirer is not None:
        mismatches.extend(_check_acquirer(payments, acquirer))
    if settlements is not None:
        mismatches.extend(_check_settlements(settlements, all_entries))
    return ReconciliationReport(checked_payments=len(known), mismatches=mismatches)


def _check_acquirer(
    payments: list[PaymentFacts], operations: Iterable[AcquirerOperation]
) -> list[Mismatch]:
    """Money moves at the acquirer, not in our tables: every capture and refund it executed must
    be one the record knows, with the same amount, and every one the record shows must be there.
    Differences are for a person (a second refund cannot be taken back by a repair)."""
    expected: dict[str, tuple[str, int]] = {}
    pending: set[str] = set()
    for facts in payments:
        for reference, amount in facts.acquirer_references().items():
            expected[reference] = (facts.payment_id, amount)
        pending.update(facts.pending)
    found: list[Mismatch] = []
    seen: set[str] = set()
    for operation in sorted(operations, key=lambda o: o.reference):
        if (
            operation.kind is OperationKind.VOID
            or operation.status is not OperationStatus.SUCCEEDED
        ):
            continue
        seen.add(operation.reference)
        if operation.reference in pending:
            continue
        record = expected.get(operation.reference)
        if record is None:
            found.append(
                Mismatch(
                    MismatchKind.ACQUIRER_OPERATION_UNRECORDED,
                    operation.payment_id,
                    f"the acquirer executed {operation.kind} {operation.reference} of "
                    f"{operation.amount} {operation.currency}; no payment record shows it",
                )
            )
        elif record[1] != operation.amount:
            found.append(
                Mismatch(
                    MismatchKind.ACQUIRER_AMOUNT_DIFFERS,
                    record[0],
                    f"{operation.reference}: the record gives {record[1]}, "
                    f"the acquirer executed {operation.amount}",
                )
            )
    found.extend(
        Mismatch(
            MismatchKind.ACQUIRER_OPERATION_MISSING,
            payment_id,
            f"{reference} of {amount} is recorded as done; the acquirer has no such operation",
        )
        for reference, (payment_id, amount) in sorted(expected.items())
        if reference not in seen
    )
    return found


def _check_ledger(
    facts: PaymentFacts, held: Mapping[str, JournalEntry], rules: PostingRules
) -> list[Mismatch]:
    found: list[Mismatch] = []
    try:
        expected = expected_entries(facts, rules)
    except LedgerRuleError as exc:
        # A record the rules cannot post (bad currency, negative amount): nothing to compare.
        return [
            Mismatch(
                MismatchKind.LEDGER_AMOUNT_DIFFERS,
                facts.payment_id,
                f"the payment record cannot be posted: {exc}",
            )
        ]
    for entry in expected:
        actual = held.get(entry.entry_id)
        if actual is None:
            found.append(
                Mismatch(
                    MismatchKind.LEDGER_ENTRY_MISSING,
                    facts.payment_id,
                    f"{entry.entry_id} ({entry.kind}) is not in the ledger",
                    Repair(RepairAction.POST_ENTRY, entry=entry),
                )
            )
        elif not same_movement(entry, actual):
            # The service charge an entry booked stands, whatever the schedule says today.
            found.append(
                Mismatch(
                    MismatchKind.LEDGER_AMOUNT_DIFFERS,
                    facts.payment_id,
                    f"{entry.entry_id}: the record gives {_describe(entry)}, "
                    f"the ledger holds {_describe(actual)}",
                )
            )
    wanted = {entry.entry_id for entry in expected}
    for entry_id, actual in sorted(held.items()):
        if entry_id not in wanted and (
            actual.kind in WORKFLOW_KINDS or actual.movement_kind in WORKFLOW_KINDS
        ):
            found.append(
                Mismatch(
                    MismatchKind.LEDGER_AMOUNT_DIFFERS,
                    facts.payment_id,
                    f"{entry_id}: the ledger holds {_describe(actual)}, the record has no such "
                    f"{actual.kind}",
                )
            )
    return found


def _describe(entry: JournalEntry) -> str:
    return ", ".join(
        f"{'Dr' if line.debit else 'Cr'} {line.account} {line.debit or line.credit} {line.currency}"
        for line in entry.lines
    )


def _check_events(
    facts: PaymentFacts, seen: Mapping[str, PublishedEvent], since: str | None = None
) -> list[Mismatch]:
    def out_of_sight(at: str | None) -> bool:
        return since is not None and at is not None and at < since

    missing: list[tuple[str, int | None, str | None]] = []
    unmatched = sorted(seen.values(), key=lambda e: e.event_id)
    # Those in sight match first: an event read must not be spent on one the read cannot hold.
    expected = sorted(dated_expected_events(facts), key=lambda e: out_of_sight(e[2]))
    for event_type, amount, at in expected:
        match = next((e for e in unmatched if e.type == event_type and e.amount == amount), None)
        if match is None:
            missing.append((event_type, amount, at))
        else:
            unmatched.remove(match)
    # An event that carries no amount stands for any expected event of its type.
    still_missing: list[tuple[str, int | None, str | None]] = []
    for event_type, amount, at in missing:
        match = next((e for e in unmatched if e.type == event_type and e.amount is None), None)
        if match is not None:
            unmatched.remove(match)
        elif not out_of_sight(at):
            still_missing.append((event_type, amount, at))
    found = [
        Mismatch(
            MismatchKind.EVENT_MISSING,
            facts.payment_id,
            f"{event_type}" + ("" if amount is None else f" of {amount}") + " was not published",
            Repair(RepairAction.PUBLISH_EVENT, event_type=event_type, amount=amount, at=at),
        )
        for event_type, amount, at in still_missing
    ]
    found.extend(
        Mismatch(
            MismatchKind.EVENT_UNEXPECTED,
            facts.payment_id,
            f"{event.type} {event.event_id}"
            + ("" if event.amount is None else f" of {event.amount}")
            + f" does not match the record (status {facts.status})",
        )
        for event in unmatched
    )
    return found


def _check_balances(
    entries: list[JournalEntry], stored: Mapping[tuple[str, str], int]
) -> list[Mismatch]:
    journal = logical_balances(entries)
    held: dict[tuple[str, str], int] = defaultdict(int)
    trial: dict[str, int] = defaultdict(int)
    for (account, currency), value in stored.items():
        held[logical_account(account), currency] += value
        trial[currency] += value
    unbalanced = [
        Mismatch(
            MismatchKind.TRIAL_BALANCE_NOT_ZERO,
            None,
            f"{currency}: the stored balances sum to {total}, not 0",
        )
        for currency, total in sorted(trial.items())
        if total != 0
    ]
    memo: dict[str, int] = defaultdict(int)
    for (account, currency), value in stored.items():
        if is_memo(account):
            memo[currency] += value
    unbalanced.extend(
        Mismatch(
            MismatchKind.MEMO_NOT_ZERO,
            None,
            f"{currency}: the memo accounts sum to {total}: memo moved onto the balance sheet",
        )
        for currency, total in sorted(memo.items())
        if total != 0
    )
    return unbalanced + [
        Mismatch(
            MismatchKind.BALANCE_DRIFT,
            None,
            f"{account} {currency}: the entries add up to {journal.get((account, currency), 0)}, "
            f"the stored balance is {held.get((account, currency), 0)}",
        )
        for account, currency in sorted(journal.keys() | held.keys())
        if journal.get((account, currency), 0) != held.get((account, currency), 0)
    ]


def _check_settlements(
    batches: Iterable[SettlementBatch], entries: list[JournalEntry]
) -> list[Mismatch]:
    booked = {e.payment_id for e in entries if e.kind is EntryKind.SETTLEMENT}
    return [
        Mismatch(
            MismatchKind.SETTLEMENT_UNBOOKED,
            None,
            f"settlement batch {batch.batch_id} (value date {batch.value_date}, "
            f"{len(batch.lines)} lines) is not booked",
        )
        for batch in sorted(batches, key=lambda b: b.batch_id)
        if f"{SETTLEMENT_SUBJECT}{batch.batch_id}" not in booked
    ]
