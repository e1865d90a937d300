"""local/gaps_events.py: a rule whose log group target has an input transformer writes the
template's ``message`` as the log event, at the template's ``timestamp``, as EventBridge does;
a target without a transformer still gets moto's whole-event record."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local import gaps_events

REGION = "eu-west-1"
TEMPLATE = '{"timestamp": "<time>", "message": "{\\"payment_id\\": \\"<payment_id>\\"}"}'


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    gaps_events.install()
    with mock_aws():
        yield {s: boto3.client(s, region_name=REGION) for s in ("events", "logs")}


def messages(logs: Any, group: str) -> list[dict[str, Any]]:
    return [
        {"message": e["message"], "timestamp": e["timestamp"]}
        for e in logs.filter_log_events(logGroupName=group)["events"]
    ]


def test_a_log_group_target_with_a_template_writes_its_message(aws: dict[str, Any]) -> None:
    events, logs = aws["events"], aws["logs"]
    for group in ("/compact", "/whole"):
        logs.create_log_group(logGroupName=group)
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["s"]}))
    arn = f"arn:aws:logs:{REGION}:123456789012:log-group:"
    events.put_targets(
        Rule="r",
        Targets=[
            {
                "Id": "compact",
                "Arn": arn + "/compact",
                "InputTransformer": {
                    "InputPathsMap": {"time": "$.time", "payment_id": "$.detail.payment_id"},
                    "InputTemplate": TEMPLATE,
                },
            },
            {"Id": "whole", "Arn": arn + "/whole"},
        ],
    )
    events.put_events(
        Entries=[
            {
                "Source": "s",
                "DetailType": "payment.captured",
                "Detail": json.dumps({"payment_id": "pay_1"}),
                "Time": "2026-11-22T12:00:00Z",
            }
        ]
    )
    (compact,) = messages(logs, "/compact")
    assert json.loads(compact["message"]) == {"payment_id": "pay_1"}
    assert compact["timestamp"] == 1_795_348_800_000  # 2026-11-22T12:00:00Z
    (whole,) = messages(logs, "/whole")
    assert json.loads(whole["message"])["detail"] == {"payment_id": "pay_1"}
