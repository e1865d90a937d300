"""Lambda's pollers read an event source as the function's execution role
(local.enforcement.event_source_refusal, require_event_source_access), decided in process on
moto's stores: the role's policy, the key policy of the source's customer managed key.

The integration suite (tests/integration/test_access_enforcement.py) proves the same on the
running emulator, with the mapping's delivery; these cases pin each edge cheaply.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.exceptions import JsonRESTError

from local import enforcement

REGION = "eu-west-2"
ACCOUNT = "123456789012"
ROOT_ONLY_KEY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ],
}
STREAM_READ = [
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:DescribeStream",
    "kinesis:ListShards",
]
QUEUE_READ = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setattr(enforcement, "enforcing", lambda: True)
    with mock_aws():
        client: dict[str, Any] = {
            name: boto3.client(name, region_name=REGION)
            for name in ("iam", "kms", "kinesis", "sqs")
        }
        yield client


def function_with(aws: dict[str, Any], *statements: dict[str, Any]) -> SimpleNamespace:
    trust = enforcement.LAMBDA_TRUST_POLICY
    name = f"reader-{len(aws['iam'].list_roles()['Roles'])}"
    role = aws["iam"].create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    if statements:
        aws["iam"].put_role_policy(
            RoleName=name,
            PolicyName="reads",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}),
        )
    return SimpleNamespace(role=role, function_name=name)


def encrypted_stream(aws: dict[str, Any]) -> tuple[str, str]:
    key = aws["kms"].create_key(Policy=json.dumps(ROOT_ONLY_KEY))["KeyMetadata"]["Arn"]
    aws["kinesis"].create_stream(StreamName="events", ShardCount=1)
    aws["kinesis"].start_stream_encryption(StreamName="events", EncryptionType="KMS", KeyId=key)
    arn = aws["kinesis"].describe_stream(StreamName="events")["StreamDescription"]["StreamARN"]
    return str(arn), str(key)


def decrypt_through(service: str, key: str, context: dict[str, str]) -> dict[str, Any]:
    conditions = {f"kms:EncryptionContext:{name}": value for name, value in context.items()}
    return {
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": key,
        "Condition": {
            "StringEquals": {"kms:ViaService": f"{service}.{REGION}.amazonaws.com", **conditions}
        },
    }


def test_a_role_that_may_not_read_the_stream_gets_no_mapping(aws: dict[str, Any]) -> None:
    stream, _ = encrypted_stream(aws)
    # One of the four actions short is enough to refuse.
    function = function_with(aws, {"Effect": "Allow", "Action": STREAM_READ[1:], "Resource": "*"})
    with pytest.raises(JsonRESTError) as refused:
        enforcement.require_event_source_access(function, stream)
    assert refused.value.error_type == "InvalidParameterValueException"
    assert f"Cannot access stream {stream}" in refused.value.message
    assert "GetRecords, GetShardIterator, DescribeStream, and ListShards" in refused.value.message


def test_a_reader_without_the_streams_key_is_created_but_not_delivered(
    aws: dict[str, Any],
) -> None:
    stream, key = encrypted_stream(aws)
    reader = function_with(aws, {"Effect": "Allow", "Action": STREAM_READ, "Resource": stream})
    enforcement.require_event_source_access(reader, stream)  # creation does not check the key
    refusal = enforcement.event_source_refusal(reader, stream)
    assert refusal is not None and "kms:Decrypt" in refusal
    # Decrypt for another stream's context is not this stream's.
    other = function_with(
        aws,
        {"Effect": "Allow", "Action": STREAM_READ, "Resource": stream},
        decrypt_through("kinesis", key, {"aws:kinesis:arn": f"{stream}-other"}),
    )
    assert enforcement.event_source_refusal(other, stream) is not None
    granted = function_with(
        aws,
        {"Effect": "Allow", "Action": STREAM_READ, "Resource": stream},
        decrypt_through("kinesis", key, {"aws:kinesis:arn": stream}),
    )
    assert enforcement.event_source_refusal(granted, stream) is None


def test_a_queue_is_read_with_receive_delete_and_attributes_and_its_key_through_sqs(
    aws: dict[str, Any],
) -> None:
    key = aws["kms"].create_key(Policy=json.dumps(ROOT_ONLY_KEY))["KeyMetadata"]["Arn"]
    url = aws["sqs"].create_queue(QueueName="work", Attributes={"KmsMasterKeyId": key})["QueueUrl"]
    queue = aws["sqs"].get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    receive_only = function_with(
        aws, {"Effect": "Allow", "Action": "sqs:ReceiveMessage", "Resource": queue}
    )
    with pytest.raises(JsonRESTError) as refused:
        enforcement.require_event_source_access(receive_only, queue)
    assert refused.value.message == (
        "The provided execution role does not have permissions to call DeleteMessage on SQS"
    )
    reader = function_with(aws, {"Effect": "Allow", "Action": QUEUE_READ, "Resource": queue})
    enforcement.require_event_source_access(reader, queue)
    assert "kms:Decrypt" in (enforcement.event_source_refusal(reader, queue) or "")
    granted = function_with(
        aws,
        {"Effect": "Allow", "Action": QUEUE_READ, "Resource": queue},
        decrypt_through("sqs", key, {"aws:sqs:arn": queue}),
    )
    assert enforcement.event_source_refusal(granted, queue) is None


def test_an_explicit_deny_on_the_source_refuses_a_role_that_is_otherwise_allowed(
    aws: dict[str, Any],
) -> None:
    stream, key = encrypted_stream(aws)
    denied = function_with(
        aws,
        {"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"},
        decrypt_through("kinesis", key, {"aws:kinesis:arn": stream}),
        {"Effect": "Deny", "Action": "kinesis:GetRecords", "Resource": stream},
    )
    refusal = enforcement.event_source_refusal(denied, stream)
    assert refusal is not None and "explicit deny" in refusal
