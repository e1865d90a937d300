from __future__ import annotations

import json
import uuid

import pytest

from local.enforcement import LAMBDA_TRUST_POLICY
from tests.conftest import Emulator


@pytest.fixture(scope="session", autouse=True)
def _emulator_first(emulator: Emulator) -> Emulator:
    """Start the shared emulator before any pytest-terraform fixture applies a module."""
    return emulator


@pytest.fixture(scope="session")
def role_arn(emulator: Emulator) -> str:
    """The role of the test functions and state machines: what they call (the batch recorder
    writes its batches to a table, the state machines invoke the functions, Lambda reads the
    mapped streams and queues and sends failed batches to their on-failure queue), and nothing
    else, since the emulator enforces it.
    Lambda and Step Functions may both assume it."""
    trust = json.loads(LAMBDA_TRUST_POLICY)
    trust["Statement"][0]["Principal"]["Service"] = ["lambda.amazonaws.com", "states.amazonaws.com"]
    allow = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "dynamodb:PutItem",
                "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/*",
            },
            {
                "Effect": "Allow",
                "Action": "lambda:InvokeFunction",
                "Resource": "arn:aws:lambda:us-east-1:123456789012:function:*",
            },
            {
                # Lambda sends a failed batch to the on-failure queue as the function's role.
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": "arn:aws:sqs:us-east-1:123456789012:*",
            },
            {
                # Lambda's pollers read the mapped streams and queues as the function's role.
                "Effect": "Allow",
                "Action": [
                    "kinesis:GetRecords",
                    "kinesis:GetShardIterator",
                    "kinesis:DescribeStream",
                    "kinesis:ListShards",
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                ],
                "Resource": [
                    "arn:aws:kinesis:us-east-1:123456789012:stream/*",
                    "arn:aws:sqs:us-east-1:123456789012:*",
                ],
            },
        ],
    }
    iam = emulator.client("iam")
    name = f"test-role-{uuid.uuid4().hex[:8]}"
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(
        RoleName=name, PolicyName="test-functions", PolicyDocument=json.dumps(allow)
    )
    return str(role["Role"]["Arn"])
