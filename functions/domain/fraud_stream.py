"""What the fraud stream decides about an authorization attempt once it is counted: which
alerts it raises, on which subject, and which subjects the hot path must decline for a while.

The typologies (docs/models/fraud.md, "The stream"), each a threshold on a feature of
``fraud_features`` read *after* the attempt is counted:

=================  =========  ==========================  ============
typology           subject    feature                      blocks
=================  =========  ==========================  ============
card_testing       device     device_distinct_cards_1h     yes
card_testing       ip         ip_distinct_cards_1h         yes
card_burst         card       card_count_10m               yes
bin_attack         merchant   bin_distinct_cards_10m       no (alert)
model_high_risk    card       the model's score            yes
=================  =========  ==========================  ============

A merchant is never blocked: a BIN attack through one merchant is for a person to look at, and
declining every payment of the merchant would be the attacker's win.

An alert's id is derived from its subject, typology and the window period it fell in, so every
attempt of one burst names the same alert (a redelivered record, or the tenth card of the
same test, raises nothing new), and the next period raises a new one. Pure: no boto3.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from .fraud_features import (
    W1H,
    W10M,
    W24H,
    Buckets,
    FraudEvent,
    SubjectKey,
    SubjectType,
    Window,
)
from .fraud_model import ModelAssessment


class Typology(StrEnum):
    CARD_TESTING = "card_testing"
    CARD_BURST = "card_burst"
    BIN_ATTACK = "bin_attack"
    MODEL_HIGH_RISK = "model_high_risk"


# What the hot path reads: a block on any other subject type would never be honoured.
BLOCKABLE = frozenset({SubjectType.CARD, SubjectType.DEVICE, SubjectType.IP})


@dataclass(frozen=True, slots=True)
class AlertRules:
    """The thresholds (``alerting`` of modules/fraud_stream); each fires at ``>=``."""

    cards_per_device_1h: int = 5
    cards_per_ip_1h: int = 8
    attempts_per_card_10m: int = 6
    cards_per_bin_10m: int = 20
    model_block_score: int = 95  # 101: no model alerts
    block_ttl_seconds: int = 86_400

    def __post_init__(self) -> None:
        for name in ("cards_per_device_1h", "cards_per_ip_1h", "attempts_per_card_10m"):
            if getattr(self, name) < 2:
                raise ValueError(f"{name} must be at least 2")
        if self.cards_per_bin_10m < 2:
            raise ValueError("cards_per_bin_10m must be at least 2")
        if not 1 <= self.model_block_score <= 101:
            raise ValueError("model_block_score must be between 1 and 101")
        if self.block_ttl_seconds < 60:
            raise ValueError("block_ttl_seconds must be at least 60")

    @classmethod
    def from_json(cls, text: str) -> AlertRules:
        """The module's JSON (``FRAUD_ALERTING``); "" keeps the defaults."""
        if not text:
            return cls()
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("FRAUD_ALERTING must be a JSON object")
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown alerting settings: {sorted(unknown)}")
        values = {}
        for name, value in data.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
                raise ValueError(f"{name} must be a whole number")
            values[name] = int(value)
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Alert:
    """A ``fraud.alert`` (``functions.contracts.events.FraudAlertDetail``). ``first_seen`` and
    ``last_seen`` are Unix seconds: the start of the subject's first non-empty bucket in the
    window, and the newest attempt counted."""

    alert_id: str
    subject_type: SubjectType
    subject: str
    typology: Typology
    score: int
    reasons: tuple[str, ...]
    window: str
    first_seen: int
    last_seen: int

    @property
    def blocks(self) -> bool:
        return self.subject_type in BLOCKABLE


@dataclass(frozen=True, slots=True)
class BlockEntry:
    """A block-list entry: ``key`` is :func:`block_key` of the blocked subject."""

    key: str
    alert_id: str
    typology: str
    expires_at: int


def alert_id(subject_type: SubjectType, subject: str, typology: Typology, period: int) -> str:
    digest = hashlib.sha256(f"{subject_type}|{subject}|{typology}|{period}".encode()).hexdigest()
    return f"fa_{digest[:32]}"


def block_key(subject_type: SubjectType, subject: str) -> str:
    """The block list's key of a subject (the hot path looks cards, devices and IPs up by it)."""
    return f"{subject_type.value}#{subject}"


def _first_seen(buckets: Buckets | None, window: Window, at: int) -> int:
    first = window.first_bucket(at)
    starts = [
        start
        for (name, start), bucket in (buckets or {}).items()
        if name == window.name and start >= first and bucket.count > 0
    ]
    return min(starts, default=window.bucket_of(at))


def detect(
    event: FraudEvent,
    after: Mapping[str, float],
    counted: Mapping[SubjectKey, Buckets],
    model: ModelAssessment,
    rules: AlertRules,
) -> list[Alert]:
    """The alerts ``event`` raises. ``after``: its features with the event counted;
    ``counted``: its subjects' buckets with the event counted; ``model``: the model's
    assessment of the attempt (features as of before it, as the hot path scores)."""
    subjects = dict(event.subjects())
    checks: list[tuple[Typology, SubjectType, Window, str, float]] = [
        (
            Typology.CARD_TESTING,
            SubjectType.DEVICE,
            W1H,
            "device_distinct_cards_1h",
            rules.cards_per_device_1h,
        ),
        (Typology.CARD_TESTING, SubjectType.IP, W1H, "ip_distinct_cards_1h", rules.cards_per_ip_1h),
        (
            Typology.CARD_BURST,
            SubjectType.CARD,
            W10M,
            "card_count_10m",
            rules.attempts_per_card_10m,
        ),
        (
            Typology.BIN_ATTACK,
            SubjectType.MERCHANT,
            W10M,
            "bin_distinct_cards_10m",
            rules.cards_per_bin_10m,
        ),
    ]
    fired: list[tuple[Typology, SubjectType, Window, tuple[str, ...]]] = []
    for typology, subject_type, window, feature, threshold in checks:
        if subject_type in subjects and after[feature] >= threshold:
            fired.append((typology, subject_type, window, (feature,)))
    if model.score >= rules.model_block_score:
        fired.append((Typology.MODEL_HIGH_RISK, SubjectType.CARD, W24H, ()))
    alerts = []
    at = event.occurred_at
    for typology, subject_type, window, rule_reasons in fired:
        subject = subjects[subject_type]
        # The BIN attack is watched on the BIN's buckets but reported on the merchant.
        watched = SubjectType.BIN if typology is Typology.BIN_ATTACK else subject_type
        alerts.append(
            Alert(
                alert_id=alert_id(subject_type, subject, typology, at - at % window.seconds),
                subject_type=subject_type,
                subject=subject,
                typology=typology,
                score=model.score,
                reasons=(*rule_reasons, *(r for r in model.reasons if r not in rule_reasons)),
                window=window.name,
                first_seen=_first_seen(counted.get((watched, subjects[watched])), window, at),
                last_seen=at,
            )
        )
    return alerts
