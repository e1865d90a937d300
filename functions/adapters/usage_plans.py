"""API Gateway API keys and usage plans for the merchant registry (ADR 0008's rate limits):
one API key per merchant, on the usage plan of its tier. The plans themselves are Terraform's
(modules/payment_workflow/api_throttling.tf); their ids reach the registry as its
``config#usage_plans`` item (modules/merchant_registry), so onboarding needs no configuration
beyond the table."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_apigateway import APIGatewayClient


class ApiGatewayUsageKeys:
    def __init__(
        self, client: APIGatewayClient, plans: Callable[[], Mapping[str, str]], registry: str
    ) -> None:
        self._client = client
        self._plans = plans
        # The registry's table: names whose keys these are, in an account that may hold several
        # environments' merchants.
        self._registry = registry

    def plan_ids(self) -> Mapping[str, str]:
        return self._plans()

    def create_key(self, merchant_id: str, value: str) -> str:
        created = self._client.create_api_key(
            name=f"{self._registry}/{merchant_id}",
            description=f"Usage plan key of merchant {merchant_id} (registry {self._registry})",
            enabled=True,
            value=value,
            tags={"MerchantId": merchant_id, "MerchantRegistry": self._registry},
        )
        return created["id"]

    def attach(self, key_id: str, plan_id: str) -> None:
        self._client.create_usage_plan_key(usagePlanId=plan_id, keyId=key_id, keyType="API_KEY")

    def delete_key(self, key_id: str) -> None:
        self._client.delete_api_key(apiKey=key_id)
