"""Each named query (modules/data_lake/queries/*.sql, the text Athena runs) run locally through
the same transpilation `make lake-query` uses, on generated events whose answers are computed
here in plain Python; a redelivered copy of events must not change any answer."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

from functions.domain.fraud_rate import ANNEX_REMOTE_CARD_BANDS, BandRate
from local import lake
from local.lake_events import fraud_alerts, payment_events
from tests.unit.lake.lake_fixtures import read, write_alerts, write_partitioned

EVENTS = list(payment_events(400, seed=11, days=3))
# Firehose delivers at least once: the first 50 events land twice.
DELIVERED = EVENTS + EVENTS[:50]


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root: Path = tmp_path_factory.mktemp("lake") / "payment_events"
    write_partitioned(DELIVERED, root)
    return read(root)


def run(name: str, table: Any, params: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    result = lake.run_query(lake.query_sql(name), {"payment_events": table}, params)
    rows: list[dict[str, Any]] = result.to_pylist()
    return rows


def half_up(value: float) -> float:
    """SQL's ROUND(x, 4) rounds half away from zero; Python's round() rounds half to even."""
    return float(Decimal(str(value)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def kind(event: dict[str, Any]) -> str:
    return str(event["event_id"].split(":")[1])


def test_every_query_file_is_tested() -> None:
    tested = {
        "daily_settlement",
        "approval_by_card_country",
        "merchant_fraud_and_refunds",
        "payment_positions",
        "fraud_alert_rate",
        "sca_exemption_bands",
    }
    assert set(lake.query_names()) == tested


def test_daily_settlement(table: Any) -> None:
    expected: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for e in EVENTS:
        key = (e["occurred_at"][:10], e["merchant_id"], e["currency"])
        if kind(e) == "payment.captured":
            expected[key][0] += 1
            expected[key][1] += e["operation_amount"]
        elif kind(e) == "payment.refunded":
            expected[key][2] += e["operation_amount"]
    rows = run("daily_settlement", table)
    got = {
        (r["event_date"], r["merchant_id"], r["currency"]): [
            r["captured_payments"],
            r["captured_minor"],
            r["refunded_minor"],
        ]
        for r in rows
    }
    assert got == dict(expected)
    assert all(r["net_minor"] == r["captured_minor"] - r["refunded_minor"] for r in rows)
    assert [(r["event_date"], r["merchant_id"], r["currency"]) for r in rows] == sorted(got)


def test_approval_by_card_country(table: Any) -> None:
    outcomes: Counter[tuple[str, str]] = Counter()
    for e in EVENTS:
        if kind(e) == "payment.authorized":
            outcomes[(e["card_country"] or "unknown", "approved")] += 1
        elif kind(e) == "payment.declined":
            outcomes[(e["card_country"] or "unknown", e["decline_code"])] += 1
    per_country: Counter[str] = Counter()
    for (country, _), n in outcomes.items():
        per_country[country] += n
    rows = run("approval_by_card_country", table)
    assert {(r["card_country"], r["outcome"]): r["attempts"] for r in rows} == dict(outcomes)
    for r in rows:
        country = r["card_country"]
        assert r["country_attempts"] == per_country[country]
        assert r["share"] == pytest.approx(half_up(r["attempts"] / per_country[country]))
        approved = outcomes.get((country, "approved"), 0)
        assert r["approval_rate"] == pytest.approx(half_up(approved / per_country[country]))


def test_merchant_fraud_and_refunds(table: Any) -> None:
    stats: dict[str, Counter[str]] = defaultdict(Counter)
    for e in EVENTS:
        s = stats[e["merchant_id"]]
        if kind(e) in ("payment.authorized", "payment.declined"):
            s["attempts"] += 1
        if e["decline_code"] == "fraud_suspected":
            s["fraud"] += 1
        if kind(e) == "payment.captured":
            s["captured"] += e["operation_amount"]
        if kind(e) == "payment.refunded":
            s["refunded"] += e["operation_amount"]
    rows = run("merchant_fraud_and_refunds", table)
    assert [r["merchant_id"] for r in rows] == sorted(stats)
    for r in rows:
        s = stats[r["merchant_id"]]
        assert (r["attempts"], r["fraud_declines"]) == (s["attempts"], s["fraud"])
        assert (r["captured_minor"], r["refunded_minor"]) == (s["captured"], s["refunded"])
        assert r["fraud_decline_rate"] == pytest.approx(half_up(s["fraud"] / s["attempts"]))
        assert r["refund_ratio"] == pytest.approx(half_up(s["refunded"] / s["captured"]))
    assert any(r["fraud_declines"] > 0 for r in rows)


def test_payment_positions_over_a_window(table: Any) -> None:
    window = ("2026-01-02", "2026-01-02")
    in_window = [e for e in EVENTS if window[0] <= e["occurred_at"][:10] <= window[1]]
    expected: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for e in in_window:
        expected[e["payment_id"]]
        if kind(e) == "payment.captured":
            expected[e["payment_id"]][0] += e["operation_amount"]
        elif kind(e) == "payment.refunded":
            expected[e["payment_id"]][1] += e["operation_amount"]
    rows = run("payment_positions", table, window)
    assert {r["payment_id"]: [r["captured_minor"], r["refunded_minor"]] for r in rows} == dict(
        expected
    )
    assert all(r["balance_minor"] == r["captured_minor"] - r["refunded_minor"] for r in rows)
    assert all(r["events_complete"] for r in rows)


def test_a_missing_capture_shows_as_incomplete(tmp_path: Path) -> None:
    captured = next(e for e in EVENTS if kind(e) == "payment.refunded")
    # The refund's event reports the capture; the capture's own event never landed.
    events = [
        e
        for e in EVENTS
        if e["payment_id"] == captured["payment_id"] and kind(e) != "payment.captured"
    ]
    root = tmp_path / "payment_events"
    write_partitioned(events, root)
    (row,) = run("payment_positions", read(root), ("2026-01-01", "2026-01-31"))
    assert row["payment_id"] == captured["payment_id"] and row["events_complete"] is False


ALERTS = list(fraud_alerts(EVENTS, seed=5))


def later_attempts(minutes: int) -> list[dict[str, Any]]:
    """Another attempt with each alerted card, ``minutes`` after its first: inside an alert's
    window or past it."""
    cards = {a["subject"] for a in ALERTS if a["subject_type"] == "card"}
    out = []
    for e in EVENTS:
        if e["platform_card_key"] in cards and kind(e) in (
            "payment.authorized",
            "payment.declined",
        ):
            at = dt.datetime.fromisoformat(e["occurred_at"]) + dt.timedelta(minutes=minutes)
            out.append(
                {
                    **e,
                    "event_id": f"{e['payment_id']}r{minutes}:{kind(e)}",
                    "occurred_at": at.isoformat(timespec="milliseconds"),
                }
            )
    return out


def card_windows(alerts: list[dict[str, Any]]) -> dict[str, list[tuple[str, str]]]:
    """Each card's alert windows, an alert repeated under one id counted over its widest."""
    widest: dict[str, tuple[str, str, str]] = {}
    for a in alerts:
        if a["subject_type"] == "card":
            first, last, _ = widest.get(a["alert_id"], (a["first_seen"], a["last_seen"], ""))
            widest[a["alert_id"]] = (
                min(first, a["first_seen"]),
                max(last, a["last_seen"]),
                a["subject"],
            )
    windows: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for first, last, card in widest.values():
        windows[card].append((first, last))
    return windows


def test_fraud_alert_rate(tmp_path: Path) -> None:
    events = EVENTS + later_attempts(3) + later_attempts(120)
    write_partitioned(events + events[:50], tmp_path / "payment_events")  # redelivered too
    payments = read(tmp_path / "payment_events")
    alerts = write_alerts(ALERTS + ALERTS[:10], tmp_path / "fraud_alerts")
    windows = card_windows(ALERTS)
    stats: dict[str, Counter[str]] = defaultdict(Counter)
    for e in events:
        if kind(e) not in ("payment.authorized", "payment.declined"):
            continue
        at = e["occurred_at"]
        stats[e["merchant_id"]]["attempts"] += 1
        if any(f <= at <= last for f, last in windows.get(e["platform_card_key"], [])):
            stats[e["merchant_id"]]["alerted"] += 1
    result = lake.run_query(
        lake.query_sql("fraud_alert_rate"), {"payment_events": payments, "fraud_alerts": alerts}
    )
    rows = result.to_pylist()
    assert [r["merchant_id"] for r in rows] == sorted(stats)
    for r in rows:
        s = stats[r["merchant_id"]]
        assert (r["attempts"], r["alerted_attempts"]) == (s["attempts"], s["alerted"])
        assert r["alert_rate"] == pytest.approx(half_up(s["alerted"] / s["attempts"]))
    # Attempts inside a window count, those two hours later do not.
    assert 0 < sum(r["alerted_attempts"] for r in rows) < sum(r["attempts"] for r in rows)


