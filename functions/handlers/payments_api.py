"""Lambda: the Payment API v1 behind API Gateway. Each route parses the request (body, the
``Idempotency-Key`` header, the signing principal) and answers what
``functions.services.payment_commands`` decides; the rules (merchant scoping, idempotency,
state checks, what the workflow is asked) live there. Card data passes through on its way to
the tokenize step and is never logged.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.adapters import clients
from functions.adapters import payment_wiring as wiring
from functions.adapters.payment_workflow import (
    PowertoolsIdempotencyStore,
    StepFunctionsWorkflow,
    idempotency_config,
)
from functions.domain.principals import signing_principal
from functions.handlers.vault_api import install_error_handlers, json_response
from functions.models import payments as bodies
from functions.models.tokens import parse_body
from functions.services.payment_commands import (
    IDEMPOTENCY_HEADER,
    ApiAnswer,
    PaymentCommands,
    idempotency_key,
    request_digest,
    required_key,
    workflow_request,
)

__all__ = ["handler", "request_digest", "workflow_request"]

logger = Logger()
tracer = Tracer()
app = APIGatewayRestResolver()
install_error_handlers(app, logger, "payment request", card_param="payment_method.card.number")


@cache
def commands() -> PaymentCommands:
    settings = wiring.settings()
    return PaymentCommands(
        wiring.payments_table(),
        wiring.merchant_access(),
        wiring.amount_caps(),
        StepFunctionsWorkflow(clients.stepfunctions(), settings.required("state_machine_arn")),
        PowertoolsIdempotencyStore(clients.dynamodb(), settings.required("idempotency_table")),
    )


def key() -> str | None:
    return idempotency_key(app.current_event.headers.get(IDEMPOTENCY_HEADER))


def caller() -> str:
    return signing_principal(app.current_event.raw_event)


def answer(outcome: ApiAnswer) -> Response[str]:
    return json_response(outcome.status, outcome.json_body())


@app.post("/v1/payments")
def create_payment() -> Response[str]:
    required = required_key(key())
    request = parse_body(app.current_event.body, bodies.PaymentRequest)
    return answer(commands().create(caller(), required, request, dt.datetime.now(dt.UTC)))


@app.get("/v1/payments/<payment_id>")
def get_payment(payment_id: str) -> Response[str]:
    return answer(commands().get(caller(), payment_id))


@app.post("/v1/payments/<payment_id>/capture")
def capture_payment(payment_id: str) -> Response[str]:
    request = parse_body(app.current_event.body or "{}", bodies.CaptureRequest)
    return answer(commands().capture(caller(), payment_id, key(), request))


@app.post("/v1/payments/<payment_id>/cancel")
def cancel_payment(payment_id: str) -> Response[str]:
    request = parse_body(app.current_event.body or "{}", bodies.CancelRequest)
    return answer(commands().cancel(caller(), payment_id, key(), request))


@app.post("/v1/payments/<payment_id>/refunds")
def refund_payment(payment_id: str) -> Response[str]:
    required = required_key(key())
    request = parse_body(app.current_event.body or "{}", bodies.RefundRequest)
    return answer(commands().refund(caller(), payment_id, required, request))


@app.post("/v1/payments/<payment_id>/resume")
def resume_payment(payment_id: str) -> Response[str]:
    request = parse_body(app.current_event.body, bodies.ResumeRequest)
    return answer(commands().resume(caller(), payment_id, key(), request))


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency_config().register_lambda_context(context)
    return app.resolve(event, context)
