"""local/gaps.py: an EventBridge rule delivers to a Kinesis target (moto raises for one): the
target's input (here InputPath) lands on the stream, partitioned by the target's key path,
while the rule's other targets are still delivered by moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.gaps import _deliver_rule_targets_to_kinesis

REGION = "eu-west-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    _deliver_rule_targets_to_kinesis()
    with mock_aws():
        yield {s: boto3.client(s, region_name=REGION) for s in ("events", "kinesis", "sqs")}


def records(kinesis: Any, stream: str) -> list[tuple[str, Any]]:
    out = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for record in kinesis.get_records(ShardIterator=iterator)["Records"]:
            out.append((record["PartitionKey"], json.loads(record["Data"])))
    return out


def test_a_rule_delivers_the_target_input_to_kinesis_and_its_other_targets(
    aws: dict[str, Any],
) -> None:
    events, kinesis, sqs = aws["events"], aws["kinesis"], aws["sqs"]
    kinesis.create_stream(StreamName="s", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    stream_arn = kinesis.describe_stream_summary(StreamName="s")["StreamDescriptionSummary"][
        "StreamARN"
    ]
    queue = sqs.create_queue(QueueName="q")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.create_event_bus(Name="bus")
    events.put_rule(
        Name="r",
        EventBusName="bus",
        EventPattern=json.dumps({"source": ["blueprint.payments"], "detail-type": ["a"]}),
    )
    events.put_targets(
        Rule="r",
        EventBusName="bus",
        Targets=[
            {
                "Id": "k",
                "Arn": stream_arn,
                "RoleArn": "arn:aws:iam::123456789012:role/r",
                "InputPath": "$.detail",
                "KinesisParameters": {"PartitionKeyPath": "$.detail.card"},
            },
            {"Id": "q", "Arn": queue_arn},
        ],
    )
    answer = events.put_events(
        Entries=[
            {
                "EventBusName": "bus",
                "Source": "blueprint.payments",
                "DetailType": detail_type,
                "Detail": json.dumps({"card": "card#ck_1", "n": n}),
            }
            for n, detail_type in enumerate(["a", "b"])
        ]
    )
    assert answer["FailedEntryCount"] == 0
    assert records(kinesis, "s") == [("card#ck_1", {"card": "card#ck_1", "n": 0})]
    queued = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["detail"]["n"] for m in queued] == [0]
