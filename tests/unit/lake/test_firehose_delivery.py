"""The local Firehose's delivery (local/firehose.py) with the module's own configuration: the
prefix and the JQ query are read from modules/data_lake/firehose.tf's values as Terraform sends
them (the plan test pins the same strings), the columns from the allow-list."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import re
from typing import Any

import pyarrow.parquet as pq

from functions.contracts.events import DETAIL_MODELS
from functions.domain.cards import contains_card_number
from functions.domain.payments import EventType
from local import firehose
from local.lake_events import ERROR_PREFIX, PARTITION_QUERY, PREFIX, payment_events
from tests.unit.lake.lake_fixtures import COLUMNS, Context

DEST = firehose.Destination(
    stream_name="pay",
    version="1",
    bucket="pay-lake-111122223333",
    prefix=PREFIX,
    error_prefix=ERROR_PREFIX,
    partition_query=PARTITION_QUERY,
    transform_arn=None,
    database="pay_lake",
    table="payment_events",
    buffer_bytes=128 * 1024 * 1024,
    buffer_seconds=1,
)
ARRIVAL = dt.datetime(2026, 1, 3, 9, 30, tzinfo=dt.UTC)
EVENTS = list(payment_events(60, seed=5, days=2))


def records(values: list[Any]) -> list[firehose.SourceRecord]:
    return [
        firehose.SourceRecord(
            v if isinstance(v, bytes) else json.dumps(v).encode(), str(i), ARRIVAL
        )
        for i, v in enumerate(values, 1)
    ]


def parquet_rows(objects: dict[str, bytes]) -> dict[str, list[dict[str, Any]]]:
    return {
        key: pq.read_table(io.BytesIO(body)).to_pylist()
        for key, body in objects.items()
        if key.startswith("payment_events/")
    }


def test_generated_events_are_valid_contract_events() -> None:
    for event in EVENTS:
        DETAIL_MODELS[EventType(event["event_id"].split(":")[1])].model_validate(event)


def test_records_land_partitioned_by_event_date_and_type() -> None:
    delivered = firehose.deliver(records(EVENTS), DEST, COLUMNS)
    assert (delivered.converted, delivered.failed) == (len(EVENTS), 0)
    by_key = parquet_rows(delivered.objects)
    expected = {(e["occurred_at"][:10], e["event_id"].split(":")[1]) for e in EVENTS}
    layout = re.compile(
        r"payment_events/event_date=(\d{4}-\d{2}-\d{2})/event_type=(payment\.[a-z_]+)/"
        r"pay-1-2026-01-03-09-30-00-[0-9a-f-]{36}$"
    )
    found = set()
    for key, rows in by_key.items():
        match = layout.match(key)
        assert match, key
        found.add((match[1], match[2]))
        assert all(r["event_id"].split(":")[1] == match[2] for r in rows)
        assert all(r["occurred_at"].date().isoformat() == match[1] for r in rows)
    assert found == expected
    assert sum(len(rows) for rows in by_key.values()) == len(EVENTS)


def test_a_malformed_record_lands_in_the_errors_prefix_and_the_rest_converts() -> None:
    bad_json = b'{"event_id": "pay_1:payment.authorized", '
    bad_type = dict(EVENTS[0], amount="a lot")
    delivered = firehose.deliver(records([*EVENTS[:5], bad_json, bad_type]), DEST, COLUMNS)
    assert (delivered.converted, delivered.failed) == (5, 2)
    errors = {k: v for k, v in delivered.objects.items() if k.startswith("errors/")}
    kinds = {k.split("/")[2] for k in errors}
    assert kinds == {"partitioning-failed", "format-conversion-failed"}
    assert all("/event_date=2026-01-03/" in k for k in errors)
    documents = [json.loads(line) for body in errors.values() for line in body.splitlines()]
    raw = {base64.b64decode(d["rawData"]) for d in documents}
    assert raw == {bad_json, json.dumps(bad_type).encode()}
    assert sum(len(r) for r in parquet_rows(delivered.objects).values()) == 5


def test_fields_outside_the_table_never_land() -> None:
    # A field the contract does not know (a card number, even) and those the lake keeps out.
    smuggled = dict(EVENTS[0], pan="4111111111111111", cvc="123")
    delivered = firehose.deliver(records([smuggled, *EVENTS]), DEST, COLUMNS)
    for rows in parquet_rows(delivered.objects).values():
        for row in rows:
            assert list(row) == [c.name for c in COLUMNS]
    for body in delivered.objects.values():
        text = body.decode("latin-1")
        # Column names and values of what stays out: none is anywhere in the object.
        for kept_out in ("4111111111111111", "tok_", "device_id", "dev_", "198.51.100."):
            assert kept_out not in text


def test_no_card_number_in_any_lake_object() -> None:
    delivered = firehose.deliver(records(EVENTS), DEST, COLUMNS)
    for rows in parquet_rows(delivered.objects).values():
        for row in rows:
            assert not contains_card_number(json.dumps(row, default=str))
    uncompressed = io.BytesIO()
    # Compression could hide a digit run from a byte scan: scan an uncompressed copy too.
    table = pq.read_table(io.BytesIO(next(iter(parquet_rows_raw(delivered.objects)))))
    pq.write_table(table, uncompressed, compression="none")
    assert not contains_card_number(uncompressed.getvalue().decode("latin-1"))


def parquet_rows_raw(objects: dict[str, bytes]) -> list[bytes]:
    return [body for key, body in objects.items() if key.startswith("payment_events/")]


def test_without_dynamic_partitioning_the_prefix_is_static() -> None:
    dest = firehose.Destination(
        **{**DEST.__dict__, "partition_query": None, "prefix": "raw/!{timestamp:yyyy/MM/dd}/"}
    )
    delivered = firehose.deliver(records(EVENTS[:3]), dest, COLUMNS)
    assert [k.rsplit("/", 1)[0] for k in delivered.objects] == ["raw/2026/01/03"]


TRANSFORMED = firehose.Destination(
    **{**DEST.__dict__, "transform_arn": "arn:aws:lambda:eu-west-1:111122223333:function:t:$LATEST"}
)


def run_transform(arn: str, event: dict[str, Any]) -> dict[str, Any]:
    from functions.handlers import lake_transform

    return lake_transform.handler(event, Context())


def test_the_transformation_step_redacts_before_conversion() -> None:
    leaked = dict(EVENTS[0], decline_code="4111111111111111")
    delivered = firehose.deliver(
        records([leaked, *EVENTS[1:10]]), TRANSFORMED, COLUMNS, run_transform
    )
    assert (delivered.converted, delivered.failed) == (10, 0)
    rows = [row for rows in parquet_rows(delivered.objects).values() for row in rows]
    (redacted,) = [r for r in rows if r["event_id"] == EVENTS[0]["event_id"]]
    assert redacted["decline_code"] == "[card number redacted]"
    for body in delivered.objects.values():
        assert "4111111111111111" not in body.decode("latin-1")


def test_records_of_different_shards_with_one_sequence_number_each_land() -> None:
    """A sequence number is unique within its shard only (the emulator's shards each count from
    one): the transformation step must tell two records apart when their numbers are equal."""
    same = [
        firehose.SourceRecord(json.dumps(e).encode(), "1", ARRIVAL, shard_id=f"shardId-{n}")
        for n, e in enumerate(EVENTS[:4])
    ]
    delivered = firehose.deliver(same, TRANSFORMED, COLUMNS, run_transform)
    rows = [row for rows in parquet_rows(delivered.objects).values() for row in rows]
    assert sorted(r["event_id"] for r in rows) == sorted(e["event_id"] for e in EVENTS[:4])


def test_records_the_step_fails_or_drops_never_land() -> None:
    def answer(arn: str, event: dict[str, Any]) -> dict[str, Any]:
        first, second, *rest = event["records"]
        return {
            "records": [
                {
                    "recordId": first["recordId"],
                    "result": "ProcessingFailed",
                    "data": first["data"],
                },
                {"recordId": second["recordId"], "result": "Dropped", "data": second["data"]},
                *({"recordId": r["recordId"], "result": "Ok", "data": r["data"]} for r in rest),
            ]
        }

    delivered = firehose.deliver(records(EVENTS[:5]), TRANSFORMED, COLUMNS, answer)
    assert (delivered.converted, delivered.failed) == (3, 1)
    assert [k.split("/")[2] for k in delivered.objects if k.startswith("errors/")] == [
        "processing-failed"
    ]


def test_a_failed_invocation_is_retried_then_fails_the_whole_batch() -> None:
    calls: list[str] = []

    def broken(arn: str, event: dict[str, Any]) -> dict[str, Any]:
        calls.append(event["invocationId"])
        raise RuntimeError("Sandbox.Timedout")

    delivered = firehose.deliver(records(EVENTS[:4]), TRANSFORMED, COLUMNS, broken)
    assert (delivered.converted, delivered.failed) == (0, 4)
    assert not parquet_rows(delivered.objects)
    assert len(calls) == 1 + TRANSFORMED.transform_retries == 4  # Firehose's default: 3 retries


def test_a_transient_failure_of_the_step_loses_nothing() -> None:
    failures = iter([RuntimeError("Runtime.ExitError")])

    def flaky(arn: str, event: dict[str, Any]) -> dict[str, Any]:
        for error in failures:
            raise error
        return run_transform(arn, event)

    delivered = firehose.deliver(records(EVENTS[:4]), TRANSFORMED, COLUMNS, flaky)
    assert (delivered.converted, delivered.failed) == (4, 0)
