"""Each foundation module's examples/basic applied for real on the emulator (pytest-terraform),
then its security properties read back with boto3."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_terraform import terraform  # type: ignore[import-untyped]  # no stubs, no py.typed

from tests.conftest import LOCAL_ZIP, Emulator


@pytest.fixture(scope="session", autouse=True)
def _example_inputs(emulator: Emulator) -> Iterator[None]:
    os.environ["TF_VAR_filename"] = str(LOCAL_ZIP)  # noqa: SIM112 (Terraform variable name)
    yield
    os.environ.pop("TF_VAR_filename", None)


# The examples run on the session's emulator, which is thrown away afterwards: no teardown.
terraform("module_examples", scope="session", teardown=terraform.TEARDOWN_OFF)


def example_outputs(fixture: Any, module: str) -> dict[str, Any]:
    return dict(fixture.outputs[module]["value"])


def test_kms_keys_rotate_within_the_cryptoperiod(emulator: Emulator, module_examples: Any) -> None:
    keys = example_outputs(module_examples, "kms")["keys"]
    kms = emulator.client("kms")
    assert set(keys) >= {"vault", "fingerprint", "application", "data_lake", "logs"}
    for purpose, key in keys.items():
        metadata = kms.describe_key(KeyId=key["arn"])["KeyMetadata"]
        assert metadata["KeyManager"] == "CUSTOMER"
        assert metadata.get("MultiRegion", False) is False
        if purpose == "fingerprint":
            assert (metadata["KeySpec"], metadata["KeyUsage"]) == (
                "HMAC_256",
                "GENERATE_VERIFY_MAC",
            )
            continue
        assert kms.get_key_rotation_status(KeyId=key["arn"])["KeyRotationEnabled"] is True
        policy = json.loads(kms.get_key_policy(KeyId=key["arn"], PolicyName="default")["Policy"])
        for statement in policy["Statement"]:
            principal = json.dumps(statement.get("Principal"))
            if statement.get("Sid", "").lower().startswith("keyadmin") or "key-admin" in principal:
                assert not {"kms:Decrypt", "kms:Encrypt", "kms:*"} & set(
                    statement["Action"]
                    if isinstance(statement["Action"], list)
                    else [statement["Action"]]
                )
    aliases = {a["AliasName"] for a in kms.list_aliases()["Aliases"]}
    assert all(key["alias"] in aliases for key in keys.values())


def test_network_is_private_with_endpoints_and_flow_logs(
    emulator: Emulator, module_examples: Any
) -> None:
    outputs = example_outputs(module_examples, "network")
    ec2 = emulator.client("ec2")
    vpc_filter = [{"Name": "vpc-id", "Values": [outputs["vpc_id"]]}]
    assert not ec2.describe_internet_gateways(
        Filters=[{"Name": "attachment.vpc-id", "Values": [outputs["vpc_id"]]}]
    )["InternetGateways"]
    for table in ec2.describe_route_tables(Filters=vpc_filter)["RouteTables"]:
        assert not any(r.get("GatewayId", "").startswith("igw-") for r in table["Routes"])
    endpoints = ec2.describe_vpc_endpoints(Filters=vpc_filter)["VpcEndpoints"]
    services = {e["ServiceName"].rsplit(".", 1)[-1] for e in endpoints}
    assert services >= {
        "kms",
        "sts",
        "logs",
        "states",
        "kinesis-streams",
        "events",
        "secretsmanager",
        "lambda",
        "s3",
        "dynamodb",
    }
    for endpoint in endpoints:
        policy = json.loads(endpoint["PolicyDocument"])
        assert "aws:PrincipalAccount" in json.dumps(policy)
        if endpoint["VpcEndpointType"] == "Interface":
            assert endpoint["PrivateDnsEnabled"] is True
    flow_logs = ec2.describe_flow_logs(
        Filters=[{"Name": "resource-id", "Values": [outputs["vpc_id"]]}]
    )["FlowLogs"]
    assert flow_logs and flow_logs[0]["TrafficType"] == "ALL"
    group_name = flow_logs[0].get("LogGroupName") or (
        flow_logs[0]["LogDestination"].split(":log-group:")[1].removesuffix(":*")
    )
    group = emulator.client("logs").describe_log_groups(logGroupNamePrefix=group_name)["logGroups"][
        0
    ]
    assert group["retentionInDays"] >= 365 and group.get("kmsKeyId")
    default_sg = ec2.describe_security_groups(
        Filters=[*vpc_filter, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"][0]
    assert default_sg["IpPermissions"] == [] and default_sg["IpPermissionsEgress"] == []
    lambda_sg = ec2.describe_security_groups(GroupIds=[outputs["lambda_security_group_id"]])[
        "SecurityGroups"
    ][0]
    assert lambda_sg["IpPermissions"] == []
    assert {(rule["FromPort"], rule["ToPort"]) for rule in lambda_sg["IpPermissionsEgress"]} == {
        (443, 443)
    }


def test_audit_trail_and_object_locked_archive(emulator: Emulator, module_examples: Any) -> None:
    outputs = example_outputs(module_examples, "audit")
    trail = emulator.client("cloudtrail").get_trail(Name=outputs["trail_arn"])["Trail"]
    assert trail["IsMultiRegionTrail"] is True
    assert trail["LogFileValidationEnabled"] is True
    assert trail.get("KmsKeyId")
    s3 = emulator.client("s3")
    bucket = outputs["archive_bucket_name"]
    lock = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled"
    assert lock["Rule"]["DefaultRetention"]["Mode"] == "COMPLIANCE"
    assert lock["Rule"]["DefaultRetention"]["Days"] >= 365
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert any(
        s["Effect"] == "Deny" and "aws:SecureTransport" in json.dumps(s)
        for s in policy["Statement"]
    )
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    expirations = [r["Expiration"]["Days"] for r in rules if "Expiration" in r]
    transitions = [t["Days"] for r in rules for t in r.get("Transitions", [])]
    assert expirations and min(expirations) >= 365
    assert not transitions or min(transitions) >= 90
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    assert s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"]["TargetBucket"]
    assert set(outputs["alarm_arns"]) == {
        "root_account_usage",
        "unauthorized_api_calls",
        "kms_key_disabled_or_scheduled_for_deletion",
        "iam_policy_changes",
        "cloudtrail_configuration_changes",
        "security_group_changes",
    }
    names = [arn.split(":alarm:")[-1] for arn in outputs["alarm_arns"].values()]
    alarms = emulator.client("cloudwatch").describe_alarms(AlarmNames=names)["MetricAlarms"]
    assert len(alarms) == len(names)
    assert all(alarm["AlarmActions"] == [outputs["alarm_topic_arn"]] for alarm in alarms)


def test_lambda_function_is_private_traced_encrypted_and_runs(
    emulator: Emulator, module_examples: Any
) -> None:
    outputs = example_outputs(module_examples, "lambda_function")
    lambda_client = emulator.client("lambda")
    config = lambda_client.get_function_configuration(FunctionName=outputs["function_name"])
    assert config["TracingConfig"]["Mode"] == "Active"
    assert config["KMSKeyArn"]
    assert config["VpcConfig"]["SubnetIds"] and config["VpcConfig"]["SecurityGroupIds"]
    assert config["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == "health"
    assert (
        lambda_client.get_function_concurrency(FunctionName=outputs["function_name"])[
            "ReservedConcurrentExecutions"
        ]
        > 0
    )
    invoke = lambda_client.get_function_event_invoke_config(FunctionName=outputs["function_name"])
    assert invoke["DestinationConfig"]["OnFailure"]["Destination"] == outputs["failure_queue_arn"]
    group = emulator.client("logs").describe_log_groups(
        logGroupNamePrefix=outputs["log_group_name"]
    )["logGroups"][0]
    assert group["retentionInDays"] >= 365 and group.get("kmsKeyId")
    reply = lambda_client.invoke(FunctionName=outputs["function_name"], Payload=b"{}")
    assert "FunctionError" not in reply
    assert json.loads(reply["Payload"].read())["status"] == "ok"
