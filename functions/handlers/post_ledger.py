"""Lambda: the workflow's ledger step. Posts the balanced journal entry for one money
movement (authorization, capture with the release of any uncaptured remainder, refund) or, as
compensation, reverses every entry of a payment. Posting is idempotent per payment and step:
a retried call finds its entry already written and changes nothing.

``report_failure``: the workflow gave up posting a capture or refund (the acquirer has moved
the money, so the payment goes on). That is logged at ERROR with ``ledger_alarm``, which a
metric filter counts and an alarm watches (modules/payment_workflow/alarms.tf); the scheduled
reconciliation posts the missing entry."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from functions.adapters import payment_wiring as wiring
from functions.domain.ledger import JournalEntry, PaymentLedger

logger = Logger()
tracer = Tracer()


class LedgerUnavailableError(Exception):
    """The ledger table could not be written just now; the workflow retries with backoff."""


LEDGER_ALARM = "posting_failed"


def report_failure(event: dict[str, Any]) -> None:
    failure = event.get("failure") or {}
    logger.error(
        "ledger posting failed: the journal entry is missing until reconcile posts it",
        extra={
            "ledger_alarm": LEDGER_ALARM,
            "payment_id": event["payment_id"],
            "step": event.get("step"),
            "error": str(failure.get("Error", "unknown")),
        },
    )


def post(event: dict[str, Any], ledger: PaymentLedger) -> list[JournalEntry]:
    action = event["action"]
    payment_id = event["payment_id"]
    if action == "reverse_all":
        return ledger.reverse_all(payment_id)
    merchant_id, currency = event["merchant_id"], event["currency"]
    if action == "authorization":
        return [
            ledger.record_authorization(payment_id, merchant_id, int(event["amount"]), currency)
        ]
    if action == "capture":
        posted = [
            ledger.record_capture(
                payment_id, merchant_id, int(event["amount"]), currency, int(event["sequence"])
            )
        ]
        # One capture per payment: whatever it left uncaptured is released now.
        released = ledger.record_void(payment_id, merchant_id, currency)
        return posted + ([released] if released is not None else [])
    if action == "refund":
        return [
            ledger.record_refund(
                payment_id, merchant_id, int(event["amount"]), currency, event["refund_id"]
            )
        ]
    raise ValueError(f"unknown ledger action {action!r}")


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event["action"] == "report_failure":
        report_failure(event)
        return {"entries": []}
    try:
        entries = post(event, wiring.ledger())
    except (ClientError, BotoCoreError) as error:
        logger.warning("ledger write failed", extra={"error": type(error).__name__})
        raise LedgerUnavailableError(type(error).__name__) from error
    logger.info(
        "ledger posted",
        extra={"payment_id": event["payment_id"], "entries": [e.entry_id for e in entries]},
    )
    return {"entries": [e.entry_id for e in entries]}
