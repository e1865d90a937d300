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

from functions.adapters import payment_wiring as wiring
from functions.contracts.steps import AssessRiskInput, VerifyInput

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    step = AssessRiskInput.validate_python(event)
    risk = wiring.risk_assessment()
    if isinstance(step, VerifyInput):
        verified = risk.verify(step.payment_id, step.resume.challenge_response, now)
        logger.info("challenge verified", extra={"payment_id": step.payment_id})
        return verified.model_dump(exclude_unset=True)
    assessed = risk.assess(step.payment, now)
    fraud, sca = assessed.payment.fraud, assessed.payment.sca
    logger.info(
        "payment assessed",
        extra={
            "payment_id": step.payment.payment_id,
            "score": fraud.result.score if fraud else None,
            "decision": fraud.result.decision if fraud else None,
            "sca_required": sca.result.required if sca else None,
        },
    )
    return assessed.model_dump(exclude_none=True)
