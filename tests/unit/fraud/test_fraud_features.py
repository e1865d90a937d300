"""The velocity counters under at-least-once, out-of-order delivery (hypothesis), checked
against a brute-force count of the raw events, and the sketches behind the distinct counts."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.domain.fraud_features import (
    FEATURE_NAMES,
    HORIZON_SECONDS,
    SKETCH_SIZE,
    WINDOWS,
    Buckets,
    FraudEvent,
    InMemoryFeatureCounters,
    Sketch,
    SubjectKey,
    event_buckets,
    features,
    features_from,
    merge_buckets,
    replay,
    value_hash,
)

T0 = 1_767_225_600
CARDS = ("tok_a", "tok_b", "tok_c")
DEVICES = ("dev_1", "dev_2", None)
IPS = ("ip_1", "ip_2", None)
COUNTRIES = ("DE", "FR", "US", None)


@st.composite
def event_sets(draw: st.DrawFn, span: int = 3 * 86_400) -> list[FraudEvent]:
    """Distinct events over ``span`` seconds, clustered so windows hold several at once."""
    size = draw(st.integers(min_value=1, max_value=25))
    centre = draw(st.integers(min_value=0, max_value=span))
    events = []
    for i in range(size):
        spread = draw(st.sampled_from((60, 900, 7_200, span)))
        at = T0 + max(0, centre + draw(st.integers(min_value=-spread, max_value=spread)))
        events.append(
            FraudEvent(
                event_id=f"evt_{i}",
                occurred_at=at,
                card=draw(st.sampled_from(CARDS)),
                merchant_id=draw(st.sampled_from(("m_1", "m_2"))),
                amount_eur_minor=draw(st.integers(min_value=0, max_value=100_000)),
                declined=draw(st.booleans()),
                bin=draw(st.sampled_from(("400000", "411111"))),
                device_id=draw(st.sampled_from(DEVICES)),
                ip=draw(st.sampled_from(IPS)),
                card_country="DE",
                ip_country=draw(st.sampled_from(COUNTRIES)),
            )
        )
    return events


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[FraudEvent], list[FraudEvent]]:
    """The events, and one at-least-once delivery of them: any order, some twice or more."""
    events = draw(event_sets())
    repeats = draw(st.lists(st.sampled_from(events), max_size=15))
    delivered = draw(st.permutations([*events, *repeats]))
    return events, delivered


def _counters(events: list[FraudEvent]) -> InMemoryFeatureCounters:
    counters = InMemoryFeatureCounters()
    for event in events:
        counters.apply(event)
    return counters


@settings(max_examples=40, deadline=None)
@given(deliveries())
def test_duplicates_and_reordering_leave_the_same_counters(
    case: tuple[list[FraudEvent], list[FraudEvent]],
) -> None:
    events, delivered = case
    in_order = _counters(sorted(events, key=lambda e: (e.occurred_at, e.event_id)))
    as_delivered = _counters(delivered)
    assert as_delivered.snapshot() == in_order.snapshot()
    assert as_delivered.watermark == in_order.watermark
    # And so the features of the next payment are the same, whatever the delivery.
    probe = FraudEvent(
        "evt_probe", in_order.watermark or T0, "tok_a", "m_1", 500, device_id="dev_1"
    )
    assert features_from(probe, as_delivered) == features_from(probe, in_order)


@settings(max_examples=15, deadline=None)
@given(deliveries())
def test_a_redelivered_event_is_not_counted_again(
    case: tuple[list[FraudEvent], list[FraudEvent]],
) -> None:
    events, delivered = case
    counters = InMemoryFeatureCounters()
    applied = [event.event_id for event in delivered if counters.apply(event)]
    # The span (3 days) is inside the horizon, so each event counts exactly once.
    assert sorted(applied) == sorted(event.event_id for event in events)


def _expected(history: list[FraudEvent], event: FraudEvent) -> dict[str, float]:
    """Brute force over the raw events: what a window of each subject holds at ``event``."""
    out: dict[str, float] = {}
    for window in WINDOWS:
        first, last = window.first_bucket(event.occurred_at), window.bucket_of(event.occurred_at)
        inside = [e for e in history if first <= window.bucket_of(e.occurred_at) <= last]
        for name, same in (
            ("card", [e for e in inside if e.card == event.card]),
            ("device", [e for e in inside if event.device_id and e.device_id == event.device_id]),
            ("ip", [e for e in inside if event.ip and e.ip == event.ip]),
            ("merchant", [e for e in inside if e.merchant_id == event.merchant_id]),
            ("bin", [e for e in inside if event.bin and e.bin == event.bin]),
        ):
            out[f"{name}_count_{window.name}"] = float(len(same))
            out[f"{name}_amount_eur_{window.name}"] = sum(e.amount_eur_minor for e in same) / 100
            declines = sum(e.declined for e in same)
            out[f"{name}_decline_ratio_{window.name}"] = declines / len(same) if same else 0.0
            out[f"{name}_distinct_cards_{window.name}"] = float(len({e.card for e in same}))
        cards = [e for e in inside if e.card == event.card]
        devices = {e.device_id for e in cards if e.device_id}
        countries = {e.ip_country for e in cards if e.ip_country}
        out[f"card_distinct_devices_{window.name}"] = float(len(devices))
        out[f"card_distinct_countries_{window.name}"] = float(len(countries))
        if window.name == "7d":
            known = bool(cards)
            out["card_first_seen_7d"] = 0.0 if known else 1.0
            out["card_new_device_7d"] = float(
                known and bool(event.device_id) and event.device_id not in devices
            )
            out["card_new_country_7d"] = float(
                known and bool(event.ip_country) and event.ip_country not in countries
            )
    return out


@settings(max_examples=30, deadline=None)
@given(event_sets(span=10 * 86_400))
def test_replayed_features_match_a_brute_force_count(events: list[FraudEvent]) -> None:
    ordered = sorted(events, key=lambda e: (e.occurred_at, e.event_id))
    for index, (event, row) in enumerate(replay(events)):
        assert event is ordered[index]
        expected = _expected(ordered[:index], event)
        assert set(row) == set(FEATURE_NAMES)
        for name in FEATURE_NAMES:
            if name in expected:
                assert row[name] == pytest.approx(expected[name]), name


@settings(max_examples=20, deadline=None)
@given(event_sets(), st.randoms(use_true_random=False))
def test_counters_built_apart_merge_into_the_counters_of_all(
    events: list[FraudEvent], rnd: random.Random
) -> None:
    """Two consumers (shards) that saw disjoint events merge bucket by bucket (the DynamoDB
    ``ADD`` of each shard's deltas) into what one consumer of all of them would hold."""
    left = [e for e in events if rnd.random() < 0.5]
    right = [e for e in events if e not in left]
    whole = _counters(events).snapshot()[0]
    merged: dict[SubjectKey, Buckets] = {}
    for part in (left, right):
        for event in part:
            for subject in event.subjects():
                merge_buckets(merged.setdefault(subject, {}), event_buckets(event, subject[0]))
    watermark = max(e.occurred_at for e in events)
    firsts = {w.name: w.first_bucket(watermark) for w in WINDOWS}
    reachable = {
        subject: {k: b for k, b in buckets.items() if k[1] >= firsts[k[0]]}
        for subject, buckets in merged.items()
    }
    assert {s: b for s, b in reachable.items() if b} == whole


def test_an_event_older_than_every_window_is_ignored_and_not_remembered() -> None:
    counters = InMemoryFeatureCounters()
    assert counters.apply(FraudEvent("evt_new", T0 + HORIZON_SECONDS + 10, "tok_a", "m_1", 100))
    assert not counters.apply(FraudEvent("evt_old", T0, "tok_a", "m_1", 100))
    assert "evt_old" not in counters.snapshot()[1]


def test_the_features_of_an_event_are_of_the_attempts_before_it() -> None:
    first = FraudEvent("evt_1", T0, "tok_a", "m_1", 1_000, device_id="dev_1", ip_country="DE")
    second = FraudEvent("evt_2", T0 + 30, "tok_a", "m_1", 5_000, device_id="dev_2", ip_country="US")
    rows = [row for _, row in replay([second, first])]
    assert rows[0]["card_count_10m"] == 0.0 and rows[0]["card_first_seen_7d"] == 1.0
    assert rows[1]["card_count_10m"] == 1.0 and rows[1]["card_amount_eur_10m"] == 10.0
    assert rows[1]["card_new_device_7d"] == 1.0 and rows[1]["card_new_country_7d"] == 1.0
    assert rows[1]["amount_vs_card_mean_7d"] == 5.0


def test_features_of_a_subject_never_seen_are_empty() -> None:
    row = features(FraudEvent("evt_1", T0, "tok_z", "m_9", 100), {})
    assert row["card_count_24h"] == 0.0 and row["device_distinct_cards_1h"] == 0.0


def test_a_sketch_is_exact_below_its_size_and_close_above_it() -> None:
    small = Sketch()
    for i in range(SKETCH_SIZE - 1):
        small = small.add(value_hash(f"tok_{i}")).add(value_hash(f"tok_{i}"))
    assert small.estimate() == SKETCH_SIZE - 1
    large = Sketch()
    for i in range(2_000):
        large = large.add(value_hash(f"tok_{i}"))
    assert 1_000 < large.estimate() < 4_000
    assert large.contains(value_hash("tok_0")) in (True, None)
    assert small.contains(value_hash("tok_0")) is True
    assert small.contains(value_hash("tok_unseen")) is False


@settings(max_examples=40)
@given(st.lists(st.text(max_size=6), max_size=60), st.lists(st.text(max_size=6), max_size=60))
def test_sketches_merge_as_the_sketch_of_the_union(left: list[str], right: list[str]) -> None:
    def sketch(values: list[str]) -> Sketch:
        out = Sketch()
        for value in values:
            out = out.add(value_hash(value))
        return out

    assert sketch(left).merge(sketch(right)) == sketch(left + right)
    assert sketch(left).merge(sketch(right)) == sketch(right).merge(sketch(left))


def test_an_event_with_a_negative_amount_is_refused() -> None:
    with pytest.raises(ValueError, match="amount_eur_minor"):
        FraudEvent("evt_1", T0, "tok_a", "m_1", -1)