BAND_NAMES = ("up_to_100_eur", "100_to_250_eur", "250_to_500_eur")
ALL_BANDS = (*BAND_NAMES, "above_500_eur", "no_eur_amount")


def exemption_bands(
    events: list[dict[str, Any]], alerts: list[dict[str, Any]], since: str, until: str
) -> dict[tuple[str, str], dict[str, Any]]:
    """The query's answer in plain Python, the Annex bands and their exact comparison taken
    from the domain's fraud-rate monitoring (functions/domain/fraud_rate.py)."""
    windows = card_windows(alerts)
    authorized = {
        e["event_id"]: e
        for e in events
        if kind(e) == "payment.authorized" and since <= e["occurred_at"][:10] <= until
    }
    cells: dict[tuple[int, str], Counter[str]] = defaultdict(Counter)
    for e in authorized.values():
        amount = e["amount_eur_minor"]
        band = (
            5
            if amount is None
            else next(
                (
                    i
                    for i, b in enumerate(ANNEX_REMOTE_CARD_BANDS, 1)
                    if amount <= b.limit_eur_minor
                ),
                4,
            )
        )
        outcome = e["sca_exemption"] or ("sca" if e["sca_required"] else "out_of_scope")
        fraud = any(
            f <= e["occurred_at"] <= last for f, last in windows.get(e["platform_card_key"], [])
        )
        cell = cells[(band, outcome)]
        cell["payments"] += 1
        cell["value"] += amount or 0
        cell["fraud_payments"] += fraud
        cell["fraud_value"] += (amount or 0) * fraud
    overall_value = sum(c["value"] for (b, _), c in cells.items() if b < 5)
    overall_fraud = sum(c["fraud_value"] for (b, _), c in cells.items() if b < 5)
    out = {}
    for (band, outcome), c in cells.items():
        annex = ANNEX_REMOTE_CARD_BANDS[band - 1] if band <= 3 else None
        name = ALL_BANDS[band - 1]
        row: dict[str, Any] = {
            "payments": c["payments"],
            "value_eur_minor": c["value"],
            "fraud_payments": c["fraud_payments"],
            "fraud_value_eur_minor": c["fraud_value"],
            "fraud_rate_percent": half_up(100 * c["fraud_value"] / c["value"])
            if c["value"]
            else None,
            "band_fraud_rate_percent": None,
            "tra_band_within_reference": False,
        }
        if annex is not None:
            upto = [v for (b, _), v in cells.items() if b <= band]
            rate = BandRate(
                annex, sum(v["fraud_value"] for v in upto), sum(v["value"] for v in upto)
            )
            overall = BandRate(annex, overall_fraud, overall_value)
            reference = annex.reference_rate_percent
            row["band_fraud_rate_percent"] = half_up(float(rate.rate_percent or 0))
            row["tra_band_within_reference"] = rate.at_or_below(reference) and overall.at_or_below(
                reference
            )
        out[(name, outcome)] = row
    return out


