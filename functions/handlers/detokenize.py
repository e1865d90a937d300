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

import json
import re
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.adapters import clients
from functions.adapters.kms import KmsKeyService
from functions.adapters.vault_audit import CloudWatchEventBridgeAuditSink
from functions.adapters.vault_table import DynamoVaultStore
from functions.domain.vault import Caller, Vault, VaultError
from functions.errors import ApiError
from functions.models.tokens import (
    ApiProblem,
    DetokenizeRequest,
    merchant_id,
    parse_body,
    vault_api_error,
    vault_function_settings,
)

logger = Logger()
tracer = Tracer()
app = APIGatewayRestResolver()

_ROLE_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):role/(?:.*/)?(?P<name>[^/]+)$"
)
_SESSION_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):sts::(?P<account>\d{12}):assumed-role/(?P<name>[^/]+)/[^/]+$"
)


@cache
def vault() -> Vault:
    """The container's vault with the CloudWatch Logs + EventBridge audit sink."""
    settings = vault_function_settings()
    if not settings.audit_log_group or not settings.audit_event_bus:
        raise RuntimeError("VAULT_AUDIT_LOG_GROUP and VAULT_AUDIT_EVENT_BUS must be set")
    keys = KmsKeyService(
        clients.kms(),
        settings.kms_key_id,
        settings.fingerprint_key_id,
        decrypt_key_ids=settings.decrypt_key_ids or None,
    )
    store = DynamoVaultStore(
        clients.dynamodb(), settings.table_name, key_table_name=settings.key_table_name
    )
    audit = CloudWatchEventBridgeAuditSink(
        clients.logs(),
        clients.events(),
        settings.audit_log_group,
        settings.audit_event_bus,
        source_function=settings.function_name,
    )
    return Vault(keys, store, audit, settings=settings.vault)


def principal_allowed(principal: str, allowed: tuple[str, ...]) -> bool:
    """Whether ``principal`` (the caller's ARN) matches one of ``allowed`` (see module doc)."""
    if not principal:
        return False
    session = _SESSION_ARN.match(principal)
    for entry in allowed:
        if principal == entry:
            return True
        if entry.endswith("/") and entry.count(":") >= 5 and principal.startswith(entry):
            return True
        role = _ROLE_ARN.match(entry)
        if (
            role is not None
            and session is not None
            and (role["partition"], role["account"], role["name"])
            == (session["partition"], session["account"], session["name"])
        ):
            return True
    return False


def caller_of(event: dict[str, Any]) -> Caller:
    """The caller and, if it is on the allow-list, the vault's detokenize role."""
    identity = (event.get("requestContext") or {}).get("identity") or {}
    principal = str(identity.get("userArn") or "")
    settings = vault_function_settings()
    permitted = principal_allowed(principal, settings.detokenize_allowed_principals)
    roles = frozenset({settings.vault.detokenize_role}) if permitted else frozenset()
    return Caller(principal or "anonymous", roles)


# -------------------------------------------------------------------------------------- API


def _answer(error: ApiError) -> Response[str]:
    logger.info("detokenize refused", extra={"code": error.code, "param": error.param})
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
    else:
        logger.info("detokenize denied", extra={"code": exc.code})
    return _answer(vault_api_error(exc))


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]  # Powertools leaves it untyped
def _unexpected(exc: Exception) -> Response[str]:
    logger.error("unexpected error", extra={"error_type": type(exc).__name__})
    return _answer(
        ApiError("api_error", "api_error", "The request could not be completed.", None, 500)
    )


@app.not_found
def _not_found(exc: Exception) -> Response[str]:
    return _answer(
        ApiError("invalid_request_error", "resource_missing", "No such route.", None, 404)
    )


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
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(
            {
                "token": result.token,
                "number": result.number,
                "brand": result.brand.value,
                "last4": result.last4,
            }
        ),
        headers={"Cache-Control": "no-store"},
    )


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
