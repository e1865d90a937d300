"""Calls the payment service the way the old one-action-per-event step did: the adapter tests
drive ``PaymentProcessor`` through this table of actions and read its full answers (events,
approval, captured amount), which the Lambda's ``ProcessAnswer`` does not carry."""

from __future__ import annotations

from typing import Any

from functions.contracts.steps import PaymentContext, StepFailure
from functions.domain.payments import PaymentRuleError
from functions.services.payment_processing import PaymentProcessor, StepOutcome


def data(outcome: StepOutcome) -> dict[str, Any]:
    """The outcome as plain data: the fields that apply, the payment with its nulls (they are
    part of the API's payment object)."""
    return {
        **outcome.model_dump(exclude={"payment"}, exclude_none=True),
        "payment": outcome.payment.model_dump(exclude_unset=True),
    }


def process(event: dict[str, Any], processor: PaymentProcessor) -> dict[str, Any]:
    try:
        return data(_call(event, processor))
    except PaymentRuleError as refused:
        return refused.to_answer()


def _call(event: dict[str, Any], processor: PaymentProcessor) -> StepOutcome:
    action = event["action"]
    payment = event.get("payment")
    context = PaymentContext.model_validate(payment) if payment else None
    if action in ("create", "decline", "require_action", "authorize"):
        assert context is not None, f"{action} takes the payment context"
        if action == "create":
            return processor.create(context)
        if action == "decline":
            return processor.decline(context, event["decline_code"])
        if action == "require_action":
            return processor.require_action(context)
        return processor.authorize(context)
    if action == "capture":
        return processor.capture(event["payment_id"], event.get("amount"), event.get("request_key"))
    if action == "refund":
        refund = event["refund"]
        return processor.refund(event["payment_id"], refund["refund_id"], refund.get("amount"))
    if action == "cancel":
        return processor.cancel(event["payment_id"], event.get("cancellation_reason"))
    if action == "pending":
        return processor.pending(event["payment_id"])
    if action == "void":
        failure = StepFailure.model_validate(event.get("failure") or {})
        return processor.void(event["payment_id"], failure, context)
    raise ValueError(f"unknown action {action!r}")
