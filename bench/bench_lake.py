"""The data lake (issue 12).

- ``lake_ingest_events_per_s``: on a fresh emulator, payment events put on a Kinesis stream
  (PutRecords, 500 a call) until the last of them is readable as Parquet in the lake (the local
  Firehose: JQ partition keys, conversion against the Glue table, S3 writes; its buffering
  interval capped at 1 s). Includes the puts.
- ``lake_query_ms_<name>``: each named query (modules/data_lake/queries) over 1,000,000
  generated events in Hive-partitioned Parquet on local disk, read with pyarrow and run in
  DuckDB after sqlglot's Trino-to-DuckDB rewrite, as ``make lake-query`` does (DuckDB scans the
  pyarrow dataset: only the columns and partitions the query needs); median of 3.
- ``lake_parquet_bytes_per_event``: the Parquet (SNAPPY) those 1,000,000 events take, per event,
  one file per partition. Firehose at 128 MB / 900 s writes a few files per partition and hour at
  volume, so this is close to what S3 stores and Athena scans per event.
- ``lake_transform_gb_seconds_per_record``: the transformation step (functions/handlers/
  lake_transform.py, the deployed handler) run in this process over Firehose events of
  ``TRANSFORM_BATCH`` records, its key table on moto, times the function's memory
  (modules/data_lake/transform.tf); median of 5 batches after a warm one. Every delivery stream
  of the lake runs it on every record of the stream (each keeps its own kind and drops the
  rest). moto answers slower than DynamoDB, so this errs high.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from unittest import mock

from local import endpoints, lake, lake_query
from local.aws import emulator_client
from local.cli import spawn_emulator, stop_process_group
from local.lake_events import (
    ALERT_SCHEMA,
    SCHEMA,
    SCHEMA_FILE,
    fraud_alerts,
    payment_events,
    provision_lake,
)

QUERY_EVENTS = 1_000_000
INGEST_EVENTS = 5_000
QUERY_RUNS = 3
# payment_positions' window: the middle day of the five generated.
# sca_exemption_bands': all five (the Art. 19(2) window is the caller's to give).
PARAMS = {
    "payment_positions": ("2026-01-03", "2026-01-03"),
    "sca_exemption_bands": ("2026-01-01", "2026-01-05"),
}

COLUMNS = [lake.Column(c["name"], c["type"]) for c in SCHEMA["columns"]]
PARTITION_KEYS = [lake.Column(c["name"], c["type"]) for c in SCHEMA["partition_keys"]]
ALERT_COLUMNS = [lake.Column(c["name"], c["type"]) for c in ALERT_SCHEMA["columns"]]
ALERT_PARTITION_KEYS = [lake.Column(c["name"], c["type"]) for c in ALERT_SCHEMA["partition_keys"]]


def generated_events(count: int) -> list[dict[str, Any]]:
    """``count`` generated payment events (about 1.75 a payment)."""
    return list(payment_events(count * 4 // 7 + 1))[:count]


def events_table(events: list[dict[str, Any]]) -> Any:
    """The events as an Arrow table with the lake's columns and partitions."""
    import pyarrow as pa

    names = [c.name for c in COLUMNS]
    rows = []
    for event in events:
        row = {name: event.get(name) for name in names}
        row["occurred_at"] = (
            dt.datetime.fromisoformat(event["occurred_at"]).astimezone(dt.UTC).replace(tzinfo=None)
        )
        row["event_date"] = event["occurred_at"][:10]
        row["event_type"] = event["event_id"].split(":")[1]
        rows.append(row)
    schema = pa.schema(list(lake.arrow_schema(COLUMNS)) + list(lake.arrow_schema(PARTITION_KEYS)))
    return pa.Table.from_pylist(rows, schema=schema)


def alerts_table(events: list[dict[str, Any]]) -> Any:
    """Fraud alerts about the events' cards, devices and merchants, partitioned as the
    fraud_alerts delivery stream writes them (by the day of ``last_seen``)."""
    import pyarrow as pa

    schema = lake.arrow_schema(ALERT_COLUMNS)
    rows = [
        {**lake.row(alert, schema), "event_date": alert["last_seen"][:10]}
        for alert in fraud_alerts(events)
    ]
    full = pa.schema(list(schema) + list(lake.arrow_schema(ALERT_PARTITION_KEYS)))
    return pa.Table.from_pylist(rows, schema=full)


def query_figures() -> dict[str, dict[str, float | str]]:
    import pyarrow.dataset as ds
    import pyarrow.fs as pafs

    events = generated_events(QUERY_EVENTS)
    table = events_table(events)
    figures: dict[str, dict[str, float | str]] = {}
    with tempfile.TemporaryDirectory(prefix="bench_lake_") as folder:
        root = Path(folder) / "payment_events"
        alerts_root = Path(folder) / "fraud_alerts"
        for written, where, keys in (
            (table, root, PARTITION_KEYS),
            (alerts_table(events), alerts_root, ALERT_PARTITION_KEYS),
        ):
            ds.write_dataset(
                written,
                where,
                format="parquet",
                partitioning=ds.partitioning(lake.arrow_schema(keys), flavor="hive"),
                file_options=ds.ParquetFileFormat().make_write_options(compression="snappy"),
                max_rows_per_file=10_000_000,
            )
        del events
        stored = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
        figures["lake_parquet_bytes_per_event"] = {
            "value": round(stored / table.num_rows, 1),
            "unit": "bytes",
        }
        filesystem = pafs.LocalFileSystem()
        for name in lake.query_names():
            samples = []
            for _ in range(QUERY_RUNS):
                start = time.perf_counter()
                tables = {
                    "payment_events": lake.open_table(
                        filesystem, str(root), COLUMNS, PARTITION_KEYS
                    ),
                    "fraud_alerts": lake.open_table(
                        filesystem, str(alerts_root), ALERT_COLUMNS, ALERT_PARTITION_KEYS
                    ),
                }
                lake.run_query(lake.query_sql(name), tables, PARAMS.get(name, ()))
                samples.append((time.perf_counter() - start) * 1000)
            figures[f"lake_query_ms_{name}"] = {
                "value": round(statistics.median(samples), 1),
                "unit": "ms",
            }
    return figures


