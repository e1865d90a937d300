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
from collections.abc import Mapping
from typing import Any, Protocol

from functions.domain.fraud import FraudAssessment, FraudScorer, FraudSignals
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


def assess(
    payment: Mapping[str, Any],
    scorer: FraudScorer,
    velocity: VelocitySource,
    rates: EurRates,
    ips: CountrySource,
    issuers: CountrySource,
    now: dt.datetime,
) -> FraudAssessment:
    return scorer.assess(signals(payment, velocity, rates, ips, issuers, now))


def fraud_result(
    assessment: FraudAssessment, signals: FraudSignals | None = None, ip: str | None = None
) -> dict[str, Any]:
    """The fraud step's result; with ``signals``, also what it was judged on (``inputs``):
    the payment events carry those to the fraud stream."""
    result: dict[str, Any] = {**assessment.to_dict(), "model": assessment.model}
    if signals is not None:
        inputs = {
            "ip": ip,
            "billing_country": signals.customer_country,
            "card_country": signals.card_country,
            "ip_country": signals.ip_country,
            "amount_eur_minor": signals.amount_eur_minor,
        }
        result["inputs"] = {k: v for k, v in inputs.items() if v is not None}
    return result
