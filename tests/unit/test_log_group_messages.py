"""tests/conftest.py's reading of a log group (Emulator.log_messages): every stream and every
event, however many pages. A one-page read saw the first 50 streams only, and the archive rule
writes each payment event to a stream of its own: after a chaos run on the shared emulator the
end-to-end checks looked for a new payment's events in 50 of several hundred streams."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.conftest import log_group_messages

GROUP = "/aws/events/payments-archive"
# CloudWatch Logs refuses events older than 14 days.
NOW_MS = int(time.time() * 1000) - 60_000


@pytest.fixture
def logs() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("logs", region_name="eu-west-2")
        client.create_log_group(logGroupName=GROUP)
        yield client


def test_every_stream_of_a_group_with_more_than_a_page_of_streams_is_read(logs: Any) -> None:
    for n in range(120):
        logs.create_log_stream(logGroupName=GROUP, logStreamName=f"event-{n:03d}")
        logs.put_log_events(
            logGroupName=GROUP,
            logStreamName=f"event-{n:03d}",
            logEvents=[{"timestamp": NOW_MS + n, "message": f"payment event {n}"}],
        )
    assert sorted(log_group_messages(logs, GROUP)) == sorted(
        f"payment event {n}" for n in range(120)
    )


def test_a_stream_longer_than_one_answer_is_read_to_its_end_in_order(logs: Any) -> None:
    logs.create_log_stream(logGroupName=GROUP, logStreamName="worker")
    lines = [f"line {n}" for n in range(12_500)]
    for start in range(0, len(lines), 5_000):
        logs.put_log_events(
            logGroupName=GROUP,
            logStreamName="worker",
            logEvents=[
                {"timestamp": NOW_MS + n, "message": lines[n]}
                for n in range(start, min(start + 5_000, len(lines)))
            ],
        )
    assert log_group_messages(logs, GROUP) == lines
