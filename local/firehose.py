"""Firehose delivery streams with a Kinesis source, delivered the way Firehose delivers them.

moto stores a delivery stream's configuration but reads nothing from a Kinesis source, converts
no record (it writes raw JSON) and evaluates no prefix expression. The emulator runs one poller
that, for every ExtendedS3 delivery stream whose source is a Kinesis stream:

- reads the stream's shards from where the delivery stream was created (Firehose starts at the
  stream's LATEST position), in order per shard, and delivers every record at least once: a
  shard's position moves on when a record is read, but the buffer it went to is kept until
  its flush has written every object, and a flush that fails (S3 or the Glue table unreadable,
  an object refused) is tried again with the same records after ``RETRY_AFTER_S``, as
  Firehose retries an S3 delivery (for up to 24 hours there; here until it succeeds). A flush
  that failed half way writes its objects again, so a record can land twice, as on AWS: the
  named queries count each event once by its ``event_id``;
- runs the transformation step, a Lambda processor, through the emulator's Lambda runtime with
  Firehose's transformation event, and keeps what it answers (``Ok`` data, ``Dropped``,
  ``ProcessingFailed`` to the error prefix as ``processing-failed``);
- extracts the dynamic-partitioning keys with the stream's own JQ query (the ``jq`` library);
- converts each record to the Glue table's columns (``local.lake``: the table is the
  allow-list, a record that does not fit fails alone) and writes one Parquet object (SNAPPY)
  per evaluated prefix and flush, with the bucket's default encryption, named as Firehose names
  them (``<prefix><stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<random>``);
- writes each record that fails, as Firehose's error document (JSON lines with the base64 raw
  data), under the evaluated error prefix: ``format-conversion-failed`` for a record that does
  not fit the table, ``partitioning-failed`` for one whose keys cannot be extracted (that spelling
  is ours; AWS groups them by error type under the same prefix expression).

Buffering: Firehose flushes at the size or the interval hint, whichever comes first. Locally the
interval is capped by ``LOCAL_FIREHOSE_MAX_BUFFER_S`` (default 1 s) so tests and the demo do not
wait the production 900 s; the objects are then smaller than on AWS, not different.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import logging
import os
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from local.shard_records import records_after

if TYPE_CHECKING:
    # Imported where used: the emulator starts this poller, and pyarrow is a slow import that
    # only a delivery stream with records needs.
    from local import lake

LOG = logging.getLogger("local.firehose")
IDLE_POLL_S = 0.2
MAX_BUFFER_S = float(os.environ.get("LOCAL_FIREHOSE_MAX_BUFFER_S", "1"))
RETRY_AFTER_S = 1.0


@dataclass(frozen=True)
class SourceRecord:
    data: bytes
    sequence_number: str
    arrival: dt.datetime
    shard_id: str = ""


@dataclass(frozen=True)
class Destination:
    """What of a delivery stream's ExtendedS3 configuration the delivery needs."""

    stream_name: str
    version: str
    bucket: str
    prefix: str
    error_prefix: str
    partition_query: str | None
    transform_arn: str | None
    database: str | None
    table: str | None
    buffer_bytes: int
    buffer_seconds: float
    # Firehose invokes the transformation step again this many times before its records fail.
    transform_retries: int = 3


@dataclass
class Delivered:
    objects: dict[str, bytes] = field(default_factory=dict)
    converted: int = 0
    failed: int = 0


def destination(stream: Any) -> Destination | None:
    """The delivery stream's destination if it is one this poller delivers (ExtendedS3 with a
    Kinesis source), else None."""
    if not stream.source or stream.delivery_stream_type != "KinesisStreamAsSource":
        return None
    config = stream.destinations[0].get("ExtendedS3")
    if not config:
        return None
    query = transform_arn = None
    retries = 3
    processing = config.get("ProcessingConfiguration") or {}
    for processor in processing.get("Processors") or [] if processing.get("Enabled") else []:
        parameters = {
            p.get("ParameterName"): p.get("ParameterValue")
            for p in processor.get("Parameters") or []
        }
        if processor.get("Type") == "MetadataExtraction":
            query = parameters.get("MetadataExtractionQuery")
        if processor.get("Type") == "Lambda":
            transform_arn = parameters.get("LambdaArn")
            retries = int(parameters.get("NumberOfRetries") or 3)
    if not (config.get("DynamicPartitioningConfiguration") or {}).get("Enabled"):
        query = None
    conversion = config.get("DataFormatConversionConfiguration") or {}
    schema = conversion.get("SchemaConfiguration") or {} if conversion.get("Enabled", True) else {}
    hints = config.get("BufferingHints") or {}
    return Destination(
        stream_name=stream.delivery_stream_name,
        version=str(stream.version_id),
        bucket=config["BucketARN"].split(":::", 1)[1],
        prefix=config.get("Prefix") or "",
        error_prefix=config.get("ErrorOutputPrefix") or "",
        partition_query=query,
        transform_arn=transform_arn,
        database=schema.get("DatabaseName"),
        table=schema.get("TableName"),
        buffer_bytes=int(hints.get("SizeInMBs", 5)) * 1024 * 1024,
        buffer_seconds=min(float(hints.get("IntervalInSeconds", 300)), MAX_BUFFER_S),
        transform_retries=retries,
    )


