"""Settlement, disputes and payouts (pure domain): from an acquirer's settlement batch and the
ledger's entries, the exact entries that book it; from the settled funds, what a merchant may be
paid.

A batch is booked as (docs/ledger.md), in this order:

* for each chargeback line not yet booked, a ``chargeback`` entry (the merchant bears what it
  still holds of the payment, the rest is ``disputes_recoverable``) and a ``dispute_fee`` entry;
  for each dispute won, a ``dispute_won`` entry (the chargeback's lines swapped);
* per merchant and currency, a ``release`` entry: Dr merchant_payable / Cr merchant_settled of
  what the batch's lines left on the merchant's payable (captures net of the merchant service
  charge, less refunds, chargebacks and dispute fees the merchant bears);
* last, one ``batch`` entry: Dr cash (net received) / Dr acquirer_fees (interchange + scheme)
  / Cr acquirer_receivable (per shard: captures and won disputes less refunds, chargebacks and
  dispute fees), with the batch's references. Once it is posted, the whole batch is.

Every line must match an entry the ledger already holds with the same amount (a capture, sale
or refund the workflow posted, a chargeback for a dispute won): otherwise nothing of the batch
is booked (``SettlementPlan.waiting``), and a later run books it once the reconciliation has
posted what was missing. A reference already settled by another batch is refused the same way:
money is never booked as received twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from functions.domain.acquirer import SettlementBatch, SettlementKind, SettlementLine
from functions.domain.ledger import (
    ACQUIRER_RECEIVABLE,
    MERCHANT_PAYABLE,
    MERCHANT_SETTLED,
    PAYOUT_SUBJECT,
    SETTLEMENT_SUBJECT,
    Dispute,
    EntryKind,
    JournalEntry,
    JournalLine,
    LedgerRuleError,
    PostingRules,
    check_value_date,
    logical_account,
    merchant_of,
    merchant_settled,
    position,
)


class PayoutRefusedError(LedgerRuleError):
    """A payout above the merchant's settled, unpaid funds as of its value date."""


@dataclass
class SettlementPlan:
    """The entries that book a batch, in posting order, or why it cannot be booked yet."""

    batch_id: str
    entries: list[JournalEntry] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.waiting


def batch_subject(batch_id: str) -> str:
    return f"{SETTLEMENT_SUBJECT}{batch_id}"


def settled_references(entries: Iterable[JournalEntry]) -> frozenset[str]:
    """Every acquirer reference a posted settlement batch settled."""
    return frozenset(
        reference
        for entry in entries
        if entry.kind is EntryKind.SETTLEMENT
        for reference in entry.references
    )


def _live(entries: Iterable[JournalEntry]) -> dict[str, JournalEntry]:
    """A payment's entries by step, without those a reversal took back."""
    entries = list(entries)
    reversed_ids = {e.reverses for e in entries if e.reverses is not None}
    return {
        e.step: e
        for e in entries
        if e.kind is not EntryKind.REVERSAL and e.entry_id not in reversed_ids
    }


def _payable_release(entry: JournalEntry) -> dict[str, int]:
    """What an entry left on the merchant's payable shards, as the amounts to debit them."""
    result: dict[str, int] = defaultdict(int)
    for line in entry.lines:
        if logical_account(line.account).startswith(f"{MERCHANT_PAYABLE}:"):
            result[line.account] -= line.delta
    return result


def _merchant(entries: Mapping[str, JournalEntry]) -> str | None:
    for step in ("sale", *sorted(s for s in entries if s.startswith("capture-"))):
        entry = entries.get(step)
        if entry is not None:
            for line in entry.lines:
                merchant = merchant_of(line.account)
                if merchant is not None and line.account.startswith(f"{MERCHANT_PAYABLE}:"):
                    return merchant
    return None


def _receivable(entry: JournalEntry) -> dict[str, int]:
    return {
        line.account: -line.delta
        for line in entry.lines
        if logical_account(line.account) == ACQUIRER_RECEIVABLE
    }


