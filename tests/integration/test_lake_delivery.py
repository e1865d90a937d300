"""The lake on the emulator: a Firehose delivery stream configured as modules/data_lake
configures it (Kinesis source, JQ partition keys, Parquet against the Glue table built from
schema/payment_events.json, errors prefix) reads the stream; the bucket refuses plain HTTP and
encrypts with its default key; `make lake-query`'s reader then answers a named query over what
landed, through pyarrow's S3 filesystem on the emulator's TLS listener."""

from __future__ import annotations

import json
import time
import uuid
from collections import defaultdict
from typing import Any

import pytest

from local import endpoints, lake, lake_query
from local.lake_events import payment_events, provision_lake
from tests.conftest import Emulator

pytestmark = pytest.mark.integration


def s3_over_tls(emulator: Emulator) -> Any:
    return lake_query.s3_client(endpoints.published(emulator.state_dir))


def keys(emulator: Emulator, bucket: str) -> list[str]:
    found: list[str] = []
    for page in s3_over_tls(emulator).get_paginator("list_objects_v2").paginate(Bucket=bucket):
        found += [o["Key"] for o in page.get("Contents", [])]
    return found


def test_stream_records_land_as_partitioned_parquet_and_answer_a_named_query(
    emulator: Emulator,
) -> None:
    lake_ = provision_lake(emulator.client, f"lk{uuid.uuid4().hex[:6]}")
    events = list(payment_events(40, seed=21, days=2))
    kinesis = emulator.client("kinesis")
    for event in events:
        kinesis.put_record(
            StreamName=lake_["stream"],
            Data=json.dumps(event).encode(),
            PartitionKey=event["platform_card_key"],
        )
    kinesis.put_record(StreamName=lake_["stream"], Data=b"{not json", PartitionKey="x")

    published = endpoints.published(emulator.state_dir)
    deadline = time.monotonic() + 20
    rows: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        tables = lake_query.tables_on_emulator(published, lake_["database"], ["payment_events"])
        if lake.row_count(tables["payment_events"]) == len(events):
            rows = lake.run_query(lake.query_sql("merchant_fraud_and_refunds"), tables).to_pylist()
            break
        time.sleep(0.5)
    assert rows, emulator.log_tail()

    expected: dict[str, int] = defaultdict(int)
    for e in events:
        if e["event_id"].endswith(":payment.captured"):
            expected[e["merchant_id"]] += e["operation_amount"]
    assert {r["merchant_id"]: r["captured_minor"] for r in rows} == {
        m: expected.get(m, 0) for m in {e["merchant_id"] for e in events}
    }

    landed = keys(emulator, lake_["bucket"])
    parts = {k.rsplit("/", 1)[0] for k in landed if k.startswith("payment_events/")}
    assert parts == {
        f"payment_events/event_date={e['occurred_at'][:10]}/event_type={e['event_id'].split(':')[1]}"
        for e in events
    }
    assert [k for k in landed if k.startswith("errors/payment_events/partitioning-failed/")]
    head = s3_over_tls(emulator).head_object(Bucket=lake_["bucket"], Key=landed[0])
    assert head["ServerSideEncryption"] == "aws:kms" and head.get("BucketKeyEnabled")
