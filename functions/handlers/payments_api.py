"""Lambda: the Payment API v1 behind API Gateway.

``POST /v1/payments`` validates the request (every field and the card, 4xx naming it), then
runs the EXPRESS payment workflow synchronously and answers with its outcome. The
``Idempotency-Key`` makes a request safe to repeat (Powertools idempotency on DynamoDB, keyed
per merchant and key): the same key with the same request answers the same response; the same
key with another body, or on another endpoint or payment, is refused with 422
``idempotency_error``/``idempotency_key_reused``; a duplicate arriving while the first is still
running gets 409, the only 409 this API answers ("retry later"). State errors are 400. The
payment id is derived from merchant and key, so even a retry after the idempotency record
expired cannot create a second payment, and the request digest kept on the payment refuses such
a late retry when its body differs.

Card data passes through here on its way to the tokenize step; it is never logged, and the
idempotency record keeps only a digest of the request in which the card number is truncated to
its first six and last four digits (no hash of a full PAN exists anywhere).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.adapters import clients
from functions.adapters import payment_wiring as wiring
from functions.domain.cards import normalize_pan
from functions.domain.payments import Payment, derived_id
from functions.domain.principals import signing_principal
from functions.errors import ApiError, merchant_not_permitted
from functions.handlers.vault_api import install_error_handlers, json_response
from functions.models.payments import (
    CancelRequest,
    CaptureRequest,
    PaymentRequest,
    RefundRequest,
    ResumeRequest,
)
from functions.models.tokens import ApiProblem, parse_body
from functions.services import intake

logger = Logger()
tracer = Tracer()
app = APIGatewayRestResolver()
install_error_handlers(app, logger, "payment request", card_param="payment_method.card.number")

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_TTL_S = 24 * 60 * 60
_KEY_PATTERN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:.")


def problem(code: str, message: str, param: str | None, status: int) -> ApiProblem:
    return ApiProblem(ApiError("invalid_request_error", code, message, param, status))


def key_reused() -> ApiProblem:
    return ApiProblem(
        ApiError(
            "idempotency_error",
            "idempotency_key_reused",
            f"This {IDEMPOTENCY_HEADER} was already used for a different request "
            "(another body, endpoint or payment).",
            IDEMPOTENCY_HEADER,
            422,
        )
    )


def idempotency_key(required: bool) -> str | None:
    headers = app.current_event.headers or {}
    value = next((v for k, v in headers.items() if k.lower() == IDEMPOTENCY_HEADER.lower()), None)
    if value is None or not value.strip():
        if required:
            raise problem(
                "parameter_missing",
                f"The {IDEMPOTENCY_HEADER} header is required.",
                IDEMPOTENCY_HEADER,
                400,
            )
        return None
    value = value.strip()
    if len(value) > 255 or not set(value) <= _KEY_PATTERN:
        raise problem(
            "parameter_invalid",
            f"{IDEMPOTENCY_HEADER} must be 1-255 letters, digits or -_:.",
            IDEMPOTENCY_HEADER,
            400,
        )
    return value


def caller() -> str:
    return signing_principal(app.current_event.raw_event)


def require_merchant(merchant_id: str) -> None:
    if not wiring.merchant_access().may_act_for(caller(), merchant_id):
        logger.info("merchant not permitted", extra={"merchant_id": merchant_id})
        raise ApiProblem(merchant_not_permitted("merchant_id"))


def owned_payment(payment_id: str) -> Payment:
    """The payment, if the caller may act for its merchant; otherwise the same 404 as for a
    payment that does not exist (another merchant's payment ids reveal nothing)."""
    payment = wiring.payments_table().get(payment_id) if payment_id.startswith("pay_") else None
    if payment is None or not wiring.merchant_access().may_act_for(caller(), payment.merchant_id):
        raise problem("resource_missing", f"No payment {payment_id}.", "payment_id", 404)
    return payment


def request_digest(request: dict[str, Any]) -> str:
    """SHA-256 of the request with the card number truncated (first six, last four) and the CVC
    left out: enough to tell a changed body from the same one, useless for recovering a card."""
    canonical = json.loads(json.dumps(request))
    card = (canonical.get("payment_method") or {}).get("card")
    if card:
        digits = normalize_pan(card.pop("number"))
        card["number"] = f"{digits[:6]}{digits[-4:]}"
        card.pop("cvc", None)
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def workflow_request(request: PaymentRequest) -> dict[str, Any]:
    """The request as the workflow reads it: every field present, secrets revealed once."""
    data = request.model_dump()
    card = request.payment_method.card
    if card is not None:
        data["payment_method"]["card"]["number"] = card.number.get_secret_value()
        data["payment_method"]["card"]["cvc"] = card.cvc.get_secret_value() if card.cvc else None
    return data


# ---------------------------------------------------------------------------- workflow


def run_workflow(execution_name: str, execution_input: dict[str, Any]) -> dict[str, Any]:
    """Runs the EXPRESS workflow to its end and turns its answer into ``{status, body}``."""
    response = clients.stepfunctions().start_sync_execution(
        stateMachineArn=wiring.settings().required("state_machine_arn"),
        name=execution_name,
        input=json.dumps(execution_input),
    )
    if response["status"] != "SUCCEEDED":
        # Compensation catches every step's failure, so this is a defect or an outage: 5xx,
        # and the idempotency record is released so that the client may retry.
        logger.error(
            "payment workflow did not succeed",
            extra={"status": response["status"], "error": response.get("error")},
        )
        raise RuntimeError(f"workflow {response['status']}")
    output = json.loads(response.get("output") or "{}")
    if "error" in output:
        return {"status": int(output.get("http_status") or 400), "body": {"error": output["error"]}}
    return {"status": 0, "body": output["payment"]}


def _run_once(
    command: dict[str, Any], execution_name: str, execution_input: dict[str, Any]
) -> dict[str, Any]:
    return run_workflow(execution_name, execution_input)


@cache
def idempotency_config() -> IdempotencyConfig:
    # A key belongs to the merchant, not to an endpoint: the endpoint and the payment it names
    # are part of what a reuse must match, as the body is.
    return IdempotencyConfig(
        event_key_jmespath="[merchant_id, key]",
        payload_validation_jmespath="[operation, target, digest]",
        hash_function="sha256",
        expires_after_seconds=IDEMPOTENCY_TTL_S,
    )


@cache
def run_once() -> Callable[..., dict[str, Any]]:
    """``_run_once`` made idempotent over its ``command`` (built on first use: the table name
    comes from the environment)."""
    persistence = DynamoDBPersistenceLayer(
        table_name=wiring.settings().required("idempotency_table"),
        boto3_client=clients.dynamodb(),
    )
    decorated: Callable[..., dict[str, Any]] = idempotent_function(
        data_keyword_argument="command",
        persistence_store=persistence,
        config=idempotency_config(),
    )(_run_once)
    return decorated


def execute(
    command: dict[str, Any],
    execution_name: str,
    execution_input: dict[str, Any],
    success_status: int,
) -> Response[str]:
    try:
        outcome = run_once()(
            command=command, execution_name=execution_name, execution_input=execution_input
        )
    except IdempotencyValidationError:
        raise key_reused() from None
    except IdempotencyAlreadyInProgressError:
        raise problem(
            "idempotency_request_in_progress",
            f"A request with this {IDEMPOTENCY_HEADER} is still being processed; retry later.",
            IDEMPOTENCY_HEADER,
            409,
        ) from None
    return json_response(outcome["status"] or success_status, outcome["body"])


# ------------------------------------------------------------------------------ routes


@app.post("/v1/payments")
def create_payment() -> Response[str]:
    key = idempotency_key(required=True)
    request = parse_body(app.current_event.body, PaymentRequest)
    too_large = wiring.amount_caps().refusal(request.amount, request.currency)
    if too_large is not None:
        raise ApiProblem(ApiError(**dataclasses.asdict(too_large)))
    assert key is not None
    require_merchant(request.merchant_id)
    now = dt.datetime.now(dt.UTC)
    # Luhn, network, length and expiry here, where the card number is received: a bad card
    # costs no workflow execution and reaches no other function.
    refused = intake.card_error(request, now.date())
    if refused is not None:
        raise ApiProblem(refused)
    payment_id = derived_id("pay", request.merchant_id, key)
    normalized = workflow_request(request)
    digest = request_digest(normalized)
    # After the idempotency record expired the key still names the same payment: a different
    # body must be refused, not answered with the payment the first body made.
    existing = wiring.payments_table().get(payment_id)
    if existing is not None and existing.request_digest not in (None, digest):
        raise key_reused()
    workflow_input = {
        "operation": "create",
        "payment_id": payment_id,
        "received_at": now.isoformat(timespec="milliseconds"),
        "request": normalized,
        "request_digest": digest,
    }
    command = {
        "operation": "create",
        "merchant_id": request.merchant_id,
        "target": "",
        "key": key,
        "digest": digest,
    }
    logger.info(
        "payment requested", extra={"payment_id": payment_id, "merchant_id": request.merchant_id}
    )
    return execute(command, payment_id, workflow_input, 201)


@app.get("/v1/payments/<payment_id>")
def get_payment(payment_id: str) -> Response[str]:
    return json_response(200, owned_payment(payment_id).view())


def _operation(
    payment_id: str, operation: str, key: str, body: dict[str, Any], extra: dict[str, Any]
) -> dict[str, Any]:
    merchant_id = owned_payment(payment_id).merchant_id
    return {
        "command": {
            "operation": operation,
            "merchant_id": merchant_id,
            "target": payment_id,
            "key": key,
            "digest": hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest(),
        },
        "execution_name": derived_id(operation[:3], payment_id, key),
        "execution_input": {"operation": operation, "payment_id": payment_id, **extra},
    }


def _run_once_without_key(
    payment_id: str, operation: str, attempt: str, extra: dict[str, Any]
) -> Response[str]:
    """An operation sent without an Idempotency-Key runs once, as its own execution
    (``attempt`` names it): a refused attempt must not block a corrected one."""
    owned_payment(payment_id)
    outcome = run_workflow(
        derived_id(operation[:3], payment_id, attempt),
        {"operation": operation, "payment_id": payment_id, **extra},
    )
    return json_response(outcome["status"] or 200, outcome["body"])


@app.post("/v1/payments/<payment_id>/capture")
def capture_payment(payment_id: str) -> Response[str]:
    request = parse_body(app.current_event.body or "{}", CaptureRequest)
    key = idempotency_key(required=False)
    if key is None:
        # Without a key a refused capture (say, too large) must not block a corrected one; a
        # second capture of a captured payment is refused by the step (400).
        request_key = uuid.uuid4().hex
        extra = {"capture_request": request.model_dump(), "capture_key": request_key}
        return _run_once_without_key(payment_id, "capture", request_key, extra)
    # The key names the capture: a retry of it (even after the idempotency record expired) is
    # answered with that capture, never taken for a second one.
    extra = {"capture_request": request.model_dump(), "capture_key": key}
    call = _operation(payment_id, "capture", key, request.model_dump(), extra)
    return execute(call["command"], call["execution_name"], call["execution_input"], 200)


@app.post("/v1/payments/<payment_id>/cancel")
def cancel_payment(payment_id: str) -> Response[str]:
    request = parse_body(app.current_event.body or "{}", CancelRequest)
    key = idempotency_key(required=False)
    extra = {"cancellation_reason": request.cancellation_reason}
    if key is None:
        # A second cancel of a canceled payment is answered by the step with the same payment.
        return _run_once_without_key(payment_id, "cancel", uuid.uuid4().hex, extra)
    call = _operation(payment_id, "cancel", key, request.model_dump(), extra)
    return execute(call["command"], call["execution_name"], call["execution_input"], 200)


@app.post("/v1/payments/<payment_id>/refunds")
def refund_payment(payment_id: str) -> Response[str]:
    key = idempotency_key(required=True)
    assert key is not None
    request = parse_body(app.current_event.body or "{}", RefundRequest)
    refund = {"refund_id": derived_id("re", payment_id, key), "amount": request.amount}
    call = _operation(payment_id, "refund", key, request.model_dump(), {"refund_request": refund})
    return execute(call["command"], call["execution_name"], call["execution_input"], 201)


@app.post("/v1/payments/<payment_id>/resume")
def resume_payment(payment_id: str) -> Response[str]:
    request = parse_body(app.current_event.body, ResumeRequest)
    # Without a key the resume is scoped to its payment (keys are per merchant).
    key = idempotency_key(required=False) or f"{payment_id}:resume"
    resume = {"challenge_response": request.challenge_response}
    # The digest covers the answer too, so a second attempt with another code is refused (422)
    # rather than silently answered with the first outcome.
    call = _operation(payment_id, "resume", key, resume, {"resume": resume})
    return execute(call["command"], call["execution_name"], call["execution_input"], 200)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency_config().register_lambda_context(context)
    return app.resolve(event, context)
