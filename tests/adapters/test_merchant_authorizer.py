"""The merchant authorizer's handler on moto: the policy and context API Gateway caches for a
working key, and ``Unauthorized`` (API Gateway's 401) for every other header, never the key in a
log line."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from functions.adapters import clients, merchant_wiring
from functions.adapters.merchant_wiring import build_registry
from functions.handlers import merchant_authorizer
from functions.services.merchant_registry import MerchantRegistry
from tests.adapters.merchant_registry import create_registry_table
from tests.adapters.payment_tables import fake_aws_environment

TABLE = "payments-local-merchants"
METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/POST/v1/payments"


@dataclass
class Context:
    function_name: str = "payments-local-merchant-authorizer"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = (
        "arn:aws:lambda:eu-west-1:123456789012:function:payments-local-merchant-authorizer"
    )
    aws_request_id: str = "req-1"


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[MerchantRegistry]:
    fake_aws_environment(
        monkeypatch, MERCHANT_REGISTRY_TABLE_NAME=TABLE, PAYMENTS_ENVIRONMENT="local"
    )
    with mock_aws():
        clients.clear()
        merchant_wiring.registry.cache_clear()
        client = boto3.client("dynamodb", region_name="eu-west-1")
        create_registry_table(client, TABLE)
        yield build_registry(client, TABLE, "local")
        clients.clear()
        merchant_wiring.registry.cache_clear()


def authorize(authorization: str | None) -> dict[str, Any]:
    headers = {"Authorization": authorization} if authorization is not None else {}
    event = {
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        "resource": "/v1/payments",
        "path": "/v1/payments",
        "httpMethod": "POST",
        "headers": headers,
        "requestContext": {"stage": "v1", "apiId": "abc123", "accountId": "123456789012"},
    }
    answer: dict[str, Any] = merchant_authorizer.handler(event, Context())
    return answer


def test_a_working_key_is_allowed_every_route_of_the_stage_with_its_merchant(
    registry: MerchantRegistry,
) -> None:
    issued = registry.create_merchant("m_shop")
    answer = authorize(f"Bearer {issued.api_key}")
    assert answer["principalId"] == "m_shop"
    assert answer["context"] == {
        "merchant_id": "m_shop",
        "key_id": issued.key_id,
        "key_prefix": issued.prefix,
    }
    # Cached per header value and reused for every route: the policy is the whole stage's.
    assert answer["policyDocument"]["Statement"] == [
        {
            "Action": "execute-api:Invoke",
            "Effect": "Allow",
            "Resource": ["arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/*/*"],
        }
    ]


def test_missing_malformed_revoked_expired_and_unknown_keys_are_unauthorized(
    registry: MerchantRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    revoked = registry.create_merchant("m_revoked")
    registry.revoke_key("m_revoked", revoked.key_id)
    expired = registry.create_merchant("m_rotated")
    registry.rotate_key("m_rotated", overlap=dt.timedelta(0))
    unknown = "sk_test_abcdefghijklmnop_" + "a" * 43
    caplog.set_level(logging.WARNING)
    for header in (
        None,
        "",
        "Bearer nope",
        "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261201/eu-west-1/execute-api/aws4_request",
        f"Bearer {revoked.api_key}",
        f"Bearer {expired.api_key}",
        f"Bearer {unknown}",
        f"Bearer {revoked.api_key.replace('sk_test_', 'sk_live_')}",
    ):
        with pytest.raises(PermissionError) as refused:
            authorize(header)
        # API Gateway answers 401 for exactly this message; any other is a 500.
        assert str(refused.value) == "Unauthorized"
    reasons = {getattr(r, "reason", None) for r in caplog.records}
    assert {"missing", "malformed", "revoked", "expired", "unknown", "wrong_mode"} <= reasons
    logged = caplog.text + repr([r.__dict__ for r in caplog.records])
    for key in (revoked.api_key, expired.api_key, unknown):
        assert key not in logged


def test_a_suspended_merchant_s_key_is_denied_every_route_with_the_reason(
    registry: MerchantRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    issued = registry.create_merchant("m_shop")
    registry.suspend("m_shop")
    caplog.set_level(logging.WARNING)
    answer = authorize(f"Bearer {issued.api_key}")
    # A Deny (API Gateway's 403), never an Allow the functions would have to refuse.
    assert answer["policyDocument"]["Statement"] == [
        {
            "Action": "execute-api:Invoke",
            "Effect": "Deny",
            "Resource": ["arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/*/*"],
        }
    ]
    assert answer["context"]["refusal_code"] == "merchant_suspended"
    assert answer["context"]["merchant_id"] == "m_shop"
    assert "key_id" not in answer["context"]
    assert {getattr(r, "reason", None) for r in caplog.records} == {"merchant_suspended"}
    assert issued.api_key not in caplog.text
    registry.reactivate("m_shop")
    assert authorize(f"Bearer {issued.api_key}")["policyDocument"]["Statement"][0]["Effect"] == (
        "Allow"
    )


def test_a_registry_failure_is_an_error_not_an_allow(
    registry: MerchantRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = registry.create_merchant("m_shop")
    monkeypatch.setenv("MERCHANT_REGISTRY_TABLE_NAME", "no-such-table")
    merchant_wiring.registry.cache_clear()
    with pytest.raises(ClientError) as failed:
        authorize(f"Bearer {issued.api_key}")
    assert str(failed.value) != "Unauthorized"