def _error_document(record: SourceRecord, code: str, message: str, dest: Destination) -> str:
    now_ms = int(time.time() * 1000)
    return json.dumps(
        {
            "attemptsMade": 1,
            "arrivalTimestamp": int(record.arrival.timestamp() * 1000),
            "errorCode": code,
            "errorMessage": message,
            "attemptEndingTimestamp": now_ms,
            "rawData": base64.b64encode(record.data).decode(),
            "sequenceNumber": record.sequence_number,
            "dataCatalogTable": {"databaseName": dest.database, "tableName": dest.table},
        }
    )


# The transformation step: (function ARN, Firehose's transformation event) -> its response.
Transform = Callable[[str, dict[str, Any]], dict[str, Any]]


def transformed(
    records: Sequence[SourceRecord], dest: Destination, transform: Transform
) -> list[tuple[SourceRecord, bytes | None, str]]:
    """Each record with the data the transformation step returned for it (None: dropped) and
    its result (Ok, Dropped, ProcessingFailed). A failed invocation is retried
    (``NumberOfRetries``, 3 by default, as Firehose does); once the retries are spent every
    record of the batch fails."""
    assert dest.transform_arn is not None
    # A record's id is its place in the batch: a sequence number is unique within its shard
    # only, and on the emulator every shard numbers its records from one, so records of two
    # shards with one number took each other's answers (one landed twice, the other never).
    event = {
        "invocationId": str(uuid.uuid4()),
        "deliveryStreamArn": f"deliverystream/{dest.stream_name}",
        "region": "",
        "records": [
            {
                "recordId": str(n),
                "approximateArrivalTimestamp": int(r.arrival.timestamp() * 1000),
                "data": base64.b64encode(r.data).decode(),
            }
            for n, r in enumerate(records)
        ],
    }
    answered: dict[str, Any] = {}
    for attempt in range(1 + dest.transform_retries):
        try:
            answered = {a["recordId"]: a for a in transform(dest.transform_arn, event)["records"]}
            break
        except Exception as exc:  # the function failed: Firehose invokes it again
            LOG.warning(
                "transformation %s failed (attempt %d): %s", dest.transform_arn, attempt + 1, exc
            )
    out: list[tuple[SourceRecord, bytes | None, str]] = []
    for n, record in enumerate(records):
        answer = answered.get(str(n)) or {"result": "ProcessingFailed"}
        result = str(answer.get("result"))
        data = base64.b64decode(answer["data"]) if result == "Ok" and "data" in answer else None
        out.append(
            (
                record,
                data,
                result if data is not None or result == "Dropped" else "ProcessingFailed",
            )
        )
    return out


