"""TRA fraud-rate monitoring (Commission Delegated Regulation (EU) 2018/389 Art. 19-21) as a use
case over ports: measure the PSP's fraud rate for remote card payments from the ledger's entries
(``domain.fraud_rate.JournalFraudRecords``), carry the Art. 20 state of each Annex band from the
previous run (``domain.fraud_rate.monitor``) and store it for the SCA step, which offers TRA
only in a band the stored state offers (``services.risk.ScaService``).

Run by the daily settle job (``services.settlement.SettlementService.run``), over the entries
that run already read for payouts, so monitoring costs no extra scan of the ledger.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from functions.domain.fraud_rate import (
    ANNEX_REMOTE_CARD_BANDS,
    JournalFraudRecords,
    MonitoringOutcome,
    TraBand,
    TraMonitoring,
    fraud_rate_report,
    monitor,
)
from functions.domain.fx import EurRates
from functions.domain.ledger import JournalEntry


class TraMonitoringSource(Protocol):
    def latest(self) -> TraMonitoring | None:
        """The state the last run stored; None when no run has measured yet."""
        ...


class TraMonitoringStore(TraMonitoringSource, Protocol):
    def save(self, state: TraMonitoring) -> None: ...


@dataclass
class FraudRateMonitor:
    store: TraMonitoringStore
    rates: EurRates
    bands: tuple[TraBand, ...] = ANNEX_REMOTE_CARD_BANDS

    def run(
        self,
        entries: Iterable[JournalEntry],
        now: dt.datetime,
        notified: frozenset[int] = frozenset(),
    ) -> MonitoringOutcome:
        """Measures the 90 days up to ``now``, stores the new state and answers it with what
        must be reported. ``notified``: the bands (limits in EUR cents) whose restart the
        operator has notified to the competent authority (Art. 20(4))."""
        records = JournalFraudRecords(entries, self.rates)
        report = fraud_rate_report(records, now, self.bands)
        outcome = monitor(self.store.latest(), report, now, notified)
        self.store.save(outcome.state)
        return outcome


def art20_record(outcome: MonitoringOutcome) -> dict[str, Any]:
    """The structured record of one run (logged by the settle function, kept for the
    authority): the measured rates per band, and which bands were stopped, are due a restart
    notification, or restarted."""
    return {
        "regulation": "EU 2018/389 Art. 19-20",
        "monitoring": outcome.state.to_dict(),
        "exceeded_limits_eur_minor": list(outcome.exceeded),
        "restart_due_limits_eur_minor": list(outcome.restart_due),
        "restarted_limits_eur_minor": list(outcome.restarted),
    }


@dataclass
class InMemoryTraMonitoring(TraMonitoringStore):
    """The store's fake, for tests."""

    state: TraMonitoring | None = None
    saves: int = 0

    def latest(self) -> TraMonitoring | None:
        return self.state

    def save(self, state: TraMonitoring) -> None:
        self.state = state
        self.saves += 1
