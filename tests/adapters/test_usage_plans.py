"""The registry's usage-plan keys on moto: onboarding reads the plans from the table's
``config#usage_plans`` item (as modules/merchant_registry writes it), makes the merchant's
enabled API key on its tier's plan, and the authorizer hands that key to API Gateway as
``usageIdentifierKey``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.adapters import clients, merchant_wiring
from functions.adapters.merchant_registry_table import USAGE_PLANS_PK
from functions.adapters.merchant_wiring import build_registry
from functions.handlers import merchant_authorizer
from functions.services.merchant_registry import RegistryError
from tests.adapters.merchant_registry import create_registry_table
from tests.adapters.payment_tables import fake_aws_environment
from tests.adapters.test_merchant_authorizer import Context

TABLE = "payments-local-merchants"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    fake_aws_environment(
        monkeypatch, MERCHANT_REGISTRY_TABLE_NAME=TABLE, PAYMENTS_ENVIRONMENT="local"
    )
    with mock_aws():
        clients.clear()
        merchant_wiring.registry.cache_clear()
        ddb = boto3.client("dynamodb", region_name="eu-west-1")
        apigw = boto3.client("apigateway", region_name="eu-west-1")
        create_registry_table(ddb, TABLE)
        api = apigw.create_rest_api(name="payments-local-api")["id"]
        plans = {
            tier: apigw.create_usage_plan(
                name=f"payments-local-merchants-{tier}",
                apiStages=[{"apiId": api, "stage": "v1"}],
                throttle={"rateLimit": rate, "burstLimit": 2},
            )["id"]
            for tier, rate in (("standard", 50.0), ("e2e_tiny", 1.0))
        }
        ddb.put_item(
            TableName=TABLE,
            Item={
                "pk": {"S": USAGE_PLANS_PK},
                "plans": {"M": {tier: {"S": plan} for tier, plan in plans.items()}},
            },
        )
        yield {"ddb": ddb, "apigw": apigw, "plans": plans, "api": api}
        clients.clear()
        merchant_wiring.registry.cache_clear()


def test_onboarding_makes_an_enabled_key_on_the_tier_s_plan_that_the_authorizer_names(
    aws: dict[str, Any],
) -> None:
    registry = build_registry(aws["ddb"], TABLE, "local", aws["apigw"])
    issued = registry.create_merchant("m_small", tier="e2e_tiny")
    record = registry.merchant("m_small")
    assert record.usage_key_id is not None and record.usage_key is not None
    key = aws["apigw"].get_api_key(apiKey=record.usage_key_id, includeValue=True)
    assert key["enabled"] and key["value"] == record.usage_key
    assert key["tags"] == {"MerchantId": "m_small", "MerchantRegistry": TABLE}
    on_plan = aws["apigw"].get_usage_plan_keys(usagePlanId=aws["plans"]["e2e_tiny"])["items"]
    assert [k["id"] for k in on_plan] == [record.usage_key_id]
    assert aws["apigw"].get_usage_plan_keys(usagePlanId=aws["plans"]["standard"])["items"] == []

    event = {
        "type": "REQUEST",
        "methodArn": f"arn:aws:execute-api:eu-west-1:123456789012:{aws['api']}/v1/POST/v1/payments",
        "headers": {"Authorization": f"Bearer {issued.api_key}"},
        "requestContext": {"stage": "v1", "apiId": aws["api"], "accountId": "123456789012"},
    }
    answer = merchant_authorizer.handler(event, Context())
    assert answer["usageIdentifierKey"] == record.usage_key
    # The sk_ key is the credential; the usage key is only API Gateway's plan identifier.
    assert record.usage_key not in issued.api_key


def test_a_registry_without_plans_refuses_to_onboard_rather_than_strand_a_merchant(
    aws: dict[str, Any],
) -> None:
    aws["ddb"].delete_item(TableName=TABLE, Key={"pk": {"S": USAGE_PLANS_PK}})
    registry = build_registry(aws["ddb"], TABLE, "local", aws["apigw"])
    with pytest.raises(RegistryError, match="no usage plan for tier standard"):
        registry.create_merchant("m_shop")
    assert not registry.merchant_exists("m_shop")
    assert aws["apigw"].get_api_keys()["items"] == []
