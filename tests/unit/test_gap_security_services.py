"""local/gaps_security.py: Security Hub standards subscriptions and GuardDuty's per-feature
updates, which moto lacks or answers unlike AWS (modules/security_baseline needs both)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local import gaps_security

REGION = "eu-west-2"
PCI = f"arn:aws:securityhub:{REGION}::standards/pci-dss/v/4.0.1"
FSBP = f"arn:aws:securityhub:{REGION}::standards/aws-foundational-security-best-practices/v/1.0.0"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    gaps_security.install()
    with mock_aws():
        yield


def test_standards_are_subscribed_listed_and_removed(aws: None) -> None:
    hub = boto3.client("securityhub", region_name=REGION)
    hub.enable_security_hub(EnableDefaultStandards=False)
    assert hub.get_enabled_standards()["StandardsSubscriptions"] == []
    answer = hub.batch_enable_standards(
        StandardsSubscriptionRequests=[{"StandardsArn": PCI}, {"StandardsArn": FSBP}]
    )["StandardsSubscriptions"]
    arns = {s["StandardsArn"]: s["StandardsSubscriptionArn"] for s in answer}
    assert arns[PCI].endswith(":subscription/pci-dss/v/4.0.1")
    listed = hub.get_enabled_standards(StandardsSubscriptionArns=[arns[PCI]])
    assert [
        (s["StandardsArn"], s["StandardsStatus"]) for s in listed["StandardsSubscriptions"]
    ] == [(PCI, "READY")]
    hub.batch_disable_standards(StandardsSubscriptionArns=[arns[PCI]])
    left = hub.get_enabled_standards()["StandardsSubscriptions"]
    assert [s["StandardsArn"] for s in left] == [FSBP]


def test_a_standard_aws_does_not_offer_is_refused(aws: None) -> None:
    hub = boto3.client("securityhub", region_name=REGION)
    hub.enable_security_hub(EnableDefaultStandards=False)
    with pytest.raises(ClientError) as error:
        hub.batch_enable_standards(
            StandardsSubscriptionRequests=[{"StandardsArn": PCI.replace("4.0.1", "9.9")}]
        )
    assert error.value.response["Error"]["Code"] == "InvalidInputException"


def test_standards_need_the_hub_and_end_with_it(aws: None) -> None:
    hub = boto3.client("securityhub", region_name=REGION)
    with pytest.raises(ClientError) as error:
        hub.batch_enable_standards(StandardsSubscriptionRequests=[{"StandardsArn": PCI}])
    assert error.value.response["Error"]["Code"] == "InvalidAccessException"
    hub.enable_security_hub(EnableDefaultStandards=False)
    hub.batch_enable_standards(StandardsSubscriptionRequests=[{"StandardsArn": PCI}])
    hub.disable_security_hub()
    hub.enable_security_hub(EnableDefaultStandards=False)
    assert hub.get_enabled_standards()["StandardsSubscriptions"] == []


def test_guardduty_features_are_updated_one_by_one(aws: None) -> None:
    guardduty: Any = boto3.client("guardduty", region_name=REGION)
    detector = guardduty.create_detector(Enable=True)["DetectorId"]
    for name in ("S3_DATA_EVENTS", "LAMBDA_NETWORK_LOGS"):
        guardduty.update_detector(
            DetectorId=detector, Features=[{"Name": name, "Status": "ENABLED"}]
        )
    features = guardduty.get_detector(DetectorId=detector)["Features"]
    assert {f["Name"]: f["Status"] for f in features} == {
        "S3_DATA_EVENTS": "ENABLED",
        "LAMBDA_NETWORK_LOGS": "ENABLED",
    }
    guardduty.update_detector(
        DetectorId=detector, Features=[{"Name": "S3_DATA_EVENTS", "Status": "DISABLED"}]
    )
    features = guardduty.get_detector(DetectorId=detector)["Features"]
    assert {f["Name"]: f["Status"] for f in features}["S3_DATA_EVENTS"] == "DISABLED"


def test_hub_configuration_is_updated_and_described(aws: None) -> None:
    hub = boto3.client("securityhub", region_name=REGION)
    hub.enable_security_hub(EnableDefaultStandards=False)
    hub.update_security_hub_configuration(
        AutoEnableControls=False, ControlFindingGenerator="STANDARD_CONTROL"
    )
    described = hub.describe_hub()
    assert (described["AutoEnableControls"], described["ControlFindingGenerator"]) == (
        False,
        "STANDARD_CONTROL",
    )
