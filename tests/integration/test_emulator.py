"""The emulator as AWS clients see it: Lambda, Step Functions, Kinesis and SQS delivery."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from local.endpoints import published
from local.enforcement import LAMBDA_TRUST_POLICY
from local.workflow_client import run_execution
from tests.conftest import Emulator
from tests.integration.handlers import BATCH_RECORDER, PROBE_HANDLER, zip_source

ASSUME_LAMBDA = LAMBDA_TRUST_POLICY


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def wait_for(condition: Callable[[], Any], timeout_s: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"condition not met within {timeout_s}s")


def create_function(
    emulator: Emulator,
    role_arn: str,
    source: str,
    module: str,
    timeout: int = 3,
    env: dict[str, str] | None = None,
) -> str:
    name = unique(module)
    emulator.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role_arn,
        Handler=f"{module}.handler",
        Code={"ZipFile": zip_source(module, source)},
        Timeout=timeout,
        MemorySize=256,
        Environment={"Variables": env or {}},
    )
    return name


def invoke(emulator: Emulator, name: str, event: dict[str, Any]) -> tuple[str | None, Any]:
    reply = emulator.client("lambda").invoke(FunctionName=name, Payload=json.dumps(event))
    return reply.get("FunctionError"), json.loads(reply["Payload"].read())


def test_invocations_run_the_deployed_code_warm(emulator: Emulator, role_arn: str) -> None:
    name = create_function(emulator, role_arn, PROBE_HANDLER, "probe", env={"GREETING": "hi"})
    error, first = invoke(emulator, name, {"echo": 1})
    assert error is None, first
    _, second = invoke(emulator, name, {"echo": 2})
    # Workers call the emulator's TLS listener, as the SDK uses HTTPS on Lambda (local/tls.py).
    tls_endpoint = published(emulator.state_dir).aws_tls
    assert (first["greeting"], first["endpoint"]) == ("hi", tls_endpoint)
    assert second["pid"] == first["pid"]


def test_output_goes_to_the_functions_log_group(emulator: Emulator, role_arn: str) -> None:
    name = create_function(emulator, role_arn, PROBE_HANDLER, "probe")
    invoke(emulator, name, {})
    messages = emulator.log_messages(f"/aws/lambda/{name}")
    assert "probe invoked" in messages
    assert any(m.startswith("START RequestId:") for m in messages)
    assert any(m.startswith("REPORT RequestId:") and "Init Duration" in m for m in messages)


def test_a_timeout_surfaces_in_the_state_machine_and_the_function_recovers(
    emulator: Emulator, role_arn: str
) -> None:
    name = create_function(emulator, role_arn, PROBE_HANDLER, "probe", timeout=1)
    function_arn = emulator.client("lambda").get_function(FunctionName=name)["Configuration"][
        "FunctionArn"
    ]
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": function_arn, "Payload.$": "$"},
                "OutputPath": "$.Payload",
                "End": True,
            }
        },
    }
    sfn = emulator.client("stepfunctions")
    machine = sfn.create_state_machine(
        name=unique("timeout"), definition=json.dumps(definition), roleArn=role_arn, type="EXPRESS"
    )["stateMachineArn"]

    timed_out = run_execution(sfn, machine, {"sleep": 3})
    assert timed_out.status == "FAILED"
    assert timed_out.error == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in (timed_out.cause or "")

    recovered = run_execution(sfn, machine, {"echo": "still serving"})
    assert recovered.status == "SUCCEEDED"
    assert recovered.output is not None and recovered.output["echo"] == "still serving"


@pytest.fixture(scope="module")
def recorder(emulator: Emulator, role_arn: str) -> tuple[str, str]:
    table = unique("batches")
    emulator.client("dynamodb").create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "batch", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "batch", "KeyType": "HASH"}],
    )
    return create_function(
        emulator, role_arn, BATCH_RECORDER, "recorder", env={"TABLE": table}
    ), table


def batches(emulator: Emulator, table: str) -> list[list[str]]:
    items = emulator.client("dynamodb").scan(TableName=table)["Items"]
    return [json.loads(item["bodies"]["S"]) for item in items]


def queue(emulator: Emulator, **attributes: str) -> tuple[str, str]:
    sqs = emulator.client("sqs")
    url = sqs.create_queue(QueueName=unique("q"), Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def test_kinesis_batches_partial_failures_retries_and_on_failure_destination(
    emulator: Emulator, recorder: tuple[str, str]
) -> None:
    function, table = recorder
    kinesis = emulator.client("kinesis")
    stream = unique("stream")
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    stream_arn = kinesis.describe_stream(StreamName=stream)["StreamDescription"]["StreamARN"]
    _, dlq_arn = dlq_url_arn = queue(emulator)
    emulator.client("lambda").create_event_source_mapping(
        EventSourceArn=stream_arn,
        FunctionName=function,
        StartingPosition="TRIM_HORIZON",
        BatchSize=10,
        MaximumRetryAttempts=1,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        DestinationConfig={"OnFailure": {"Destination": dlq_arn}},
    )
    bodies = [f"r{i:02d}" for i in range(25)]
    bodies[12] = "poison-12"
    kinesis.put_records(
        StreamName=stream, Records=[{"Data": body.encode(), "PartitionKey": "p"} for body in bodies]
    )

    def all_delivered() -> list[list[str]]:
        seen = batches(emulator, table)
        delivered = {body for batch in seen for body in batch}
        return seen if set(bodies) <= delivered and "r24" in delivered else []

    seen = wait_for(all_delivered)
    assert max(len(batch) for batch in seen) <= 10
    # The poisoned record was delivered twice (first try and one retry), then given up on.
    assert sum(batch.count("poison-12") for batch in seen) == 2
    assert sum(batch.count("r13") for batch in seen) >= 1
    assert all(sum(batch.count(body) for batch in seen) == 1 for body in bodies[:12])
    messages = wait_for(
        lambda: (
            emulator.client("sqs")
            .receive_message(QueueUrl=dlq_url_arn[0], WaitTimeSeconds=1)
            .get("Messages")
        )
    )
    failure = json.loads(messages[0]["Body"])
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["KinesisBatchInfo"]["batchSize"] >= 1
    assert "poison" not in messages[0]["Body"]  # the destination gets batch metadata only


def test_kinesis_bisects_a_failing_batch_down_to_the_poison_record(
    emulator: Emulator, recorder: tuple[str, str]
) -> None:
    """BisectBatchOnFunctionError: the failing part of a batch is halved until the poison
    record is delivered alone; only it reaches the on-failure destination."""
    function, table = recorder
    kinesis = emulator.client("kinesis")
    stream = unique("stream")
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    stream_arn = kinesis.describe_stream(StreamName=stream)["StreamDescription"]["StreamARN"]
    dlq_url, dlq_arn = queue(emulator)
    emulator.client("lambda").create_event_source_mapping(
        EventSourceArn=stream_arn,
        FunctionName=function,
        StartingPosition="TRIM_HORIZON",
        BatchSize=8,
        MaximumRetryAttempts=1,
        BisectBatchOnFunctionError=True,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        DestinationConfig={"OnFailure": {"Destination": dlq_arn}},
    )
    bodies = [f"b{i:02d}" for i in range(8)]
    bodies[3] = "poison-b3"
    kinesis.put_records(
        StreamName=stream, Records=[{"Data": body.encode(), "PartitionKey": "p"} for body in bodies]
    )
    messages = wait_for(
        lambda: (
            emulator.client("sqs")
            .receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1)
            .get("Messages")
        )
    )
    info = json.loads(messages[0]["Body"])["KinesisBatchInfo"]
    assert info["batchSize"] == 1 and info["startSequenceNumber"] == info["endSequenceNumber"]
    delivered = wait_for(
        lambda: (
            found
            if set(bodies) <= (found := {b for batch in batches(emulator, table) for b in batch})
            else None
        )
    )
    assert set(bodies) <= delivered
    # Halved to the poison alone: [poison, b4..b7] -> [poison, b4] -> [poison], then one retry.
    seen = batches(emulator, table)
    assert ["poison-b3"] in seen and sum(batch.count("poison-b3") for batch in seen) >= 3


def test_sqs_batches_partial_failures_and_redrive(
    emulator: Emulator, recorder: tuple[str, str]
) -> None:
    function, table = recorder
    before = {body for batch in batches(emulator, table) for body in batch}
    dlq_url, dlq_arn = queue(emulator)
    source_url, source_arn = queue(
        emulator,
        VisibilityTimeout="1",
        RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}),
    )
    emulator.client("lambda").create_event_source_mapping(
        EventSourceArn=source_arn,
        FunctionName=function,
        BatchSize=5,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    sqs = emulator.client("sqs")
    bodies = [f"m{i:02d}" for i in range(11)] + ["poison-sqs"]
    for body in bodies:
        sqs.send_message(QueueUrl=source_url, MessageBody=body)

    moved = wait_for(
        lambda: sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1).get("Messages"), 30
    )
    assert [m["Body"] for m in moved] == ["poison-sqs"]
    seen = [batch for batch in batches(emulator, table) if not set(batch) & before]
    assert max(len(batch) for batch in seen) <= 5
    delivered = [body for batch in seen for body in batch if body != "poison-sqs"]
    assert sorted(set(delivered)) == bodies[:-1]


def trail_bucket(emulator: Emulator, name: str) -> str:
    """A bucket the account's trails may write to: CloudTrail refuses a trail whose bucket
    policy does not let it (local.enforcement.trail_bucket_refusal)."""
    account = "123456789012"
    cloudtrail = {"Service": "cloudtrail.amazonaws.com"}
    trails = {"ArnLike": {"aws:SourceArn": f"arn:aws:cloudtrail:*:{account}:trail/*"}}
    statements = [
        {
            "Effect": "Allow",
            "Principal": cloudtrail,
            "Action": "s3:GetBucketAcl",
            "Resource": f"arn:aws:s3:::{name}",
            "Condition": trails,
        },
        {
            "Effect": "Allow",
            "Principal": cloudtrail,
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{name}/AWSLogs/{account}/*",
            "Condition": trails,
        },
    ]
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket=name)
    policy = {"Version": "2012-10-17", "Statement": statements}
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))
    return name


def test_gaps_filled_for_the_aws_provider(emulator: Emulator, role_arn: str) -> None:
    cloudtrail = emulator.client("cloudtrail")
    names = [unique("trail") for _ in range(2)]
    for name in names:
        cloudtrail.create_trail(Name=name, S3BucketName=trail_bucket(emulator, name))
    listed = cloudtrail.describe_trails(trailNameList=[names[0]])["trailList"]
    assert [trail["Name"] for trail in listed] == [names[0]]

    sfn = emulator.client("stepfunctions")
    good = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}
    assert sfn.validate_state_machine_definition(definition=json.dumps(good))["result"] == "OK"
    bad = sfn.validate_state_machine_definition(definition=json.dumps({"StartAt": "Nowhere"}))
    assert bad["result"] == "FAIL" and bad["diagnostics"]
    machine = sfn.create_state_machine(
        name=unique("versions"), definition=json.dumps(good), roleArn=role_arn, publish=True
    )
    versions = sfn.list_state_machine_versions(stateMachineArn=machine["stateMachineArn"])
    assert [v["stateMachineVersionArn"] for v in versions["stateMachineVersions"]] == [
        machine["stateMachineVersionArn"]
    ]


def test_start_sync_execution_answers_like_aws(emulator: Emulator, role_arn: str) -> None:
    sfn = emulator.client("stepfunctions")
    definition = {
        "StartAt": "Route",
        "States": {
            "Route": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.fail", "BooleanEquals": True, "Next": "Boom"}],
                "Default": "Echo",
            },
            "Echo": {"Type": "Pass", "Parameters": {"echo.$": "$.value"}, "End": True},
            "Boom": {"Type": "Fail", "Error": "Refused", "Cause": "asked to fail"},
        },
    }
    machine = sfn.create_state_machine(
        name=unique("sync"), definition=json.dumps(definition), roleArn=role_arn, type="EXPRESS"
    )["stateMachineArn"]
    done = sfn.start_sync_execution(
        stateMachineArn=machine, input=json.dumps({"fail": False, "value": 7})
    )
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == {"echo": 7}
    failed = sfn.start_sync_execution(stateMachineArn=machine, input=json.dumps({"fail": True}))
    assert (failed["status"], failed["error"], failed["cause"]) == (
        "FAILED",
        "Refused",
        "asked to fail",
    )
    assert "output" not in failed


def test_a_failed_asynchronous_invocation_reaches_its_on_failure_destination(
    emulator: Emulator, role_arn: str
) -> None:
    name = create_function(emulator, role_arn, PROBE_HANDLER, "probe")
    sqs = emulator.client("sqs")
    queue = sqs.create_queue(QueueName=unique("async-failures"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    emulator.client("lambda").put_function_event_invoke_config(
        FunctionName=name,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    event = {"fail": True, "echo": "lost"}
    emulator.client("lambda").invoke(
        FunctionName=name, InvocationType="Event", Payload=json.dumps(event)
    )
    messages = wait_for(
        lambda: sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages"), 30
    )
    record = json.loads(messages[0]["Body"])
    # Lambda's invocation record after the retries (one here): the event and the error.
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestPayload"] == event
    assert record["responsePayload"]["errorType"] == "ValueError"
