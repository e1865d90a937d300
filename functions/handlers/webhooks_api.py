"""Lambda: the webhook endpoint routes of the Payment API (docs/webhooks.md). Each parses the
request and the merchant the API key authenticated, and asks ``services.webhook_endpoints``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.adapters.webhook_wiring import webhook_endpoints
from functions.domain.principals import authorized_merchant
from functions.errors import ApiError
from functions.handlers.vault_api import install_error_handlers, json_response
from functions.models.tokens import ApiProblem
from functions.models.webhooks import CreateEndpointRequest, RotateSecretRequest
from functions.services.webhook_endpoints import WebhookProblem

logger = Logger()
tracer = Tracer()
app = APIGatewayRestResolver(enable_validation=True)
install_error_handlers(app, logger, "webhook endpoint request")
DEFAULT_PAGE = 20


@app.exception_handler(WebhookProblem)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _problem(exc: WebhookProblem) -> Response[str]:
    logger.info("webhook endpoint request refused", extra={"code": exc.error.code})
    return json_response(exc.error.status, {"error": exc.error.to_dict()})


def caller() -> str:
    merchant = authorized_merchant(app.current_event.raw_event)
    if not merchant:
        raise ApiProblem(
            ApiError("authentication_error", "unauthenticated", "No API key.", None, 401)
        )
    return merchant


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


Rotate = Annotated[RotateSecretRequest | None, Body()]


@app.post("/v1/webhook_endpoints")
def create_endpoint(request: Annotated[CreateEndpointRequest, Body()]) -> Response[str]:
    return json_response(201, webhook_endpoints().create(caller(), request, now()))


@app.get("/v1/webhook_endpoints")
def list_endpoints() -> Response[str]:
    return json_response(200, webhook_endpoints().list(caller()))


@app.delete("/v1/webhook_endpoints/<endpoint_id>")
def delete_endpoint(endpoint_id: str) -> Response[str]:
    return json_response(200, webhook_endpoints().delete(caller(), endpoint_id))


@app.post("/v1/webhook_endpoints/<endpoint_id>/rotate_secret")
def rotate_secret(endpoint_id: str, request: Rotate = None) -> Response[str]:
    body = request or RotateSecretRequest()
    return json_response(200, webhook_endpoints().rotate_secret(caller(), endpoint_id, body, now()))


@app.get("/v1/webhook_endpoints/<endpoint_id>/deliveries")
def list_deliveries(endpoint_id: str) -> Response[str]:
    raw = app.current_event.get_query_string_value("limit", str(DEFAULT_PAGE)) or ""
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise ApiProblem(
            ApiError(
                "invalid_request_error",
                "parameter_invalid",
                "limit: must be an integer from 1 to 100.",
                "limit",
            )
        )
    return json_response(200, webhook_endpoints().deliveries(caller(), endpoint_id, int(raw)))


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
