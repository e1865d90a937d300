"""The merchant registry table as modules/merchant_registry creates it, on moto."""

from __future__ import annotations

from typing import Any

from functions.adapters.merchant_registry_table import KEYS_INDEX


def create_registry_table(client: Any, name: str) -> None:
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "key_owner", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": KEYS_INDEX,
                "KeySchema": [{"AttributeName": "key_owner", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
