"""Fraud scoring in the payment hot path: weighted rules now, a trained model later.

``FraudScorer`` is the interface the workflow calls; ``RulesFraudScorer`` implements it with
explainable rules. Each rule that fires adds its weight; the score is the sum capped at 100, so
a signal that fires can only raise the score.

* Amount: compared in EUR. Without a EUR amount the raw amount is used when the currency is
  EUR; otherwise the amount rules stay silent (an unconvertible amount cannot be judged
  against EUR limits, and the SCA decision already refuses exemptions for it). Above the limit
  fires ``amount_above_limit`` instead of ``amount_unusual``, never both.
* Velocity: the counts are of *previous* payments in the last hour, so with a limit of 5 the
  rule fires on the 6th payment (5 previous).
* Countries: a pair is a mismatch only when both countries are known.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Protocol

RULES_MODEL = "rules-v1"
MAX_SCORE = 100


class FraudDecision(StrEnum):
    ALLOW = "allow"
    REVIEW = "review"
    BLOCK = "block"


class Reason(StrEnum):
    AMOUNT_ABOVE_LIMIT = "amount_above_limit"
    AMOUNT_UNUSUAL = "amount_unusual"
    VELOCITY_CARD = "velocity_card"
    VELOCITY_DEVICE = "velocity_device"
    COUNTRY_MISMATCH_CARD_IP = "country_mismatch_card_ip"
    COUNTRY_MISMATCH_CARD_CUSTOMER = "country_mismatch_card_customer"
    COUNTRY_MISMATCH_IP_CUSTOMER = "country_mismatch_ip_customer"


DEFAULT_WEIGHTS: Mapping[Reason, int] = MappingProxyType(
    {
        Reason.AMOUNT_ABOVE_LIMIT: 60,
        Reason.AMOUNT_UNUSUAL: 25,
        Reason.VELOCITY_CARD: 40,
        Reason.VELOCITY_DEVICE: 30,
        Reason.COUNTRY_MISMATCH_CARD_IP: 25,
        Reason.COUNTRY_MISMATCH_CARD_CUSTOMER: 15,
        Reason.COUNTRY_MISMATCH_IP_CUSTOMER: 20,
    }
)


@dataclass(frozen=True, slots=True)
class FraudSignals:
    """What is known of a payment when it is scored. Counts are of the *previous* payments."""

    amount_minor: int
    currency: str
    amount_eur_minor: int | None
    card_country: str | None
    ip_country: str | None
    customer_country: str | None
    card_payments_last_hour: int
    device_payments_last_hour: int

    def __post_init__(self) -> None:
        if self.card_payments_last_hour < 0 or self.device_payments_last_hour < 0:
            raise ValueError("payment counts must not be negative")


@dataclass(frozen=True, slots=True)
class FraudAssessment:
    score: int
    decision: FraudDecision
    reasons: tuple[Reason, ...]
    model: str = RULES_MODEL

    def to_dict(self) -> dict[str, Any]:
        """The ``fraud`` object of the API response."""
        return {
            "score": self.score,
            "decision": self.decision.value,
            "reasons": [reason.value for reason in self.reasons],
        }


class FraudScorer(Protocol):
    def assess(self, signals: FraudSignals) -> FraudAssessment: ...


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class FraudRules:
    """Thresholds and weights of ``RulesFraudScorer``. A weight of 0 switches a rule off."""

    review_threshold: int = 50
    block_threshold: int = 80
    amount_limit_eur_minor: int = 500_000
    amount_unusual_eur_minor: int = 100_000
    card_velocity_per_hour: int = 5
    device_velocity_per_hour: int = 10
    weights: Mapping[Reason, int] = field(default_factory=lambda: DEFAULT_WEIGHTS)

    def __post_init__(self) -> None:
        for spec in fields(self):
            value = getattr(self, spec.name)
            if spec.name != "weights" and (not _is_int(value) or value < 0):
                raise ValueError(f"{spec.name} must be a non-negative integer")
        if self.review_threshold == 0:
            raise ValueError("review_threshold must be above 0")
        if self.block_threshold > MAX_SCORE:
            raise ValueError(f"block_threshold must be at most {MAX_SCORE}")
        if self.review_threshold >= self.block_threshold:
            raise ValueError("review_threshold must be below block_threshold")
        if self.amount_unusual_eur_minor > self.amount_limit_eur_minor:
            raise ValueError("amount_unusual_eur_minor must not exceed amount_limit_eur_minor")
        weights = {**DEFAULT_WEIGHTS}
        for name, weight in self.weights.items():
            try:
                reason = Reason(name)
            except ValueError:
                raise ValueError(f"weights.{name} is not a fraud reason") from None
            if not _is_int(weight) or not 0 <= weight <= MAX_SCORE:
                raise ValueError(f"weights.{name} must be an integer from 0 to {MAX_SCORE}")
            weights[reason] = weight
        # Above the limit replaces "unusual": a lower weight would let a larger amount score less.
        if weights[Reason.AMOUNT_ABOVE_LIMIT] < weights[Reason.AMOUNT_UNUSUAL]:
            raise ValueError("weights.amount_above_limit must be at least weights.amount_unusual")
        object.__setattr__(self, "weights", MappingProxyType(weights))

    @classmethod
    def from_json(cls, text: str) -> FraudRules:
        """Overrides of the defaults: ``{"review_threshold": 40, "weights": {"velocity_card":
        50}}``. Weights not named keep their default. Raises ValueError naming the bad key."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("fraud rules must be a JSON object")
        known = {spec.name for spec in fields(cls)}
        for key in data:
            if key not in known:
                raise ValueError(f"{key} is not a fraud rules setting")
        if "weights" in data and not isinstance(data["weights"], dict):
            raise ValueError("weights must be an object of reason to weight")
        return cls(**data)

    def weight(self, reason: Reason) -> int:
        return self.weights[reason]


