"""Faults injected at run time (local/faults.py) reach the workload and only the workload."""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local import faults
from local.aws import REGION
from tests.conftest import Emulator
from tests.integration.handlers import PROBE_HANDLER
from tests.integration.test_emulator import create_function, invoke

ACCOUNT = "123456789012"


def control(emulator: Emulator, method: str, plan: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(  # noqa: S310 (the emulator's own http endpoint)
        f"{emulator.endpoint}{faults.PATH}",
        data=json.dumps(plan).encode() if plan is not None else None,
        method=method,
    )
    with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310
        return json.loads(reply.read())


@pytest.fixture
def injecting(emulator: Emulator) -> Iterator[Any]:
    yield lambda *rules: control(emulator, "PUT", {"seed": 1, "rules": list(rules)})
    control(emulator, "DELETE")


@pytest.fixture(scope="module")
def session(emulator: Emulator) -> Any:
    """Clients signing as a role session, as the Lambda workers and Step Functions tasks do."""
    iam = emulator.client("iam")
    name = f"faults-{uuid.uuid4().hex[:8]}"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    allow = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["dynamodb:PutItem", "events:PutEvents"], "Resource": "*"}
        ],
    }
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    iam.put_role_policy(RoleName=name, PolicyName="faults", PolicyDocument=json.dumps(allow))
    credentials = emulator.client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="faults")[
        "Credentials"
    ]

    def client(service: str) -> Any:
        factory: Any = boto3.client
        return factory(
            service,
            region_name=REGION,
            endpoint_url=emulator.endpoint,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            config=Config(retries={"max_attempts": 1, "mode": "standard"}),
        )

    return client


def test_a_throttled_write_fails_the_session_and_not_the_administrator(
    emulator: Emulator, session: Any, injecting: Any
) -> None:
    table = f"faults-{uuid.uuid4().hex[:8]}"
    emulator.client("dynamodb").create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    injecting(
        {"service": "dynamodb", "operation": "PutItem", "fault": "throttle", "probability": 1}
    )
    item = {"pk": {"S": "a"}}
    with pytest.raises(ClientError) as refused:
        session("dynamodb").put_item(TableName=table, Item=item)
    assert refused.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    emulator.client("dynamodb").put_item(TableName=table, Item=item)  # Terraform's keys: no fault
    injected = control(emulator, "GET")["injected"]
    assert set(injected) == {"dynamodb:PutItem:throttle"} and injected[next(iter(injected))] >= 1


def test_refused_entries_are_not_delivered(
    emulator: Emulator, session: Any, injecting: Any
) -> None:
    meter = f"{emulator.api_endpoint}/_local/meter"
    urllib.request.urlopen(urllib.request.Request(f"{meter}/reset", method="POST"), timeout=10)  # noqa: S310
    injecting({"service": "events", "fault": "partial_failure", "probability": 0.5})
    entries = [
        {"Source": "test.faults", "DetailType": "probe", "Detail": json.dumps({"n": n})}
        for n in range(8)
    ]
    answer = session("events").put_events(Entries=entries)
    failed = [entry for entry in answer["Entries"] if entry.get("ErrorCode") == "InternalFailure"]
    assert answer["FailedEntryCount"] == len(failed) >= 1
    assert len(answer["Entries"]) == 8  # in the caller's order, one answer per entry
    with urllib.request.urlopen(meter, timeout=10) as reply:  # noqa: S310
        published = json.loads(reply.read())["counts"].get("events_published", 0)
    assert published == 8 - len(failed)


def test_a_killed_runtime_fails_one_invocation_and_the_next_starts_anew(
    emulator: Emulator, role_arn: str, injecting: Any
) -> None:
    name = create_function(emulator, role_arn, PROBE_HANDLER, "probe")
    error, before = invoke(emulator, name, {"echo": 1})
    assert error is None
    injecting({"service": "lambda", "fault": "kill_worker", "probability": 1})
    error, answer = invoke(emulator, name, {"echo": 2})
    assert (error, answer["errorType"]) == ("Unhandled", "Runtime.ExitError")
    control(emulator, "DELETE")
    error, after = invoke(emulator, name, {"echo": 3})
    assert error is None and after["pid"] != before["pid"]


def test_a_killed_runtime_takes_only_its_own_execution_environment(
    emulator: Emulator, role_arn: str, injecting: Any
) -> None:
    name = create_function(emulator, role_arn, PROBE_HANDLER, "probe")

    def two_at_once() -> set[int]:
        # Overlapping invocations need an execution environment each.
        with ThreadPoolExecutor(max_workers=2) as pool:
            answers = list(
                pool.map(lambda n: invoke(emulator, name, {"sleep": 1, "echo": n}), (1, 2))
            )
        assert all(error is None for error, _ in answers), answers
        return {answer["pid"] for _, answer in answers}

    warm = two_at_once()
    assert len(warm) == 2
    injecting({"service": "lambda", "fault": "kill_worker", "probability": 1})
    error, answer = invoke(emulator, name, {"echo": 3})
    assert (error, answer["errorType"]) == ("Unhandled", "Runtime.ExitError")
    control(emulator, "DELETE")
    # One environment died with the fault; the other is still warm, as on Lambda.
    assert len(two_at_once() & warm) == 1
