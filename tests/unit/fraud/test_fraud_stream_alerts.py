"""The stream's alert rules (``domain.fraud_stream``): each typology fires at its threshold and
not below, on the right subject; a merchant is alerted on, never blocked; one burst names one
alert per window period; the settings refuse what the module refuses."""

from __future__ import annotations

import pytest

from functions.domain.fraud import FraudDecision
from functions.domain.fraud_features import (
    FEATURE_NAMES,
    FraudEvent,
    InMemoryFeatureCounters,
    SubjectType,
    features_from,
)
from functions.domain.fraud_model import ModelAssessment
from functions.domain.fraud_stream import AlertRules, Typology, detect

T0 = 1_764_590_400  # 2025-12-01T12:00:00Z, a whole hour
RULES = AlertRules(cards_per_device_1h=3, attempts_per_card_10m=3, cards_per_bin_10m=4)
CALM = ModelAssessment(0.01, 1, FraudDecision.ALLOW, ("amount_eur",), "m")


def attempt(n: int, *, card: str = "", device: str = "d", bin_: str = "411111") -> FraudEvent:
    return FraudEvent(
        event_id=f"e{n}",
        occurred_at=T0 + n,
        card=card or f"card#ck_{n}",
        merchant_id="m_1",
        amount_eur_minor=100,
        bin=bin_,
        device_id=device,
        ip=f"203.0.113.{n}",
    )


def alerts_after(
    events: list[FraudEvent], model: ModelAssessment = CALM
) -> list[tuple[str, str, str]]:
    counters = InMemoryFeatureCounters()
    for event in events:
        counters.apply(event)
    last = events[-1]
    counted = {s: dict(counters.buckets(s)) for s in last.subjects()}
    found = detect(last, features_from(last, counters), counted, model, RULES)
    return [(a.typology.value, a.subject_type.value, a.subject) for a in found]


def test_card_testing_fires_on_the_device_at_its_threshold_and_not_below() -> None:
    # features_from reads the counters with the last attempt counted: the distinct cards so far.
    assert alerts_after([attempt(n) for n in range(2)]) == []
    assert alerts_after([attempt(n) for n in range(3)]) == [("card_testing", "device", "d")]


def test_a_stolen_cards_burst_is_raised_on_the_card() -> None:
    burst = [attempt(n, card="card#ck_x", device=f"d{n}") for n in range(3)]
    assert alerts_after(burst) == [("card_burst", "card", "card#ck_x")]


def test_a_bin_attack_is_an_alert_on_the_merchant_that_blocks_nothing() -> None:
    attack = [attempt(n, device=f"d{n}") for n in range(4)]
    counters = InMemoryFeatureCounters()
    for event in attack:
        counters.apply(event)
    last = attack[-1]
    counted = {s: dict(counters.buckets(s)) for s in last.subjects()}
    (alert,) = detect(last, features_from(last, counters), counted, CALM, RULES)
    assert (alert.typology, alert.subject_type, alert.blocks) == (
        Typology.BIN_ATTACK,
        SubjectType.MERCHANT,
        False,
    )
    assert alert.first_seen == T0 - T0 % 60 and alert.last_seen == T0 + 3


def test_the_model_raises_on_the_card_at_the_block_score() -> None:
    risky = ModelAssessment(0.97, 97, FraudDecision.BLOCK, ("card_count_1h", "amount_eur"), "m")
    found = alerts_after([attempt(0)], risky)
    assert found == [("model_high_risk", "card", "card#ck_0")]


def test_one_burst_names_one_alert_per_period() -> None:
    def ids(events: list[FraudEvent]) -> set[str]:
        counters = InMemoryFeatureCounters()
        out = set()
        for event in events:
            counters.apply(event)
            counted = {s: dict(counters.buckets(s)) for s in event.subjects()}
            feats = features_from(event, counters)
            out |= {a.alert_id for a in detect(event, feats, counted, CALM, RULES)}
        return out

    # One BIN per card, so only the device's card testing fires.
    assert len(ids([attempt(n, bin_=f"4{n:05d}") for n in range(6)])) == 1
    later = [attempt(n, bin_=f"4{n:05d}") for n in range(3)] + [
        FraudEvent(f"l{n}", T0 + 3_600 + n, f"card#ck_l{n}", "m_1", 100, device_id="d")
        for n in range(3)
    ]
    assert len(ids(later)) == 2  # the next hour's burst is a new alert


def test_every_rule_reads_a_feature_the_features_have() -> None:
    assert {"device_distinct_cards_1h", "ip_distinct_cards_1h", "card_count_10m"} <= set(
        FEATURE_NAMES
    )


@pytest.mark.parametrize(
    "text",
    [
        '{"cards_per_device_1h": 1}',
        '{"model_block_score": 0}',
        '{"block_ttl_seconds": 5}',
        '{"unknown": 3}',
        '{"cards_per_ip_1h": 2.5}',
        '{"cards_per_ip_1h": true}',
        "[1]",
    ],
)
def test_alerting_settings_out_of_range_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"must|unknown|object"):
        AlertRules.from_json(text)


def test_alerting_settings_as_the_module_writes_them() -> None:
    rules = AlertRules.from_json('{"cards_per_device_1h": 5, "block_ttl_seconds": 86400}')
    assert (rules.cards_per_device_1h, rules.block_ttl_seconds, rules.cards_per_ip_1h) == (
        5,
        86_400,
        8,
    )
    assert AlertRules.from_json("") == AlertRules()
