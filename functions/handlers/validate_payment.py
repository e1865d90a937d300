"""Lambda: validate a payment request and its card before anything else sees it.

Returns ``{"valid": true, "card": {brand, first6, last4, exp_month, exp_year}}`` or
``{"valid": false, "error": {type, code, message, param}}``; bad input is an answer, never a
Lambda error. The card number is read and checked here and is not returned or logged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import ValidationError, parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.domain.cards import CardValidationError, validate_card
from functions.errors import ApiError, from_validation_error
from functions.models.payments import PaymentRequest

logger = Logger()
tracer = Tracer()


def validate(event: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    outcome = check(event, now.date())
    outcome["checked_at"] = now.isoformat(timespec="milliseconds")
    return outcome


def check(event: dict[str, Any], today: dt.date) -> dict[str, Any]:
    try:
        request = parse(event=event.get("request", event), model=PaymentRequest)
    except ValidationError as error:
        return rejected(from_validation_error(error))
    card = request.payment_method.card
    if card is None:
        return {"valid": True, "card": None}
    try:
        validated = validate_card(
            card.number.get_secret_value(),
            card.exp_month,
            card.exp_year,
            card.cvc.get_secret_value() if card.cvc else None,
            today,
        )
    except CardValidationError as error:
        return rejected(ApiError("card_error", error.code, error.message, error.param, 402))
    return {
        "valid": True,
        "card": {
            "brand": validated.brand.value,
            "first6": validated.first6,
            "last4": validated.last4,
            "exp_month": validated.exp_month,
            "exp_year": validated.exp_year,
        },
    }


def rejected(error: ApiError) -> dict[str, Any]:
    logger.info("payment rejected", extra={"code": error.code, "param": error.param})
    return {"valid": False, "error": error.to_dict(), "status": error.status}


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return validate(event, dt.datetime.now(dt.UTC))
