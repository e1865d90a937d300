"""local/gaps.py: Athena's ListTagsForResource on an untagged workgroup answers an empty list,
as AWS does (moto answers "Does Not Exist", which stopped the aws provider's read after it
created modules/data_lake's workgroup); tags still come back, and a missing workgroup is still
an error."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local.gaps import _list_tags_of_untagged_athena_resources

REGION = "eu-west-2"
ARN = "arn:aws:athena:eu-west-2:123456789012:workgroup/{}"


@pytest.fixture
def athena(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    _list_tags_of_untagged_athena_resources()
    with mock_aws():
        yield boto3.client("athena", region_name=REGION)


def test_an_untagged_workgroup_lists_no_tags(athena: Any) -> None:
    athena.create_work_group(Name="untagged", Configuration={})
    assert athena.list_tags_for_resource(ResourceARN=ARN.format("untagged"))["Tags"] == []


def test_tags_set_and_removed_are_listed(athena: Any) -> None:
    athena.create_work_group(
        Name="tagged", Configuration={}, Tags=[{"Key": "Owner", "Value": "payments"}]
    )
    arn = ARN.format("tagged")
    assert athena.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
        {"Key": "Owner", "Value": "payments"}
    ]
    athena.untag_resource(ResourceARN=arn, TagKeys=["Owner"])
    assert athena.list_tags_for_resource(ResourceARN=arn)["Tags"] == []


def test_a_missing_workgroup_is_still_an_error(athena: Any) -> None:
    with pytest.raises(ClientError) as refused:
        athena.list_tags_for_resource(ResourceARN=ARN.format("missing"))
    assert refused.value.response["Error"]["Code"] == "InvalidRequestException"
