"""The Payment API's use cases: what ``POST /v1/payments`` and the operations on a payment
(capture, refund, cancel, resume, read) decide before the EXPRESS workflow runs, over four
ports: the payment record (read only), the merchant bindings, the workflow and the idempotency
store. The API function only parses the request and answers what this returns.

Rules kept here:

- A caller acts only for the merchants it is bound to. Another merchant's payment answers the
  same 404 as a payment that does not exist (its ids reveal nothing).
- ``POST /v1/payments``: the amount within its currency's cap, the card checked where it is
  received (Luhn, network, length, expiry: a bad card costs no workflow execution), the
  payment id derived from merchant and ``Idempotency-Key`` so that even a retry after the
  idempotency record expired cannot create a second payment, and the request digest kept on
  the payment refuses such a late retry when its body differs.
- An ``Idempotency-Key`` belongs to the merchant: the same key with the same request answers
  the same; with another body, endpoint or payment it is refused (422); a duplicate still
  running gets 409, the only 409 this API answers.
- Capture and cancel without a key run once each, as their own execution, so a refused attempt
  never blocks a corrected one; a resume without a key is scoped to its payment; a refund
  needs a key (its refund id is derived from it).

Card data passes through on its way to the tokenize step: the digest (and so the idempotency
record) holds the card number truncated to its first six and last four digits and no CVC; no
hash of a full PAN exists anywhere.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any, Literal, Protocol

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field, field_serializer

from functions.contracts.steps import (
    ChallengeResponse,
    PaymentView,
    ProcessAnswer,
    RefundOrder,
    StepError,
)
from functions.domain.cards import normalize_pan
from functions.domain.limits import AmountCaps
from functions.domain.payments import Payment, derived_id
from functions.errors import ApiError, merchant_not_permitted
from functions.models.payments import (
    CancelRequest,
    CaptureRequest,
    PaymentRequest,
    RefundRequest,
    ResumeRequest,
)
from functions.models.tokens import ApiProblem
from functions.services import intake

logger = Logger(child=True)

IDEMPOTENCY_HEADER = "Idempotency-Key"
_KEY_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:.")
_KEY_MAX_LENGTH = 255


# --------------------------------------------------------------------------- the contracts


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CreateExecution(_Model):
    """What the workflow starts from for a new payment. ``request`` is serialised with its card
    number and CVC revealed: the tokenize step, and only it, reads them."""

    operation: Literal["create"] = "create"
    payment_id: str
    received_at: str
    request: PaymentRequest
    request_digest: str

    @field_serializer("request")
    def _revealed(self, request: PaymentRequest) -> dict[str, Any]:
        return workflow_request(request)


class CaptureExecution(_Model):
    operation: Literal["capture"] = "capture"
    payment_id: str
    capture_request: CaptureRequest
    # Names the capture: a retry of it is answered with that capture, never a second one.
    capture_key: str


class RefundExecution(_Model):
    operation: Literal["refund"] = "refund"
    payment_id: str
    refund_request: RefundOrder
    # The workflow routes a BNPL payment's refund to the BNPL step: its money is the plan's.
    payment_method: Literal["card", "bnpl"] = "card"


class CancelExecution(_Model):
    operation: Literal["cancel"] = "cancel"
    payment_id: str
    cancellation_reason: str | None


class ResumeExecution(_Model):
    operation: Literal["resume"] = "resume"
    payment_id: str
    resume: ChallengeResponse


ExecutionInput = (
    CreateExecution | CaptureExecution | RefundExecution | CancelExecution | ResumeExecution
)


class Execution(_Model):
    """One run of the workflow: its execution name (derived, so a retry names the same
    execution) and its input."""

    name: str
    input: ExecutionInput = Field(discriminator="operation")

    def payload(self) -> dict[str, Any]:
        """The input as the state machine reads it (JSON data)."""
        return self.input.model_dump(mode="json")


class IdempotencyCommand(_Model):
    """What the idempotency record is keyed on (merchant and key) and what a reuse of the key
    must match (operation, target payment, request digest)."""

    operation: str
    merchant_id: str
    target: str
    key: str
    digest: str


class ErrorBody(_Model):
    error: StepError


class ApiAnswer(_Model):
    """An answer of the API: the HTTP status and the payment (or the error). ``status`` 0 is
    what an idempotency record written before this model holds for "the route's success"."""

    status: int
    body: PaymentView | ErrorBody

    def json_body(self) -> dict[str, Any]:
        # exclude_unset: the payment's fields as the workflow gave them, its nulls included.
        return self.body.model_dump(mode="json", exclude_unset=True)


# -------------------------------------------------------------------------------- the ports


class PaymentReader(Protocol):
    def get(self, payment_id: str) -> Payment | None: ...


class MerchantBindings(Protocol):
    def may_act_for(self, principal: str, merchant_id: str) -> bool: ...


class Workflow(Protocol):
    """Runs the payment workflow to its end and answers its output. A run that did not succeed
    (the workflow compensates every step's failure, so a defect or an outage) raises."""

    def run(self, execution: Execution) -> ProcessAnswer: ...


class KeyReusedError(Exception):
    """The idempotency key was already used with another command."""


class RequestInProgressError(Exception):
    """A request with the same idempotency key is still running."""


class IdempotencyStore(Protocol):
    """Runs ``work`` once per ``command`` key: a repeat answers the stored answer; raises
    ``KeyReusedError`` or ``RequestInProgressError``. A ``work`` that raises stores nothing, so
    the client may retry."""

    def once(self, command: IdempotencyCommand, work: Callable[[], ApiAnswer]) -> ApiAnswer: ...


# ---------------------------------------------------------------------------- the service


class PaymentCommands:
    def __init__(
        self,
        payments: PaymentReader,
        merchants: MerchantBindings,
        caps: AmountCaps,
        workflow: Workflow,
        idempotency: IdempotencyStore,
        new_key: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._payments = payments
        self._merchants = merchants
        self._caps = caps
        self._workflow = workflow
        self._idempotency = idempotency
        self._new_key = new_key

    def create(self, caller: str, key: str, request: PaymentRequest, now: dt.datetime) -> ApiAnswer:
        too_large = self._caps.refusal(request.amount, request.currency)
        if too_large is not None:
            raise ApiProblem(ApiError(**dataclasses.asdict(too_large)))
        if not self._merchants.may_act_for(caller, request.merchant_id):
            logger.info("merchant not permitted", extra={"merchant_id": request.merchant_id})
            raise ApiProblem(merchant_not_permitted("merchant_id"))
        refused = intake.card_error(request, now.date())
        if refused is not None:
            raise ApiProblem(refused)
        payment_id = derived_id("pay", request.merchant_id, key)
        digest = request_digest(workflow_request(request))
        # After the idempotency record expired the key still names the same payment: a
        # different body must be refused, not answered with the payment the first body made.
        existing = self._payments.get(payment_id)
        if existing is not None and existing.request_digest not in (None, digest):
            raise key_reused()
        execution = Execution(
            name=payment_id,
            input=CreateExecution(
                payment_id=payment_id,
                received_at=now.isoformat(timespec="milliseconds"),
                request=request,
                request_digest=digest,
            ),
        )
        command = IdempotencyCommand(
            operation="create", merchant_id=request.merchant_id, target="", key=key, digest=digest
        )
        logger.info(
            "payment requested",
            extra={"payment_id": payment_id, "merchant_id": request.merchant_id},
        )
        return self._once(command, execution, 201)

    def get(self, caller: str, payment_id: str) -> ApiAnswer:
        payment = self._owned(caller, payment_id)
        return ApiAnswer(status=200, body=PaymentView.model_validate(payment.view()))

    def capture(
        self, caller: str, payment_id: str, key: str | None, request: CaptureRequest
    ) -> ApiAnswer:
        payment = self._owned(caller, payment_id)
        # Without a key a refused capture (say, too large) must not block a corrected one; a
        # second capture of a captured payment is refused by the workflow (400).
        capture_key = key or self._new_key()
        execution = Execution(
            name=derived_id("cap", payment_id, capture_key),
            input=CaptureExecution(
                payment_id=payment_id, capture_request=request, capture_key=capture_key
            ),
        )
        if key is None:
            return self._run(execution, 200)
        return self._once(_command(payment, "capture", key, request.model_dump()), execution, 200)

    def cancel(
        self, caller: str, payment_id: str, key: str | None, request: CancelRequest
    ) -> ApiAnswer:
        payment = self._owned(caller, payment_id)
        execution = Execution(
            name=derived_id("can", payment_id, key or self._new_key()),
            input=CancelExecution(
                payment_id=payment_id, cancellation_reason=request.cancellation_reason
            ),
        )
        if key is None:
            # A second cancel of a canceled payment is answered with the same payment.
            return self._run(execution, 200)
        return self._once(_command(payment, "cancel", key, request.model_dump()), execution, 200)

    def refund(self, caller: str, payment_id: str, key: str, request: RefundRequest) -> ApiAnswer:
        payment = self._owned(caller, payment_id)
        # The refund id comes from the key: a retry can never refund twice.
        order = RefundOrder(refund_id=derived_id("re", payment_id, key), amount=request.amount)
        execution = Execution(
            name=derived_id("ref", payment_id, key),
            input=RefundExecution(
                payment_id=payment_id,
                refund_request=order,
                payment_method="card" if payment.bnpl is None else "bnpl",
            ),
        )
        return self._once(_command(payment, "refund", key, request.model_dump()), execution, 201)

    def resume(
        self, caller: str, payment_id: str, key: str | None, request: ResumeRequest
    ) -> ApiAnswer:
        payment = self._owned(caller, payment_id)
        # Without a key the resume is scoped to its payment (keys are per merchant).
        key = key or f"{payment_id}:resume"
        answer = ChallengeResponse(challenge_response=request.challenge_response)
        execution = Execution(
            name=derived_id("res", payment_id, key),
            input=ResumeExecution(payment_id=payment_id, resume=answer),
        )
        # The digest covers the answer too, so a second attempt with another code is refused
        # (422) rather than silently answered with the first outcome.
        command = _command(payment, "resume", key, answer.model_dump())
        return self._once(command, execution, 200)

    # ------------------------------------------------------------------------------ helpers

    def _owned(self, caller: str, payment_id: str) -> Payment:
        payment = self._payments.get(payment_id) if payment_id.startswith("pay_") else None
        if payment is None or not self._merchants.may_act_for(caller, payment.merchant_id):
            raise ApiProblem(
                ApiError(
                    "invalid_request_error",
                    "resource_missing",
                    f"No payment {payment_id}.",
                    "payment_id",
                    404,
                )
            )
        return payment

    def _run(self, execution: Execution, success_status: int) -> ApiAnswer:
        answer = outcome(self._workflow.run(execution), success_status)
        body = answer.body
        if isinstance(body, ErrorBody) and body.error.code in ASK_AGAIN_CODES:
            # Raised, not answered: an answer is kept under the Idempotency-Key and every
            # retry would get it back, though the same request asked later would succeed.
            raise ApiProblem(
                ApiError(
                    body.error.type,
                    body.error.code,
                    body.error.message,
                    body.error.param,
                    answer.status,
                )
            )
        return answer

    def _once(
        self, command: IdempotencyCommand, execution: Execution, success_status: int
    ) -> ApiAnswer:
        try:
            answer = self._idempotency.once(command, lambda: self._run(execution, 0))
        except KeyReusedError:
            raise key_reused() from None
        except RequestInProgressError:
            raise ApiProblem(
                ApiError(
                    "invalid_request_error",
                    "idempotency_request_in_progress",
                    f"A request with this {IDEMPOTENCY_HEADER} is still being processed; "
                    "retry later.",
                    IDEMPOTENCY_HEADER,
                    409,
                )
            ) from None
        # A stored answer keeps 0 for "the route's success status" (records written by earlier
        # versions hold it too).
        return answer.model_copy(update={"status": answer.status or success_status})


# Refusals that say "not now" rather than "not this": kept out of the idempotency record so that
# the client's retry with the same key runs the request again (a BNPL plan another operation
# holds for a few seconds to minutes: services.credit_plans).
ASK_AGAIN_CODES = frozenset({"plan_busy"})


def outcome(answer: ProcessAnswer, success_status: int) -> ApiAnswer:
    """The workflow's output as the API answers it: the payment, or the refused request's error
    with its status (400 unless the workflow named another)."""
    if answer.error is not None:
        return ApiAnswer(status=answer.http_status or 400, body=ErrorBody(error=answer.error))
    if answer.payment is None:
        raise ValueError("the workflow answered neither a payment nor an error")
    return ApiAnswer(status=success_status, body=answer.payment)


def _command(
    payment: Payment, operation: str, key: str, body: dict[str, Any]
) -> IdempotencyCommand:
    return IdempotencyCommand(
        operation=operation,
        merchant_id=payment.merchant_id,
        target=payment.payment_id,
        key=key,
        digest=hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest(),
    )


def idempotency_key(value: str | None) -> str | None:
    """The ``Idempotency-Key`` header's value (None when absent or blank), checked for form."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > _KEY_MAX_LENGTH or not set(value) <= _KEY_CHARACTERS:
        raise ApiProblem(
            ApiError(
                "invalid_request_error",
                "parameter_invalid",
                f"{IDEMPOTENCY_HEADER} must be 1-255 letters, digits or -_:.",
                IDEMPOTENCY_HEADER,
            )
        )
    return value


def required_key(key: str | None) -> str:
    if key is None:
        raise ApiProblem(
            ApiError(
                "invalid_request_error",
                "parameter_missing",
                f"The {IDEMPOTENCY_HEADER} header is required.",
                IDEMPOTENCY_HEADER,
            )
        )
    return key


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


def request_digest(request: dict[str, Any]) -> str:
    """SHA-256 of the request with the card number truncated (first six, last four) and the CVC
    left out: enough to tell a changed body from the same one, useless for recovering a card."""
    canonical = json.loads(json.dumps(request))
    if canonical.get("metadata") is None:
        # A request without metadata keeps the digest it had before metadata existed: a late
        # retry of a payment created then is still recognised as the same request.
        canonical.pop("metadata", None)
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
