"""A monitored TRA state that offers every Annex band: what the settle run stores after 90
days of remote card payments without fraud, for tests that exercise the TRA rules past the
monitoring check (docs/sca-policy.md: without monitoring no TRA is offered)."""

from __future__ import annotations

import datetime as dt

from functions.domain.fraud_rate import (
    InMemoryFraudRecords,
    RemotePayment,
    TraMonitoring,
    fraud_rate_report,
    monitor,
)

MEASURED_AT = dt.datetime(2026, 11, 22, 6, 30, tzinfo=dt.UTC)


def every_band_offered(now: dt.datetime = MEASURED_AT) -> TraMonitoring:
    records = InMemoryFraudRecords()
    records.payments.append(RemotePayment("p_clean", now - dt.timedelta(days=1), 5_000))
    state = monitor(None, fraud_rate_report(records, now), now).state
    assert all(band.offered for band in state.bands)
    return state


MONITORED = every_band_offered()