def deliver(
    records: Sequence[SourceRecord],
    dest: Destination,
    columns: Sequence[lake.Column],
    transform: Transform | None = None,
) -> Delivered:
    """One flush: the objects (key -> body) Firehose writes for these records. With a
    transformation step configured, ``transform`` runs it first (the emulator invokes the
    function; a delivery stream with one but no ``transform`` is refused)."""
    import jq
    import pyarrow.parquet as pq

    from local import lake

    schema = lake.arrow_schema(columns)
    query = jq.compile(dest.partition_query) if dest.partition_query else None
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    raw: dict[str, list[bytes]] = defaultdict(list)
    oldest: dict[str, dt.datetime] = {}
    errors: dict[str, list[str]] = defaultdict(list)
    result = Delivered()

    def fail(record: SourceRecord, kind: str, code: str, message: str) -> None:
        prefix = lake.render_prefix(
            dest.error_prefix, arrival=record.arrival, error_output_type=kind
        )
        errors[prefix].append(_error_document(record, code, message, dest))
        result.failed += 1

    if dest.transform_arn is not None:
        if transform is None:
            raise ValueError(f"{dest.stream_name} has a transformation step and nothing runs it")
        steps = transformed(records, dest, transform)
    else:
        steps = [(record, record.data, "Ok") for record in records]
    for source, data, outcome in steps:
        if outcome == "Dropped":
            continue
        if data is None:
            fail(
                source, "processing-failed", "Lambda.ProcessingFailed", "the transformation failed"
            )
            continue
        record = SourceRecord(data, source.sequence_number, source.arrival, source.shard_id)
        try:
            parsed = lake.parse_record(record.data)
        except lake.ConversionError as exc:
            fail(
                record,
                "partitioning-failed" if query else "format-conversion-failed",
                "DataFormatConversion.MalformedData",
                str(exc),
            )
            continue
        keys: dict[str, str] | None = None
        if query is not None:
            try:
                extracted = query.input_value(parsed).first()
                if not isinstance(extracted, dict):
                    raise ValueError("the query must produce an object of partition keys")
                keys = {k: str(v) for k, v in extracted.items() if v is not None}
                prefix = lake.render_prefix(
                    dest.prefix, arrival=record.arrival, partition_keys=keys
                )
            except (ValueError, KeyError) as exc:
                fail(
                    record,
                    "partitioning-failed",
                    "DynamicPartitioning.MetadataExtractionFailed",
                    str(exc),
                )
                continue
        else:
            prefix = lake.render_prefix(dest.prefix, arrival=record.arrival)
        try:
            converted = lake.row(parsed, schema) if columns else {}
        except lake.ConversionError as exc:
            fail(record, "format-conversion-failed", "DataFormatConversion.InvalidSchema", str(exc))
            continue
        rows[prefix].append(converted)
        raw[prefix].append(record.data)
        oldest.setdefault(prefix, record.arrival)
        result.converted += 1

    for prefix, batch in rows.items():
        if not columns:
            # No format conversion: Firehose writes the records' bytes as they came.
            body = b"".join(raw[prefix])
            result.objects[prefix + _object_name(dest, oldest[prefix])] = body
            continue
        buffer = io.BytesIO()
        pq.write_table(lake.to_table(batch, schema), buffer, compression="snappy")
        result.objects[prefix + _object_name(dest, oldest[prefix])] = buffer.getvalue()
    for prefix, documents in errors.items():
        first = dt.datetime.now(dt.UTC)
        result.objects[prefix + _object_name(dest, first)] = ("\n".join(documents) + "\n").encode()
    return result


def _object_name(dest: Destination, oldest: dt.datetime) -> str:
    stamp = oldest.astimezone(dt.UTC).strftime("%Y-%m-%d-%H-%M-%S")
    return f"{dest.stream_name}-{dest.version}-{stamp}-{uuid.uuid4()}"


# ------------------------------------------------------------------------- the emulator's poller


@dataclass
class _Buffer:
    records: list[SourceRecord] = field(default_factory=list)
    size: int = 0
    started: float = 0.0
    # After a failed flush: not before this (monotonic) time.
    retry_at: float = 0.0


