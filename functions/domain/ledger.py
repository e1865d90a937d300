"""The double-entry ledger of card payments (pure domain): accounts, journal entries, posting
rules, balances and the ``PaymentLedger`` service the payment workflow calls.

The platform acts as a payment service provider. Its chart of accounts (``account_type``):

* memo, off the balance sheet: ``authorization_holds`` and ``merchant_pending:{merchant_id}``,
  an authorization the issuer approved but nobody captured: no money moved, so it is a
  contingent item kept in a memo ledger whose lines balance among themselves;
* assets: ``acquirer_receivable`` (captured, not yet settled by the acquirer), ``cash`` (the
  settlement bank account), ``disputes_recoverable`` (chargebacks the merchant did not bear,
  to be won back by representment);
* liabilities: ``merchant_payable:{merchant_id}`` (captured, owed to the merchant, not yet
  settled) and ``merchant_settled:{merchant_id}`` (settled by the acquirer, owed and payable);
* income ``msc_income`` (the merchant service charge) and expense ``acquirer_fees``
  (interchange, scheme and dispute fees the acquirer deducts).

Every entry carries ``effective_at`` (the business time of the event, ISO 8601 UTC) and
``value_date`` (the day funds move at the bank; for entries that move no cash, the effective
day), so balances exist as of any cut-off (``balances_as_of``).

Payment accounts are sharded: ``authorization_holds#s3`` and ``merchant_payable:m_1#s3`` are
shard 3, chosen by a stable hash of the payment id. Balances are sums of entries (never stored),
so the shards only spread a payment's lines; reports use ``logical_account`` to fold them. The
chart of accounts and every entry's lines: docs/ledger.md.

The caps "captured ≤ authorized - voided" and "refunded + charged back ≤ captured" are guarded
by the store in the same atomic write as the entry, on a per-payment position
(``position_change``); a merchant's settled funds are guarded the same way, so a payout never
pays out more than was settled.

Balances are debit-positive (debits minus credits): assets are positive, liabilities negative,
and across every account of one currency they sum to zero.

Every entry has a deterministic id, ``{subject}#{step}`` (the subject is a payment id, or
``settlement:{batch_id}`` / ``payout:{merchant_id}:{value_date}``), so posting is idempotent: a
store writes an entry id once, returns False on a replay with the same lines and raises
``ConflictingEntryError`` when the lines differ.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from functions.domain.currencies import is_currency

if TYPE_CHECKING:
    from functions.domain.fees import FeeSchedule

AUTHORIZATION_HOLDS = "authorization_holds"
ACQUIRER_RECEIVABLE = "acquirer_receivable"
MERCHANT_PENDING = "merchant_pending"
MERCHANT_PAYABLE = "merchant_payable"
MERCHANT_SETTLED = "merchant_settled"
CASH = "cash"
MSC_INCOME = "msc_income"
ACQUIRER_FEES = "acquirer_fees"
DISPUTES_RECOVERABLE = "disputes_recoverable"
# What a dispute lost after representment leaves unrecovered: the platform's loss.
DISPUTE_LOSSES = "dispute_losses"
SHARDED_ACCOUNTS = frozenset({AUTHORIZATION_HOLDS, ACQUIRER_RECEIVABLE})
DEFAULT_SHARDS = 8

SETTLEMENT_SUBJECT = "settlement:"
PAYOUT_SUBJECT = "payout:"

_SHARD_SUFFIX = re.compile(r"#s[0-9]+$")
_CAPTURE_STEP = re.compile(r"capture-[0-9]+")
_VALUE_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_REVERSAL_PREFIX = "reversal-"
_CAPTURE_PREFIX = "capture-"
_REFUND_PREFIX = "refund-"
_CHARGEBACK_PREFIX = "chargeback-"
_DISPUTE_FEE_PREFIX = "dispute-fee-"
_DISPUTE_WON_PREFIX = "dispute-won-"
_DISPUTE_LOST_PREFIX = "dispute-lost-"
_RELEASE_PREFIX = "release-"
_PAYOUT_PREFIX = "payout-"
_BATCH_STEP = "batch"


class LedgerRuleError(ValueError):
    """A posting the rules do not allow, or a malformed line or entry."""


class UnbalancedEntryError(LedgerRuleError):
    """An entry whose debits and credits differ in some currency (or whose memo lines do not
    balance among themselves)."""


class ConflictingEntryError(Exception):
    """An entry id that is already posted with other lines."""


class PositionLimitError(LedgerRuleError):
    """The entry would capture more than is uncaptured, refund or charge back more than is
    unrefunded, or pay out more than was settled; the store refused it atomically (nothing was
    written)."""


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
    # From the acquirer's settlement records: a cardholder's dispute debited, its fee, and a
    # dispute won (the chargeback given back).
    CHARGEBACK = "chargeback"
    DISPUTE_FEE = "dispute_fee"
    DISPUTE_WON = "dispute_won"
    # The issuer rejected the representment for good: what the platform hoped to recover
    # (disputes_recoverable) is written off as its loss.
    DISPUTE_LOST = "dispute_lost"
    # A settlement batch: cash received against the receivable, the acquirer's fees.
    SETTLEMENT = "settlement"
    # A settlement batch's funds of one merchant: from payable (unsettled) to settled.
    RELEASE = "release"
    # Settled funds paid to a merchant's bank account.
    PAYOUT = "payout"


# Kinds whose subject is a payment; the others belong to a batch or a payout.
PAYMENT_KINDS = frozenset(
    {
        EntryKind.AUTHORIZATION,
        EntryKind.CAPTURE,
        EntryKind.SALE,
        EntryKind.VOID,
        EntryKind.REFUND,
        EntryKind.REVERSAL,
        EntryKind.CHARGEBACK,
        EntryKind.DISPUTE_FEE,
        EntryKind.DISPUTE_WON,
        EntryKind.DISPUTE_LOST,
    }
)
# Kinds the payment workflow posts (and compensation may reverse); disputes come later, from
# the acquirer, and are never compensated.
WORKFLOW_KINDS = frozenset(
    {EntryKind.AUTHORIZATION, EntryKind.CAPTURE, EntryKind.SALE, EntryKind.VOID, EntryKind.REFUND}
)


class AccountType(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    INCOME = "income"
    EXPENSE = "expense"
    # Off the balance sheet: a contingent item (an uncaptured authorization).
    MEMO = "memo"


ACCOUNT_TYPES = {
    AUTHORIZATION_HOLDS: AccountType.MEMO,
    MERCHANT_PENDING: AccountType.MEMO,
    ACQUIRER_RECEIVABLE: AccountType.ASSET,
    CASH: AccountType.ASSET,
    DISPUTES_RECOVERABLE: AccountType.ASSET,
    MERCHANT_PAYABLE: AccountType.LIABILITY,
    MERCHANT_SETTLED: AccountType.LIABILITY,
    MSC_INCOME: AccountType.INCOME,
    ACQUIRER_FEES: AccountType.EXPENSE,
    DISPUTE_LOSSES: AccountType.EXPENSE,
}


def account_type(account: str) -> AccountType:
    """The type of a physical or logical account (``merchant_payable:m_1#s3`` is a liability)."""
    base = logical_account(account).split(":", 1)[0]
    try:
        return ACCOUNT_TYPES[base]
    except KeyError:
        raise LedgerRuleError(f"{account!r} is not in the chart of accounts") from None


def is_memo(account: str) -> bool:
    return account_type(account) is AccountType.MEMO


# ------------------------------------------------------------------------------------ accounts


def _check_id(value: str, name: str) -> str:
    # "#" separates entry ids, shard suffixes and DynamoDB keys: an id holding one is ambiguous.
    if not isinstance(value, str) or not value or "#" in value:
        raise LedgerRuleError(f"{name} must be a non-empty string without '#'")
    return value


def _check_merchant(value: str) -> str:
    # ":" separates a merchant account's parts (merchant_payable:m_1, payout:m_1:2026-12-01).
    if ":" in _check_id(value, "merchant_id"):
        raise LedgerRuleError("merchant_id must not contain ':'")
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


def merchant_settled(merchant_id: str) -> str:
    """Settled funds owed to the merchant: written by settlement and payouts only, not sharded."""
    return f"{MERCHANT_SETTLED}:{_check_merchant(merchant_id)}"


def funds_position(merchant_id: str, currency: str) -> str:
    """The position that guards a merchant's payouts (settled minus paid out)."""
    return f"funds:{_check_merchant(merchant_id)}:{currency}"


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


def merchant_of(account: str) -> str | None:
    """The merchant of a merchant account (``merchant_payable:m_1#s3`` is m_1's), else None."""
    base, _, rest = logical_account(account).partition(":")
    if base in (MERCHANT_PENDING, MERCHANT_PAYABLE, MERCHANT_SETTLED) and rest:
        return rest
    return None


# ------------------------------------------------------------------------------- dates


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def value_date_of(effective_at: str) -> str:
    """The UTC day of an ISO 8601 instant: the value date of an entry that moves no cash."""
    instant = dt.datetime.fromisoformat(effective_at)
    if instant.tzinfo is None:
        raise LedgerRuleError("effective_at must carry a UTC offset")
    return instant.astimezone(dt.UTC).date().isoformat()


def check_value_date(value: str) -> str:
    if not isinstance(value, str) or _VALUE_DATE.fullmatch(value) is None:
        raise LedgerRuleError("a value date is YYYY-MM-DD")
    dt.date.fromisoformat(value)
    return value


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
    fixed = {
        "authorization": EntryKind.AUTHORIZATION,
        "void": EntryKind.VOID,
        "sale": EntryKind.SALE,
        _BATCH_STEP: EntryKind.SETTLEMENT,
    }
    if step in fixed:
        return fixed[step]
    if _CAPTURE_STEP.fullmatch(step):
        return EntryKind.CAPTURE
    prefixed = (
        (_REFUND_PREFIX, EntryKind.REFUND),
        (_CHARGEBACK_PREFIX, EntryKind.CHARGEBACK),
        (_DISPUTE_FEE_PREFIX, EntryKind.DISPUTE_FEE),
        (_DISPUTE_WON_PREFIX, EntryKind.DISPUTE_WON),
        (_DISPUTE_LOST_PREFIX, EntryKind.DISPUTE_LOST),
        (_RELEASE_PREFIX, EntryKind.RELEASE),
        (_PAYOUT_PREFIX, EntryKind.PAYOUT),
    )
    for prefix, kind in prefixed:
        if step.startswith(prefix) and len(step) > len(prefix):
            return kind
    raise LedgerRuleError(f"unknown step {step!r}")


def unbalanced_currencies(lines: Iterable[JournalLine]) -> dict[str, int]:
    """Currencies whose debits and credits differ, with debits minus credits."""
    net: dict[str, int] = defaultdict(int)
    for line in lines:
        net[line.currency] += line.delta
    return {currency: value for currency, value in net.items() if value != 0}


def _subject_kind(subject: str) -> str:
    if subject.startswith(SETTLEMENT_SUBJECT):
        return "settlement"
    if subject.startswith(PAYOUT_SUBJECT):
        return "payout"
    return "payment"


_SUBJECT_OF_KIND = {
    EntryKind.SETTLEMENT: "settlement",
    EntryKind.RELEASE: "settlement",
    EntryKind.PAYOUT: "payout",
}


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """A balanced set of lines posted at once. ``entry_id`` is ``{payment_id}#{step}``;
    ``payment_id`` is the entry's subject: a payment, or ``settlement:{batch_id}`` for a
    settlement batch and its releases, ``payout:{merchant_id}:{value_date}`` for a payout.

    Steps name the movement (``authorization``, ``capture-1``, ``void``, ``refund-re_1``,
    ``chargeback-dp_1``, ``batch``, ``release-m_1-EUR``, ``payout-EUR``) and a reversal's step is
    ``reversal-`` plus the step it reverses; ``reverses`` is that entry's id.

    ``effective_at`` (ISO 8601 instant of the business event) and ``value_date`` (YYYY-MM-DD,
    the day funds move at the bank) describe the entry but are not part of its identity: the
    first posting's dates stand, and a replay (a reconciliation repair) with other dates is the
    same entry. Empty only on entries stored before entries carried dates. ``references`` are
    the acquirer references a settlement batch settled (each is settled once).
    """

    entry_id: str
    payment_id: str
    kind: EntryKind
    step: str
    lines: tuple[JournalLine, ...]
    reverses: str | None = None
    effective_at: str = field(default="", compare=False)
    value_date: str = field(default="", compare=False)
    references: tuple[str, ...] = ()
    # A chargeback's scheme reason code (Visa 10.4, Mastercard 4837...): whether the cardholder
    # disputed it as fraud, which the Art. 19 fraud rate counts (domain.fraud_rate). Describes
    # the entry, like its dates; empty for every other kind.
    reason_code: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        _check_id(self.payment_id, "payment_id")
        if not isinstance(self.step, str):
            raise LedgerRuleError("step must be a string")
        object.__setattr__(self, "kind", EntryKind(self.kind))
        if not isinstance(self.lines, tuple):
            object.__setattr__(self, "lines", tuple(self.lines))
        if not isinstance(self.references, tuple):
            object.__setattr__(self, "references", tuple(self.references))
        if self.entry_id != f"{self.payment_id}#{self.step}":
            raise LedgerRuleError("entry_id must be '{payment_id}#{step}'")
        if kind_of_step(self.step) is not self.kind:
            raise LedgerRuleError(f"step {self.step!r} is not a {self.kind} step")
        if _SUBJECT_OF_KIND.get(self.movement_kind, "payment") != _subject_kind(self.payment_id):
            raise LedgerRuleError(f"a {self.kind} entry cannot belong to {self.payment_id!r}")
        if self.kind is EntryKind.REVERSAL:
            target = self.step[len(_REVERSAL_PREFIX) :]
            if kind_of_step(target) is EntryKind.REVERSAL:
                raise LedgerRuleError("a reversal cannot be reversed")
            if self.reverses != f"{self.payment_id}#{target}":
                raise LedgerRuleError("a reversal must name the entry it reverses")
        elif self.reverses is not None:
            raise LedgerRuleError("only a reversal reverses an entry")
        if self.effective_at:
            value_date_of(self.effective_at)
        if self.value_date:
            check_value_date(self.value_date)
        if len(self.lines) < 2:
            raise LedgerRuleError("an entry needs at least two lines")
        for line in self.lines:
            if not isinstance(line, JournalLine):
                raise LedgerRuleError("lines must be JournalLine values")
        unbalanced = unbalanced_currencies(self.lines)
        if unbalanced:
            raise UnbalancedEntryError(f"entry {self.entry_id} is unbalanced: {unbalanced}")
        # The memo ledger never leaks onto the balance sheet: its lines balance on their own.
        memo = unbalanced_currencies(line for line in self.lines if is_memo(line.account))
        if memo:
            raise UnbalancedEntryError(f"entry {self.entry_id} moves memo into the books: {memo}")

    def amount(self) -> int:
        """Total debits (a capture's lines count its amount more than once; see ``movement``)."""
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

    def dated(self, effective_at: str, value_date: str | None = None) -> JournalEntry:
        """The same entry with its dates (the value date defaults to the effective day)."""
        return _replace_dates(self, effective_at, value_date or value_date_of(effective_at))


def _replace_dates(entry: JournalEntry, effective_at: str, value_date: str) -> JournalEntry:
    return JournalEntry(
        entry.entry_id,
        entry.payment_id,
        entry.kind,
        entry.step,
        entry.lines,
        entry.reverses,
        effective_at,
        value_date,
        entry.references,
        entry.reason_code,
    )


def _on(entry: JournalEntry, base: str) -> list[JournalLine]:
    return [line for line in entry.lines if logical_account(line.account).split(":")[0] == base]


def movement(entry: JournalEntry) -> int:
    """The payment amount an entry moves (the same for its reversal).

    Measured on the memo ``merchant_pending`` for authorizations and voids, on the
    ``acquirer_receivable`` for captures, sales and refunds (fee lines do not touch it), and on
    the merchant's payable for chargebacks and won disputes (the part the merchant bears).
    """
    kind = entry.movement_kind
    if kind in (EntryKind.AUTHORIZATION, EntryKind.VOID):
        lines = _on(entry, MERCHANT_PENDING)
    elif kind in (EntryKind.CAPTURE, EntryKind.SALE, EntryKind.REFUND):
        lines = _on(entry, ACQUIRER_RECEIVABLE)
    elif kind in (EntryKind.CHARGEBACK, EntryKind.DISPUTE_WON):
        lines = _on(entry, MERCHANT_PAYABLE)
    else:
        return 0
    return sum(line.debit + line.credit for line in lines)


@dataclass(frozen=True, slots=True)
class PositionChange:
    """What an entry does to a position: amounts added per field, and the fields that must not
    become negative (checked and applied in one atomic write by the store).

    ``key`` names the position: the payment id for a payment's entries, ``funds_position`` for
    a merchant's settled funds; None when the entry changes no position (a settlement batch).
    Payment fields: ``authorized``, ``captured``, ``voided``, ``refunded``, ``charged_back`` and
    the two the caps read, ``capturable`` (authorized - captured - voided) and ``refundable``
    (captured - refunded - charged_back). Funds field: ``available`` (settled - paid out).
    """

    deltas: tuple[tuple[str, int], ...]
    guarded: tuple[str, ...] = ()
    # The entry must be the payment's first movement (a sale): no position may exist yet.
    fresh: bool = False
    key: str | None = None


POSITION_FIELDS = (
    "authorized",
    "captured",
    "voided",
    "refunded",
    "charged_back",
    "capturable",
    "refundable",
)
FUNDS_FIELDS = ("available",)


def _funds_key(entry: JournalEntry) -> tuple[str, int]:
    """The funds position a release or payout changes, and by how much (credit positive)."""
    merchants = {merchant_of(line.account) for line in entry.lines} - {None}
    currencies = {line.currency for line in entry.lines}
    if len(merchants) != 1 or len(currencies) != 1:
        raise LedgerRuleError(f"{entry.entry_id} must move one merchant's funds in one currency")
    settled = [line for line in entry.lines if line.account.startswith(f"{MERCHANT_SETTLED}:")]
    key = funds_position(str(merchants.pop()), currencies.pop())
    return key, -sum(line.delta for line in settled)


def position_change(entry: JournalEntry) -> PositionChange:
    kind = entry.movement_kind
    if kind in (EntryKind.SETTLEMENT, EntryKind.DISPUTE_FEE, EntryKind.DISPUTE_LOST):
        # A lost dispute writes off the platform's recoverable; the payment's caps stand.
        return PositionChange((), key=None)
    if kind in (EntryKind.RELEASE, EntryKind.PAYOUT):
        key, delta = _funds_key(entry)
        # A release may be negative (a merchant's chargebacks exceed its sales): never refused.
        payout = kind is EntryKind.PAYOUT and delta < 0
        return PositionChange((("available", delta),), ("available",) if payout else (), key=key)
    amount = movement(entry)
    deltas: dict[str, int] = {
        EntryKind.AUTHORIZATION: {"authorized": amount, "capturable": amount},
        EntryKind.CAPTURE: {"captured": amount, "capturable": -amount, "refundable": amount},
        EntryKind.VOID: {"voided": amount, "capturable": -amount},
        EntryKind.REFUND: {"refunded": amount, "refundable": -amount},
        EntryKind.SALE: {"authorized": amount, "captured": amount, "refundable": amount},
        EntryKind.CHARGEBACK: {"charged_back": amount, "refundable": -amount},
        EntryKind.DISPUTE_WON: {"charged_back": -amount, "refundable": amount},
    }[kind]
    if entry.kind is EntryKind.REVERSAL:
        # Compensation undoes what was posted, newest first; it is never refused by a cap.
        reversed_deltas = tuple((name, -value) for name, value in deltas.items())
        return PositionChange(reversed_deltas, key=entry.payment_id)
    # A won dispute gives back at most what was charged back; the rest are the caps.
    guarded = tuple(name for name, value in deltas.items() if value < 0)
    return PositionChange(
        tuple(deltas.items()), guarded, fresh=kind is EntryKind.SALE, key=entry.payment_id
    )


# ----------------------------------------------------------------------------- posting rules


def _check_positive(amount: int) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise LedgerRuleError("amount must be a positive integer in minor units")
    return amount


def _check_currency(currency: str) -> str:
    if not isinstance(currency, str) or not is_currency(currency):
        raise LedgerRuleError(f"unknown currency {currency!r}")
    return currency


def _built(
    subject: str,
    kind: EntryKind,
    step: str,
    lines: Iterable[JournalLine],
    dates: tuple[str, str],
    **extra: Any,
) -> JournalEntry:
    """An entry ``{subject}#{step}`` with its (effective_at, value_date)."""
    return JournalEntry(
        f"{subject}#{step}",
        subject,
        kind,
        step,
        tuple(lines),
        effective_at=dates[0],
        value_date=check_value_date(dates[1]),
        **extra,
    )


def _signed_lines(debits: dict[str, int], currency: str) -> list[JournalLine]:
    """One line per account of a signed amount (positive: debit), zeros dropped."""
    return [
        JournalLine(account, currency, debit=max(value, 0), credit=max(-value, 0))
        for account, value in debits.items()
        if value
    ]


@dataclass(frozen=True, slots=True)
class Dispute:
    """A cardholder's dispute of a payment, as the acquirer's settlement records report it."""

    payment_id: str
    merchant_id: str
    currency: str
    dispute_id: str
    at: str | None = None
    value_date: str | None = None
    reason_code: str = ""

    def __post_init__(self) -> None:
        _check_id(self.payment_id, "payment_id")
        _check_id(self.dispute_id, "dispute_id")
        _check_currency(self.currency)


class PostingRules:
    """Builds the entry of each movement. Deterministic in its lines: the same call gives the
    same entry (its dates come from ``at``, else from ``clock``).

    ``fees`` is the merchant service charge schedule; a capture or sale books the charge inside
    its own entry (Dr merchant_payable / Cr msc_income), so it costs the hot path no write."""

    def __init__(
        self,
        shards: int = DEFAULT_SHARDS,
        fees: FeeSchedule | None = None,
        clock: Callable[[], str] = utc_now,
    ) -> None:
        if isinstance(shards, bool) or not isinstance(shards, int) or shards < 1:
            raise LedgerRuleError("shards must be a positive integer")
        self.shards = shards
        self.fees = fees
        self._clock = clock

    def __repr__(self) -> str:
        return f"PostingRules(shards={self.shards}, fees={self.fees!r})"

    def holds(self, payment_id: str) -> str:
        return authorization_holds(payment_id, self.shards)

    def receivable(self, payment_id: str) -> str:
        return acquirer_receivable(payment_id, self.shards)

    def pending(self, merchant_id: str, payment_id: str) -> str:
        return f"{merchant_pending(merchant_id)}#s{shard_of(payment_id, self.shards)}"

    def payable(self, merchant_id: str, payment_id: str) -> str:
        return f"{merchant_payable(merchant_id)}#s{shard_of(payment_id, self.shards)}"

    def _dates(self, at: str | None, value_date: str | None = None) -> tuple[str, str]:
        effective_at = at or self._clock()
        return effective_at, check_value_date(value_date or value_date_of(effective_at))

    def _entry(
        self,
        payment_id: str,
        kind: EntryKind,
        step: str,
        currency: str,
        pairs: Iterable[tuple[str, str]],
        amount: int,
        at: str | None,
        extra: Iterable[JournalLine] = (),
    ) -> JournalEntry:
        """An entry of ``amount`` moved, for each (debit account, credit account) pair."""
        _check_id(payment_id, "payment_id")
        _check_currency(currency)
        _check_positive(amount)
        lines: list[JournalLine] = []
        for debit_account, credit_account in pairs:
            lines.append(JournalLine(debit_account, currency, debit=amount, credit=0))
            lines.append(JournalLine(credit_account, currency, debit=0, credit=amount))
        lines.extend(extra)
        return _built(payment_id, kind, step, lines, self._dates(at))

    def service_charge(self, merchant_id: str, amount: int, currency: str) -> int:
        """The merchant service charge of a capture of ``amount`` (0 without a schedule)."""
        if self.fees is None:
            return 0
        return self.fees.charge(merchant_id, amount, currency)

    def _fee_lines(
        self, payment_id: str, merchant_id: str, amount: int, currency: str
    ) -> list[JournalLine]:
        fee = self.service_charge(merchant_id, amount, currency)
        if fee == 0:
            return []
        return [
            JournalLine(self.payable(merchant_id, payment_id), currency, debit=fee, credit=0),
            JournalLine(MSC_INCOME, currency, debit=0, credit=fee),
        ]

    def authorization(
        self, payment_id: str, merchant_id: str, amount: int, currency: str, at: str | None = None
    ) -> JournalEntry:
        """Memo only: Dr authorization_holds / Cr merchant_pending (no money moved)."""
        pairs = [(self.holds(payment_id), self.pending(merchant_id, payment_id))]
        return self._entry(
            payment_id, EntryKind.AUTHORIZATION, "authorization", currency, pairs, amount, at
        )

    def capture(
        self,
        payment_id: str,
        merchant_id: str,
        amount: int,
        currency: str,
        sequence: int,
        at: str | None = None,
    ) -> JournalEntry:
        """Releases the memo hold (Dr merchant_pending / Cr holds), books the captured funds
        (Dr acquirer_receivable / Cr merchant_payable) and the merchant service charge
        (Dr merchant_payable / Cr msc_income)."""
        if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 1:
            raise LedgerRuleError("sequence must be a positive integer")
        pairs = [
            (self.pending(merchant_id, payment_id), self.holds(payment_id)),
            (self.receivable(payment_id), self.payable(merchant_id, payment_id)),
        ]
        step = f"{_CAPTURE_PREFIX}{sequence}"
        fees = self._fee_lines(payment_id, merchant_id, amount, currency)
        return self._entry(payment_id, EntryKind.CAPTURE, step, currency, pairs, amount, at, fees)

    def sale(
        self, payment_id: str, merchant_id: str, amount: int, currency: str, at: str | None = None
    ) -> JournalEntry:
        """Dr acquirer_receivable / Cr merchant_payable: the captured funds of a payment
        authorized and captured in one step; with Dr merchant_payable / Cr msc_income, its
        merchant service charge."""
        pairs = [(self.receivable(payment_id), self.payable(merchant_id, payment_id))]
        fees = self._fee_lines(payment_id, merchant_id, amount, currency)
        return self._entry(payment_id, EntryKind.SALE, "sale", currency, pairs, amount, at, fees)

    def void(
        self, payment_id: str, merchant_id: str, amount: int, currency: str, at: str | None = None
    ) -> JournalEntry:
        """Releases the uncaptured remainder, memo only: Dr merchant_pending / Cr holds."""
        pairs = [(self.pending(merchant_id, payment_id), self.holds(payment_id))]
        return self._entry(payment_id, EntryKind.VOID, "void", currency, pairs, amount, at)

    def refund(
        self,
        payment_id: str,
        merchant_id: str,
        amount: int,
        currency: str,
        refund_id: str,
        at: str | None = None,
    ) -> JournalEntry:
        """Dr merchant_payable / Cr acquirer_receivable (the service charge is not returned)."""
        _check_id(refund_id, "refund_id")
        pairs = [(self.payable(merchant_id, payment_id), self.receivable(payment_id))]
        step = f"{_REFUND_PREFIX}{refund_id}"
        return self._entry(payment_id, EntryKind.REFUND, step, currency, pairs, amount, at)

    def chargeback(
        self, dispute: Dispute, *, merchant_part: int, recoverable_part: int
    ) -> JournalEntry:
        """The acquirer takes a disputed amount back: Dr merchant_payable (what the merchant
        bears: at most what it still holds of the payment) / Dr disputes_recoverable (the rest,
        already refunded, to win back by representment) / Cr acquirer_receivable."""
        for value in (merchant_part, recoverable_part):
            _check_amount(value, "chargeback part")
        total = _check_positive(merchant_part + recoverable_part)
        pid = dispute.payment_id
        lines = _signed_lines(
            {
                self.payable(dispute.merchant_id, pid): merchant_part,
                DISPUTES_RECOVERABLE: recoverable_part,
                self.receivable(pid): -total,
            },
            dispute.currency,
        )
        step = f"{_CHARGEBACK_PREFIX}{dispute.dispute_id}"
        dates = self._dates(dispute.at, dispute.value_date)
        reason = dispute.reason_code
        return _built(pid, EntryKind.CHARGEBACK, step, lines, dates, reason_code=reason)

    def dispute_won(self, chargeback: JournalEntry, at: str | None = None) -> JournalEntry:
        """The issuer gave a chargeback back: the chargeback's lines swapped, under its own
        step (the dispute fee is not returned)."""
        if chargeback.kind is not EntryKind.CHARGEBACK:
            raise LedgerRuleError(f"{chargeback.entry_id} is not a chargeback")
        dispute_id = chargeback.step[len(_CHARGEBACK_PREFIX) :]
        step = f"{_DISPUTE_WON_PREFIX}{dispute_id}"
        lines = (line.swapped() for line in chargeback.lines)
        return _built(chargeback.payment_id, EntryKind.DISPUTE_WON, step, lines, self._dates(at))

    def dispute_lost(
        self, chargeback: JournalEntry, at: str | None = None, value_date: str | None = None
    ) -> JournalEntry | None:
        """The issuer rejected the representment for good: the part of the chargeback the
        platform booked as recoverable (the payment was already refunded, so the merchant did
        not bear it) is written off, Dr dispute_losses / Cr disputes_recoverable. The merchant's
        part stays where the chargeback put it: the merchant bore it from the start. None when
        the merchant bore all of it (nothing to write off)."""
        if chargeback.kind is not EntryKind.CHARGEBACK:
            raise LedgerRuleError(f"{chargeback.entry_id} is not a chargeback")
        recoverable = [line for line in chargeback.lines if line.account == DISPUTES_RECOVERABLE]
        amount = sum(line.debit - line.credit for line in recoverable)
        if amount <= 0:
            return None
        currency = recoverable[0].currency
        dispute_id = chargeback.step[len(_CHARGEBACK_PREFIX) :]
        lines = _signed_lines({DISPUTE_LOSSES: amount, DISPUTES_RECOVERABLE: -amount}, currency)
        step = f"{_DISPUTE_LOST_PREFIX}{dispute_id}"
        dates = self._dates(at, value_date)
        return _built(chargeback.payment_id, EntryKind.DISPUTE_LOST, step, lines, dates)

    def dispute_fee(self, dispute: Dispute, fee: int, *, merchant_bears: bool) -> JournalEntry:
        """The acquirer's fee for a dispute, deducted from settlement (Cr acquirer_receivable):
        passed on to the merchant (Dr merchant_payable), or the platform's expense (Dr
        acquirer_fees) when the disputed payment was already refunded."""
        pid = dispute.payment_id
        debit = self.payable(dispute.merchant_id, pid) if merchant_bears else ACQUIRER_FEES
        lines = _signed_lines(
            {debit: _check_positive(fee), self.receivable(pid): -fee}, dispute.currency
        )
        step = f"{_DISPUTE_FEE_PREFIX}{dispute.dispute_id}"
        dates = self._dates(dispute.at, dispute.value_date)
        return _built(pid, EntryKind.DISPUTE_FEE, step, lines, dates)

    def settlement(
        self,
        batch_id: str,
        receivable: dict[tuple[str, str], tuple[int, int]],
        acquirer_fees: dict[str, int],
        references: Iterable[str],
        effective_at: str,
        value_date: str,
    ) -> JournalEntry:
        """A settlement batch: Cr acquirer_receivable per shard of what the batch paid in
        (captures, won disputes) and Dr of what it took back (refunds, chargebacks, dispute
        fees), gross, as ``receivable`` gives them per (shard account, currency): (paid in,
        taken back); Dr acquirer_fees (interchange and scheme fees); Dr cash of the net received
        (Cr when the batch took more than it paid). ``references`` are the acquirer references
        the batch settled, each settled once."""
        _check_id(batch_id, "batch_id")
        lines: list[JournalLine] = []
        currencies = {cur for _, cur in receivable} | set(acquirer_fees)
        for currency in sorted(currencies):
            _check_currency(currency)
            fees = acquirer_fees.get(currency, 0)
            net = -fees
            for (account, cur), (paid_in, taken_back) in sorted(receivable.items()):
                if cur != currency:
                    continue
                net += paid_in - taken_back
                lines.extend(_signed_lines({account: -paid_in}, currency))
                lines.extend(_signed_lines({account: taken_back}, currency))
            lines.extend(_signed_lines({CASH: net, ACQUIRER_FEES: fees}, currency))
        subject = f"{SETTLEMENT_SUBJECT}{batch_id}"
        dates = (effective_at, value_date)
        refs = tuple(sorted(references))
        return _built(subject, EntryKind.SETTLEMENT, _BATCH_STEP, lines, dates, references=refs)

    def release(
        self,
        batch_id: str,
        merchant_id: str,
        currency: str,
        payable: dict[str, int],
        effective_at: str,
        value_date: str,
    ) -> JournalEntry:
        """A batch's settled funds of one merchant: Dr merchant_payable (per shard, ``payable``
        the net amount each shard held for the batch's lines) / Cr merchant_settled."""
        _check_id(batch_id, "batch_id")
        total = sum(payable.values())
        debits = {**payable, merchant_settled(merchant_id): -total}
        subject = f"{SETTLEMENT_SUBJECT}{batch_id}"
        step = f"{_RELEASE_PREFIX}{merchant_id}-{currency}"
        lines = _signed_lines(debits, _check_currency(currency))
        return _built(subject, EntryKind.RELEASE, step, lines, (effective_at, value_date))

    def payout(
        self, merchant_id: str, currency: str, amount: int, value_date: str, at: str | None = None
    ) -> JournalEntry:
        """Settled funds paid to the merchant's bank account: Dr merchant_settled / Cr cash."""
        subject = f"{PAYOUT_SUBJECT}{_check_merchant(merchant_id)}:{check_value_date(value_date)}"
        pairs = [(merchant_settled(merchant_id), CASH)]
        step = f"{_PAYOUT_PREFIX}{currency}"
        entry = self._entry(subject, EntryKind.PAYOUT, step, currency, pairs, amount, at)
        return entry.dated(entry.effective_at, value_date)

    def reversal(self, entry: JournalEntry, at: str | None = None) -> JournalEntry:
        """The entry with debits and credits swapped; a reversal itself cannot be reversed."""
        if entry.kind is EntryKind.REVERSAL:
            raise LedgerRuleError(f"{entry.entry_id} is a reversal and cannot be reversed")
        step = f"{_REVERSAL_PREFIX}{entry.step}"
        lines = (line.swapped() for line in entry.lines)
        dates = self._dates(at)
        return _built(
            entry.payment_id, EntryKind.REVERSAL, step, lines, dates, reverses=entry.entry_id
        )


def fee_lines(entry: JournalEntry) -> tuple[JournalLine, ...]:
    """The merchant service charge lines of a capture or sale (Dr payable / Cr msc_income)."""
    if entry.movement_kind not in (EntryKind.CAPTURE, EntryKind.SALE):
        return ()
    income = [line for line in entry.lines if line.account == MSC_INCOME]
    charged = {line.credit + line.debit for line in income}
    payable_fee = [
        line
        for line in entry.lines
        if line.account.startswith(f"{MERCHANT_PAYABLE}:")
        and (line.debit if entry.kind is not EntryKind.REVERSAL else line.credit) in charged
    ]
    return (*payable_fee, *income)


def same_movement(expected: JournalEntry, actual: JournalEntry) -> bool:
    """Whether two entries are the same movement, whatever the service charge they booked: the
    fee schedule may have changed since ``actual`` was posted, and its charge stands."""
    if expected == actual:
        return True
    strip = fee_lines(expected) + fee_lines(actual)
    return expected.entry_id == actual.entry_id and [
        line for line in expected.lines if line not in strip
    ] == [line for line in actual.lines if line not in strip]


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


def balances_as_of(
    entries: Iterable[JournalEntry], cutoff: str, *, basis: str = "value_date"
) -> dict[tuple[str, str], int]:
    """Logical balances at a cut-off: the entries whose ``value_date`` (or, with ``basis``
    ``"effective"``, whose effective day) is on or before ``cutoff`` (YYYY-MM-DD). An entry
    stored before entries carried dates has none and counts from the beginning."""
    check_value_date(cutoff)
    if basis not in ("value_date", "effective"):
        raise LedgerRuleError("basis is value_date or effective")

    def day(entry: JournalEntry) -> str:
        if basis == "effective":
            return value_date_of(entry.effective_at) if entry.effective_at else ""
        return entry.value_date

    return logical_balances(entry for entry in entries if day(entry) <= cutoff)


def balance_sheet(balances_by_account: dict[tuple[str, str], int]) -> dict[tuple[str, str], int]:
    """The balances without the memo ledger (uncaptured authorizations are not assets)."""
    return {key: value for key, value in balances_by_account.items() if not is_memo(key[0])}


@dataclass(frozen=True, slots=True)
class PaymentPosition:
    """What the ledger says happened to one payment, net of reversals."""

    authorized: int = 0
    captured: int = 0
    voided: int = 0
    refunded: int = 0
    charged_back: int = 0

    @property
    def uncaptured(self) -> int:
        """Authorized and neither captured nor voided."""
        return self.authorized - self.captured - self.voided

    @property
    def refundable(self) -> int:
        """Captured and neither refunded nor taken back by a chargeback the merchant bore."""
        return self.captured - self.refunded - self.charged_back


def position(entries: Iterable[JournalEntry]) -> PaymentPosition:
    totals: dict[EntryKind, int] = defaultdict(int)
    for entry in entries:
        sign = -1 if entry.kind is EntryKind.REVERSAL else 1
        kind = entry.movement_kind
        if kind is EntryKind.SALE:
            totals[EntryKind.AUTHORIZATION] += sign * movement(entry)
            totals[EntryKind.CAPTURE] += sign * movement(entry)
            continue
        if kind is EntryKind.DISPUTE_WON:
            totals[EntryKind.CHARGEBACK] -= movement(entry)
            continue
        totals[kind] += sign * movement(entry)
    return PaymentPosition(
        authorized=totals[EntryKind.AUTHORIZATION],
        captured=totals[EntryKind.CAPTURE],
        voided=totals[EntryKind.VOID],
        refunded=totals[EntryKind.REFUND],
        charged_back=totals[EntryKind.CHARGEBACK],
    )


_RANKS = {
    EntryKind.AUTHORIZATION: 0,
    EntryKind.SALE: 0,
    EntryKind.CAPTURE: 1,
    EntryKind.VOID: 2,
    EntryKind.REFUND: 3,
    EntryKind.CHARGEBACK: 4,
    EntryKind.DISPUTE_FEE: 5,
    EntryKind.DISPUTE_WON: 6,
    EntryKind.SETTLEMENT: 7,
    EntryKind.RELEASE: 8,
    EntryKind.PAYOUT: 9,
}


def chronological_key(entry: JournalEntry) -> tuple[int, int, str]:
    """Sorts a payment's entries in the order the workflow posts them: by step (an
    authorization, captures by sequence, the void, refunds, disputes, then reversals of those in
    reverse order), which holds even for entries stored before they carried dates."""
    kind = entry.movement_kind
    rank = _RANKS[kind]
    step = entry.reversed_step or entry.step
    sequence = int(step[len(_CAPTURE_PREFIX) :]) if kind is EntryKind.CAPTURE else 0
    if entry.kind is EntryKind.REVERSAL:
        return (20 - rank, -sequence, step)
    return (rank, sequence, step)


# ------------------------------------------------------------------------------------ store


class LedgerStore(Protocol):
    def post(self, entry: JournalEntry, *, repair: bool = False) -> bool:
        """Atomically write the entry and apply ``position_change(entry)`` to its position.

        True when written now; False when this entry id was already posted with identical
        lines (an idempotent replay, nothing changed). Raises ``ConflictingEntryError`` when
        the entry id exists with different lines, and ``PositionLimitError`` (writing nothing)
        when the change would take a guarded field of the position below zero: the check and
        the write are one atomic step. ``repair`` (the reconciliation posting an entry the
        payment record proves) derives the payment's position from every entry instead of
        guarding it.
        """
        ...

    def entries_for(self, payment_id: str) -> list[JournalEntry]:
        """Every entry of the subject (a payment, ``settlement:{batch}``, ``payout:...``),
        strongly consistent."""
        ...

    def balance(self, account: str, currency: str) -> int:
        """Debit-positive balance; a sharded logical account sums its shards."""
        ...


def _fields_for(key: str) -> tuple[str, ...]:
    return FUNDS_FIELDS if key.startswith("funds:") else POSITION_FIELDS


class InMemoryLedgerStore(LedgerStore):
    """A ``LedgerStore`` in a dict, for tests and benchmarks. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, JournalEntry] = {}
        self._by_payment: dict[str, list[JournalEntry]] = defaultdict(list)
        self._balances: dict[tuple[str, str], int] = defaultdict(int)
        self._positions: dict[str, dict[str, int]] = {}

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
            if change.key is not None:
                held = self._positions.setdefault(
                    change.key, dict.fromkeys(_fields_for(change.key), 0)
                )
                after = dict(held)
                for name, delta in change.deltas:
                    after[name] += delta
                guarded = () if repair else change.guarded
                if change.fresh and not repair and any(held.values()):
                    raise PositionLimitError(
                        f"{entry.entry_id} must be the first movement of {change.key}"
                    )
                short = next((name for name in guarded if after[name] < 0), None)
                if short is not None:
                    raise PositionLimitError(
                        f"{entry.entry_id} exceeds the {short} {held[short]} of {change.key}"
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

    def scan_entries(self) -> list[JournalEntry]:
        """Every entry (the name the DynamoDB store gives its scan)."""
        return self.all_entries()

    def all_balances(self) -> dict[tuple[str, str], int]:
        """Balance per (physical account, currency) as the store keeps it."""
        with self._lock:
            return dict(self._balances)

    def stored_position(self, payment_id: str) -> dict[str, int]:
        """The position the caps are guarded on (a payment id or a ``funds_position``)."""
        with self._lock:
            fields = _fields_for(payment_id)
            return dict(self._positions.get(payment_id, dict.fromkeys(fields, 0)))


# ---------------------------------------------------------------------------------- service


class PaymentLedger:
    """Posts a payment's movements after checking them against what is already posted.

    Every method is idempotent per payment and step: calling it again with the same arguments
    returns the entry already posted. The checks here read the payment's entries first to give
    a clear error; the store guards the same caps again atomically with the write
    (``PositionLimitError``), so concurrent writers to one payment cannot exceed them.
    ``at`` is the business time of the movement (ISO 8601); without it, the rules' clock.
    """

    def __init__(self, store: LedgerStore, rules: PostingRules) -> None:
        self._store = store
        self._rules = rules

    def __repr__(self) -> str:
        return f"PaymentLedger(rules={self._rules!r})"

    @property
    def rules(self) -> PostingRules:
        return self._rules

    def record_authorization(
        self, payment_id: str, merchant_id: str, amount: int, currency: str, at: str | None = None
    ) -> JournalEntry:
        entry = self._rules.authorization(payment_id, merchant_id, amount, currency, at)
        self._store.post(entry)
        return entry

    def record_sale(
        self, payment_id: str, merchant_id: str, amount: int, currency: str, at: str | None = None
    ) -> JournalEntry:
        """A payment authorized and captured in one step: one entry, its first movement.

        Posted without reading the payment's entries first (the hot path's one ledger call):
        the store alone answers a replay (False), refuses other lines
        (``ConflictingEntryError``) and refuses a sale that is not the first movement
        (``PositionLimitError``), atomically with the write."""
        entry = self._rules.sale(payment_id, merchant_id, amount, currency, at)
        try:
            self._store.post(entry)
        except ConflictingEntryError:
            # A retried step under a changed fee schedule: the posted charge stands.
            entries = self._store.entries_for(payment_id)
            if not self._already_posted(entry, entries):
                raise
            return next(e for e in entries if e.entry_id == entry.entry_id)
        return entry

    def record_capture(
        self,
        payment_id: str,
        merchant_id: str,
        amount: int,
        currency: str,
        sequence: int,
        at: str | None = None,
    ) -> JournalEntry:
        entry = self._rules.capture(payment_id, merchant_id, amount, currency, sequence, at)

        def within_authorized(entries: list[JournalEntry]) -> None:
            self._check_same_payment(entries, merchant_id, currency)
            now = position(entries)
            if now.captured + amount > now.authorized - now.voided:
                raise LedgerRuleError(
                    f"capture of {amount} exceeds the uncaptured {now.uncaptured} of {payment_id}"
                )

        return self._post_once(entry, within_authorized)

    def record_void(
        self, payment_id: str, merchant_id: str, currency: str, at: str | None = None
    ) -> JournalEntry | None:
        entries = self._store.entries_for(payment_id)
        reversed_ids = {e.reverses for e in entries if e.reverses is not None}
        for existing in entries:
            if existing.kind is EntryKind.VOID and existing.entry_id not in reversed_ids:
                return existing
        remaining = position(entries).uncaptured
        if remaining <= 0:
            return None
        self._check_same_payment(entries, merchant_id, currency)
        entry = self._rules.void(payment_id, merchant_id, remaining, currency, at)
        if any(e.entry_id == entry.entry_id for e in entries):
            raise LedgerRuleError(f"{payment_id} was voided and the void reversed")
        self._store.post(entry)
        return entry

    def record_refund(
        self,
        payment_id: str,
        merchant_id: str,
        amount: int,
        currency: str,
        refund_id: str,
        at: str | None = None,
    ) -> JournalEntry:
        entry = self._rules.refund(payment_id, merchant_id, amount, currency, refund_id, at)

        def within_captured(entries: list[JournalEntry]) -> None:
            self._check_same_payment(entries, merchant_id, currency)
            now = position(entries)
            if amount > now.refundable:
                raise LedgerRuleError(
                    f"refund of {amount} exceeds the unrefunded {now.refundable} of {payment_id}"
                )

        return self._post_once(entry, within_captured)

    def reverse_all(self, payment_id: str, at: str | None = None) -> list[JournalEntry]:
        """Compensation: reverse every workflow entry of the payment not yet reversed, newest
        first (disputes come from the acquirer and are never compensated).

        Returns the reversals this call posted; a second call finds nothing left and returns [].
        """
        entries = self._store.entries_for(payment_id)
        reversed_ids = {e.reverses for e in entries if e.reverses is not None}
        pending = [
            e for e in entries if e.kind in WORKFLOW_KINDS and e.entry_id not in reversed_ids
        ]
        pending.sort(key=chronological_key, reverse=True)
        posted: list[JournalEntry] = []
        for entry in pending:
            reversal = self._rules.reversal(entry, at)
            self._store.post(reversal)
            posted.append(reversal)
        return posted

    def position(self, payment_id: str) -> PaymentPosition:
        return position(self._store.entries_for(payment_id))

    def _post_once(
        self, entry: JournalEntry, check: Callable[[list[JournalEntry]], None]
    ) -> JournalEntry:
        """The post-once sequence of every movement: read the payment's entries; the same entry
        already posted is answered as it is (a retried step), one with other lines is a
        conflict; otherwise ``check`` refuses what the payment's entries forbid (a clear error
        before the store's atomic caps refuse it anyway), and the entry is posted."""
        entries = self._store.entries_for(entry.payment_id)
        if self._already_posted(entry, entries):
            return entry
        check(entries)
        self._store.post(entry)
        return entry

    @staticmethod
    def _already_posted(entry: JournalEntry, entries: list[JournalEntry]) -> bool:
        for existing in entries:
            if existing.entry_id == entry.entry_id:
                if not same_movement(entry, existing):
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
