"""Lambda: the workflow's fraud step. Scores a tokenized payment with the rules scorer (amount
limits, velocity per card and per device from the payments table, country mismatches between
card, IP and customer) and answers ``{score, decision, reasons, model}``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.adapters import payment_wiring as wiring
from functions.adapters.payments_table import CARD_INDEX, DEVICE_INDEX, PaymentsTable
from functions.domain.fraud import FraudScorer, FraudSignals
from functions.domain.fx import EurRates
from functions.domain.geo import IpCountryTable, IssuerCountryTable

logger = Logger()
tracer = Tracer()
VELOCITY_WINDOW = dt.timedelta(hours=1)


def signals(
    payment: dict[str, Any],
    table: PaymentsTable,
    rates: EurRates,
    ips: IpCountryTable,
    issuers: IssuerCountryTable,
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
        card_payments_last_hour=table.count_since(CARD_INDEX, "token", card["token"], since),
        device_payments_last_hour=(
            table.count_since(DEVICE_INDEX, "device_id", device, since) if device else 0
        ),
    )


def score(event: dict[str, Any], scorer: FraudScorer, now: dt.datetime) -> dict[str, Any]:
    payment = event["payment"]
    found = signals(
        payment,
        wiring.payments_table(),
        wiring.eur_rates(),
        wiring.ip_countries(),
        wiring.issuer_countries(),
        now,
    )
    assessment = scorer.assess(found)
    logger.info(
        "payment scored",
        extra={
            "payment_id": payment["payment_id"],
            "score": assessment.score,
            "decision": str(assessment.decision),
            "reasons": [str(r) for r in assessment.reasons],
        },
    )
    return {**assessment.to_dict(), "model": assessment.model}


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return score(event, wiring.fraud_scorer(), dt.datetime.now(dt.UTC))
