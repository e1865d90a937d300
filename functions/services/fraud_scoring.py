"""The fraud half of the assess step: gather the signals of a tokenized payment (amount in EUR,
velocity per card and per device over the last hour, the card's, IP's and customer's countries)
and score them with the configured scorer (``domain.fraud``).

Card velocity counts per card, not per token (issue 18, finding 9): a token is per customer and
merchant, so a card tester rotating ``customer.id`` got a fresh token and a zero count on every
attempt. The key is ``services.risk.platform_card_key``: the vault's ``card_key`` (a KMS MAC of
the card number, equal for one card at every customer and merchant), or the token only for a
card tokenized before card keys existed. The payments table indexes the same key
(``CARD_INDEX`` on ``CARD_INDEX_ATTRIBUTE``, written by ``adapters.payments_table``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from functions.contracts.steps import FraudInputs, FraudResult, FraudShadow
from functions.domain.fraud import (
    MAX_SCORE,
    FraudAssessment,
    FraudDecision,
    FraudScorer,
    FraudSignals,
    Reason,
)
from functions.domain.fraud_features import Buckets, FraudEvent, SubjectKey, SubjectType, features
from functions.domain.fraud_model import FraudModel, ModelAssessment
from functions.domain.fraud_stream import BlockEntry, block_key
from functions.domain.fx import EurRates
from functions.domain.geo import CountrySource
from functions.services.risk import platform_card_key

VELOCITY_WINDOW = dt.timedelta(hours=1)
CARD_INDEX = "by_card"
# The payment item attribute CARD_INDEX is keyed on (modules/payment_workflow tables.tf).
CARD_INDEX_ATTRIBUTE = "platform_card_key"
DEVICE_INDEX = "by_device"


class VelocitySource(Protocol):
    def count_since(self, index: str, key: str, value: str, since: str) -> int: ...


def signals(
    payment: Mapping[str, Any],
    velocity: VelocitySource,
    rates: EurRates,
    ips: CountrySource,
    issuers: CountrySource,
    now: dt.datetime,
) -> FraudSignals:
    card = payment["card"]
    customer = payment.get("customer") or {}
    since = (now - VELOCITY_WINDOW).isoformat(timespec="milliseconds")
    device = customer.get("device_id")
    return FraudSignals(
        amount_minor=payment["amount"],
        currency=payment["currency"],
        amount_eur_minor=rates.to_eur_minor(payment["amount"], payment["currency"]),
        card_country=issuers.country_of(card.get("first6")),
        ip_country=ips.country_of(customer.get("ip")),
        customer_country=customer.get("country"),
        card_payments_last_hour=velocity.count_since(
            CARD_INDEX, CARD_INDEX_ATTRIBUTE, platform_card_key(card), since
        ),
        device_payments_last_hour=(
            velocity.count_since(DEVICE_INDEX, "device_id", device, since) if device else 0
        ),
    )


def fraud_result(
    assessment: FraudAssessment,
    signals: FraudSignals | None = None,
    ip: str | None = None,
    shadow: ModelAssessment | None = None,
) -> FraudResult:
    """The fraud step's result; with ``signals``, also what it was judged on (``inputs``):
    the payment events carry those to the fraud stream; with ``shadow``, the model's own
    assessment, recorded beside a decision it did not make."""
    inputs = None
    if signals is not None:
        inputs = FraudInputs(
            ip=ip,
            billing_country=signals.customer_country,
            card_country=signals.card_country,
            ip_country=signals.ip_country,
            amount_eur_minor=signals.amount_eur_minor,
        )
    return FraudResult.model_validate(
        {
            **assessment.to_dict(),
            "model": assessment.model,
            "inputs": inputs,
            "shadow": None
            if shadow is None
            else FraudShadow(
                score=shadow.score,
                decision=shadow.decision.value,
                reasons=list(shadow.reasons),
                model=shadow.model,
            ),
        }
    )


# ------------------------------------------------------------------ what the stream knows


class ModelMode(StrEnum):
    """How the trained model (``domain.fraud_model``) takes part in the decision:

    * ``off``: not read (no feature read on the hot path);
    * ``shadow``: scored and recorded beside the decision (``FraudResult.shadow``), never
      deciding: how a model is watched on live traffic before it decides anything;
    * ``strictest``: the stricter of the rules and the model decides, with both reasons.

    The block list is read in every mode: a subject the stream blocked is declined."""

    OFF = "off"
    SHADOW = "shadow"
    STRICTEST = "strictest"


class StreamView(Protocol):
    def read(
        self, event: FraudEvent | None, block_keys: Iterable[str], now: int
    ) -> tuple[dict[SubjectKey, Buckets], list[BlockEntry]]: ...


_BLOCK_REASON = {
    SubjectType.CARD: Reason.STREAM_BLOCKED_CARD,
    SubjectType.DEVICE: Reason.STREAM_BLOCKED_DEVICE,
    SubjectType.IP: Reason.STREAM_BLOCKED_IP,
}
_SEVERITY = {FraudDecision.ALLOW: 0, FraudDecision.REVIEW: 1, FraudDecision.BLOCK: 2}


def model_reason(feature: str) -> Reason:
    """The rules' reason a model feature stands for, so that the SCA step reads the model's
    reasons as Art. 18(2)(c) risk factors (an unknown reason would count as unclassified and
    refuse TRA for every flagged payment): amounts are abnormal spending, device, IP and
    new-device features an unusual device, countries the payer's location, and the card's,
    merchant's and BIN's counts a known fraud scenario (velocity)."""
    if feature.startswith("amount") or "_amount_eur_" in feature:
        return Reason.AMOUNT_UNUSUAL
    if "countr" in feature:
        return Reason.COUNTRY_MISMATCH_CARD_IP
    if feature.startswith(("device_", "ip_")) or "device" in feature:
        return Reason.VELOCITY_DEVICE
    return Reason.VELOCITY_CARD


def stream_event(payment: Mapping[str, Any], signals: FraudSignals, now: dt.datetime) -> FraudEvent:
    """The payment as the stream will count it, for the features as of now."""
    card = payment["card"]
    customer = payment.get("customer") or {}
    return FraudEvent(
        event_id=f"{payment['payment_id']}:assess",
        occurred_at=int(now.timestamp()),
        card=platform_card_key(card),
        merchant_id=payment["merchant_id"],
        amount_eur_minor=signals.amount_eur_minor or 0,
        bin=card.get("first6"),
        device_id=customer.get("device_id"),
        ip=customer.get("ip"),
        card_country=signals.card_country,
        ip_country=signals.ip_country,
        customer_country=signals.customer_country,
    )


def with_stream(
    rules: FraudAssessment,
    event: FraudEvent,
    view: StreamView,
    model: FraudModel,
    mode: ModelMode,
    now: dt.datetime,
) -> tuple[FraudAssessment, ModelAssessment | None]:
    """The rules' assessment with what the stream knows: a blocked card, device or IP blocks
    (score 100, a ``stream_blocked_*`` reason); in ``strictest`` mode the model's decision
    counts when stricter. Answers the model's own assessment too (for ``shadow``)."""
    subjects = dict(event.subjects())
    keys = {block_key(kind, subjects[kind]): kind for kind in _BLOCK_REASON if kind in subjects}
    read, blocks = view.read(
        event if mode is not ModelMode.OFF else None, keys, int(now.timestamp())
    )
    scored = model.assess(features(event, read)) if mode is not ModelMode.OFF else None
    decision, score, reasons = rules.decision, rules.score, list(rules.reasons)
    if scored is not None and mode is ModelMode.STRICTEST:
        if _SEVERITY[scored.decision] > _SEVERITY[decision]:
            decision = scored.decision
        score = max(score, scored.score)
        reasons += [model_reason(name) for name in scored.reasons]
    if blocks:
        decision, score = FraudDecision.BLOCK, MAX_SCORE
        reasons += [_BLOCK_REASON[keys[entry.key]] for entry in blocks]
    combined = FraudAssessment(
        score=score,
        decision=decision,
        reasons=tuple(dict.fromkeys(reasons)),
        model=rules.model
        if scored is None or mode is not ModelMode.STRICTEST
        else f"{rules.model}+{scored.model}",
    )
    return combined, scored


@dataclass(frozen=True)
class StreamReading:
    """The hot path's view of the fraud stream (None where the platform has no stream)."""

    view: StreamView
    model: FraudModel
    mode: ModelMode


def assess_payment(
    payment: Mapping[str, Any],
    scorer: FraudScorer,
    velocity: VelocitySource,
    rates: EurRates,
    ips: CountrySource,
    issuers: CountrySource,
    stream: StreamReading | None,
    now: dt.datetime,
) -> FraudResult:
    """The fraud step: the rules, then what the stream knows."""
    found = signals(payment, velocity, rates, ips, issuers, now)
    assessment = scorer.assess(found)
    shadow = None
    if stream is not None:
        event = stream_event(payment, found, now)
        assessment, scored = with_stream(
            assessment, event, stream.view, stream.model, stream.mode, now
        )
        shadow = scored if stream.mode is ModelMode.SHADOW else None
    ip = (payment.get("customer") or {}).get("ip")
    return fraud_result(assessment, found, ip, shadow)
