from __future__ import annotations

import json
import uuid

import pytest

from tests.conftest import Emulator


@pytest.fixture(scope="session", autouse=True)
def _emulator_first(emulator: Emulator) -> Emulator:
    """Start the shared emulator before any pytest-terraform fixture applies a module."""
    return emulator


@pytest.fixture(scope="session")
def role_arn(emulator: Emulator) -> str:
    """An execution role for the test functions (the emulator does not enforce its policy)."""
    assume = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = emulator.client("iam").create_role(
        RoleName=f"test-lambda-{uuid.uuid4().hex[:8]}", AssumeRolePolicyDocument=json.dumps(assume)
    )
    return str(role["Role"]["Arn"])