class FirehosePoller:
    """One thread delivering every Kinesis-sourced ExtendedS3 delivery stream of the emulator."""

    def __init__(
        self,
        invoke: Callable[[Any, dict[str, Any]], Any] | None = None,
        retry_after_s: float = RETRY_AFTER_S,
    ) -> None:
        # How the emulator runs a Lambda function (LambdaBridge.invoke_sync): the delivery
        # streams' transformation steps run through it, as Firehose invokes them.
        self._invoke = invoke
        self._retry_after_s = retry_after_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="firehose", daemon=True)
        # (delivery stream ARN, shard id) -> last sequence number delivered
        self._checkpoints: dict[tuple[str, str], int] = {}
        self._buffers: dict[str, _Buffer] = defaultdict(_Buffer)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.poll_once()
            except Exception:  # the poller must outlive one stream's bad configuration
                LOG.exception("firehose delivery failed")
                busy = False
            if not busy:
                self._stop.wait(IDLE_POLL_S)

    def poll_once(self, flush: bool = False) -> bool:
        from moto.firehose.models import firehose_backends

        busy = False
        for account, regions in list(firehose_backends.items()):
            for region, backend in list(regions.items()):
                for stream in list(backend.delivery_streams.values()):
                    dest = destination(stream)
                    if dest is not None:
                        busy |= self._poll(account, region, stream, dest, flush)
        return busy

    def _poll(self, account: str, region: str, stream: Any, dest: Destination, flush: bool) -> bool:
        from moto.kinesis.models import kinesis_backends

        source_arn = stream.source["KinesisStreamARN"]
        kinesis = kinesis_backends[account][region]
        source = kinesis.streams.get(source_arn.rsplit("/", 1)[1])
        if source is None:
            return False
        created = stream.create_timestamp.replace(tzinfo=dt.UTC).timestamp()
        buffer = self._buffers[stream.delivery_stream_arn]
        read = False
        for shard_id, shard in list(source.shards.items()):
            key = (stream.delivery_stream_arn, shard_id)
            if key not in self._checkpoints:
                # Firehose starts at the stream's LATEST position when it is created.
                before = [s for s, r in list(shard.records.items()) if r.created_at < created]
                self._checkpoints[key] = max(before, default=0)
            for rec in records_after(shard.records, self._checkpoints[key]):
                seq = rec.sequence_number
                data = base64.b64decode(rec.data) if isinstance(rec.data, str) else bytes(rec.data)
                if not buffer.records:
                    buffer.started = time.monotonic()
                buffer.records.append(
                    SourceRecord(
                        data, str(seq), rec.created_at_datetime.replace(tzinfo=dt.UTC), shard_id
                    )
                )
                buffer.size += len(data)
                self._checkpoints[key] = seq
                read = True
        due = (
            buffer.records
            and time.monotonic() >= buffer.retry_at
            and (
                flush
                or buffer.size >= dest.buffer_bytes
                or time.monotonic() - buffer.started >= dest.buffer_seconds
            )
        )
        if due:
            return self._flush(account, region, dest, buffer)
        return read

    def _flush(self, account: str, region: str, dest: Destination, buffer: _Buffer) -> bool:
        """Deliver the buffer; True once every object is written. The records leave the buffer
        only then: the shard positions already passed them, so a failure that dropped them
        would lose them for good."""
        records = list(buffer.records)
        try:
            delivered = self._deliver(account, region, dest, records)
        except Exception as exc:
            buffer.retry_at = time.monotonic() + self._retry_after_s
            LOG.warning(
                "firehose %s: delivery of %d records failed, tried again in %.1f s: %r",
                dest.stream_name,
                len(records),
                self._retry_after_s,
                exc,
            )
            return False
        del buffer.records[: len(records)]
        buffer.size = sum(len(r.data) for r in buffer.records)
        buffer.retry_at = 0.0
        LOG.info(
            "firehose %s: %d records converted, %d to the error prefix, %d objects",
            dest.stream_name,
            delivered.converted,
            delivered.failed,
            len(delivered.objects),
        )
        return True

    def _deliver(
        self, account: str, region: str, dest: Destination, records: list[SourceRecord]
    ) -> Delivered:
        from moto.glue.models import glue_backends
        from moto.s3.models import s3_backends

        from local import lake

        columns: list[lake.Column] = []
        if dest.database and dest.table:
            table = glue_backends[account][region].get_table(dest.database, dest.table)
            descriptor = table.get_version(str(table._current_version))["StorageDescriptor"]
            columns = [lake.Column(c["Name"], c["Type"]) for c in descriptor["Columns"]]
        delivered = deliver(records, dest, columns, self._transform(account, region))
        s3 = s3_backends[account]["global"]
        for key, body in delivered.objects.items():
            # The bucket's default encryption (SSE-KMS with bucket keys) applies, as on AWS.
            s3.put_object(dest.bucket, key, body)
        return delivered

    def _transform(self, account: str, region: str) -> Transform | None:
        if self._invoke is None:
            return None
        invoke = self._invoke

        def run(function_arn: str, event: dict[str, Any]) -> dict[str, Any]:
            from moto.awslambda.models import lambda_backends

            backend = lambda_backends[account][region]
            function = backend._lambdas.get_function_by_name_or_arn_with_qualifier(function_arn)
            result = invoke(function, event)
            if result.failed:
                raise RuntimeError(f"the function failed: {result.payload!r}"[:500])
            answer: dict[str, Any] = json.loads(result.payload or b"{}")
            return answer

        return run
