"""The PSP's fraud rate for remote card payments, monitored for the TRA exemption.

Commission Delegated Regulation (EU) 2018/389 (RTS on SCA):

* Art. 19(2): the fraud rate is the total value of unauthorised or fraudulent remote
  transactions (whether the funds were recovered or not) divided by the total value of all
  remote transactions of the same type (here: remote card payments), whether authenticated with
  SCA or executed under an exemption, on a rolling basis over 90 days.
* Art. 18(2)(a) / Annex: the TRA exemption up to an exemption threshold value (EUR 100, 250,
  500 for remote card payments) needs a fraud rate at or below that band's reference rate
  (0.13 %, 0.06 %, 0.01 %).
* Art. 20(1): the PSP reports to its competent authority at once when a monitored rate exceeds
  the reference rate. Art. 20(2) makes it stop using the exemption in that band after two
  consecutive quarters above; this code stops the band at once (the stricter reading: the
  exemption is a permission, never an obligation). ``FraudRateReport`` is the report.
* Art. 20(3)/(4): a stopped band is used again only once the rate has been at or below its
  reference for a quarter (90 days), and only after the authority has been notified with the
  evidence: ``monitor`` keeps that state (``TraMonitoring``) from one daily run to the next.
* Art. 21: the rate is monitored: ``fraud_rate_report`` is a pure function over a port of
  payment and fraud-report records (``JournalFraudRecords`` reads them from the ledger), run by
  the daily settle job.

Per band, two rates are computed: the overall rate of every remote card payment, and the rate of
the payments up to the band's threshold value. A band is offered only when both are at or below
its reference rate, and never without payments in the window (a rate of nothing cannot be
shown to be low).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from .fx import EurRates
from .ledger import ACQUIRER_RECEIVABLE, EntryKind, JournalEntry, logical_account

WINDOW = dt.timedelta(days=90)
# Art. 20(3): a stopped band restarts after its rate was within the reference "for a duration
# of one quarter"; the RTS's own quarter for the rate is 90 days (Art. 19(2)).
RESTART_AFTER = dt.timedelta(days=90)

# Chargeback reason codes of the card schemes' fraud categories: the cardholder says they did
# not authorise the payment. Visa Claims Resolution category 10 (10.1 EMV liability shift
# counterfeit, 10.2 EMV liability shift non-counterfeit, 10.3 other fraud card-present, 10.4
# other fraud card-absent, 10.5 Visa fraud monitoring program); Mastercard 4837 (no cardholder
# authorization), 4840 (fraudulent processing), 4870/4871 (chip liability shift). Any other
# code (13.1 merchandise not received, 4853 not as described...) is a commercial dispute and
# is not fraud under Art. 19.
FRAUD_REASON_CODES = frozenset(
    {"10.1", "10.2", "10.3", "10.4", "10.5", "4837", "4840", "4870", "4871"}
)


def is_fraud_reason(reason_code: str) -> bool:
    return reason_code.strip() in FRAUD_REASON_CODES


@dataclass(frozen=True, slots=True)
class TraBand:
    """One row of the RTS Annex: TRA exempts up to ``limit_eur_minor`` at a fraud rate at or
    below ``reference_rate_percent``."""

    reference_rate_percent: Decimal
    limit_eur_minor: int

    def __post_init__(self) -> None:
        if self.reference_rate_percent < 0 or self.limit_eur_minor < 0:
            raise ValueError("a TRA band cannot be negative")


# RTS Annex, remote electronic card-based payments.
ANNEX_REMOTE_CARD_BANDS: tuple[TraBand, ...] = (
    TraBand(Decimal("0.13"), 10_000),
    TraBand(Decimal("0.06"), 25_000),
    TraBand(Decimal("0.01"), 50_000),
)


class FraudKind(StrEnum):
    FRAUDULENT = "fraudulent"  # executed by the payer under manipulation, or with a stolen card
    UNAUTHORISED = "unauthorised"  # the payer did not authorise it


@dataclass(frozen=True, slots=True)
class RemotePayment:
    """A remote card payment executed by the PSP, whatever its SCA outcome."""

    payment_id: str
    created_at: dt.datetime
    amount_eur_minor: int


@dataclass(frozen=True, slots=True)
class FraudReport:
    """A payment reported unauthorised or fraudulent (a fraud chargeback, a TC40/SAFE report)."""

    payment_id: str
    amount_eur_minor: int
    kind: FraudKind


class FraudRecords(Protocol):
    """The payments and fraud reports the rate is computed from (the lake, the ledger)."""

    def remote_card_payments(
        self, since: dt.datetime, until: dt.datetime
    ) -> Iterable[RemotePayment]:
        """Payments created in ``(since, until]``."""
        ...

    def fraud_reports(self, payment_ids: frozenset[str]) -> Iterable[FraudReport]:
        """Every fraud report known on any of ``payment_ids``."""
        ...


@dataclass(frozen=True, slots=True)
class BandRate:
    band: TraBand
    fraud_eur_minor: int
    total_eur_minor: int

    @property
    def rate_percent(self) -> Decimal | None:
        if self.total_eur_minor == 0:
            return None
        return Decimal(self.fraud_eur_minor * 100) / Decimal(self.total_eur_minor)

    def at_or_below(self, reference_percent: Decimal) -> bool:
        """Exact: fraud / total <= reference / 100, without rounding; False without volume."""
        if self.total_eur_minor == 0:
            return False
        return Decimal(self.fraud_eur_minor * 100) <= reference_percent * self.total_eur_minor


@dataclass(frozen=True, slots=True)
class FraudRateReport:
    """The Art. 19 rates over one 90-day window and the bands they allow (Art. 20 report)."""

    period_start: dt.datetime
    period_end: dt.datetime
    overall: BandRate
    bands: tuple[BandRate, ...]

    def band_offered(self, band: TraBand) -> bool:
        for rate in self.bands:
            if rate.band == band:
                reference = band.reference_rate_percent
                return self.overall.at_or_below(reference) and rate.at_or_below(reference)
        return False  # a band this report did not measure

    def exceeded(self) -> tuple[TraBand, ...]:
        """The bands whose monitored rate is above the reference: TRA stops, the authority is
        told (Art. 20(1))."""
        return tuple(rate.band for rate in self.bands if not self.band_offered(rate.band))

    def to_dict(self) -> dict[str, Any]:
        def rate(value: BandRate) -> dict[str, Any]:
            found = value.rate_percent
            return {
                "fraud_eur_minor": value.fraud_eur_minor,
                "total_eur_minor": value.total_eur_minor,
                "rate_percent": None if found is None else str(found.quantize(Decimal("1e-6"))),
            }

        return {
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "transaction_type": "remote_card",
            "overall": rate(self.overall),
            "bands": [
                {
                    "limit_eur_minor": value.band.limit_eur_minor,
                    "reference_rate_percent": str(value.band.reference_rate_percent),
                    **rate(value),
                    "tra_offered": self.band_offered(value.band),
                }
                for value in self.bands
            ],
        }


def fraud_rate_report(
    records: FraudRecords,
    now: dt.datetime,
    bands: tuple[TraBand, ...] = ANNEX_REMOTE_CARD_BANDS,
    window: dt.timedelta = WINDOW,
) -> FraudRateReport:
    """Art. 19 rates over the 90 days up to ``now``: fraud value of the window's payments (each
    payment counted at most once and at most for its own amount, however many reports name it)
    over the value of all of them."""
    since = now - window
    payments = {p.payment_id: p for p in records.remote_card_payments(since, now)}
    fraud: dict[str, int] = {}
    for report in records.fraud_reports(frozenset(payments)):
        payment = payments.get(report.payment_id)
        if payment is None:
            continue  # a report on a payment outside the window
        counted = fraud.get(report.payment_id, 0) + report.amount_eur_minor
        fraud[report.payment_id] = min(counted, payment.amount_eur_minor)

    def measure(band: TraBand, limit: int | None) -> BandRate:
        chosen = [p for p in payments.values() if limit is None or p.amount_eur_minor <= limit]
        return BandRate(
            band=band,
            fraud_eur_minor=sum(fraud.get(p.payment_id, 0) for p in chosen),
            total_eur_minor=sum(p.amount_eur_minor for p in chosen),
        )

    overall_band = TraBand(Decimal(0), 0)
    return FraudRateReport(
        period_start=since,
        period_end=now,
        overall=measure(overall_band, None),
        bands=tuple(measure(band, band.limit_eur_minor) for band in bands),
    )


def _instant(value: str) -> dt.datetime | None:
    if not value:
        return None  # an entry stored before entries carried dates: outside every window
    found = dt.datetime.fromisoformat(value)
    return found if found.tzinfo else found.replace(tzinfo=dt.UTC)


class JournalFraudRecords(FraudRecords):
    """The port over the ledger's entries (the settle run already scans them).

    Remote card payments are the captured ones: a sale or capture entry that was not reversed
    (a compensated payment was never executed), at its ``effective_at`` (when the acquirer
    confirmed the capture), for the captured amount in EUR. Every card payment of the payment
    API is remote (e-commerce: the API takes no card-present or MOTO channel), and counts
    whether it was authenticated or exempted (Art. 19(2)). Fraud is a chargeback whose scheme
    reason code is in a fraud category (``is_fraud_reason``), for the amount the acquirer took
    back, whether the dispute was later won or not ("whether the funds have been recovered or
    not"). A currency without an EUR rate cannot be weighed and is left out of both sides; such
    payments always needed SCA (no amount, no exemption), so the exemptions do not rest on them.
    """

    def __init__(self, entries: Iterable[JournalEntry], rates: EurRates) -> None:
        self.payments: list[RemotePayment] = []
        self.reports: list[FraudReport] = []
        self.unconverted = 0
        captured: dict[str, JournalEntry] = {}
        reversed_ids: set[str] = set()
        for entry in entries:
            if entry.kind in (EntryKind.SALE, EntryKind.CAPTURE):
                captured[entry.entry_id] = entry
            elif entry.kind is EntryKind.REVERSAL and entry.reverses:
                reversed_ids.add(entry.reverses)
            elif entry.kind is EntryKind.CHARGEBACK and is_fraud_reason(entry.reason_code):
                amount = _receivable_credit(entry)
                eur = rates.to_eur_minor(amount, _currency(entry))
                if eur is not None:
                    self.reports.append(FraudReport(entry.payment_id, eur, FraudKind.UNAUTHORISED))
        for entry_id, entry in captured.items():
            at = _instant(entry.effective_at)
            if entry_id in reversed_ids or at is None:
                continue
            eur = rates.to_eur_minor(_receivable_debit(entry), _currency(entry))
            if eur is None:
                self.unconverted += 1
                continue
            self.payments.append(RemotePayment(entry.payment_id, at, eur))

    def remote_card_payments(
        self, since: dt.datetime, until: dt.datetime
    ) -> Iterable[RemotePayment]:
        return [p for p in self.payments if since < p.created_at <= until]

    def fraud_reports(self, payment_ids: frozenset[str]) -> Iterable[FraudReport]:
        return [r for r in self.reports if r.payment_id in payment_ids]


def _currency(entry: JournalEntry) -> str:
    return entry.lines[0].currency


def _receivable_debit(entry: JournalEntry) -> int:
    return sum(
        line.debit for line in entry.lines if logical_account(line.account) == ACQUIRER_RECEIVABLE
    )


def _receivable_credit(entry: JournalEntry) -> int:
    return sum(
        line.credit for line in entry.lines if logical_account(line.account) == ACQUIRER_RECEIVABLE
    )


@dataclass(frozen=True, slots=True)
class BandState:
    """One Annex band between two runs (Art. 20). ``stopped_on``: the day its monitored rate
    was first found above the reference (it is not offered again until restarted);
    ``within_since``: since a stop, the first day of the unbroken run of measurements at or
    below the reference (None while above, or without volume)."""

    limit_eur_minor: int
    offered: bool
    stopped_on: str | None = None
    within_since: str | None = None

    def restart_due(self, today: dt.date) -> bool:
        """Art. 20(3): within the reference for a quarter since the stop."""
        if self.stopped_on is None or self.within_since is None:
            return False
        return today - dt.date.fromisoformat(self.within_since) >= RESTART_AFTER


@dataclass(frozen=True, slots=True)
class TraMonitoring:
    """The monitored state the SCA step reads: the latest Art. 19 report and, per band,
    whether TRA is offered. Stored as one item by the settle run; absent means not measured,
    and then no band is offered (fail closed)."""

    measured_at: dt.datetime
    report: Mapping[str, Any]
    bands: tuple[BandState, ...]

    def band_offered(self, band: TraBand) -> bool:
        return any(s.limit_eur_minor == band.limit_eur_minor and s.offered for s in self.bands)

    def stale(self, now: dt.datetime, max_age: dt.timedelta) -> bool:
        """A measurement older than ``max_age`` is not monitoring (Art. 21): the daily run
        stopped, and a rate that may have risen since cannot carry an exemption."""
        return now - self.measured_at > max_age

    def to_dict(self) -> dict[str, Any]:
        return {
            "measured_at": self.measured_at.isoformat(),
            "report": dict(self.report),
            "bands": [
                {
                    "limit_eur_minor": s.limit_eur_minor,
                    "offered": s.offered,
                    "stopped_on": s.stopped_on,
                    "within_since": s.within_since,
                }
                for s in self.bands
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TraMonitoring:
        return cls(
            measured_at=dt.datetime.fromisoformat(data["measured_at"]),
            report=dict(data["report"]),
            bands=tuple(
                BandState(
                    int(b["limit_eur_minor"]),
                    bool(b["offered"]),
                    b.get("stopped_on"),
                    b.get("within_since"),
                )
                for b in data["bands"]
            ),
        )


@dataclass(frozen=True, slots=True)
class MonitoringOutcome:
    """A run's new state and what it must report to the competent authority (Art. 20(1): each
    band found above its reference, at once; Art. 20(4): each band whose restart is due, which
    needs the authority notified with the evidence before it is used again)."""

    state: TraMonitoring
    exceeded: tuple[int, ...]
    restart_due: tuple[int, ...]
    restarted: tuple[int, ...]


def monitor(
    previous: TraMonitoring | None,
    report: FraudRateReport,
    now: dt.datetime,
    notified: frozenset[int] = frozenset(),
) -> MonitoringOutcome:
    """The state after one Art. 19 measurement. Per band:

    * above its reference (with volume): stopped at once (Art. 20(1)/(2), stricter), reported;
    * no volume: not offered (a rate of nothing cannot be shown to be low), nothing reported;
    * at or below: offered, unless stopped; a stopped band counts its days within the reference
      and is offered again only when that run reaches a quarter (Art. 20(3)) *and* the operator
      has notified the authority of the restart (``notified``: band limits, Art. 20(4)).
    """
    today = now.date().isoformat()
    before = {s.limit_eur_minor: s for s in previous.bands} if previous else {}
    states: list[BandState] = []
    exceeded: list[int] = []
    due: list[int] = []
    restarted: list[int] = []
    for rate in report.bands:
        limit = rate.band.limit_eur_minor
        last = before.get(limit, BandState(limit, offered=False))
        within = report.band_offered(rate.band)
        measured = rate.total_eur_minor > 0 and report.overall.total_eur_minor > 0
        if not within and measured:
            exceeded.append(limit)
            stopped_on = last.stopped_on or today
            states.append(BandState(limit, offered=False, stopped_on=stopped_on))
        elif not within:
            states.append(replace(last, offered=False, within_since=None))
        elif last.stopped_on is None:
            states.append(BandState(limit, offered=True))
        else:
            counting = replace(last, offered=False, within_since=last.within_since or today)
            if counting.restart_due(now.date()):
                if limit in notified:
                    restarted.append(limit)
                    counting = BandState(limit, offered=True)
                else:
                    due.append(limit)
            states.append(counting)
    state = TraMonitoring(measured_at=now, report=report.to_dict(), bands=tuple(states))
    return MonitoringOutcome(state, tuple(exceeded), tuple(due), tuple(restarted))


class InMemoryFraudRecords(FraudRecords):
    """The port's fake, for tests and the local demo."""

    def __init__(self) -> None:
        self.payments: list[RemotePayment] = []
        self.reports: list[FraudReport] = []

    def remote_card_payments(
        self, since: dt.datetime, until: dt.datetime
    ) -> Iterable[RemotePayment]:
        return [p for p in self.payments if since < p.created_at <= until]

    def fraud_reports(self, payment_ids: frozenset[str]) -> Iterable[FraudReport]:
        return [r for r in self.reports if r.payment_id in payment_ids]
