"""The payment workflow's DynamoDB tables exactly as modules/payment_workflow creates them, for
tests on moto in process."""

from __future__ import annotations

from typing import Any

import pytest

from functions.services.fraud_scoring import CARD_INDEX, CARD_INDEX_ATTRIBUTE, DEVICE_INDEX
from local.gaps import serialize_dynamodb_writes

# Conditional writes must be atomic under concurrency, as on DynamoDB (see local/gaps.py).
serialize_dynamodb_writes()

REGION = "eu-west-1"
PAYMENTS_TABLE = "test-payments"
IDEMPOTENCY_TABLE = "test-idempotency"
LEDGER_TABLE = "test-ledger"


def fake_aws_environment(monkeypatch: pytest.MonkeyPatch, **extra: str) -> None:
    """Credentials and region for moto in process, Powertools tracing off, plus ``extra``."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "1",
        **extra,
    }.items():
        monkeypatch.setenv(name, value)


def create_payments_table(ddb: Any) -> None:
    ddb.create_table(
        TableName=PAYMENTS_TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"}
            for name in (
                "payment_id",
                CARD_INDEX_ATTRIBUTE,
                "device_id",
                "created_at",
                "update_key",
                "updated_at",
                "open_key",
                "open_at",
                "merchant_id",
            )
        ],
        KeySchema=[{"AttributeName": "payment_id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": index,
                "KeySchema": [
                    {"AttributeName": key, "KeyType": "HASH"},
                    {"AttributeName": sort, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": projection},
            }
            for index, key, sort, projection in (
                (CARD_INDEX, CARD_INDEX_ATTRIBUTE, "created_at", "KEYS_ONLY"),
                (DEVICE_INDEX, "device_id", "created_at", "KEYS_ONLY"),
                # The reconciliation's (modules/payment_workflow/tables.tf).
                ("by_update", "update_key", "updated_at", "ALL"),
                ("open_holds", "open_key", "open_at", "ALL"),
                # GET /v1/payments.
                ("by_merchant", "merchant_id", "created_at", "KEYS_ONLY"),
            )
        ],
    )


def create_idempotency_table(ddb: Any) -> None:
    ddb.create_table(
        TableName=IDEMPOTENCY_TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )


def create_ledger_table(ddb: Any, name: str = LEDGER_TABLE) -> None:
    ddb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": attribute, "AttributeType": "S"}
            for attribute in ("pk", "sk", "recorded_key", "recorded_at")
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        # The reconciliation's entries by the time they were written (tables.tf).
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_recorded",
                "KeySchema": [
                    {"AttributeName": "recorded_key", "KeyType": "HASH"},
                    {"AttributeName": "recorded_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )
