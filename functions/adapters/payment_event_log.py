"""The payment events the bus delivered, as its archive rule writes them to a CloudWatch Logs
log group (one compact record per event): the reconciliation's event record."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from functions.domain.reconciliation import PublishedEvent

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient


# FilterLogEvents shares a small per-account, per-Region rate quota (5 requests per second by
# default, Service Quotas "FilterLogEvents throttle limit in transactions per second") with
# every other reader: consoles, Logs Insights aside, alarms' investigations. The reconciliation
# takes at most half of it.
PAGES_PER_SECOND = 2.5


class LogGroupEventRecord:
    """Reads the record for a time range only (``startTime``/``endTime``: the log events'
    timestamps, which the archive rule sets to the event's time), page by page, paced to
    ``pages_per_second``; each page holds up to 10,000 records (1 MB)."""

    def __init__(
        self,
        client: CloudWatchLogsClient,
        log_group: str,
        *,
        pages_per_second: float = PAGES_PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._log_group = log_group
        self._interval = 1.0 / pages_per_second
        self._clock = clock
        self._sleep = sleep

    def read_between(self, start: str, end: str) -> Iterator[tuple[str, PublishedEvent]]:
        pages = self._client.get_paginator("filter_log_events").paginate(
            logGroupName=self._log_group,
            startTime=_epoch_ms(start),
            endTime=_epoch_ms(end),
        )
        last = self._clock() - self._interval
        iterator = iter(pages)
        while True:
            wait = last + self._interval - self._clock()
            if wait > 0:
                self._sleep(wait)
            last = self._clock()
            page = next(iterator, None)
            if page is None:
                return
            for record in page.get("events", []):
                try:
                    message = json.loads(record.get("message", ""))
                except ValueError:
                    continue
                event = payment_event(message)
                if event is not None:
                    yield _instant(record.get("timestamp", 0)), event


def _epoch_ms(at: str) -> int:
    return int(dt.datetime.fromisoformat(at).timestamp() * 1000)


def _instant(epoch_ms: int) -> str:
    return dt.datetime.fromtimestamp(epoch_ms / 1000, dt.UTC).isoformat(timespec="milliseconds")


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
