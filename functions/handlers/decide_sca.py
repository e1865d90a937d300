"""Lambda: the workflow's PSD2 strong customer authentication step (``services.risk``).

``decide``: scope, then the RTS exemptions (``domain.sca``), and a 3-D Secure challenge when
SCA is required. ``verify``: checks the cardholder's answer when the payment resumes and hands
the workflow the payment's saved state to continue from.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from functions.adapters import payment_wiring as wiring
from functions.services.risk import PaymentRisk

logger = Logger()
tracer = Tracer()


class DecideEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")
    action: Literal["decide"] = "decide"
    payment: dict[str, Any]


class VerifyEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")
    action: Literal["verify"]
    payment_id: str
    resume: dict[str, Any] = Field(default_factory=dict)


Event = TypeAdapter(Annotated[DecideEvent | VerifyEvent, Field(discriminator="action")])


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    parsed = Event.validate_python({"action": "decide", **event})
    if isinstance(parsed, VerifyEvent):
        response = str(parsed.resume.get("challenge_response", ""))
        answer = wiring.sca_service().verify(
            parsed.payment_id, response, wiring.payments_table(), now
        )
        logger.info("challenge verified", extra={"payment_id": parsed.payment_id})
        return answer
    payment = PaymentRisk.from_state(parsed.payment)
    answer = wiring.sca_service().decide(payment, now)
    logger.info(
        "sca decided",
        extra={"payment_id": payment.payment_id, **{k: answer[k] for k in ("required", "reason")}},
    )
    return answer
