"""Lambda: tokenize a card (``POST /v1/tokens``) and the payment workflow's tokenize step; the
rules live in ``functions.services.card_tokenization``.

API (API Gateway REST proxy, the merchant authorizer in front; the tenant is the merchant the
API key authenticated, and an ``X-Merchant-Id`` naming another merchant is a 403):
    POST /v1/tokens   header Authorization: Bearer sk_…   (X-Merchant-Id: <tenant>, optional)
    body {"number", "cvc"?, "customer_id"?, "format"?: "opaque"|"format_preserving",
          "single_use"?, "ttl_seconds"?}
    -> 201 {"token", "brand", "last4"}   (no fingerprint: it would make tokenize an oracle)
    -> 4xx {"error": {"type", "code", "message", "param"}}; never a 5xx for bad input
    -> 429 rate_limit_error tokenize_rate_limited: the merchant tokenized too many new cards of
       the card's class (first six, last four, length) in the window (finding 5); logged at
       WARNING as "tokenize rate limited" (tenant and limit only), counted and alarmed on

Workflow (the payment state machine invokes this same function with ``"workflow": "tokenize"``;
``workflow_handler`` is the same step on its own): ``{"merchant_id", "customer": {"id"},
"payment_method": {"type": "card", "card": {...}} | {"type": "card", "token"}}`` ->
``{"card": WorkflowCardOutput}`` (``token, brand, last4, card_key, first6, exp_month, exp_year``;
``card_key`` is the platform-wide card key the risk steps count with) or
``{"error": {...}, "http_status"}`` for bad input. A vault outage raises (the state machine
retries ``VaultUnavailableError``).

The card number exists in clear only in this function's memory: it is not logged, traced,
returned or put in an error. The function holds no audit sink: it cannot detokenize. Nor could
it decrypt a stored record if it tried: its role may ``kms:Decrypt`` only customer-key wrapping
keys (``vault = customer-key``), never a record data key (``vault = data-key``).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from functions.adapters.vault_wiring import build_vault
from functions.domain.principals import AuthenticatedMerchant, authorized_merchant
from functions.domain.vault import TokenizeResult, Vault
from functions.errors import from_validation_error
from functions.handlers.vault_api import install_error_handlers, json_response
from functions.models.tokens import (
    TokenizeRequest,
    WorkflowTokenizeInput,
    named_merchant_id,
    parse_body,
    vault_function_settings,
)
from functions.services.card_tokenization import CardTokenization, TokenizeStepAnswer

logger = Logger()
tracer = Tracer()
app = APIGatewayRestResolver()
install_error_handlers(app, logger, "tokenize", card_param="")


@cache
def vault() -> Vault:
    """The container's vault (KMS, the table; no audit sink: tokenize audits nothing), with the
    rate limit per tenant and card class (finding 5)."""
    return build_vault(vault_function_settings(), audited=False, class_limited=True)


def tokenization() -> CardTokenization:
    return CardTokenization(vault(), AuthenticatedMerchant())


def tokenize_card(tenant_id: str, number: str, *, customer_id: str | None = None) -> TokenizeResult:
    """One card tokenized for a tenant by this function's vault (rate limited, as the API)."""
    return tokenization().tokenize_card(tenant_id, number, customer_id=customer_id)


@app.post("/v1/tokens")
def create_token() -> Response[str]:
    # The merchant the API key authenticated; an X-Merchant-Id naming another is refused.
    caller = authorized_merchant(app.current_event.raw_event)
    tenant = named_merchant_id(app.current_event.headers) or caller
    body = tokenization().create_token(
        caller, tenant, lambda: parse_body(app.current_event.decoded_body, TokenizeRequest)
    )
    return json_response(201, body.model_dump())


def tokenize_payment(event: dict[str, Any]) -> dict[str, object]:
    try:
        payment = WorkflowTokenizeInput.model_validate(event.get("request", event))
    except ValidationError as error:
        return TokenizeStepAnswer.refused(from_validation_error(error), 400).output()
    return tokenization().tokenize_payment(payment).output()


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The payment workflow invokes this same function for its tokenize step.
    if event.get("workflow") == "tokenize":
        return tokenize_payment(event)
    return app.resolve(event, context)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def workflow_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return tokenize_payment(event)
