"""Lambda: the workflow's money-moving step. It alone talks to the acquirer, writes the
payment record, posts the payment's journal entries and publishes its events; the rules live in
``functions.services.payment_processing``. The input is one of the typed step contracts of
``functions.contracts.steps`` (discriminated on ``action``) and the answer is a
``ProcessAnswer``: the workflow's output as the API returns it. A refused request is answered
as an API error, never raised.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.adapters import payment_wiring as wiring
from functions.contracts.steps import (
    CancelInput,
    CaptureInput,
    CreateInput,
    DeclineInput,
    PendingInput,
    ProcessAnswer,
    ProcessInput,
    ProcessPaymentInput,
    RefundInput,
    ResumeInput,
    VoidInput,
)
from functions.domain.payment_metrics import MetricsRecorder
from functions.domain.payments import PaymentRuleError
from functions.services.payment_processing import PaymentProcessor, StepOutcome, now_iso
from functions.services.step_metrics import measured, outcome_measures

logger = Logger()
tracer = Tracer()


def run(step: ProcessInput, processor: PaymentProcessor) -> StepOutcome:
    match step:
        case CreateInput():
            return processor.create(step.payment)
        case ResumeInput():
            return processor.authorize(step.payment)
        case DeclineInput():
            return processor.decline(step.payment, step.decline_code)
        case CaptureInput():
            return processor.capture(step.payment_id, step.amount, step.request_key)
        case RefundInput():
            return processor.refund(step.payment_id, step.refund.refund_id, step.refund.amount)
        case CancelInput():
            return processor.cancel(step.payment_id, step.cancellation_reason)
        case PendingInput():
            return processor.pending(step.payment_id)
        case VoidInput():
            return processor.void(step.payment_id, step.failure, step.payment)


def process(
    event: dict[str, Any],
    processor: PaymentProcessor,
    publish: Callable[[Sequence[dict[str, Any]]], object] | None = None,
    metrics: MetricsRecorder | None = None,
) -> dict[str, Any]:
    """Runs one step; publishes its events with ``publish`` (when given), records its outcome
    and latency with ``metrics`` (when given) and answers the ``ProcessAnswer``."""
    step = ProcessPaymentInput.validate_python(event)
    try:
        answer = measured(metrics, lambda: run(step, processor), outcome_measures(step))
    except PaymentRuleError as refused:
        logger.info("payment request refused", extra={"code": refused.code})
        return ProcessAnswer.model_validate(refused.to_answer()).output()
    if publish is not None and answer.events:
        publish(answer.entries())
    return answer.answer().output()


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
        ledger=wiring.ledger(),
    )
    return process(event, processor, wiring.event_publisher().publish, wiring.metrics())