class _Planner:
    def __init__(
        self,
        batch: SettlementBatch,
        entries_by_payment: Mapping[str, list[JournalEntry]],
        settled: frozenset[str],
        rules: PostingRules,
        effective_at: str,
    ) -> None:
        self.batch = batch
        self.entries = entries_by_payment
        self.settled = settled
        self.rules = rules
        self.at = effective_at
        self.plan = SettlementPlan(batch.batch_id)
        # Per receivable shard and currency: (paid in, taken back) by the batch.
        self.receivable: dict[tuple[str, str], tuple[int, int]] = defaultdict(lambda: (0, 0))
        self.fees: dict[str, int] = defaultdict(int)
        self.releases: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.extra_charged: dict[str, int] = defaultdict(int)

    def run(self) -> SettlementPlan:
        for line in self.batch.lines:
            if line.reference in self.settled:
                self.plan.waiting.append(f"{line.reference}: already settled by another batch")
                continue
            self._line(line)
        if self.plan.waiting:
            self.plan.entries = []
            return self.plan
        day = self.batch.value_date
        for (merchant, currency), payable in sorted(self.releases.items()):
            if any(payable.values()):
                self.plan.entries.append(
                    self.rules.release(
                        self.batch.batch_id, merchant, currency, dict(payable), self.at, day
                    )
                )
        # Last: a posted batch entry means every entry of the batch is posted.
        self.plan.entries.append(
            self.rules.settlement(
                self.batch.batch_id,
                dict(self.receivable),
                dict(self.fees),
                [line.reference for line in self.batch.lines],
                self.at,
                day,
            )
        )
        return self.plan

    def _line(self, line: SettlementLine) -> None:
        live = _live(self.entries.get(line.payment_id, []))
        merchant = _merchant(live)
        booked = self._booked(line, live)
        if booked is None or merchant is None:
            self.plan.waiting.append(f"{line.reference}: the ledger holds no such {line.kind}")
            return
        if line.kind in (SettlementKind.CAPTURE, SettlementKind.REFUND):
            entry = booked
            amount = sum(abs(v) for v in _receivable(entry).values())
            if amount != line.amount:
                self.plan.waiting.append(
                    f"{line.reference}: the acquirer settled {line.amount}, the ledger holds "
                    f"{amount}"
                )
                return
            self._clear(entry, line.currency, merchant)
            self.fees[line.currency] += line.acquirer_fees
            return
        for entry in self._dispute_entries(line, live, merchant, booked):
            self._clear(entry, line.currency, merchant)

    def _clear(self, entry: JournalEntry, currency: str, merchant: str) -> None:
        """The batch clears what ``entry`` put on (or took off) the receivable, and releases
        what it left on the merchant's payable."""
        for account, credit in _receivable(entry).items():
            paid_in, taken_back = self.receivable[account, currency]
            if credit < 0:
                paid_in -= credit
            else:
                taken_back += credit
            self.receivable[account, currency] = (paid_in, taken_back)
        for account, debit in _payable_release(entry).items():
            self.releases[merchant, currency][account] += debit

    def _booked(
        self, line: SettlementLine, live: Mapping[str, JournalEntry]
    ) -> JournalEntry | None:
        if line.kind is SettlementKind.CAPTURE:
            return live.get(f"capture-{line.operation}") or live.get("sale")
        if line.kind is SettlementKind.REFUND:
            return live.get(f"refund-{line.operation}")
        # A dispute needs the captured payment; a won one, its chargeback.
        chargeback = live.get(f"chargeback-{line.operation}")
        if line.kind in (SettlementKind.DISPUTE_WON, SettlementKind.DISPUTE_LOST):
            return chargeback
        captures = (e for step, e in sorted(live.items()) if step.startswith("capture-"))
        return chargeback or live.get("sale") or next(captures, None)

    def _dispute_entries(
        self,
        line: SettlementLine,
        live: Mapping[str, JournalEntry],
        merchant: str,
        booked: JournalEntry,
    ) -> list[JournalEntry]:
        pid, dispute_id = line.payment_id, line.operation
        if line.kind is SettlementKind.DISPUTE_WON:
            won = live.get(f"dispute-won-{dispute_id}") or self.rules.dispute_won(booked, self.at)
            return self._new(won)
        if line.kind is SettlementKind.DISPUTE_LOST:
            # No money moves at the acquirer (the chargeback already took it): the platform
            # writes off what it booked as recoverable.
            lost = live.get(f"dispute-lost-{dispute_id}") or self.rules.dispute_lost(
                booked, self.at, self.batch.value_date
            )
            return [] if lost is None else self._new(lost)
        chargeback = live.get(f"chargeback-{dispute_id}")
        fee = live.get(f"dispute-fee-{dispute_id}")
        dispute = Dispute(
            pid,
            merchant,
            line.currency,
            dispute_id,
            self.at,
            self.batch.value_date,
            reason_code=line.reason_code,
        )
        if chargeback is None:
            now = position(live.values())
            holds = max(0, now.refundable - self.extra_charged[pid])
            merchant_part = min(line.amount, holds)
            self.extra_charged[pid] += merchant_part
            chargeback = self.rules.chargeback(
                dispute, merchant_part=merchant_part, recoverable_part=line.amount - merchant_part
            )
        if fee is None and line.dispute_fee:
            bears = any(
                logical_account(x.account).startswith(f"{MERCHANT_PAYABLE}:")
                for x in chargeback.lines
            )
            fee = self.rules.dispute_fee(dispute, line.dispute_fee, merchant_bears=bears)
        return self._new(chargeback) + ([] if fee is None else self._new(fee))

    def _new(self, entry: JournalEntry) -> list[JournalEntry]:
        """Queues ``entry`` for posting (a replay of one already posted changes nothing)."""
        self.plan.entries.append(entry)
        return [entry]


