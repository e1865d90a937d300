"""The payment events the bus delivered, as its archive rule writes them to a CloudWatch Logs
log group (one EventBridge envelope per log event): the reconciliation's event record."""

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
                    envelope = json.loads(record.get("message", ""))
                except ValueError:
                    continue
                event = payment_event(envelope)
                if event is not None:
                    yield event


def payment_event(envelope: Any) -> PublishedEvent | None:
    """The payment event an EventBridge envelope carries; None for anything else."""
    detail = envelope.get("detail") if isinstance(envelope, Mapping) else None
    if not isinstance(detail, Mapping) or "payment_id" not in detail:
        return None
    return PublishedEvent(
        event_id=str(detail.get("event_id", envelope.get("id", ""))),
        type=str(envelope.get("detail-type", "")),
        payment_id=str(detail["payment_id"]),
        amount=detail.get("operation_amount"),
    )
