"""Lambda: tokenize a card (``POST /v1/tokens``) and the payment workflow's tokenize step.

API (API Gateway REST proxy, IAM or authorizer in front):
    POST /v1/tokens   header X-Merchant-Id: <tenant>
    body {"number", "cvc"?, "customer_id"?, "format"?: "opaque"|"format_preserving",
          "single_use"?, "ttl_seconds"?}
    -> 201 {"token", "brand", "last4", "fingerprint"}
    -> 4xx {"error": {"type", "code", "message", "param"}}; never a 5xx for bad input

Workflow (Step Functions task, ``workflow_handler``): the payment state
``{"merchant_id", "customer": {"id"}, "payment_method": {"type": "card", "card": {...}}}`` ->
``{"token", "brand", "last4", "fingerprint"}`` or ``{"error": {...}}`` for a bad card. A vault
outage raises (the state machine retries ``VaultUnavailableError``).

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
from functions.domain.vault import TokenFormat, Vault, VaultError, VaultUnavailableError
from functions.errors import from_validation_error
from functions.handlers.vault_api import install_error_handlers, json_response
from functions.models.tokens import (
    TokenizeRequest,
    TokenResponse,
    WorkflowTokenizeInput,
    merchant_id,
    parse_body,
    vault_api_error,
    vault_function_settings,
)

logger = Logger()
tracer = Tracer()
app = APIGatewayRestResolver()


@cache
def vault() -> Vault:
    """The container's vault (KMS, the table; no audit sink: tokenize audits nothing)."""
    return build_vault(vault_function_settings(), audited=False)


def tokenize_card(
    tenant_id: str,
    number: str,
    *,
    customer_id: str | None = None,
    cvc: str | None = None,
    token_format: TokenFormat | str = TokenFormat.OPAQUE,
    single_use: bool = False,
    ttl_seconds: int | None = None,
) -> dict[str, Any]:
    """Tokenize one card for a tenant: ``{token, brand, last4, fingerprint}``.

    Raises the vault's errors (``InvalidCardError``, ``InvalidRequestError``,
    ``VaultUnavailableError``, ...). Callable from any function of this package.
    """
    result = vault().tokenize(
        tenant_id,
        number,
        customer_id=customer_id,
        token_format=TokenFormat(token_format),
        single_use=single_use,
        cvc=cvc,
        ttl_seconds=ttl_seconds,
    )
    return TokenResponse(
        token=result.token,
        brand=result.brand.value,
        last4=result.last4,
        fingerprint=result.fingerprint,
    ).model_dump()


# -------------------------------------------------------------------------------------- API


install_error_handlers(app, logger, "tokenize", card_param="")


@app.post("/v1/tokens")
def create_token() -> Response[str]:
    tenant = merchant_id(app.current_event.headers)
    request = parse_body(app.current_event.decoded_body, TokenizeRequest)
    token = tokenize_card(
        tenant,
        request.number.get_secret_value(),
        customer_id=request.customer_id,
        cvc=request.cvc.get_secret_value() if request.cvc else None,
        token_format=request.format,
        single_use=request.single_use,
        ttl_seconds=request.ttl_seconds,
    )
    logger.info("card tokenized", extra={"tenant_id": tenant, "brand": token["brand"]})
    return json_response(201, token)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


# --------------------------------------------------------------------------------- workflow


def tokenize_payment(event: dict[str, Any]) -> dict[str, Any]:
    """The workflow step without the Lambda decorators (see the module docstring)."""
    try:
        payment = WorkflowTokenizeInput.model_validate(event.get("request", event))
    except ValidationError as error:
        refused = from_validation_error(error)
        logger.info("workflow tokenize refused", extra={"code": refused.code})
        return {"error": refused.to_dict()}
    card = payment.payment_method.card
    try:
        return tokenize_card(
            payment.merchant_id,
            card.number.get_secret_value(),
            customer_id=payment.customer.id if payment.customer else None,
            cvc=card.cvc.get_secret_value() if card.cvc else None,
        )
    except VaultUnavailableError:
        raise  # a dependency failed: let the state machine retry
    except VaultError as exc:
        refused = vault_api_error(exc)
        logger.info("workflow tokenize refused", extra={"code": refused.code})
        if exc.http_status >= 500:
            raise
        return {"error": refused.to_dict()}


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def workflow_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return tokenize_payment(event)
