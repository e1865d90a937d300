"""The PSP's fraud rate for remote card payments, monitored for the TRA exemption.

Commission Delegated Regulation (EU) 2018/389 (RTS on SCA):

* Art. 19(1): the fraud rate is the total value of unauthorised or fraudulent remote
  transactions (whether the funds were recovered or not) divided by the total value of all
  remote transactions of the same type (here: remote card payments), whether authenticated with
  SCA or executed under an exemption, on a rolling basis over 90 days.
* Art. 18(2)(a) / Annex: the TRA exemption up to an exemption threshold value (EUR 100, 250,
  500 for remote card payments) needs a fraud rate at or below that band's reference rate
  (0.13 %, 0.06 %, 0.01 %).
* Art. 20: the PSP reports to its competent authority when a monitored rate exceeds the
  reference rate and stops using the exemption (the RTS allows two consecutive quarters; this
  code stops the band at once, the stricter reading). ``FraudRateReport`` is that report.
* Art. 21: the rate is monitored: ``fraud_rate_report`` is a pure function over a port of
  payment and fraud-report records, run as often as the operator schedules it.

Per band, two rates are computed: the overall rate of every remote card payment, and the rate of
the payments up to the band's threshold value. A band is offered only when both are at or below
its reference rate, and never without payments in the window (a rate of nothing cannot be
shown to be low).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

WINDOW = dt.timedelta(days=90)


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
