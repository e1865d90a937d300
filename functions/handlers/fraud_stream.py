"""Lambda: the fraud stream consumer (modules/fraud_stream), on a Kinesis event source mapping
with ``ReportBatchItemFailures``. Powertools' batch processing runs each record and answers the
failed ones, so only those are retried (and, once retries are exhausted, described in the
on-failure queue). Each record is an event's detail (``services.fraud_stream.parse_record``): a
record that does not parse fails alone; one the features do not read is counted and passed.

The records of a batch are processed in order and the first failure stops the batch: every
record after it is answered failed without being run. The feature store's idempotency is a
per-shard high-water mark on each subject (``fraud_features.SubjectState``), so a record
applied after an unapplied one would hide the earlier one from its retry. Lambda retries from
the lowest failed sequence number, so nothing after the failure is lost either."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    ExceptionInfo,
    FailureResponse,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import (
    KinesisStreamRecord,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.adapters import fraud_stream_wiring as wiring
from functions.domain.fraud_features import StreamPosition
from functions.services.fraud_stream import parse_record

logger = Logger()
tracer = Tracer()


class EarlierRecordFailedError(Exception):
    """Not run: a record before it in the batch failed (it is retried with that one)."""


class InOrderKinesisProcessor(BatchProcessor):
    """``BatchProcessor`` for Kinesis that stops at the first failed record, as Powertools'
    ``SqsFifoPartialProcessor`` does for FIFO queues."""

    _stopped = (EarlierRecordFailedError, EarlierRecordFailedError(), None)

    def __init__(self) -> None:
        super().__init__(event_type=EventType.KinesisDataStreams)

    def _process_record(self, record: dict[str, Any]) -> Any:
        if self.fail_messages:
            batch_record = self._to_batch_type(record, event_type=self.event_type)
            failure: FailureResponse = self.failure_handler(batch_record, self._stopped)
            return failure
        return super()._process_record(record)

    def failure_handler(self, record: Any, exception: ExceptionInfo) -> FailureResponse:
        if exception[0] is not EarlierRecordFailedError:
            # The reason, never the record: parse_record's errors name fields, not values.
            logger.warning(
                "stream record failed",
                extra={
                    "sequence_number": record.kinesis.sequence_number,
                    "error": exception[0].__name__ if exception[0] else "unknown",
                    "reason": str(exception[1]),
                },
            )
        return super().failure_handler(record, exception)


processor = InOrderKinesisProcessor()
# Records per detail-type in this invocation, and how many the features counted.
seen: Counter[str] = Counter()


def position(record: KinesisStreamRecord) -> StreamPosition:
    """The record's shard (Lambda's eventID is ``<shard id>:<sequence number>``) and sequence."""
    shard = record.event_id.rsplit(":", 1)[0]
    return StreamPosition(shard, int(record.kinesis.sequence_number))


def record_handler(record: KinesisStreamRecord) -> None:
    parsed = parse_record(record.kinesis.data_as_bytes())
    outcome = wiring.service().handle_record(parsed, position(record), int(time.time()))
    seen[outcome.record_type] += 1
    seen["featurised" if outcome.featurised else "ignored"] += 1
    for alert in outcome.alerts:
        # The alert-rate alarm counts these lines; the subject stays out of the log.
        logger.warning(
            "fraud alert raised",
            extra={
                "fraud_alert": "raised",
                "alert_id": alert.alert_id,
                "typology": alert.typology.value,
                "subject_type": alert.subject_type.value,
            },
        )


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    seen.clear()
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    failed = len(response.get("batchItemFailures", []))
    logger.info("batch processed", extra={"fraud_stream_records": dict(seen), "failed": failed})
    return dict(response)
