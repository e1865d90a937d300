"""Lambda: detokenize (``POST /v1/tokens/{token}/detokenize``), for a restricted few callers.

    header X-Merchant-Id: <tenant>      body {"purpose": "<code>"}   (e.g. "chargeback.evidence")
    -> 200 {"token", "number", "brand", "last4"}   (Cache-Control: no-store)
    -> 403 detokenize_not_permitted, 404 token_not_found, 400 for a bad request

Who may: the API uses IAM authorization, so the caller is the signing principal,
``requestContext.identity.userArn``. It is permitted only if it matches an entry of
``DETOKENIZE_ALLOWED_PRINCIPALS`` (comma-separated):

* the exact ARN (``arn:aws:sts::111122223333:assumed-role/chargebacks/alice`` or an IAM user);
* an IAM role ARN ``arn:aws:iam::<account>:role/<path/><name>`` matches every session of that
  role, ``arn:aws:sts::<account>:assumed-role/<name>/<session>`` (STS drops the role path);
* an entry ending in ``/`` is a prefix (``arn:aws:sts::111122223333:assumed-role/chargebacks/``);
  nothing else is a pattern, and no ``*`` is honoured.

Every call - allowed, denied or failed - is audited by the vault before it answers (the audit
log group and the EventBridge bus); if the audit cannot be written, the call fails with 503 and
no card number is returned. The card number is never logged or traced.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.adapters.vault_wiring import build_vault
from functions.domain.principals import principal_allowed, signing_principal
from functions.domain.vault import Caller, Vault
from functions.handlers.vault_api import install_error_handlers, json_response
from functions.models.tokens import (
    DetokenizeRequest,
    merchant_id,
    parse_body,
    vault_function_settings,
)

logger = Logger()
tracer = Tracer()
app = APIGatewayRestResolver()


@cache
def vault() -> Vault:
    """The container's vault with the CloudWatch Logs + EventBridge audit sink."""
    return build_vault(vault_function_settings(), audited=True)


def caller_of(event: dict[str, Any]) -> Caller:
    """The caller and, if it is on the allow-list (the platform's own roles, which act for
    every tenant), the vault's detokenize role; otherwise the vault refuses and audits it.
    The route is signed with IAM: a merchant's API key never reaches this function."""
    principal = signing_principal(event)
    settings = vault_function_settings()
    permitted = principal_allowed(principal, settings.detokenize_allowed_principals)
    roles = frozenset({settings.vault.detokenize_role}) if permitted else frozenset()
    return Caller(principal or "anonymous", roles)


# -------------------------------------------------------------------------------------- API


install_error_handlers(app, logger, "detokenize")


@app.post("/v1/tokens/<token>/detokenize")
def detokenize(token: str) -> Response[str]:
    event = app.current_event
    tenant = merchant_id(event.headers)
    request = parse_body(event.decoded_body, DetokenizeRequest)
    caller = caller_of(event.raw_event)
    result = vault().detokenize(
        tenant,
        token,
        caller=caller,
        purpose=request.purpose,
        request_id=event.request_context.request_id,
    )
    logger.info(
        "detokenized",
        extra={"tenant_id": tenant, "token": result.token, "purpose": request.purpose},
    )
    return json_response(
        200,
        {
            "token": result.token,
            "number": result.number,
            "brand": result.brand.value,
            "last4": result.last4,
        },
    )


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
