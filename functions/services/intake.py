"""Payment intake: a payment request and its card checked before anything else sees them (the
API function runs this before it starts the workflow; it is where the card number is received).

``check`` returns ``{"valid": true, "card": {brand, first6, last4, exp_month, exp_year}}`` or
``{"valid": false, "error": {type, code, message, param}}``; bad input is an answer, never an
exception. The card number is read and checked here and is not returned or logged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.parser import ValidationError, parse

from functions.domain.cards import CardValidationError, validate_card
from functions.errors import ApiError, from_validation_error
from functions.models.payments import PaymentRequest

logger = Logger(child=True)


def validate(event: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    outcome = check(event, now.date())
    outcome["checked_at"] = now.isoformat(timespec="milliseconds")
    return outcome


def check(event: dict[str, Any], today: dt.date) -> dict[str, Any]:
    try:
        request = parse(event=event.get("request", event), model=PaymentRequest)
    except ValidationError as error:
        return rejected(from_validation_error(error))
    try:
        return {"valid": True, "card": card_summary(request, today)}
    except CardValidationError as error:
        return rejected(_card_error(error))


def card_error(request: PaymentRequest, today: dt.date) -> ApiError | None:
    """The card's problem (Luhn, network, length, expiry, CVC) as a 402 ``card_error``."""
    try:
        card_summary(request, today)
    except CardValidationError as error:
        return _card_error(error)
    return None


def _card_error(error: CardValidationError) -> ApiError:
    return ApiError("card_error", error.code, error.message, error.param, 402)


def card_summary(request: PaymentRequest, today: dt.date) -> dict[str, Any] | None:
    card = request.payment_method.card
    if card is None:
        return None
    validated = validate_card(
        card.number.get_secret_value(),
        card.exp_month,
        card.exp_year,
        card.cvc.get_secret_value() if card.cvc else None,
        today,
    )
    return {
        "brand": validated.brand.value,
        "first6": validated.first6,
        "last4": validated.last4,
        "exp_month": validated.exp_month,
        "exp_year": validated.exp_year,
    }


def rejected(error: ApiError) -> dict[str, Any]:
    logger.info("payment rejected", extra={"code": error.code, "param": error.param})
    return {"valid": False, "error": error.to_dict(), "status": error.status}
