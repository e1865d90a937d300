"""Event source mappings for Kinesis and SQS, delivered the way Lambda's pollers do.

moto pushes every Kinesis record and SQS message to mapped functions synchronously, one per
invocation, ignoring batch size and ``ReportBatchItemFailures``. The emulator removes that push
and runs one poller thread per mapping instead: batches up to ``BatchSize`` (waiting up to
``MaximumBatchingWindowInSeconds`` to fill one), partial batch responses, bounded retries,
``BisectBatchOnFunctionError`` and an on-failure destination for Kinesis; for SQS, failed
messages return after the visibility timeout and the queue's redrive policy moves them to its
dead-letter queue.

Lambda polls as the function's execution role: before each batch the poller checks that the role
may read the stream or queue and decrypt it with its customer managed key, and delivers nothing
while it may not (the mapping's ``LastProcessingResult`` says why), as on AWS.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from local.lambda_runtime import InvocationResult
from local.shard_records import records_after

LOG = logging.getLogger("local.event_sources")
IDLE_POLL_S = 0.1
KINESIS_DEFAULT_BATCH = 100
SQS_DEFAULT_BATCH = 10
# Lambda's default for streams is to retry until the record expires from the stream (24 h).
KINESIS_DEFAULT_MAX_RECORD_AGE_S = 24 * 3600

Invoker = Callable[[Any, dict[str, Any]], InvocationResult]
# Seconds a poller waits after its role was refused the source, before it tries again.
REFUSED_RETRY_S = 1.0
# LastProcessingResult per mapping UUID, as GetEventSourceMapping reports it.
PROCESSING_RESULTS: dict[str, str] = {}


@dataclass
class ShardCursor:
    checkpoint: int
    attempts: int = 0
    next_attempt_at: float = 0.0
    # After a bisection: how many records the next delivery holds (None: the batch size).
    limit: int | None = None


def failed_item_ids(result: InvocationResult, reports_item_failures: bool) -> list[str] | None:
    """Identifiers a partial batch response names; None means the whole batch failed."""
    if result.failed:
        return None
    if not reports_item_failures:
        return []
    try:
        response = json.loads(result.payload or b"null")
    except ValueError:
        return []
    if not isinstance(response, dict):
        return []
    failures = response.get("batchItemFailures") or []
    ids: list[str] = []
    for failure in failures:
        item = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not item:
            return None  # Lambda treats a malformed partial response as a failed batch
        ids.append(str(item))
    return ids


class EventSourcePollers:
    """Keeps one poller thread per enabled Kinesis or SQS event source mapping."""

    def __init__(self, invoke: Invoker) -> None:
        self._invoke = invoke
        self._threads: dict[str, threading.Thread] = {}
        self._stop = threading.Event()
        self._supervisor = threading.Thread(
            target=self._supervise, name="esm-supervisor", daemon=True
        )

    def start(self) -> None:
        self._supervisor.start()

    def stop(self) -> None:
        self._stop.set()

    def _mappings(self) -> dict[str, Any]:
        from moto.awslambda.models import lambda_backends

        found: dict[str, Any] = {}
        for regions in list(lambda_backends.values()):
            for backend in list(regions.values()):
                found.update(backend._event_source_mappings)
        return found

    def _supervise(self) -> None:
        while not self._stop.wait(IDLE_POLL_S * 5):
            for esm_uuid, esm in self._mappings().items():
                thread = self._threads.get(esm_uuid)
                if thread is None or not thread.is_alive():
                    target = (
                        self._kinesis_loop
                        if ":kinesis:" in esm.event_source_arn
                        else (self._sqs_loop if ":sqs:" in esm.event_source_arn else None)
                    )
                    if target is None:
                        continue
                    thread = threading.Thread(
                        target=target, args=(esm_uuid,), name=f"esm-{esm_uuid[:8]}", daemon=True
                    )
                    self._threads[esm_uuid] = thread
                    thread.start()

    def _current(self, esm_uuid: str) -> Any | None:
        return self._mappings().get(esm_uuid)

    def _refused(self, esm: Any, function: Any) -> bool:
        """Whether the function's role may not read the mapping's source now (logged once per
        new refusal; the mapping's LastProcessingResult says why)."""
        from local.enforcement import event_source_refusal

        refusal = event_source_refusal(function, esm.event_source_arn)
        if refusal is None:
            return False
        result = (
            f"PROBLEM: Lambda could not read {esm.event_source_arn} as {function.role}: {refusal}"
        )
        if PROCESSING_RESULTS.get(esm.uuid) != result:
            LOG.error("event source mapping %s delivers nothing: %s", esm.uuid, refusal)
        PROCESSING_RESULTS[esm.uuid] = result
        return True

    def _function(self, esm: Any) -> Any:
        from moto.awslambda.models import lambda_backends

        backend = lambda_backends[esm.account_id][esm.region]
        return backend._lambdas.get_function_by_name_or_arn_with_qualifier(esm.function_arn)

    # Kinesis -------------------------------------------------------------------------------

    def _kinesis_loop(self, esm_uuid: str) -> None:
        from moto.kinesis.models import kinesis_backends

        cursors: dict[str, ShardCursor] = {}
        created = time.time()
        while not self._stop.is_set():
            esm = self._current(esm_uuid)
            if esm is None:
                return
            busy = False
            if esm.enabled:
                stream_name = esm.event_source_arn.split("/")[-1]
                stream = kinesis_backends[esm.account_id][esm.region].streams.get(stream_name)
                for shard in list(stream.shards.values()) if stream else []:
                    cursor = cursors.get(shard.shard_id)
                    if cursor is None:
                        cursor = ShardCursor(self._initial_checkpoint(esm, shard, created))
                        cursors[shard.shard_id] = cursor
                    busy |= self._kinesis_poll_shard(esm, stream, shard, cursor)
            if not busy:
                self._stop.wait(IDLE_POLL_S)

    @staticmethod
    def _initial_checkpoint(esm: Any, shard: Any, created: float) -> int:
        if (esm.starting_position or "LATEST") == "TRIM_HORIZON":
            return 0
        before = [seq for seq, rec in list(shard.records.items()) if rec.created_at < created]
        return max(before, default=0)

    def _kinesis_poll_shard(self, esm: Any, stream: Any, shard: Any, cursor: ShardCursor) -> bool:
        if time.monotonic() < cursor.next_attempt_at:
            return False
        batch_size = min(esm.batch_size or KINESIS_DEFAULT_BATCH, cursor.limit or 10**9)
        records = records_after(shard.records, cursor.checkpoint, batch_size)
        if not records:
            return False
        window = float(esm.max_batch_window or 0)
        if len(records) < batch_size and time.time() - records[0].created_at < window:
            return False

        function = self._function(esm)
        if self._refused(esm, function):
            cursor.next_attempt_at = time.monotonic() + REFUSED_RETRY_S
            return False
        event = {
            "Records": [self._kinesis_record(esm, stream, shard, rec, function) for rec in records]
        }
        result = self._invoke(function, event)
        PROCESSING_RESULTS[esm.uuid] = "OK"
        reports = "ReportBatchItemFailures" in (esm.function_response_types or [])
        failed = failed_item_ids(result, reports)
        if failed == []:
            cursor.checkpoint = records[-1].sequence_number
            cursor.attempts = 0
            cursor.limit = None
            return True
        retry_from = records[0].sequence_number
        if failed:
            known = {str(rec.sequence_number) for rec in records}
            if not set(failed) <= known:
                failed = None  # identifiers that are not in the batch fail the whole batch
            else:
                retry_from = min(int(item) for item in failed)
        retry_records = [rec for rec in records if rec.sequence_number >= retry_from]
        cursor.checkpoint = retry_from - 1
        if esm.bisect_on_error and len(retry_records) > 1:
            # BisectBatchOnFunctionError: retry the first half alone, then the rest; halving
            # is not a retry attempt, so a poison record ends alone in the on-failure
            # destination after its own retries and the records around it are delivered.
            cursor.limit = len(retry_records) // 2
            return True
        cursor.attempts += 1
        max_retries = esm.max_retry_attempts if esm.max_retry_attempts is not None else -1
        max_age = (
            esm.max_record_age
            if esm.max_record_age not in (None, -1)
            else (KINESIS_DEFAULT_MAX_RECORD_AGE_S)
        )
        age = time.time() - retry_records[0].created_at
        exhausted = (0 <= max_retries < cursor.attempts) or age > max_age
        if exhausted:
            condition = "RetryAttemptsExhausted" if age <= max_age else "RecordAgeExceeded"
            self._send_kinesis_failure(
                esm, stream, shard, retry_records, result, cursor.attempts, condition
            )
            cursor.checkpoint = retry_records[-1].sequence_number
            cursor.attempts = 0
            cursor.limit = None
            return True
        cursor.next_attempt_at = time.monotonic() + min(2.0, 0.1 * 2**cursor.attempts)
        return False

    @staticmethod
    def _kinesis_record(
        esm: Any, stream: Any, shard: Any, rec: Any, function: Any
    ) -> dict[str, Any]:
        return {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": rec.partition_key,
                "sequenceNumber": str(rec.sequence_number),
                "data": rec.data,
                "approximateArrivalTimestamp": round(rec.created_at, 3),
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"{shard.shard_id}:{rec.sequence_number}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": function.role,
            "awsRegion": esm.region,
            "eventSourceARN": stream.arn,
        }

    def _send_kinesis_failure(
        self,
        esm: Any,
        stream: Any,
        shard: Any,
        records: list[Any],
        result: InvocationResult,
        attempts: int,
        condition: str,
    ) -> None:
        destination = ((esm.destination_config or {}).get("OnFailure") or {}).get("Destination")
        LOG.warning(
            "discarding %d records of %s after %d attempts (%s)",
            len(records),
            shard.shard_id,
            attempts,
            condition,
        )
        if not destination:
            return
        record = {
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": esm.function_arn,
                "condition": condition,
                "approximateInvokeCount": attempts,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled" if result.failed else "",
            },
            "KinesisBatchInfo": {
                "shardId": shard.shard_id,
                "startSequenceNumber": str(records[0].sequence_number),
                "endSequenceNumber": str(records[-1].sequence_number),
                "approximateArrivalOfFirstRecord": datetime.fromtimestamp(
                    records[0].created_at, UTC
                ).isoformat(),
                "approximateArrivalOfLastRecord": datetime.fromtimestamp(
                    records[-1].created_at, UTC
                ).isoformat(),
                "batchSize": len(records),
                "streamArn": stream.arn,
            },
        }
        deliver_to_destination(destination, json.dumps(record), esm.function_arn)

    # SQS -----------------------------------------------------------------------------------

    def _sqs_loop(self, esm_uuid: str) -> None:
        from moto.sqs.models import sqs_backends

        while not self._stop.is_set():
            esm = self._current(esm_uuid)
            if esm is None:
                return
            delivered = False
            if esm.enabled:
                backend = sqs_backends[esm.account_id][esm.region]
                queue_name = esm.event_source_arn.split(":")[-1]
                if queue_name in backend.queues:
                    delivered = self._sqs_poll(esm, backend, queue_name)
            if not delivered:
                self._stop.wait(IDLE_POLL_S)

    def _sqs_poll(self, esm: Any, backend: Any, queue_name: str) -> bool:
        queue = backend.queues[queue_name]
        if not queue.approximate_number_of_messages:
            return False
        function = self._function(esm)
        if self._refused(esm, function):
            self._stop.wait(REFUSED_RETRY_S)
            return False
        batch_size = esm.batch_size or SQS_DEFAULT_BATCH
        messages = backend.receive_message(queue_name, batch_size, 0, int(queue.visibility_timeout))
        if not messages:
            return False
        event = {"Records": [self._sqs_record(esm, queue, message) for message in messages]}
        result = self._invoke(function, event)
        PROCESSING_RESULTS[esm.uuid] = "OK"
        reports = "ReportBatchItemFailures" in (esm.function_response_types or [])
        failed = failed_item_ids(result, reports)
        if failed is None:
            return True  # every message returns after its visibility timeout
        known = {message.id for message in messages}
        if not set(failed) <= known:
            return True
        for message in messages:
            if message.id not in failed:
                backend.delete_message(queue_name, message.receipt_handle)
        return True

    @staticmethod
    def _sqs_record(esm: Any, queue: Any, message: Any) -> dict[str, Any]:
        return {
            "messageId": message.id,
            "receiptHandle": message.receipt_handle,
            "body": message.body,
            "attributes": {
                "ApproximateReceiveCount": str(message.approximate_receive_count),
                "SentTimestamp": str(message.sent_timestamp),
                "SenderId": str(message.sender_id),
                "ApproximateFirstReceiveTimestamp": str(
                    message.approximate_first_receive_timestamp
                ),
            },
            "messageAttributes": message.message_attributes or {},
            "md5OfBody": message.body_md5,
            "eventSource": "aws:sqs",
            "eventSourceARN": queue.queue_arn,
            "awsRegion": esm.region,
        }


