"""Lambda: the workflow's risk step, fraud and PSD2 SCA in one invocation.

``assess``: scores the tokenized payment for fraud (``services.fraud_scoring``), then decides
SCA with the fired fraud reasons in hand (RTS Art. 18(2)(c)): scope, exemptions and a 3-D
Secure challenge when SCA is required (``services.risk``). Answers the payment context with
``fraud`` and ``sca`` filled (``AssessAnswer``).

``verify``: checks the cardholder's answer when a payment resumes and hands the workflow the
payment's saved context with the authentication result (``VerifyAnswer``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.adapters import fraud_stream_wiring as stream_wiring
from functions.adapters import payment_wiring as wiring
from functions.contracts.steps import (
    AssessAnswer,
    AssessInput,
    AssessRiskInput,
    PaymentContext,
    VerifyAnswer,
    VerifyInput,
)
from functions.services import fraud_scoring
from functions.services.risk import PaymentRisk

logger = Logger()
tracer = Tracer()


def assess(step: AssessInput, now: dt.datetime) -> dict[str, Any]:
    state = step.payment.state()
    result = fraud_scoring.assess_payment(
        state,
        wiring.fraud_scorer(),
        wiring.payments_table(),
        wiring.eur_rates(),
        wiring.ip_countries(),
        wiring.issuer_countries(),
        stream_wiring.stream_reading(),
        now,
    )
    state["fraud"] = {"result": result}
    sca = wiring.sca_service().decide(PaymentRisk.from_state(state), now)
    state["sca"] = {"result": sca}
    logger.info(
        "payment assessed",
        extra={
            "payment_id": step.payment.payment_id,
            "score": result["score"],
            "decision": result["decision"],
            "sca_required": sca["required"],
        },
    )
    return AssessAnswer(payment=PaymentContext.model_validate(state)).model_dump(exclude_none=True)


def verify(step: VerifyInput, now: dt.datetime) -> dict[str, Any]:
    answer = wiring.sca_service().verify(
        step.payment_id, step.resume.challenge_response, wiring.payments_table(), now
    )
    logger.info("challenge verified", extra={"payment_id": step.payment_id})
    return VerifyAnswer.model_validate(answer).model_dump(exclude_unset=True)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    step = AssessRiskInput.validate_python(event)
    if isinstance(step, VerifyInput):
        return verify(step, now)
    return assess(step, now)
