"""The double-entry ledger of card payments (pure domain): accounts, journal entries, posting
rules, balances and the ``PaymentLedger`` service the payment workflow calls.

The platform acts as a payment service provider. Its accounts:

* ``authorization_holds`` (asset): amounts issuers authorized that are not yet captured;
* ``merchant_pending:{merchant_id}`` (liability): authorized, owed to the merchant once captured;
* ``acquirer_receivable`` (asset): captured funds the acquirer will settle;
* ``merchant_payable:{merchant_id}`` (liability): captured funds owed to the merchant.

Every account is hot for someone: the platform accounts for every payment, a merchant's two
accounts for every payment of a busy merchant. All four are sharded: ``authorization_holds#s3``
and ``merchant_payable:m_1#s3`` are shard 3, chosen by a stable hash of the payment id, so
concurrent payments update different DynamoDB items. Reports use ``logical_account`` to fold
the shards. The chart of accounts and every entry's lines: docs/ledger.md.

The caps "captured ≤ authorized - voided" and "refunded ≤ captured" are guarded by the store in
the same atomic write as the entry, on a per-payment position (``position_change``), so two
concurrent refunds cannot both pass a check that each made on its own read.

Balances are debit-positive (debits minus credits): assets are positive, liabilities negative,
and across every account of one currency they sum to zero.

Every entry has a deterministic id, ``{payment_id}#{step}``, so posting is idempotent: a store
writes an entry id once, returns False on a replay with the same lines and raises
``ConflictingEntryError`` when the lines differ.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from functions.domain.currencies import is_currency

AUTHORIZATION_HOLDS = "authorization_holds"
ACQUIRER_RECEIVABLE = "acquirer_receivable"
MERCHANT_PENDING = "merchant_pending"
MERCHANT_PAYABLE = "merchant_payable"
SHARDED_ACCOUNTS = frozenset({AUTHORIZATION_HOLDS, ACQUIRER_RECEIVABLE})
DEFAULT_SHARDS = 8

_SHARD_SUFFIX = re.compile(r"#s[0-9]+$")
_CAPTURE_STEP = re.compile(r"capture-[0-9]+")
_REVERSAL_PREFIX = "reversal-"
_CAPTURE_PREFIX = "capture-"
_REFUND_PREFIX = "refund-"


class LedgerRuleError(ValueError):
    """A posting the rules do not allow, or a malformed line or entry."""


class UnbalancedEntryError(LedgerRuleError):
    """An entry whose debits and credits differ in some currency."""


class ConflictingEntryError(Exception):
    """An entry id that is already posted with other lines."""


class PositionLimitError(LedgerRuleError):
    """The entry would capture more than is uncaptured or refund more than is unrefunded; the
    store refused it atomically (nothing was written)."""


class EntryKind(StrEnum):
    AUTHORIZATION = "authorization"
    CAPTURE = "capture"
    # Authorized and captured in one step: only the captured funds are booked (the hold the
    # authorization would book and the capture release in the same step is a memo on the
    # payment record), so a sale is one entry.
    SALE = "sale"
    VOID = "void"
    REFUND = "refund"
    REVERSAL = "reversal"


# ------------------------------------------------------------------------------------ accounts


def _check_id(value: str, name: str) -> str:
    # "#" separates entry ids, shard suffixes and DynamoDB keys: an id holding one is ambiguous.
    if not isinstance(value, str) or not value or "#" in value:
        raise LedgerRuleError(f"{name} must be a non-empty string without '#'")
    return value


def shard_of(payment_id: str, shards: int = DEFAULT_SHARDS) -> int:
    """The shard of a payment: sha256 of its id modulo ``shards`` (stable across processes)."""
    digest = hashlib.sha256(payment_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") % shards


def authorization_holds(payment_id: str, shards: int = DEFAULT_SHARDS) -> str:
    return f"{AUTHORIZATION_HOLDS}#s{shard_of(payment_id, shards)}"


def acquirer_receivable(payment_id: str, shards: int = DEFAULT_SHARDS) -> str:
    return f"{ACQUIRER_RECEIVABLE}#s{shard_of(payment_id, shards)}"


def merchant_pending(merchant_id: str) -> str:
    """The logical account (the sum of its shards, see ``PostingRules.pending``)."""
    return f"{MERCHANT_PENDING}:{_check_id(merchant_id, 'merchant_id')}"


def merchant_payable(merchant_id: str) -> str:
    """The logical account (the sum of its shards, see ``PostingRules.payable``)."""
    return f"{MERCHANT_PAYABLE}:{_check_id(merchant_id, 'merchant_id')}"


def is_sharded(account: str) -> bool:
    """Whether ``account`` is a logical account kept in shards (not itself one shard)."""
    if _SHARD_SUFFIX.search(account):
        return False
    return account in SHARDED_ACCOUNTS or account.startswith(
        (f"{MERCHANT_PENDING}:", f"{MERCHANT_PAYABLE}:")
    )


def logical_account(account: str) -> str:
    """The account without its shard suffix (``authorization_holds#s3`` is a holds shard)."""
    return _SHARD_SUFFIX.sub("", account)


def shard_accounts(account: str, shards: int = DEFAULT_SHARDS) -> list[str]:
    """Every physical account behind ``account``: its shards when sharded, else itself."""
    if is_sharded(account):
        return [f"{account}#s{n}" for n in range(shards)]
    return [account]


# ------------------------------------------------------------------------- lines and entries


def _check_amount(value: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise LedgerRuleError(f"{name} must be a non-negative integer")


@dataclass(frozen=True, slots=True)
class JournalLine:
    """One side of a movement on one account, in minor units: a debit or a credit, not both."""

    account: str
    currency: str
    debit: int
    credit: int

    def __post_init__(self) -> None:
        if not isinstance(self.account, str) or not self.account:
            raise LedgerRuleError("a line needs an account")
        if not isinstance(self.currency, str) or not is_currency(self.currency):
            raise LedgerRuleError(f"unknown currency {self.currency!r}")
        _check_amount(self.debit, "debit")
        _check_amount(self.credit, "credit")
        if (self.debit > 0) == (self.credit > 0):
            raise LedgerRuleError("exactly one of debit and credit must be positive")

    @property
    def delta(self) -> int:
        """The line's effect on a debit-positive balance."""
        return self.debit - self.credit

    def swapped(self) -> JournalLine:
        return JournalLine(self.account, self.currency, debit=self.credit, credit=self.debit)


def kind_of_step(step: str) -> EntryKind:
    """The entry kind a step names: ``capture-2`` is a capture, ``reversal-void`` a reversal."""
    if step.startswith(_REVERSAL_PREFIX):
        return EntryKind.REVERSAL
    if step == EntryKind.AUTHORIZATION:
        return EntryKind.AUTHORIZATION
    if step == EntryKind.VOID:
        return EntryKind.VOID
    if step == EntryKind.SALE:
        return EntryKind.SALE
    if _CAPTURE_STEP.fullmatch(step):
        return EntryKind.CAPTURE
    if step.startswith(_REFUND_PREFIX) and len(step) > len(_REFUND_PREFIX):
        return EntryKind.REFUND
    raise LedgerRuleError(f"unknown step {step!r}")


def unbalanced_currencies(lines: Iterable[JournalLine]) -> dict[str, int]:
    """Currencies whose debits and credits differ, with debits minus credits."""
    net: dict[str, int] = defaultdict(int)
    for line in lines:
        net[line.currency] += line.delta
    return {currency: value for currency, value in net.items() if value != 0}


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """A balanced set of lines posted at once. ``entry_id`` is ``{payment_id}#{step}``.

    Steps name the movement (``authorization``, ``capture-1``, ``void``, ``refund-re_1``) and a
    reversal's step is ``reversal-`` plus the step it reverses; ``reverses`` is that entry's id.
    """

    entry_id: str
    payment_id: str
    kind: EntryKind
    step: str
    lines: tuple[JournalLine, ...]
    reverses: str | None = None

    def __post_init__(self) -> None:
        _check_id(self.payment_id, "payment_id")
        if not isinstance(self.step, str):
            raise LedgerRuleError("step must be a string")
        object.__setattr__(self, "kind", EntryKind(self.kind))
        if not isinstance(self.lines, tuple):
            object.__setattr__(self, "lines", tuple(self.lines))
        if self.entry_id != f"{self.payment_id}#{self.step}":
            raise LedgerRuleError("entry_id must be '{payment_id}#{step}'")
        if kind_of_step(self.step) is not self.kind:
            raise LedgerRuleError(f"step {self.step!r} is not a {self.kind} step")
        if self.kind is EntryKind.REVERSAL:
            target = self.step[len(_REVERSAL_PREFIX) :]
            if kind_of_step(target) is EntryKind.REVERSAL:
                raise LedgerRuleError("a reversal cannot be reversed")
            if self.reverses != f"{self.payment_id}#{target}":
                raise LedgerRuleError("a reversal must name the entry it reverses")
        elif self.reverses is not None:
            raise LedgerRuleError("only a reversal reverses an entry")
        if len(self.lines) < 2:
            raise LedgerRuleError("an entry needs at least two lines")
        for line in self.lines:
            if not isinstance(line, JournalLine):
                raise LedgerRuleError("lines must be JournalLine values")
        unbalanced = unbalanced_currencies(self.lines)
        if unbalanced:
            raise UnbalancedEntryError(f"entry {self.entry_id} is unbalanced: {unbalanced}")

    def amount(self) -> int:
        """Total debits (a capture's four lines count its amount twice; see ``movement``)."""
        return sum(line.debit for line in self.lines)

    @property
    def reversed_step(self) -> str | None:
        """For a reversal, the step it reverses."""
        if self.kind is not EntryKind.REVERSAL:
            return None
        return self.step[len(_REVERSAL_PREFIX) :]

    @property
    def movement_kind(self) -> EntryKind:
        """The kind of movement: the entry's own kind, or for a reversal the reversed kind."""
        step = self.reversed_step
        return self.kind if step is None else kind_of_step(step)


def movement(entry: JournalEntry) -> int:
    """The payment amount an entry moves (the same for its reversal).

    Measured on the merchant's account of that movement: ``merchant_pending`` for
    authorizations, captures and voids, ``merchant_payable`` for refunds.
    """
    on_payable = entry.movement_kind in (EntryKind.REFUND, EntryKind.SALE)
    prefix = MERCHANT_PAYABLE if on_payable else MERCHANT_PENDING
    return sum(
        line.debit + line.credit for line in entry.lines if line.account.startswith(prefix + ":")
    )


@dataclass(frozen=True, slots=True)
class PositionChange:
    """What an entry does to its payment's position: amounts added per field, and the fields
    that must not become negative (checked and applied in one atomic write by the store).

    Fields: ``authorized``, ``captured``, ``voided``, ``refunded`` and the two the caps read,
    ``capturable`` (authorized - captured - voided) and ``refundable`` (captured - refunded).
    """

    deltas: tuple[tuple[str, int], ...]
    guarded: tuple[str, ...] = ()
    # The entry must be the payment's first movement (a sale): no position may exist yet.
    fresh: bool = False


POSITION_FIELDS = ("authorized", "captured", "voided", "refunded", "capturable", "refundable")


def position_change(entry: JournalEntry) -> PositionChange:
    amount = movement(entry)
    kind = entry.movement_kind
    deltas: dict[str, int] = {
        EntryKind.AUTHORIZATION: {"authorized": amount, "capturable": amount},
        EntryKind.CAPTURE: {"captured": amount, "capturable": -amount, "refundable": amount},
        EntryKind.VOID: {"voided": amount, "capturable": -amount},
        EntryKind.REFUND: {"refunded": amount, "refundable": -amount},
        EntryKind.SALE: {"authorized": amount, "captured": amount, "refundable": amount},
    }[kind]
    if entry.kind is EntryKind.REVERSAL:
        # Compensation undoes what was posted, newest first; it is never refused by a cap.
        return PositionChange(tuple((name, -value) for name, value in deltas.items()))
    guarded = tuple(name for name, value in deltas.items() if value < 0)
    return PositionChange(tuple(deltas.items()), guarded, fresh=kind is EntryKind.SALE)


# ----------------------------------------------------------------------------- posting rules


def _check_positive(amount: int) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise LedgerRuleError("amount must be a positive integer in minor units")
    return amount


def _check_currency(currency: str) -> str:
    if not isinstance(currency, str) or not is_currency(currency):
        raise LedgerRuleError(f"unknown currency {currency!r}")
    return currency


class PostingRules:
    """Builds the entry of each movement. Deterministic: the same call gives the same entry."""

    def __init__(self, shards: int = DEFAULT_SHARDS) -> None:
        if isinstance(shards, bool) or not isinstance(shards, int) or shards < 1:
            raise LedgerRuleError("shards must be a positive integer")
        self.shards = shards

    def __repr__(self) -> str:
        return f"PostingRules(shards={self.shards})"

    def holds(self, payment_id: str) -> str:
        return authorization_holds(payment_id, self.shards)

    def receivable(self, payment_id: str) -> str:
        return acquirer_receivable(payment_id, self.shards)

    def pending(self, merchant_id: str, payment_id: str) -> str:
        return f"{merchant_pending(merchant_id)}#s{shard_of(payment_id, self.shards)}"

    def payable(self, merchant_id: str, payment_id: str) -> str:
        return f"{merchant_payable(merchant_id)}#s{shard_of(payment_id, self.shards)}"

    def _entry(
        self,
        payment_id: str,
        kind: EntryKind,
        step: str,
        currency: str,
        pairs: Iterable[tuple[str, str]],
        amount: int,
    ) -> JournalEntry:
        """An entry of ``amount`` moved, for each (debit account, credit account) pair."""
        _check_id(payment_id, "payment_id")
        _check_currency(currency)
        _check_positive(amount)
        lines: list[JournalLine] = []
        for debit_account, credit_account in pairs:
            lines.append(JournalLine(debit_account, currency, debit=amount, credit=0))
            lines.append(JournalLine(credit_account, currency, debit=0, credit=amount))
        return JournalEntry(f"{payment_id}#{step}", payment_id, kind, step, tuple(lines))

    def authorization(
        self, payment_id: str, merchant_id: str, amount: int, currency: str
    ) -> JournalEntry:
        """Dr authorization_holds / Cr merchant_pending."""
        pairs = [(self.holds(payment_id), self.pending(merchant_id, payment_id))]
        return self._entry(
            payment_id, EntryKind.AUTHORIZATION, "authorization", currency, pairs, amount
        )

    def capture(
        self, payment_id: str, merchant_id: str, amount: int, currency: str, sequence: int
    ) -> JournalEntry:
        """Releases the hold (Dr merchant_pending / Cr holds) and books the captured funds
        (Dr acquirer_receivable / Cr merchant_payable)."""
        if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 1:
            raise LedgerRuleError("sequence must be a positive integer")
        pairs = [
            (self.pending(merchant_id, payment_id), self.holds(payment_id)),
            (self.receivable(payment_id), self.payable(merchant_id, payment_id)),
        ]
        step = f"{_CAPTURE_PREFIX}{sequence}"
        return self._entry(payment_id, EntryKind.CAPTURE, step, currency, pairs, amount)

    def sale(self, payment_id: str, merchant_id: str, amount: int, currency: str) -> JournalEntry:
        """Dr acquirer_receivable / Cr merchant_payable: the captured funds of a payment
        authorized and captured in one step."""
        pairs = [(self.receivable(payment_id), self.payable(merchant_id, payment_id))]
        return self._entry(payment_id, EntryKind.SALE, "sale", currency, pairs, amount)

    def void(self, payment_id: str, merchant_id: str, amount: int, currency: str) -> JournalEntry:
        """Releases the uncaptured remainder: Dr merchant_pending / Cr holds."""
        pairs = [(self.pending(merchant_id, payment_id), self.holds(payment_id))]
        return self._entry(payment_id, EntryKind.VOID, "void", currency, pairs, amount)

    def refund(
        self, payment_id: str, merchant_id: str, amount: int, currency: str, refund_id: str
    ) -> JournalEntry:
        """Dr merchant_payable / Cr acquirer_receivable."""
        _check_id(refund_id, "refund_id")
        pairs = [(self.payable(merchant_id, payment_id), self.receivable(payment_id))]
        step = f"{_REFUND_PREFIX}{refund_id}"
        return self._entry(payment_id, EntryKind.REFUND, step, currency, pairs, amount)

    def reversal(self, entry: JournalEntry) -> JournalEntry:
        """The entry with debits and credits swapped; a reversal itself cannot be reversed."""
        if entry.kind is EntryKind.REVERSAL:
            raise LedgerRuleError(f"{entry.entry_id} is a reversal and cannot be reversed")
        step = f"{_REVERSAL_PREFIX}{entry.step}"
        return JournalEntry(
            entry_id=f"{entry.payment_id}#{step}",
            payment_id=entry.payment_id,
            kind=EntryKind.REVERSAL,
            step=step,
            lines=tuple(line.swapped() for line in entry.lines),
            reverses=entry.entry_id,
        )


# --------------------------------------------------------------------------------- balances


def balances(entries: Iterable[JournalEntry]) -> dict[tuple[str, str], int]:
    """Debit-positive balance per (physical account, currency) over ``entries``.

    Every account a line touched is present, even when it nets to zero.
    """
    result: dict[tuple[str, str], int] = defaultdict(int)
    for entry in entries:
        for line in entry.lines:
            result[line.account, line.currency] += line.delta
    return dict(result)


def logical_balances(entries: Iterable[JournalEntry]) -> dict[tuple[str, str], int]:
    """Like ``balances``, with the shards of each platform account added together."""
    result: dict[tuple[str, str], int] = defaultdict(int)
    for (account, currency), value in balances(entries).items():
        result[logical_account(account), currency] += value
    return dict(result)


@dataclass(frozen=True, slots=True)
class PaymentPosition:
    """What the ledger says happened to one payment, net of reversals."""

    authorized: int = 0
    captured: int = 0
    voided: int = 0
    refunded: int = 0

    @property
    def uncaptured(self) -> int:
        """Authorized and neither captured nor voided."""
        return self.authorized - self.captured - self.voided


def position(entries: Iterable[JournalEntry]) -> PaymentPosition:
    totals: dict[EntryKind, int] = defaultdict(int)
    for entry in entries:
        sign = -1 if entry.kind is EntryKind.REVERSAL else 1
        if entry.movement_kind is EntryKind.SALE:
            totals[EntryKind.AUTHORIZATION] += sign * movement(entry)
            totals[EntryKind.CAPTURE] += sign * movement(entry)
            continue
        totals[entry.movement_kind] += sign * movement(entry)
    return PaymentPosition(
        authorized=totals[EntryKind.AUTHORIZATION],
        captured=totals[EntryKind.CAPTURE],
        voided=totals[EntryKind.VOID],
        refunded=totals[EntryKind.REFUND],
    )


def chronological_key(entry: JournalEntry) -> tuple[int, int, str]:
    """Sorts a payment's entries in the order the workflow posts them.

    Entries carry no timestamp: the order follows from the steps (an authorization, captures by
    sequence, the void, refunds, then reversals of those in reverse order).
    """
    kind = entry.movement_kind
    rank = {
        EntryKind.AUTHORIZATION: 0,
        EntryKind.SALE: 0,
        EntryKind.CAPTURE: 1,
        EntryKind.VOID: 2,
        EntryKind.REFUND: 3,
    }[kind]
    step = entry.reversed_step or entry.step
    sequence = int(step[len(_CAPTURE_PREFIX) :]) if kind is EntryKind.CAPTURE else 0
    if entry.kind is EntryKind.REVERSAL:
        return (10 - rank, -sequence, step)
    return (rank, sequence, step)


# ------------------------------------------------------------------------------------ store


class LedgerStore(Protocol):
    def post(self, entry: JournalEntry, *, repair: bool = False) -> bool:
        """Atomically write the entry and apply every line to its account balance.

        True when written now; False when this entry id was already posted with identical
        lines (an idempotent replay, balances untouched). Raises ``ConflictingEntryError`` when
        the entry id exists with different lines, and ``PositionLimitError`` (writing nothing)
        when ``position_change(entry)`` would take a guarded field of the payment's position
        below zero: the check and the write are one atomic step. ``repair`` (the
        reconciliation posting an entry the payment record proves) derives the position from
        every entry instead of guarding it.
        """
        ...

    def entries_for(self, payment_id: str) -> list[JournalEntry]:
        """Every entry of the payment (strongly consistent)."""
        ...

    def balance(self, account: str, currency: str) -> int:
        """Debit-positive balance; a sharded logical account sums its shards."""
        ...


class InMemoryLedgerStore(LedgerStore):
    """A ``LedgerStore`` in a dict, for tests and benchmarks. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, JournalEntry] = {}
        self._by_payment: dict[str, list[JournalEntry]] = defaultdict(list)
        self._balances: dict[tuple[str, str], int] = defaultdict(int)
        self._positions: dict[str, dict[str, int]] = defaultdict(
            lambda: dict.fromkeys(POSITION_FIELDS, 0)
        )

    def post(self, entry: JournalEntry, *, repair: bool = False) -> bool:
        with self._lock:
            existing = self._entries.get(entry.entry_id)
            if existing is not None:
                if existing != entry:
                    raise ConflictingEntryError(
                        f"{entry.entry_id} is already posted with other lines"
                    )
                return False
            change = position_change(entry)
            held = self._positions[entry.payment_id]
            after = dict(held)
            for name, delta in change.deltas:
                after[name] += delta
            guarded = () if repair else change.guarded
            if change.fresh and not repair and any(held.values()):
                raise PositionLimitError(f"{entry.entry_id} must be {entry.payment_id}'s first")
            short = next((name for name in guarded if after[name] < 0), None)
            if short is not None:
                raise PositionLimitError(
                    f"{entry.entry_id} exceeds the {short} {held[short]} of {entry.payment_id}"
                )
            held.update(after)
            self._entries[entry.entry_id] = entry
            self._by_payment[entry.payment_id].append(entry)
            for line in entry.lines:
                self._balances[line.account, line.currency] += line.delta
            return True

    def entries_for(self, payment_id: str) -> list[JournalEntry]:
        with self._lock:
            return list(self._by_payment.get(payment_id, ()))

    def balance(self, account: str, currency: str) -> int:
        with self._lock:
            if is_sharded(account):
                return sum(
                    value
                    for (name, cur), value in self._balances.items()
                    if cur == currency and logical_account(name) == account
                )
            return self._balances.get((account, currency), 0)

    def all_entries(self) -> list[JournalEntry]:
        """Every entry in posting order."""
        with self._lock:
            return list(self._entries.values())

    def all_balances(self) -> dict[tuple[str, str], int]:
        """Balance per (physical account, currency) as the store keeps it."""
        with self._lock:
            return dict(self._balances)

    def stored_position(self, payment_id: str) -> dict[str, int]:
        """The position the caps are guarded on, as the store keeps it."""
        with self._lock:
            return dict(self._positions.get(payment_id, dict.fromkeys(POSITION_FIELDS, 0)))


# ---------------------------------------------------------------------------------- service


class PaymentLedger:
    """Posts a payment's movements after checking them against what is already posted.

    Every method is idempotent per payment and step: calling it again with the same arguments
    returns the entry already posted. The checks here read the payment's entries first to give
    a clear error; the store guards the same caps again atomically with the write
    (``PositionLimitError``), so concurrent writers to one payment cannot exceed them.
    """

    def __init__(self, store: LedgerStore, rules: PostingRules) -> None:
        self._store = store
        self._rules = rules

    def __repr__(self) -> str:
        return f"PaymentLedger(rules={self._rules!r})"

    def record_authorization(
        self, payment_id: str, merchant_id: str, amount: int, currency: str
    ) -> JournalEntry:
        entry = self._rules.authorization(payment_id, merchant_id, amount, currency)
        self._store.post(entry)
        return entry

    def record_sale(
        self, payment_id: str, merchant_id: str, amount: int, currency: str
    ) -> JournalEntry:
        """A payment authorized and captured in one step: one entry, its first movement."""
        entry = self._rules.sale(payment_id, merchant_id, amount, currency)
        entries = self._store.entries_for(payment_id)
        if self._already_posted(entry, entries):
            return entry
        if entries:
            raise LedgerRuleError(f"a sale must be the first movement of {payment_id}")
        self._store.post(entry)
        return entry

    def record_capture(
        self, payment_id: str, merchant_id: str, amount: int, currency: str, sequence: int
    ) -> JournalEntry:
        entry = self._rules.capture(payment_id, merchant_id, amount, currency, sequence)
        entries = self._store.entries_for(payment_id)
        if self._already_posted(entry, entries):
            return entry
        self._check_same_payment(entries, merchant_id, currency)
        now = position(entries)
        if now.captured + amount > now.authorized - now.voided:
            raise LedgerRuleError(
                f"capture of {amount} exceeds the uncaptured {now.uncaptured} of {payment_id}"
            )
        self._store.post(entry)
        return entry

    def record_void(self, payment_id: str, merchant_id: str, currency: str) -> JournalEntry | None:
        entries = self._store.entries_for(payment_id)
        reversed_ids = {e.reverses for e in entries if e.reverses is not None}
        for existing in entries:
            if existing.kind is EntryKind.VOID and existing.entry_id not in reversed_ids:
                return existing
        remaining = position(entries).uncaptured
        if remaining <= 0:
            return None
        self._check_same_payment(entries, merchant_id, currency)
        entry = self._rules.void(payment_id, merchant_id, remaining, currency)
        if any(e.entry_id == entry.entry_id for e in entries):
            raise LedgerRuleError(f"{payment_id} was voided and the void reversed")
        self._store.post(entry)
        return entry

    def record_refund(
        self, payment_id: str, merchant_id: str, amount: int, currency: str, refund_id: str
    ) -> JournalEntry:
        entry = self._rules.refund(payment_id, merchant_id, amount, currency, refund_id)
        entries = self._store.entries_for(payment_id)
        if self._already_posted(entry, entries):
            return entry
        self._check_same_payment(entries, merchant_id, currency)
        now = position(entries)
        if now.refunded + amount > now.captured:
            raise LedgerRuleError(
                f"refund of {amount} exceeds the unrefunded "
                f"{now.captured - now.refunded} of {payment_id}"
            )
        self._store.post(entry)
        return entry

    def reverse_all(self, payment_id: str) -> list[JournalEntry]:
        """Compensation: reverse every entry of the payment not yet reversed, newest first.

        Returns the reversals this call posted; a second call finds nothing left and returns [].
        """
        entries = self._store.entries_for(payment_id)
        reversed_ids = {e.reverses for e in entries if e.reverses is not None}
        pending = [
            e
            for e in entries
            if e.kind is not EntryKind.REVERSAL and e.entry_id not in reversed_ids
        ]
        pending.sort(key=chronological_key, reverse=True)
        posted: list[JournalEntry] = []
        for entry in pending:
            reversal = self._rules.reversal(entry)
            self._store.post(reversal)
            posted.append(reversal)
        return posted

    def position(self, payment_id: str) -> PaymentPosition:
        return position(self._store.entries_for(payment_id))

    @staticmethod
    def _already_posted(entry: JournalEntry, entries: list[JournalEntry]) -> bool:
        for existing in entries:
            if existing.entry_id == entry.entry_id:
                if existing != entry:
                    raise ConflictingEntryError(
                        f"{entry.entry_id} is already posted with other lines"
                    )
                return True
        return False

    @staticmethod
    def _check_same_payment(entries: list[JournalEntry], merchant_id: str, currency: str) -> None:
        """A later movement must name the authorization's merchant and currency."""
        for entry in entries:
            if entry.kind in (EntryKind.AUTHORIZATION, EntryKind.SALE):
                accounts = {(logical_account(line.account), line.currency) for line in entry.lines}
                expected = (
                    merchant_pending(merchant_id)
                    if entry.kind is EntryKind.AUTHORIZATION
                    else merchant_payable(merchant_id)
                )
                if (expected, currency) not in accounts:
                    raise LedgerRuleError(
                        f"{entry.payment_id} was authorized for another merchant or currency"
                    )
