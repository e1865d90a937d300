"""Lambda: webhook delivery (docs/decisions/0009), on two SQS queues. A record from the events
queue is an event EventBridge copied there (it is dispatched: one delivery per subscribed
endpoint); a record from the delivery queue is one attempt. A record that raises is reported
as a batch item failure and returns after the queue's visibility timeout."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.adapters.webhook_queue import parse_message
from functions.adapters.webhook_wiring import webhook_delivery

logger = Logger()
tracer = Tracer()


def handle_record(body: dict[str, Any], now: dt.datetime) -> str:
    if body.get("kind") == "webhook_delivery":
        return webhook_delivery().attempt(parse_message(body), now).value
    queued = webhook_delivery().dispatch(
        str(body["detail-type"]), body["detail"], str(body.get("time", "")), now
    )
    return f"dispatched {queued}"


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    failures = []
    for record in event.get("Records", []):
        try:
            outcome = handle_record(json.loads(record["body"]), dt.datetime.now(dt.UTC))
        except Exception as error:
            # Only the type: an exception's text could quote the payload.
            logger.error("webhook record failed", extra={"error_type": type(error).__name__})
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        logger.debug("webhook record", extra={"outcome": outcome})
    return {"batchItemFailures": failures}
