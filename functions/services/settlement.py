"""Settlement and payouts over the ledger store: books the acquirer's settlement batches (cash
against the receivable, its fees, chargebacks and won disputes, each merchant's funds released
to ``merchant_settled``) and pays merchants their settled funds.

Run once a day by the settle function (``functions/handlers/settle.py``, scheduled by
modules/payment_workflow), or by hand. Every entry id is deterministic (``settlement:{batch}``,
``{payment}#chargeback-{dispute}``, ``payout:{merchant}:{value_date}``) and every posting is
idempotent, so a run that dies half-way is finished by the next one and nothing is booked or
paid twice. A batch whose lines the ledger does not hold yet waits (it is reported) until the
reconciliation has posted them. Lines of a BNPL plan's card charges (the acquirer's one record
holds both) are left out: the credit ledger books those, never the card ledger, so a batch
must not wait on them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from functions.domain.acquirer import SettlementBatch, SettlementSource
from functions.domain.credit.schedule import is_plan_id
from functions.domain.ledger import (
    EntryKind,
    JournalEntry,
    LedgerStore,
    PostingRules,
    utc_now,
)
from functions.domain.settlement import (
    batch_subject,
    merchants_with_settled_funds,
    plan_payout,
    plan_settlement,
    settled_references,
)
from functions.services.fraud_monitoring import FraudRateMonitor, art20_record


def card_lines(batch: SettlementBatch) -> SettlementBatch:
    """The batch without the lines of BNPL plans' charges (the credit ledger's, not ours)."""
    kept = tuple(line for line in batch.lines if not is_plan_id(line.payment_id))
    return batch if len(kept) == len(batch.lines) else replace(batch, lines=kept)


class JournalStore(LedgerStore, Protocol):
    def scan_entries(self) -> Iterable[JournalEntry]:
        """Every entry of the ledger (a scan: for scheduled jobs, never the hot path)."""
        ...


@dataclass
class SettlementReport:
    settled: list[str] = field(default_factory=list)
    already_settled: list[str] = field(default_factory=list)
    waiting: dict[str, list[str]] = field(default_factory=dict)
    payouts: list[dict[str, Any]] = field(default_factory=list)
    posted: int = 0
    # The Art. 19/20 record of the TRA monitoring run (None when the run did not monitor).
    fraud_rate: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "settled": self.settled,
            "already_settled": self.already_settled,
            "waiting": self.waiting,
            "payouts": self.payouts,
            "posted": self.posted,
            "fraud_rate": self.fraud_rate,
            "ok": not self.waiting,
        }


class SettlementService:
    def __init__(
        self, store: JournalStore, rules: PostingRules, clock: Callable[[], str] = utc_now
    ) -> None:
        self._store = store
        self._rules = rules
        self._clock = clock

    def __repr__(self) -> str:
        return f"SettlementService(rules={self._rules!r})"

    def settle(
        self, batch: SettlementBatch, settled: frozenset[str], report: SettlementReport
    ) -> frozenset[str]:
        """Books one batch (or finishes booking it); answers the references settled since."""
        # The batch entry is posted last: once it is there, the whole batch is.
        posted = self._store.entries_for(batch_subject(batch.batch_id))
        if any(e.kind is EntryKind.SETTLEMENT for e in posted):
            report.already_settled.append(batch.batch_id)
            return settled
        entries = {
            pid: self._store.entries_for(pid) for pid in sorted({x.payment_id for x in batch.lines})
        }
        plan = plan_settlement(batch, entries, settled, self._rules, self._clock())
        if not plan.ready:
            report.waiting[batch.batch_id] = plan.waiting
            return settled
        for entry in plan.entries:
            if self._store.post(entry):
                report.posted += 1
        report.settled.append(batch.batch_id)
        return settled | {line.reference for line in batch.lines}

    def run(
        self,
        source: SettlementSource,
        through: dt.date,
        *,
        payouts: bool = True,
        monitor: FraudRateMonitor | None = None,
        notified: frozenset[int] = frozenset(),
    ) -> SettlementReport:
        """Books every batch the source has through ``through``, then (``payouts``) pays each
        merchant what is settled with a value date on or before ``through``, then (``monitor``)
        measures the TRA fraud rate over the same read of the entries (the day's chargebacks
        included) and stores it for the SCA step; ``notified`` as ``FraudRateMonitor.run``."""
        report = SettlementReport()
        settled = settled_references(self._store.scan_entries())
        for batch in source.batches(through, settled):
            card = card_lines(batch)
            if card.lines:
                settled = self.settle(card, settled, report)
        if not payouts and monitor is None:
            return report
        entries = list(self._store.scan_entries())
        if payouts:
            self.pay_out_all(through.isoformat(), report, entries)
        if monitor is not None:
            now = dt.datetime.fromisoformat(self._clock())
            report.fraud_rate = art20_record(monitor.run(entries, now, notified))
        return report

    def pay_out(
        self, merchant_id: str, currency: str, value_date: str, amount: int | None = None
    ) -> JournalEntry | None:
        """Pays the merchant its settled, unpaid funds of ``value_date`` (or ``amount`` of
        them; more is refused with ``PayoutRefusedError``). The store's funds position refuses
        it atomically as well, should two runs race."""
        entry = plan_payout(
            self._store.scan_entries(),
            self._rules,
            merchant_id,
            currency,
            value_date,
            amount,
            self._clock(),
        )
        if entry is not None:
            self._store.post(entry)
        return entry

    def pay_out_all(
        self,
        value_date: str,
        report: SettlementReport,
        entries: list[JournalEntry] | None = None,
    ) -> None:
        if entries is None:
            entries = list(self._store.scan_entries())
        for merchant, currency in merchants_with_settled_funds(entries):
            entry = plan_payout(
                entries, self._rules, merchant, currency, value_date, at=self._clock()
            )
            if entry is None or not self._store.post(entry):
                continue  # nothing to pay, or paid by an earlier run
            report.posted += 1
            report.payouts.append(
                {
                    "merchant_id": merchant,
                    "currency": currency,
                    "value_date": value_date,
                    "amount": entry.amount(),
                    "entry_id": entry.entry_id,
                }
            )
