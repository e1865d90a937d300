"""Fraud scoring in the payment hot path: weighted rules now, a trained model later.

``FraudScorer`` is the interface the workflow calls; ``RulesFraudScorer`` implements it with
explainable rules. Each rule that fires adds its weight; the score is the sum capped at 100, so
a signal that fires can only raise the score. The country rules are the exception: they all
describe one fact ("the card, the IP and the customer are not all in one country"), so the
group adds the weight of its heaviest fired rule once (max, not sum); every fired rule is still
listed as a reason.

* Amount: compared in EUR. Without a EUR amount the raw amount is used when the currency is
  EUR; otherwise the amount rules stay silent (an unconvertible amount cannot be judged
  against EUR limits, and the SCA decision already refuses exemptions for it). Above the limit
  fires ``amount_above_limit`` instead of ``amount_unusual``, never both.
* Velocity: the counts are of *previous* payments in the last hour, so with a limit of 5 the
  rule fires on the 6th payment (5 previous).
* Countries: a pair is a mismatch only when both countries are known. Cross-border use inside
  the EEA and the UK (``geo.SCA_AREA``: one card market, SCA on both sides) is ordinary: when
  every mismatching country is in that area only ``country_mismatch_intra_eea_uk`` fires (low
  weight) instead of the pair rules.

Each reason belongs to a class of risk factor of Art. 18(2)(c) of the RTS on SCA (Commission
Delegated Regulation (EU) 2018/389) (``RISK_FACTOR_OF``); the SCA step refuses the
transaction-risk-analysis exemption when any of them fired.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Protocol

from .geo import SCA_AREA

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
    COUNTRY_MISMATCH_INTRA_EEA_UK = "country_mismatch_intra_eea_uk"
    # The fraud stream blocked the card, device or IP (an alert it raised; modules/fraud_stream).
    STREAM_BLOCKED_CARD = "stream_blocked_card"
    STREAM_BLOCKED_DEVICE = "stream_blocked_device"
    STREAM_BLOCKED_IP = "stream_blocked_ip"


CROSS_BORDER_REASONS = (
    Reason.COUNTRY_MISMATCH_CARD_IP,
    Reason.COUNTRY_MISMATCH_CARD_CUSTOMER,
    Reason.COUNTRY_MISMATCH_IP_CUSTOMER,
)
COUNTRY_REASONS = frozenset({*CROSS_BORDER_REASONS, Reason.COUNTRY_MISMATCH_INTRA_EEA_UK})


class RiskFactor(StrEnum):
    """The risk factors of Art. 18(2)(c) RTS: none may be present for the TRA exemption."""

    ABNORMAL_SPENDING = "abnormal_spending"  # (c)(i) abnormal spending or behavioural pattern
    UNUSUAL_DEVICE = "unusual_device"  # (c)(ii) unusual device or software access information
    MALWARE = "malware"  # (c)(iii) malware infection in a session of the authentication
    KNOWN_FRAUD_SCENARIO = "known_fraud_scenario"  # (c)(iv) e.g. card testing (velocity)
    ABNORMAL_PAYER_LOCATION = "abnormal_payer_location"  # (c)(v)
    HIGH_RISK_PAYEE_LOCATION = "high_risk_payee_location"  # (c)(vi)
    UNCLASSIFIED = "unclassified"  # a reason this code does not know: counted as a risk


# A reason missing here is not a risk factor (intra-EEA/UK use is ordinary).
RISK_FACTOR_OF: Mapping[Reason, RiskFactor] = MappingProxyType(
    {
        Reason.AMOUNT_ABOVE_LIMIT: RiskFactor.ABNORMAL_SPENDING,
        Reason.AMOUNT_UNUSUAL: RiskFactor.ABNORMAL_SPENDING,
        Reason.VELOCITY_CARD: RiskFactor.KNOWN_FRAUD_SCENARIO,
        Reason.VELOCITY_DEVICE: RiskFactor.UNUSUAL_DEVICE,
        Reason.COUNTRY_MISMATCH_CARD_IP: RiskFactor.ABNORMAL_PAYER_LOCATION,
        Reason.COUNTRY_MISMATCH_CARD_CUSTOMER: RiskFactor.ABNORMAL_PAYER_LOCATION,
        Reason.COUNTRY_MISMATCH_IP_CUSTOMER: RiskFactor.ABNORMAL_PAYER_LOCATION,
        Reason.STREAM_BLOCKED_CARD: RiskFactor.KNOWN_FRAUD_SCENARIO,
        Reason.STREAM_BLOCKED_DEVICE: RiskFactor.KNOWN_FRAUD_SCENARIO,
        Reason.STREAM_BLOCKED_IP: RiskFactor.KNOWN_FRAUD_SCENARIO,
    }
)


def risk_factors(reasons: Iterable[str]) -> frozenset[RiskFactor]:
    """The Art. 18(2)(c) classes among fired ``reasons``; an unknown reason (a newer scorer's)
    counts as ``UNCLASSIFIED``, never as no risk."""
    found: set[RiskFactor] = set()
    for name in reasons:
        try:
            reason = Reason(name)
        except ValueError:
            found.add(RiskFactor.UNCLASSIFIED)
            continue
        factor = RISK_FACTOR_OF.get(reason)
        if factor is not None:
            found.add(factor)
    return frozenset(found)


DEFAULT_WEIGHTS: Mapping[Reason, int] = MappingProxyType(
    {
        Reason.AMOUNT_ABOVE_LIMIT: 60,
        Reason.AMOUNT_UNUSUAL: 25,
        Reason.VELOCITY_CARD: 40,
        Reason.VELOCITY_DEVICE: 30,
        Reason.COUNTRY_MISMATCH_CARD_IP: 25,
        Reason.COUNTRY_MISMATCH_CARD_CUSTOMER: 15,
        Reason.COUNTRY_MISMATCH_IP_CUSTOMER: 20,
        Reason.COUNTRY_MISMATCH_INTRA_EEA_UK: 5,
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
        # A cross-border mismatch replaces the intra-EEA/UK one in the same way.
        intra = weights[Reason.COUNTRY_MISMATCH_INTRA_EEA_UK]
        for pair in CROSS_BORDER_REASONS:
            if weights[pair] < intra:
                raise ValueError(
                    f"weights.{pair.value} must be at least "
                    f"weights.{Reason.COUNTRY_MISMATCH_INTRA_EEA_UK.value}"
                )
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
        others = sum(rules.weight(reason) for reason in fired if reason not in COUNTRY_REASONS)
        countries = max(
            (rules.weight(reason) for reason in fired if reason in COUNTRY_REASONS), default=0
        )
        score = min(MAX_SCORE, others + countries)
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
    fired.extend(_country_reasons(signals))
    return fired


def _outside_area(*countries: str | None) -> bool:
    return any(c is not None and c.upper() not in SCA_AREA for c in countries)


def _country_reasons(signals: FraudSignals) -> list[Reason]:
    pairs = (
        (Reason.COUNTRY_MISMATCH_CARD_IP, signals.card_country, signals.ip_country),
        (Reason.COUNTRY_MISMATCH_CARD_CUSTOMER, signals.card_country, signals.customer_country),
        (Reason.COUNTRY_MISMATCH_IP_CUSTOMER, signals.ip_country, signals.customer_country),
    )
    mismatched = [(reason, a, b) for reason, a, b in pairs if _mismatch(a, b)]
    cross_border = [reason for reason, a, b in mismatched if _outside_area(a, b)]
    if cross_border:
        return cross_border
    return [Reason.COUNTRY_MISMATCH_INTRA_EEA_UK] if mismatched else []
