"""The merchant registry assembled from a function's environment (the authorizer's) or from an
operator's table name and client (the admin commands)."""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from functions.adapters import clients
from functions.adapters.merchant_registry_table import DynamoMerchantStore
from functions.adapters.usage_plans import ApiGatewayUsageKeys
from functions.domain.merchant_keys import mode_for
from functions.services.merchant_registry import MerchantRegistry

if TYPE_CHECKING:
    from mypy_boto3_apigateway import APIGatewayClient
    from mypy_boto3_dynamodb import DynamoDBClient


class RegistrySettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    table_name: str = Field(min_length=1)
    environment: str = Field(pattern=r"^(local|dev|staging|prod)$")

    @classmethod
    def from_environ(cls) -> RegistrySettings:
        return cls(
            table_name=os.environ.get("MERCHANT_REGISTRY_TABLE_NAME", ""),
            environment=os.environ.get("PAYMENTS_ENVIRONMENT", "local"),
        )


def build_registry(
    client: DynamoDBClient,
    table_name: str,
    environment: str,
    apigateway: APIGatewayClient | None = None,
) -> MerchantRegistry:
    """The registry on its table; with an API Gateway client, onboarding also gives each
    merchant its usage-plan API key (the operator's commands). The authorizer passes none: it
    only reads."""
    store = DynamoMerchantStore(client, table_name)
    usage = (
        None
        if apigateway is None
        else ApiGatewayUsageKeys(apigateway, store.usage_plans, table_name)
    )
    return MerchantRegistry(store, mode_for(environment), usage=usage)


@cache
def registry() -> MerchantRegistry:
    config = RegistrySettings.from_environ()
    return build_registry(clients.dynamodb(), config.table_name, config.environment)
