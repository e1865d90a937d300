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
    """An execution role for the test functions: what they call (the batch recorder writes its
    batches to a table), and nothing else, since the emulator enforces it."""
    allow = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "dynamodb:PutItem",
                "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/*",
            }
        ],
    }
    iam = emulator.client("iam")
    name = f"test-lambda-{uuid.uuid4().hex[:8]}"
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=LAMBDA_TRUST_POLICY)
    iam.put_role_policy(
        RoleName=name, PolicyName="test-functions", PolicyDocument=json.dumps(allow)
    )
    return str(role["Role"]["Arn"])
