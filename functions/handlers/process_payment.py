"""Lambda: the workflow's money-moving step. It alone talks to the acquirer and writes the
payment record; the rules live in ``functions.services.payment_processing``. One action per
call (``decline``, ``require_action``, ``authorize``, ``capture``, ``refund``, ``pending``,
``void``); a refused request is answered as an API error, never raised.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.adapters import payment_wiring as wiring
from functions.domain.payments import PaymentRuleError
from functions.services.payment_processing import PaymentProcessor, now_iso

__all__ = ["PaymentProcessor", "handler", "now_iso", "process"]

logger = Logger()
tracer = Tracer()


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
            return processor.capture(
                event["payment_id"], event.get("amount"), event.get("request_key")
            )
        if action == "refund":
            refund = event["refund"]
            return processor.refund(event["payment_id"], refund["refund_id"], refund.get("amount"))
        if action == "pending":
            return processor.pending(event["payment_id"])
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
        acs=wiring.access_control_server(),
        agreements=wiring.mit_agreements(),
    )
    return process(event, processor)