def ingest_figures() -> dict[str, dict[str, float | str]]:
    events = list(payment_events(INGEST_EVENTS * 4 // 7 + 1, seed=99))[:INGEST_EVENTS]
    with tempfile.TemporaryDirectory(prefix="bench_lake_emulator_") as state:
        process = spawn_emulator(Path(state), Path(state) / "emulator.log", api_port=0)
        try:
            published = endpoints.wait(process, Path(state), 30)
            if published is None:
                raise RuntimeError("the emulator did not start")
            name = f"bl{uuid.uuid4().hex[:6]}"
            created = provision_lake(lambda s: emulator_client(s, published.aws), name)
            kinesis = emulator_client("kinesis", published.aws)
            start = time.perf_counter()
            for i in range(0, len(events), 500):
                kinesis.put_records(
                    StreamName=created["stream"],
                    Records=[
                        {"Data": json.dumps(e).encode(), "PartitionKey": e["platform_card_key"]}
                        for e in events[i : i + 500]
                    ],
                )
            landed = 0
            deadline = time.monotonic() + 300
            while landed < len(events) and time.monotonic() < deadline:
                time.sleep(0.25)
                tables = lake_query.tables_on_emulator(
                    published, created["database"], ["payment_events"]
                )
                landed = lake.row_count(tables["payment_events"])
            elapsed = time.perf_counter() - start
        finally:
            stop_process_group(process)
    if landed != len(events):
        raise RuntimeError(f"only {landed} of {len(events)} events landed")
    return {
        "lake_ingest_events_per_s": {"value": round(len(events) / elapsed, 1), "unit": "events/s"}
    }


TRANSFORM_BATCH = 500
TRANSFORM_RUNS = 5
TRANSFORM_TF = Path(__file__).resolve().parent.parent / "modules" / "data_lake" / "transform.tf"


class _Context:
    function_name = "bench-lake-transform"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench-lake-transform"
    aws_request_id = "bench"


def transform_memory_gb() -> float:
    found = re.search(r"memory_size\s*=\s*([0-9]+)", TRANSFORM_TF.read_text())
    if found is None:
        raise ValueError(f"no memory_size in {TRANSFORM_TF}")
    return int(found.group(1)) / 1024


def firehose_event(events: list[dict[str, Any]], stream: str) -> dict[str, Any]:
    now_ms = int(time.time() * 1000)
    return {
        "invocationId": str(uuid.uuid4()),
        "deliveryStreamArn": f"arn:aws:firehose:us-east-1:123456789012:deliverystream/{stream}",
        "region": "us-east-1",
        "records": [
            {
                "recordId": str(n),
                "approximateArrivalTimestamp": now_ms,
                "data": base64.b64encode(json.dumps(e).encode()).decode(),
            }
            for n, e in enumerate(events)
        ],
    }


def transform_figures() -> dict[str, dict[str, float | str]]:
    import boto3
    from moto import mock_aws

    events = list(payment_events(TRANSFORM_BATCH * (TRANSFORM_RUNS + 1), seed=42))
    batches = [
        events[i : i + TRANSFORM_BATCH]
        for i in range(0, TRANSFORM_BATCH * (TRANSFORM_RUNS + 1), TRANSFORM_BATCH)
    ]
    settings = {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "LAKE_PSEUDONYM_KEY_TABLE": "bench-lake-keys",
        "LAKE_DELIVERY_STREAM_TABLES": json.dumps({"bench-payment-events": "payment_events"}),
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    with mock.patch.dict(os.environ, settings), mock_aws():
        boto3.client("dynamodb").create_table(
            TableName="bench-lake-keys",
            KeySchema=[{"AttributeName": "scope", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "scope", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        from functions.handlers import lake_transform

        lake_transform.keys.cache_clear()
        lake_transform.delivery_tables.cache_clear()
        samples = []
        for n, batch in enumerate(batches):
            event = firehose_event(batch, "bench-payment-events")
            start = time.perf_counter()
            answer = lake_transform.handler(event, _Context())  # type: ignore[arg-type]
            elapsed = time.perf_counter() - start
            if {r["result"] for r in answer["records"]} != {"Ok"}:
                raise RuntimeError("the transformation step refused generated events")
            if n:  # the first batch creates the customers' secrets and warms the imports
                samples.append(elapsed / len(batch))
        lake_transform.keys.cache_clear()
    return {
        "lake_transform_gb_seconds_per_record": {
            "value": round(statistics.median(samples) * transform_memory_gb(), 9),
            "unit": "GB-s",
        },
        # One delivery stream per table (modules/data_lake main.tf: a schema file each).
        "lake_delivery_streams": {
            "value": len(list(SCHEMA_FILE.parent.glob("*.json"))),
            "unit": "delivery streams",
        },
    }


def run() -> dict[str, dict[str, float | str]]:
    return {**ingest_figures(), **query_figures(), **transform_figures()}


if __name__ == "__main__":
    for figure_name, figure in run().items():
        print(f"{figure_name:40s} {figure['value']:>12} {figure['unit']}")