def run_exemption_bands(
    tmp_path: Path,
    events: list[dict[str, Any]],
    alerts: list[dict[str, Any]],
    window: tuple[str, str],
) -> list[dict[str, Any]]:
    write_partitioned(events + events[:50], tmp_path / "payment_events")  # redelivered too
    tables = {
        "payment_events": read(tmp_path / "payment_events"),
        "fraud_alerts": write_alerts(alerts + alerts[:10], tmp_path / "fraud_alerts"),
    }
    rows: list[dict[str, Any]] = lake.run_query(
        lake.query_sql("sca_exemption_bands"), tables, window
    ).to_pylist()
    return rows


def test_sca_exemption_bands(tmp_path: Path) -> None:
    window = ("2026-01-02", "2026-01-03")  # the first of the three days stays out
    rows = run_exemption_bands(tmp_path, EVENTS, ALERTS, window)
    expected = exemption_bands(EVENTS, ALERTS, *window)
    got = {
        (r["amount_band"], r["sca_outcome"]): {k: r[k] for k in next(iter(expected.values()))}
        for r in rows
    }
    assert got == expected
    outcomes = {outcome for _, outcome in got}
    assert {"low_value", "transaction_risk_analysis", "sca", "out_of_scope"} <= outcomes
    assert sum(r["fraud_payments"] for r in rows) > 0
    assert sum(r["payments"] for r in rows) < sum(
        1 for e in EVENTS if kind(e) == "payment.authorized"
    )
    for r in rows:
        band = BAND_NAMES.index(r["amount_band"]) if r["amount_band"] in BAND_NAMES else None
        assert r["reference_rate_percent"] == (
            None if band is None else float(ANNEX_REMOTE_CARD_BANDS[band].reference_rate_percent)
        )
    assert [r["amount_band"] for r in rows] == sorted(
        (r["amount_band"] for r in rows),
        key=ALL_BANDS.index,
    )


def test_a_band_is_within_its_reference_only_while_the_fraud_value_is(tmp_path: Path) -> None:
    """One fraud of the smallest payment keeps every band at or below its reference rate; make
    that payment EUR 450 and the overall rate exceeds every band's reference (Art. 19: a band
    needs both its own and the overall rate within)."""
    authorized = [e for e in EVENTS if kind(e) == "payment.authorized"]
    small = min(authorized, key=lambda e: e["amount_eur_minor"])
    alert = {
        **next(a for a in ALERTS if a["subject_type"] == "card"),
        "subject": small["platform_card_key"],
        "first_seen": small["occurred_at"],
        "last_seen": small["occurred_at"],
    }
    window = ("2026-01-01", "2026-01-31")
    within = run_exemption_bands(tmp_path / "small", EVENTS, [alert], window)
    assert sum(r["fraud_payments"] for r in within) == 1
    assert all(r["tra_band_within_reference"] == (r["amount_band"] in BAND_NAMES) for r in within)
    large = [
        {**e, "amount_eur_minor": 45_000} if e["payment_id"] == small["payment_id"] else e
        for e in EVENTS
    ]
    exceeded = run_exemption_bands(tmp_path / "large", large, [alert], window)
    assert {r["amount_band"] for r in exceeded if r["tra_band_within_reference"]} == set()
    assert exemption_bands(large, [alert], *window) == {
        (r["amount_band"], r["sca_outcome"]): {
            k: r[k] for k in next(iter(exemption_bands(large, [alert], *window).values()))
        }
        for r in exceeded
    }
