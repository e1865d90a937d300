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

import json
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from functions.adapters import clients
from functions.adapters.kms import KmsKeyService
from functions.adapters.vault_audit import RefusingAuditSink
from functions.adapters.vault_table import DynamoVaultStore
from functions.domain.vault import TokenFormat, Vault, VaultError, VaultUnavailableError
from functions.errors import ApiError, from_validation_error
from functions.models.tokens import (
    ApiProblem,
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
    settings = vault_function_settings()
    keys = KmsKeyService(
        clients.kms(),
        settings.kms_key_id,
        settings.fingerprint_key_id,
        decrypt_key_ids=settings.decrypt_key_ids or None,
    )
    store = DynamoVaultStore(
        clients.dynamodb(), settings.table_name, key_table_name=settings.key_table_name
    )
    return Vault(keys, store, RefusingAuditSink(), settings=settings.vault)


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


def _answer(error: ApiError) -> Response[str]:
    logger.info("tokenize refused", extra={"code": error.code, "param": error.param})
    return Response(
        status_code=error.status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"error": error.to_dict()}),
        headers={"Cache-Control": "no-store"},
    )


@app.exception_handler(ApiProblem)  # type: ignore[untyped-decorator]  # Powertools leaves it untyped
def _problem(exc: ApiProblem) -> Response[str]:
    return _answer(exc.error)


@app.exception_handler(VaultError)  # type: ignore[untyped-decorator]  # Powertools leaves it untyped
def _vault_error(exc: VaultError) -> Response[str]:
    if exc.http_status >= 500:
        logger.error("vault failure", extra={"code": exc.code})
    return _answer(vault_api_error(exc, card_param=""))


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]  # Powertools leaves it untyped
def _unexpected(exc: Exception) -> Response[str]:
    # Only the type: a message could quote input. No traceback leaves the function.
    logger.error("unexpected error", extra={"error_type": type(exc).__name__})
    return _answer(
        ApiError("api_error", "api_error", "The request could not be completed.", None, 500)
    )


@app.not_found
def _not_found(exc: Exception) -> Response[str]:
    return _answer(
        ApiError("invalid_request_error", "resource_missing", "No such route.", None, 404)
    )


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
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(token),
        headers={"Cache-Control": "no-store"},
    )


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
