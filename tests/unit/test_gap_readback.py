"""local/gaps_readback.py: settings moto accepted and then answered without, so the aws provider
planned them again after every apply of environments/local (issue 15: a plan right after the
apply showed 13 changes). Each test sets the value as the provider does and reads it back as
the provider does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local import gaps_readback

REGION = "eu-west-2"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    gaps_readback.install()
    with mock_aws():
        yield


def client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]


def test_an_s3_bucket_sending_to_eventbridge_says_so(aws: None) -> None:
    s3 = client("s3")
    for bucket in ("to-eventbridge", "to-nothing"):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_notification_configuration(
        Bucket="to-eventbridge", NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    on = s3.get_bucket_notification_configuration(Bucket="to-eventbridge")
    assert on["EventBridgeConfiguration"] == {}
    off = s3.get_bucket_notification_configuration(Bucket="to-nothing")
    assert "EventBridgeConfiguration" not in off


def test_an_s3_bucket_keeps_its_queue_notifications_beside_eventbridge(aws: None) -> None:
    s3, sqs = client("s3"), client("sqs")
    queue = sqs.create_queue(QueueName="objects")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    s3.create_bucket(Bucket="both", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_notification_configuration(
        Bucket="both",
        NotificationConfiguration={
            "EventBridgeConfiguration": {},
            "QueueConfigurations": [{"Id": "q", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}],
        },
    )
    answer = s3.get_bucket_notification_configuration(Bucket="both")
    assert answer["EventBridgeConfiguration"] == {}
    assert [(q["Id"], q["QueueArn"]) for q in answer["QueueConfigurations"]] == [("q", arn)]


def test_a_kms_key_rotation_period_is_returned(aws: None) -> None:
    kms = client("kms")
    given = kms.create_key()["KeyMetadata"]["KeyId"]
    default = kms.create_key()["KeyMetadata"]["KeyId"]
    off = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=given, RotationPeriodInDays=180)
    kms.enable_key_rotation(KeyId=default)
    assert kms.get_key_rotation_status(KeyId=given)["RotationPeriodInDays"] == 180
    assert kms.get_key_rotation_status(KeyId=default)["RotationPeriodInDays"] == 365
    assert "RotationPeriodInDays" not in kms.get_key_rotation_status(KeyId=off)
    kms.disable_key_rotation(KeyId=given)
    assert "RotationPeriodInDays" not in kms.get_key_rotation_status(KeyId=given)


def test_a_kinesis_stream_keeps_the_tags_it_was_created_with(aws: None) -> None:
    kinesis = client("kinesis")
    kinesis.create_stream(StreamName="events", ShardCount=1, Tags={"DataClass": "metadata"})
    arn = kinesis.describe_stream_summary(StreamName="events")["StreamDescriptionSummary"][
        "StreamARN"
    ]
    expected = [{"Key": "DataClass", "Value": "metadata"}]
    assert kinesis.list_tags_for_stream(StreamName="events")["Tags"] == expected
    assert kinesis.list_tags_for_stream(StreamARN=arn)["Tags"] == expected


def test_security_group_rules_to_prefix_lists_and_groups_keep_their_descriptions(
    aws: None,
) -> None:
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="lambda", Description="d", VpcId=vpc)["GroupId"]
    https = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}
    ec2.authorize_security_group_egress(
        GroupId=group,
        IpPermissions=[
            {**https, "PrefixListIds": [{"PrefixListId": "pl-1234", "Description": "to s3"}]},
            {**https, "UserIdGroupPairs": [{"GroupId": group, "Description": "to endpoints"}]},
            {**https, "IpRanges": [{"CidrIp": "10.0.0.0/16", "Description": "to the vpc"}]},
        ],
    )
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group]}])
    described = {
        r.get("PrefixListId")
        or (r.get("ReferencedGroupInfo") or {}).get("GroupId")
        or r.get("CidrIpv4"): r.get("Description")
        for r in rules["SecurityGroupRules"]
    }
    assert described == {
        "0.0.0.0/0": None,  # the default egress rule has none
        "pl-1234": "to s3",
        group: "to endpoints",
        "10.0.0.0/16": "to the vpc",
    }
