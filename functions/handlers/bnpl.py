"""Lambda: the payment workflow's BNPL step and the BNPL collections run.

``{"action": "checkout"}``, ``{"action": "compensate"}`` and ``{"action": "refund"}`` come from
the state machine (``functions.contracts.bnpl_steps``) and answer the workflow's
``ProcessAnswer``; ``{"action": "collect"}`` comes from the collections schedule (or ``make
collect-bnpl``) and answers what the run did; ``{"action": "reconcile", "scheduled": true}``
from the hourly reconciliation schedule (continuing from its checkpoint), or by hand with a
window (``since``, ``until``), answering its report. Rules live in ``services.bnpl_checkout`` and
``services.credit_plans``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.adapters.credit_wiring import bnpl_checkout, bnpl_checkpoints, bnpl_reconciliation
from functions.contracts.bnpl_steps import (
    BnplStepInput,
    CheckoutInput,
    CompensateInput,
    ReconcileInput,
    RefundInput,
)
from functions.services.credit_reconciliation import BnplCursor

logger = Logger()
tracer = Tracer()
# The reconciliation stops with this share of the function's time left: enough to save its
# checkpoint and answer, whatever the timeout.
RESERVE_SHARE = 0.2


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = BnplStepInput.validate_python(event)
    service = bnpl_checkout()
    if isinstance(step, CheckoutInput):
        return service.checkout(step).output()
    if isinstance(step, CompensateInput):
        return service.compensate(step).output()
    if isinstance(step, RefundInput):
        return service.refund(step).output()
    if isinstance(step, ReconcileInput):
        reserve = context.get_remaining_time_in_millis() * RESERVE_SHARE
        checked = bnpl_reconciliation().serve(
            since=step.since,
            until=step.until,
            scheduled=step.scheduled,
            checkpoints=bnpl_checkpoints(),
            after=None if step.after is None else BnplCursor.from_dict(step.after.model_dump()),
            out_of_time=lambda: context.get_remaining_time_in_millis() < reserve,
        )
        # The alarm's metric filter reads mismatch_count from this line.
        logger.info("bnpl reconciliation", extra=checked.to_dict())
        return checked.to_dict()
    today = step.today or dt.datetime.now(dt.UTC).date()
    report = service.collect(today, step.plan_id)
    logger.info("bnpl collections", extra=report.model_dump(mode="json"))
    return report.model_dump(mode="json")
