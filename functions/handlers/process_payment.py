"""Lambda: the workflow's money-moving step. It alone talks to the acquirer and writes the
payment record, one action per call:

- ``decline`` / ``require_action``: record the outcome of the fraud or SCA step.
- ``authorize``: record ``authorizing`` (the resumable state), ask the acquirer, record its answer.
- ``capture`` / ``refund``: reserve the amount on the record first (an optimistic write, so two
  concurrent requests can't both spend it), then ask the acquirer; release it if that fails.
- ``void``: compensation after a failed step; voids the authorization (by its id, or by the
  authorize idempotency key when the acquirer's answer never came).

Every action is safe to repeat: a retried call finds its own earlier write and answers from it.
Each answer carries the public payment view and the PutEvents entries the workflow publishes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.adapters import payment_wiring as wiring
from functions.adapters.payments_table import PaymentsTable, StaleWriteError
from functions.domain.acquirer import (
    AcquirerConnector,
    Authentication,
    AuthorizationRequest,
    CardReference,
)
from functions.domain.payments import (
    EventType,
    Payment,
    PaymentRuleError,
    PaymentStatus,
    Refund,
    new_payment,
)

logger = Logger()
tracer = Tracer()
SAVE_ATTEMPTS = 3
FAILURE_CODES = {
    "AcquirerTimeoutError": "acquirer_timeout",
    "AcquirerUnavailableError": "processing_error",
    "AcquirerRejectedError": "acquirer_rejected",
}


class PaymentProcessor:
    def __init__(
        self,
        table: PaymentsTable,
        acquirer: AcquirerConnector,
        bus_name: str,
        now: Callable[[], str],
    ) -> None:
        self._table = table
        self._acquirer = acquirer
        self._bus = bus_name
        self._now = now

    def _answer(self, payment: Payment, *events: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"payment": payment.view(), "events": list(events), **extra}

    def _load(self, payment_id: str) -> Payment:
        payment = self._table.get(payment_id)
        if payment is None:
            raise PaymentRuleError(
                "resource_missing", f"No payment {payment_id}.", "payment_id", 404
            )
        return payment

    # ---------------------------------------------------------------- outcomes

    def decline(self, context: dict[str, Any], decline_code: str) -> dict[str, Any]:
        existing = self._table.get(context["payment_id"])
        if existing is not None and existing.status is PaymentStatus.DECLINED:
            return self._answer(existing, existing.event(EventType.DECLINED, self._bus))
        now = self._now()
        payment = (
            existing.declined(decline_code, now)
            if existing is not None
            else new_payment(context, PaymentStatus.DECLINED, now, decline_code=decline_code)
        )
        self._table.save(payment)
        logger.info(
            "payment declined", extra={"payment_id": payment.payment_id, "code": decline_code}
        )
        return self._answer(payment, payment.event(EventType.DECLINED, self._bus))

    def require_action(self, context: dict[str, Any]) -> dict[str, Any]:
        existing = self._table.get(context["payment_id"])
        if existing is not None:
            return self._answer(existing, existing.event(EventType.REQUIRES_ACTION, self._bus))
        challenge = context["sca"]["result"]["challenge"]
        saved_state = {k: v for k, v in context.items() if k != "sca"}
        payment = new_payment(
            context,
            PaymentStatus.REQUIRES_ACTION,
            self._now(),
            next_action=challenge,
            resume_context=saved_state,
        )
        self._table.save(payment)
        return self._answer(payment, payment.event(EventType.REQUIRES_ACTION, self._bus))

    # ------------------------------------------------------------ authorization

    def authorize(self, context: dict[str, Any]) -> dict[str, Any]:
        payment = self._table.get(context["payment_id"])
        if payment is not None and payment.status not in (
            PaymentStatus.REQUIRES_ACTION,
            PaymentStatus.AUTHORIZING,
        ):
            return self._authorized_answer(payment)  # a retried call: the outcome is recorded
        now = self._now()
        sca = context.get("sca", {}).get("result", {})
        if payment is None:
            payment = new_payment(context, PaymentStatus.AUTHORIZING, now)
            self._table.save(payment)
        elif payment.status is PaymentStatus.REQUIRES_ACTION:
            payment = payment.authorizing(now)
            payment = payment.evolve(
                now,
                sca={"required": True, "exemption": None, "reason": sca.get("reason")},
                version=payment.version,
            )
            self._table.save(payment)
        card = context["card"]
        result = self._acquirer.authorize(
            AuthorizationRequest(
                payment_id=payment.payment_id,
                merchant_id=payment.merchant_id,
                amount=payment.amount,
                currency=payment.currency,
                card=CardReference(
                    token=payment.token,
                    brand=payment.card_brand,
                    last4=payment.card_last4,
                    exp_month=card.get("exp_month"),
                    exp_year=card.get("exp_year"),
                ),
                authentication=Authentication(
                    eci=sca.get("eci"),
                    authentication_value=sca.get("authentication_value"),
                    exemption=sca.get("exemption"),
                ),
                idempotency_key=payment.authorize_idempotency_key,
            )
        )
        now = self._now()
        if result.approved and result.authorization_id:
            payment = payment.authorized(result.authorization_id, now)
        else:
            code = result.decline_code.value if result.decline_code else "do_not_honor"
            payment = payment.declined(code, now)
        self._table.save(payment)
        logger.info(
            "authorization answered",
            extra={"payment_id": payment.payment_id, "status": str(payment.status)},
        )
        return self._authorized_answer(payment)

    def _authorized_answer(self, payment: Payment) -> dict[str, Any]:
        if payment.status is PaymentStatus.DECLINED:
            return self._answer(
                payment, payment.event(EventType.DECLINED, self._bus), approved=False
            )
        authorized = payment.event(EventType.AUTHORIZED, self._bus, amount=payment.amount)
        return self._answer(payment, authorized, approved=True)

    # ----------------------------------------------------------------- capture

    def capture(self, payment_id: str, requested: int | None) -> dict[str, Any]:
        for _ in range(SAVE_ATTEMPTS):
            payment = self._load(payment_id)
            if payment.amount_captured and requested in (None, payment.amount_captured):
                return self._captured_answer(payment)  # already captured: answer as before
            amount = payment.capture_amount(requested)
            reserved = payment.captured(amount, self._now())
            try:
                self._table.save(reserved)
            except StaleWriteError:
                continue
            assert payment.authorization_id is not None  # an authorized payment has one
            try:
                self._acquirer.capture(
                    payment.authorization_id,
                    amount,
                    payment.currency,
                    idempotency_key=f"{payment_id}:capture:{reserved.capture_sequence}",
                )
            except Exception:
                self._table.save(payment.evolve(self._now(), version=reserved.version + 1))
                raise
            logger.info("payment captured", extra={"payment_id": payment_id, "amount": amount})
            return self._captured_answer(reserved)
        raise StaleWriteError(payment_id)

    def _captured_answer(self, payment: Payment) -> dict[str, Any]:
        return self._answer(
            payment,
            payment.event(EventType.CAPTURED, self._bus, amount=payment.amount_captured),
            captured_amount=payment.amount_captured,
            sequence=payment.capture_sequence,
        )

    # ------------------------------------------------------------------ refund

    def refund(self, payment_id: str, refund_id: str, requested: int | None) -> dict[str, Any]:
        for _ in range(SAVE_ATTEMPTS):
            payment = self._load(payment_id)
            done = payment.find_refund(refund_id)
            if done is not None:
                return self._refunded_answer(payment, done)
            amount = payment.refund_amount(requested)
            refund = Refund(refund_id, amount, self._now())
            reserved = payment.refunded(refund, self._now())
            try:
                self._table.save(reserved)
            except StaleWriteError:
                continue  # a concurrent refund won: check the balance again
            assert payment.authorization_id is not None
            try:
                self._acquirer.refund(
                    payment.authorization_id,
                    amount,
                    payment.currency,
                    idempotency_key=f"{payment_id}:refund:{refund_id}",
                )
            except Exception:
                self._release_refund(payment_id, refund_id)
                raise
            logger.info("payment refunded", extra={"payment_id": payment_id, "amount": amount})
            return self._refunded_answer(reserved, refund)
        raise StaleWriteError(payment_id)

    def _release_refund(self, payment_id: str, refund_id: str) -> None:
        for _ in range(SAVE_ATTEMPTS):
            current = self._load(payment_id)
            refund = current.find_refund(refund_id)
            if refund is None:
                return
            remaining = tuple(r for r in current.refunds if r.refund_id != refund_id)
            total = current.amount_refunded - refund.amount
            status = PaymentStatus.PARTIALLY_REFUNDED if total else PaymentStatus.CAPTURED
            try:
                self._table.save(
                    current.evolve(
                        self._now(), refunds=remaining, amount_refunded=total, status=status
                    )
                )
                return
            except StaleWriteError:
                continue

    def _refunded_answer(self, payment: Payment, refund: Refund) -> dict[str, Any]:
        return self._answer(
            payment,
            payment.event(
                EventType.REFUNDED, self._bus, key=refund.refund_id, amount=refund.amount
            ),
            refund={"id": refund.refund_id, "amount": refund.amount},
        )

    # ------------------------------------------------------------ compensation

    def void(
        self, payment_id: str, failure: dict[str, Any], context: dict[str, Any]
    ) -> dict[str, Any]:
        failure_code = FAILURE_CODES.get(str(failure.get("Error")), "workflow_error")
        payment = self._table.get(payment_id)
        if payment is not None and payment.status in (PaymentStatus.CANCELED, PaymentStatus.FAILED):
            return self._compensated_answer(payment)
        if payment is None:
            payment = new_payment(context, PaymentStatus.AUTHORIZING, self._now())
            self._table.save(payment)
        if payment.authorization_id is not None:
            self._acquirer.void(payment.authorization_id, idempotency_key=f"{payment_id}:void")
        else:
            # The acquirer's answer never came: void whatever that request may have created.
            self._acquirer.void(None, idempotency_key=payment.authorize_idempotency_key)
        payment = payment.compensated(failure_code, self._now())
        self._table.save(payment)
        logger.warning(
            "payment compensated",
            extra={"payment_id": payment_id, "status": str(payment.status), "code": failure_code},
        )
        return self._compensated_answer(payment)

    def _compensated_answer(self, payment: Payment) -> dict[str, Any]:
        kind = (
            EventType.CANCELED if payment.status is PaymentStatus.CANCELED else EventType.DECLINED
        )
        return self._answer(payment, payment.event(kind, self._bus))


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def process(event: dict[str, Any], processor: PaymentProcessor) -> dict[str, Any]:
    action = event["action"]
    try:
        if action == "decline":
            return processor.decline(event["payment"], event["decline_code"])
        if action == "require_action":
            return processor.require_action(event["payment"])
        if action == "authorize":
            return processor.authorize(event["payment"])
        if action == "capture":
            return processor.capture(event["payment_id"], event.get("amount"))
        if action == "refund":
            refund = event["refund"]
            return processor.refund(event["payment_id"], refund["refund_id"], refund.get("amount"))
        if action == "void":
            return processor.void(
                event["payment_id"], event.get("failure") or {}, event.get("payment") or {}
            )
    except PaymentRuleError as refused:
        logger.info("payment request refused", extra={"code": refused.code})
        return refused.to_answer()
    raise ValueError(f"unknown action {action!r}")


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    processor = PaymentProcessor(
        wiring.payments_table(),
        wiring.acquirer(),
        wiring.settings().required("event_bus_name"),
        now_iso,
    )
    return process(event, processor)