class RulesFraudScorer(FraudScorer):
    def __init__(self, rules: FraudRules) -> None:
        self._rules = rules

    def assess(self, signals: FraudSignals) -> FraudAssessment:
        rules = self._rules
        fired = [reason for reason in _firing(signals, rules) if rules.weight(reason) > 0]
        fired.sort(key=lambda reason: (-rules.weight(reason), reason.value))
        score = min(MAX_SCORE, sum(rules.weight(reason) for reason in fired))
        if score >= rules.block_threshold:
            decision = FraudDecision.BLOCK
        elif score >= rules.review_threshold:
            decision = FraudDecision.REVIEW
        else:
            decision = FraudDecision.ALLOW
        return FraudAssessment(score=score, decision=decision, reasons=tuple(fired))


def _eur_amount(signals: FraudSignals) -> int | None:
    if signals.amount_eur_minor is not None:
        return signals.amount_eur_minor
    return signals.amount_minor if signals.currency == "EUR" else None


def _mismatch(left: str | None, right: str | None) -> bool:
    return left is not None and right is not None and left.upper() != right.upper()


def _firing(signals: FraudSignals, rules: FraudRules) -> list[Reason]:
    fired: list[Reason] = []
    amount = _eur_amount(signals)
    if amount is not None:
        if amount > rules.amount_limit_eur_minor:
            fired.append(Reason.AMOUNT_ABOVE_LIMIT)
        elif amount > rules.amount_unusual_eur_minor:
            fired.append(Reason.AMOUNT_UNUSUAL)
    if signals.card_payments_last_hour >= rules.card_velocity_per_hour:
        fired.append(Reason.VELOCITY_CARD)
    if signals.device_payments_last_hour >= rules.device_velocity_per_hour:
        fired.append(Reason.VELOCITY_DEVICE)
    if _mismatch(signals.card_country, signals.ip_country):
        fired.append(Reason.COUNTRY_MISMATCH_CARD_IP)
    if _mismatch(signals.card_country, signals.customer_country):
        fired.append(Reason.COUNTRY_MISMATCH_CARD_CUSTOMER)
    if _mismatch(signals.ip_country, signals.customer_country):
        fired.append(Reason.COUNTRY_MISMATCH_IP_CUSTOMER)
    return fired