def plan_settlement(
    batch: SettlementBatch,
    entries_by_payment: Mapping[str, list[JournalEntry]],
    settled: frozenset[str],
    rules: PostingRules,
    effective_at: str,
) -> SettlementPlan:
    """The entries that book ``batch`` (see the module), given every entry of its payments and
    the references other batches already settled."""
    return _Planner(batch, entries_by_payment, settled, rules, effective_at).run()


# --------------------------------------------------------------------------------- payouts


def _settled_lines(
    entries: Iterable[JournalEntry], merchant_id: str, currency: str
) -> Iterator[tuple[JournalEntry, JournalLine]]:
    account = merchant_settled(merchant_id)
    for entry in entries:
        for line in entry.lines:
            if line.account == account and line.currency == currency:
                yield entry, line


def available_for_payout(
    entries: Iterable[JournalEntry], merchant_id: str, currency: str, value_date: str
) -> int:
    """Settled funds of the merchant whose value date is on or before ``value_date``, less
    everything taken from them (payouts, negative releases) whatever its date: funds that are
    captured but not settled, or settled with a later value date, are not available."""
    check_value_date(value_date)
    available = 0
    for entry, line in _settled_lines(entries, merchant_id, currency):
        # Funds count from their value date; what leaves (payouts, a batch whose chargebacks
        # exceed its sales) counts at once, whatever its date.
        if line.debit or entry.value_date <= value_date:
            available -= line.delta
    return available


def merchants_with_settled_funds(entries: Iterable[JournalEntry]) -> list[tuple[str, str]]:
    """(merchant, currency) of every merchant_settled account that holds or held funds."""
    found = {
        (str(merchant_of(line.account)), line.currency)
        for entry in entries
        for line in entry.lines
        if line.account.startswith(f"{MERCHANT_SETTLED}:")
    }
    return sorted(found)


def plan_payout(
    entries: Iterable[JournalEntry],
    rules: PostingRules,
    merchant_id: str,
    currency: str,
    value_date: str,
    amount: int | None = None,
    at: str | None = None,
) -> JournalEntry | None:
    """The payout of a merchant's available funds on ``value_date`` (all of them, or
    ``amount``); None when there is nothing to pay. More than is available is refused."""
    entries = list(entries)
    subject = f"{PAYOUT_SUBJECT}{merchant_id}:{value_date}"
    done = next(
        (e for e in entries if e.payment_id == subject and e.step == f"payout-{currency}"), None
    )
    if done is not None:
        return done  # one payout per merchant, currency and value date
    available = available_for_payout(entries, merchant_id, currency, value_date)
    wanted = available if amount is None else amount
    if wanted > available:
        raise PayoutRefusedError(
            f"a payout of {wanted} {currency} to {merchant_id} on {value_date} exceeds the "
            f"{max(available, 0)} settled and unpaid"
        )
    if wanted <= 0:
        return None
    return rules.payout(merchant_id, currency, wanted, value_date, at)
