"""Lambda: tokenize a card (``POST /v1/tokens``) and the payment workflow's tokenize step.

API (API Gateway REST proxy, IAM or authorizer in front):
    POST /v1/tokens   header X-Merchant-Id: <tenant>
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
from functions.domain.cards import normalize_pan
from functions.domain.principals import signing_principal
from functions.domain.vault import (
    TokenFormat,
    TokenizeRateLimitedError,
    TokenizeResult,
    Vault,
    VaultError,
    VaultUnavailableError,
)
from functions.errors import ApiError, from_validation_error, merchant_not_permitted
from functions.handlers.vault_api import install_error_handlers, json_response
from functions.models.tokens import (
    MERCHANT_HEADER,
    ApiProblem,
    TokenizeRequest,
    TokenResponse,
    WorkflowCardOutput,
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
    """The container's vault (KMS, the table; no audit sink: tokenize audits nothing), with the
    rate limit per tenant and card class (finding 5)."""
    return build_vault(vault_function_settings(), audited=False, class_limited=True)


# The line the tokenization_vault module's metric filter counts (TokenizeRateLimited) and
# alarms on: a class closed for a tenant is card testing until shown otherwise.
RATE_LIMITED_MESSAGE = "tokenize rate limited"


def tokenize_card(
    tenant_id: str,
    number: str,
    *,
    customer_id: str | None = None,
    cvc: str | None = None,
    token_format: TokenFormat | str = TokenFormat.OPAQUE,
    single_use: bool = False,
    ttl_seconds: int | None = None,
) -> TokenizeResult:
    """Tokenize one card for a tenant (the domain result: token, brand, last4, card key, ...).

    Raises the vault's errors (``InvalidCardError``, ``InvalidRequestError``,
    ``TokenizeRateLimitedError``, ``VaultUnavailableError``, ...). Callable from any function
    of this package. A rate-limited call is logged at WARNING with the tenant and the limit,
    never the card or its class.
    """
    try:
        return vault().tokenize(
            tenant_id,
            number,
            customer_id=customer_id,
            token_format=TokenFormat(token_format),
            single_use=single_use,
            cvc=cvc,
            ttl_seconds=ttl_seconds,
        )
    except TokenizeRateLimitedError as exc:
        limit = vault().settings.class_limit
        logger.warning(
            RATE_LIMITED_MESSAGE,
            extra={
                "code": exc.code,
                "tenant_id": tenant_id,
                "max_new_cards": limit.max_new_cards,
                "window_seconds": limit.window_seconds,
            },
        )
        raise


# -------------------------------------------------------------------------------------- API


install_error_handlers(app, logger, "tokenize", card_param="")


@app.post("/v1/tokens")
def create_token() -> Response[str]:
    tenant = merchant_id(app.current_event.headers)
    caller = signing_principal(app.current_event.raw_event)
    if not vault_function_settings().merchant_access.may_act_for(caller, tenant):
        raise ApiProblem(merchant_not_permitted(MERCHANT_HEADER))
    request = parse_body(app.current_event.decoded_body, TokenizeRequest)
    result = tokenize_card(
        tenant,
        request.number.get_secret_value(),
        customer_id=request.customer_id,
        cvc=request.cvc.get_secret_value() if request.cvc else None,
        token_format=request.format,
        single_use=request.single_use,
        ttl_seconds=request.ttl_seconds,
    )
    body = TokenResponse(token=result.token, brand=result.brand.value, last4=result.last4)
    logger.info("card tokenized", extra={"tenant_id": tenant, "brand": body.brand})
    return json_response(201, body.model_dump())


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The payment workflow invokes this same function for its tokenize step.
    if event.get("workflow") == "tokenize":
        return tokenize_payment(event)
    return app.resolve(event, context)


# --------------------------------------------------------------------------------- workflow


def tokenize_payment(event: dict[str, Any]) -> dict[str, Any]:
    """The workflow step: ``{card: WorkflowCardOutput}`` for a card given in full (tokenized
    here; the PAN goes no further) or for a stored token (described, never decrypted), or
    ``{error, http_status}`` for bad input."""
    try:
        payment = WorkflowTokenizeInput.model_validate(event.get("request", event))
    except ValidationError as error:
        return _workflow_refusal(from_validation_error(error), 400)
    method = payment.payment_method
    try:
        if method.card is not None:
            card = method.card
            number = card.number.get_secret_value()
            result = tokenize_card(
                payment.merchant_id,
                number,
                customer_id=payment.customer.id if payment.customer else None,
                cvc=card.cvc.get_secret_value() if card.cvc else None,
            )
            out = WorkflowCardOutput(
                token=result.token,
                brand=result.brand.value,
                last4=result.last4,
                card_key=result.card_key,
                # The first six digits identify the issuer (BIN); PCI DSS lets them be shown.
                first6=normalize_pan(number)[:6],
                exp_month=card.exp_month,
                exp_year=card.exp_year,
            )
        elif method.token is not None:
            record = vault().describe(payment.merchant_id, method.token)
            out = WorkflowCardOutput(
                token=record.token,
                brand=record.brand.value,
                last4=record.last4,
                card_key=record.card_key,
                first6=None,
                exp_month=None,
                exp_year=None,
            )
        else:
            refused = ApiError(
                "invalid_request_error",
                "parameter_missing",
                "payment_method.card or payment_method.token is required.",
                "payment_method",
            )
            return _workflow_refusal(refused, 400)
    except VaultUnavailableError:
        raise  # a dependency failed: let the state machine retry
    except VaultError as exc:
        if exc.http_status >= 500:
            raise
        return _workflow_refusal(vault_api_error(exc), exc.http_status)
    return {"card": out.model_dump()}


def _workflow_refusal(refused: ApiError, status: int) -> dict[str, Any]:
    logger.info("workflow tokenize refused", extra={"code": refused.code})
    return {"error": refused.to_dict(), "http_status": status}


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def workflow_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return tokenize_payment(event)
