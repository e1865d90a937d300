"""The local Firehose's poller (local/firehose.py FirehosePoller) over moto in process: what it
reads from a Kinesis source reaches the lake at least once and in order per shard, as
Firehose's Kinesis source guarantees, while producers put records concurrently and when a
flush fails."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import sys
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pyarrow.parquet as pq
import pytest
from moto import mock_aws

from local import firehose, gaps
from local.lake_events import payment_events, provision_lake

REGION = "us-east-1"
PRODUCERS = 8
PAYMENTS = 1500


def client(service: str) -> Any:
    factory: Any = boto3.client  # typed per service literal; ours is a runtime string
    return factory(service, region_name=REGION)


@pytest.fixture
def lake_on_moto() -> Iterator[dict[str, Any]]:
    with mock_aws():
        yield provision_lake(client, "unit")


def put_records(stream: str, events: list[dict[str, Any]]) -> None:
    """Put as the EventBridge rule's Kinesis target does (local/gaps.py): straight into moto's
    backend, one record per event, from whichever thread publishes."""
    from moto.kinesis.models import kinesis_backends

    backend = kinesis_backends["123456789012"][REGION]
    for event in events:
        backend.put_record(
            stream_arn=backend.streams[stream].arn,
            stream_name=stream,
            partition_key=event["platform_card_key"],
            explicit_hash_key="",
            data=base64.b64encode(json.dumps(event).encode()).decode(),
        )


def landed(bucket: str) -> list[list[dict[str, Any]]]:
    """Each Parquet object's rows, in the order the object holds them."""
    from moto.s3.models import s3_backends

    found = []
    for key in s3_backends["123456789012"]["global"].get_bucket(bucket).keys:
        if key.startswith("payment_events/"):
            stored = s3_backends["123456789012"]["global"].get_object(bucket, key)
            assert stored is not None
            body = stored.value
            found.append(pq.read_table(io.BytesIO(body)).to_pylist())
    return found


def test_records_put_concurrently_are_each_delivered(lake_on_moto: dict[str, Any]) -> None:
    """Producers on the emulator's request threads put at once (the workflow's publish step, the
    fraud consumer's alerts, a burst of payments) while the poller reads the shard."""
    gaps.serialize_kinesis_puts()
    events = [
        dict(e, event_id=f"pay_{uuid.uuid4().hex}:{e['event_id'].split(':', 1)[1]}")
        for e in payment_events(PAYMENTS, seed=3, days=1)
    ]
    poller = firehose.FirehosePoller()
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            poller.poll_once()

    interval = sys.getswitchinterval()
    # Switch threads as often as the interpreter can: the interleavings a loaded emulator sees.
    sys.setswitchinterval(1e-6)
    reader = threading.Thread(target=poll)
    reader.start()
    try:
        producers = [
            threading.Thread(
                target=put_records,
                args=(lake_on_moto["stream"], events[i::PRODUCERS]),
            )
            for i in range(PRODUCERS)
        ]
        for producer in producers:
            producer.start()
        for producer in producers:
            producer.join()
    finally:
        sys.setswitchinterval(interval)
        stop.set()
        reader.join()
    poller.poll_once(flush=True)

    delivered = [r["event_id"] for rows in landed(lake_on_moto["bucket"]) for r in rows]
    assert len(set(delivered)) == len(events), (
        f"{len(events) - len(set(delivered))} of {len(events)} records never reached the lake"
    )


def test_a_failed_flush_is_delivered_again_not_lost(
    lake_on_moto: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Firehose retries a delivery that failed (S3 unavailable, the table's schema unreadable)
    and keeps the records meanwhile: at least once, never at most once."""
    from moto.s3.models import S3Backend

    events = list(payment_events(20, seed=4, days=1))
    put_records(lake_on_moto["stream"], events)
    poller = firehose.FirehosePoller(retry_after_s=0)
    original = S3Backend.put_object
    failures = {"left": 1}

    def flaky(self: Any, *args: Any, **kwargs: Any) -> Any:
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("S3 is unavailable")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(S3Backend, "put_object", flaky)
    for _ in range(2):
        # As the emulator's poller thread does: a failed poll is logged and the next one runs.
        with contextlib.suppress(ConnectionError):
            poller.poll_once(flush=True)
    assert failures["left"] == 0

    delivered = {r["event_id"] for rows in landed(lake_on_moto["bucket"]) for r in rows}
    assert delivered == {e["event_id"] for e in events}


def test_each_object_holds_its_shard_records_in_sequence_order(
    lake_on_moto: dict[str, Any],
) -> None:
    events = [
        dict(e, occurred_at="2026-01-03T09:30:00+00:00", event_id=f"pay_{i:04d}:payment.captured")
        for i, e in enumerate(payment_events(200, seed=6, days=1))
    ]
    put_records(lake_on_moto["stream"], events)
    poller = firehose.FirehosePoller()
    poller.poll_once(flush=True)
    objects = landed(lake_on_moto["bucket"])
    assert len(objects) == 1
    assert [r["event_id"] for r in objects[0]] == [e["event_id"] for e in events]
