"""The sessions Lambda workers sign with (local.enforcement.RoleSessions): the function's
execution role, assumed by lambda.amazonaws.com only if its trust policy admits it, and renewed
before botocore, which re-reads environment credentials 15 minutes before they expire, needs
the next one."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local import enforcement
from tests.unit.test_event_source_access import REGION


@pytest.fixture
def iam(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setattr(enforcement, "enforcing", lambda: True)
    with mock_aws():
        yield boto3.client("iam", region_name=REGION)


def function(iam: Any, name: str, trust: str = enforcement.LAMBDA_TRUST_POLICY) -> Any:
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    arn = f"arn:aws:lambda:{REGION}:123456789012:function:{name}"
    return SimpleNamespace(role=role, function_name=name, function_arn=arn)


def test_a_workers_session_is_its_roles_and_is_renewed_before_botocore_needs_it(
    iam: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = enforcement.RoleSessions()
    worker = function(iam, "payments")
    first = sessions.for_function(worker)
    environment = first.environment()
    assert environment["AWS_ACCESS_KEY_ID"] == first.access_key_id
    assert environment["AWS_SESSION_TOKEN"] and environment["AWS_CREDENTIAL_EXPIRATION"]
    start = enforcement.utcnow()

    def at(minutes: int) -> None:
        moment = start + datetime.timedelta(minutes=minutes)
        monkeypatch.setattr(enforcement, "utcnow", lambda: moment)

    at(39)  # 21 minutes left: the warm worker keeps its session
    assert sessions.for_function(worker) == first
    at(41)  # 19 minutes left: a new session, before botocore's 15-minute refresh
    renewed = sessions.for_function(worker)
    assert renewed.access_key_id != first.access_key_id
    assert renewed.expiration > first.expiration


def test_a_role_whose_trust_policy_does_not_admit_lambda_gives_no_session(iam: Any) -> None:
    trusts_states = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "states.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    with pytest.raises(enforcement.RoleNotAssumable):
        enforcement.RoleSessions().for_function(function(iam, "misrouted", trusts_states))