def report_processing_results() -> None:
    """GetEventSourceMapping answers the poller's LastProcessingResult (moto answers none)."""
    from moto.awslambda.models import EventSourceMapping

    get_configuration = EventSourceMapping.get_configuration
    if getattr(get_configuration, "_reports_results", False):
        return

    def with_result(self: Any) -> dict[str, Any]:
        configuration = dict(get_configuration(self))
        if self.uuid in PROCESSING_RESULTS:
            configuration["LastProcessingResult"] = PROCESSING_RESULTS[self.uuid]
        return configuration

    with_result._reports_results = True  # type: ignore[attr-defined]
    setattr(EventSourceMapping, "get_configuration", with_result)  # noqa: B010


def deliver_to_destination(destination_arn: str, body: str, function_arn: str = "") -> None:
    """Send an on-failure record to an SQS queue or SNS topic held by the emulator. Lambda
    sends it as the function's execution role: a record the role may not send (or whose queue
    key it may not use) is dropped, as on AWS, and the refusal logged."""
    from local.enforcement import destination_refusal

    refusal = destination_refusal(function_arn, destination_arn) if function_arn else None
    if refusal:
        LOG.error("on-failure record for %s not delivered: %s", function_arn, refusal)
        return
    parts = destination_arn.split(":")
    service, region, account, name = parts[2], parts[3], parts[4], parts[5]
    if service == "sqs":
        from moto.sqs.models import sqs_backends

        sqs_backends[account][region].send_message(name, body)
    elif service == "sns":
        from moto.sns.models import sns_backends

        sns_backends[account][region].publish(body, arn=destination_arn)
    else:
        LOG.error("on-failure destination %s is not supported locally", destination_arn)
