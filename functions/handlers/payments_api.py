"""Lambda: the Payment API v1 behind API Gateway. Each route parses the request (body, the
``Idempotency-Key`` header, the signing principal), asks ``services.payment_commands`` and
answers its ``ApiAnswer``; the rules (merchant scoping, idempotency, state checks, what the
workflow is asked) live there. Card data passes through on its way to the tokenize step and is
never logged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from functions.adapters.payment_workflow import idempotency_config, payment_commands
from functions.domain.principals import signing_principal
from functions.handlers.vault_api import install_error_handlers, json_response
from functions.models import payments as bodies
from functions.models.tokens import parse_body
from functions.services.payment_commands import IDEMPOTENCY_HEADER as KEY_HEADER
from functions.services.payment_commands import ApiAnswer, idempotency_key, required_key

logger = Logger()
tracer = Tracer()
app = APIGatewayRestResolver()
install_error_handlers(app, logger, "payment request", card_param="payment_method.card.number")
Body = TypeVar("Body", bound=BaseModel)


def key() -> str | None:
    return idempotency_key(app.current_event.headers.get(KEY_HEADER))


def body(model: type[Body], *, required: bool = False) -> Body:
    """The JSON body; an operation whose fields are all optional may leave it out."""
    raw = app.current_event.body
    return parse_body(raw if required else raw or "{}", model)


def answer(outcome: ApiAnswer) -> Response[str]:
    return json_response(outcome.status, outcome.json_body())


def caller() -> str:
    return signing_principal(app.current_event.raw_event)


@app.post("/v1/payments")
def create_payment() -> Response[str]:
    required, request = required_key(key()), body(bodies.PaymentRequest, required=True)
    return answer(payment_commands().create(caller(), required, request, dt.datetime.now(dt.UTC)))


@app.get("/v1/payments/<payment_id>")
def get_payment(payment_id: str) -> Response[str]:
    return answer(payment_commands().get(caller(), payment_id))


@app.post("/v1/payments/<payment_id>/capture")
def capture_payment(payment_id: str) -> Response[str]:
    request = body(bodies.CaptureRequest)
    return answer(payment_commands().capture(caller(), payment_id, key(), request))


@app.post("/v1/payments/<payment_id>/cancel")
def cancel_payment(payment_id: str) -> Response[str]:
    request = body(bodies.CancelRequest)
    return answer(payment_commands().cancel(caller(), payment_id, key(), request))


@app.post("/v1/payments/<payment_id>/refunds")
def refund_payment(payment_id: str) -> Response[str]:
    required, request = required_key(key()), body(bodies.RefundRequest)
    return answer(payment_commands().refund(caller(), payment_id, required, request))


@app.post("/v1/payments/<payment_id>/resume")
def resume_payment(payment_id: str) -> Response[str]:
    request = body(bodies.ResumeRequest, required=True)
    return answer(payment_commands().resume(caller(), payment_id, key(), request))


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency_config().register_lambda_context(context)
    return app.resolve(event, context)
