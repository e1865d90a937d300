"""Lambda: the Payment API v1 behind API Gateway. Each route parses the request (body, the
``Idempotency-Key`` header, the merchant the API key authenticated), asks
``services.payment_commands`` and answers its ``ApiAnswer``; the rules (merchant scoping,
idempotency, state checks, what the workflow is asked) live there. Card data passes through on
its way to the tokenize step and is never logged.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.adapters.payment_workflow import (
    idempotency_config,
    payment_commands,
    payment_listing,
)
from functions.domain.principals import authorized_merchant
from functions.handlers.vault_api import install_error_handlers, json_response
from functions.models import payments as bodies
from functions.services.payment_commands import IDEMPOTENCY_HEADER as KEY_HEADER
from functions.services.payment_commands import ApiAnswer, idempotency_key, required_key
from functions.services.payment_listing import check_parameters, list_query

logger = Logger()
tracer = Tracer()
# Bodies are validated by Powertools against the route's model; install_error_handlers answers
# its RequestValidationError in our error shape (errors.from_request_validation).
app = APIGatewayRestResolver(enable_validation=True)
install_error_handlers(app, logger, "payment request", card_param="payment_method.card.number")


def key() -> str | None:
    return idempotency_key(app.current_event.headers.get(KEY_HEADER))


def answer(outcome: ApiAnswer) -> Response[str]:
    return json_response(outcome.status, outcome.json_body())


def caller() -> str:
    """The merchant the caller's API key authenticated (the authorizer's context)."""
    return authorized_merchant(app.current_event.raw_event)


# A body whose fields are all optional may be left out (None: the model's defaults).
Capture = Annotated[bodies.CaptureRequest | None, Body()]
Cancel = Annotated[bodies.CancelRequest | None, Body()]
Refund = Annotated[bodies.RefundRequest | None, Body()]


@app.post("/v1/payments")
def create_payment(request: Annotated[bodies.PaymentRequest, Body()]) -> Response[str]:
    required, now = required_key(key()), dt.datetime.now(dt.UTC)
    return answer(payment_commands().create(caller(), required, request, now))


@app.get("/v1/payments")
def list_payments(
    limit: Annotated[bodies.ListLimit, Query()] = 20,
    status: Annotated[bodies.ListStatus | None, Query()] = None,
    created_gte: Annotated[bodies.CreatedBound | None, Query(alias="created[gte]")] = None,
    created_lte: Annotated[bodies.CreatedBound | None, Query(alias="created[lte]")] = None,
    cursor: Annotated[bodies.ListCursor | None, Query()] = None,
) -> Response[str]:
    check_parameters(app.current_event.multi_value_query_string_parameters)
    query = list_query(
        limit=limit, status=status, created_gte=created_gte, created_lte=created_lte, cursor=cursor
    )
    return json_response(200, payment_listing().list(caller(), query).json_body())


@app.get("/v1/payments/<payment_id>")
def get_payment(payment_id: str) -> Response[str]:
    return answer(payment_commands().get(caller(), payment_id))


@app.post("/v1/payments/<payment_id>/capture")
def capture_payment(payment_id: str, request: Capture = None) -> Response[str]:
    body = request or bodies.CaptureRequest()
    return answer(payment_commands().capture(caller(), payment_id, key(), body))


@app.post("/v1/payments/<payment_id>/cancel")
def cancel_payment(payment_id: str, request: Cancel = None) -> Response[str]:
    body = request or bodies.CancelRequest()
    return answer(payment_commands().cancel(caller(), payment_id, key(), body))


@app.post("/v1/payments/<payment_id>/refunds")
def refund_payment(payment_id: str, request: Refund = None) -> Response[str]:
    required, body = required_key(key()), request or bodies.RefundRequest()
    return answer(payment_commands().refund(caller(), payment_id, required, body))


@app.post("/v1/payments/<payment_id>/resume")
def resume_payment(
    payment_id: str, request: Annotated[bodies.ResumeRequest, Body()]
) -> Response[str]:
    return answer(payment_commands().resume(caller(), payment_id, key(), request))


@app.get("/v1/openapi.json")
def openapi_document() -> Response[str]:
    """This API's OpenAPI 3.1 document (docs/openapi.json), built from the routes' models."""
    from functions.handlers.api_contract import merchant_document_json  # it imports this module

    return Response(200, content_types.APPLICATION_JSON, merchant_document_json())


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency_config().register_lambda_context(context)
    return app.resolve(event, context)
