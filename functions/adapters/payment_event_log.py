"""The payment events the bus delivered, as its archive rule writes them to a CloudWatch Logs
log group (one compact record per event): the reconciliation's event record."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from functions.domain.reconciliation import PublishedEvent

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient


class LogGroupEventRecord:
    def __init__(self, client: CloudWatchLogsClient, log_group: str) -> None:
        self._client = client
        self._log_group = log_group

    def read(self) -> Iterator[PublishedEvent]:
        pages = self._client.get_paginator("filter_log_events").paginate(
            logGroupName=self._log_group
        )
        for page in pages:
            for record in page.get("events", []):
                try:
                    message = json.loads(record.get("message", ""))
                except ValueError:
                    continue
                event = payment_event(message)
                if event is not None:
                    yield event


def payment_event(record: Any) -> PublishedEvent | None:
    """The payment event a log record names; None for anything else.

    The archive rule writes a compact record ``{event_id, type, payment_id, amount}``
    (modules/payment_workflow/events.tf); records written before it are whole EventBridge
    envelopes, read as well. ``amount`` is a string of digits, or whatever the bus writes for
    an event without ``operation_amount`` (no amount then).
    """
    if not isinstance(record, Mapping):
        return None
    if "detail" not in record:
        payment_id = record.get("payment_id")
        if not isinstance(payment_id, str) or not payment_id or "<" in payment_id:
            return None
        amount = str(record.get("amount", ""))
        return PublishedEvent(
            event_id=str(record.get("event_id", "")),
            type=str(record.get("type", "")),
            payment_id=payment_id,
            amount=int(amount) if amount.isdigit() else None,
        )
    detail = record.get("detail")
    if not isinstance(detail, Mapping) or "payment_id" not in detail:
        return None
    return PublishedEvent(
        event_id=str(detail.get("event_id", record.get("id", ""))),
        type=str(record.get("detail-type", "")),
        payment_id=str(detail["payment_id"]),
        amount=detail.get("operation_amount"),
    )
