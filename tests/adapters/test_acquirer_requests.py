"""The simulator's request record in the payments table (moto): every request kept, retries
included, none of them among the operations; a request that could not be recorded is one the
acquirer never received (unavailable, so the caller may send it again)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.adapters.acquirer_requests import AcquirerRequestsTable
from functions.adapters.payments_table import AcquirerOperationsTable
from functions.domain.acquirer import (
    AcquirerSimulator,
    AcquirerUnavailableError,
    Authentication,
    AuthorizationRequest,
    CardReference,
)

TABLE = "payments"


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-2")
        client.create_table(
            TableName=TABLE,
            AttributeDefinitions=[{"AttributeName": "payment_id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "payment_id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


def test_every_request_is_kept_apart_from_the_operations(dynamodb: Any) -> None:
    requests = AcquirerRequestsTable(dynamodb, TABLE)
    operations = AcquirerOperationsTable(dynamodb, TABLE)
    simulator = AcquirerSimulator(
        b"adapter-test-key-0123456789",
        1.0,
        sleep=lambda _: None,
        records=operations,
        request_log=requests,
    )
    authorization = simulator.authorize(
        AuthorizationRequest(
            "pay_1",
            "m_1",
            1050,
            "EUR",
            CardReference("tok_1", "visa", "4242", 12, 2030),
            Authentication(None, None, "low_value"),
            "pay_1:authorize",
        )
    ).authorization_id
    assert authorization is not None
    simulator.capture(authorization, 1050, "EUR", "pay_1:capture:1")
    simulator.capture(authorization, 1050, "EUR", "pay_1:capture:1")  # a retry
    kept = sorted((r.kind, r.reference, r.amount) for r in requests.requests())
    assert kept == [
        ("authorize", "pay_1:authorize", 1050),
        ("capture", "pay_1:capture:1", 1050),
        ("capture", "pay_1:capture:1", 1050),
    ]
    assert [(o.reference, o.amount) for o in operations.operations()] == [("pay_1:capture:1", 1050)]


def test_a_request_that_cannot_be_recorded_was_not_received(dynamodb: Any) -> None:
    requests = AcquirerRequestsTable(dynamodb, "no-such-table")
    simulator = AcquirerSimulator(b"adapter-test-key-0123456789", 1.0, request_log=requests)
    with pytest.raises(AcquirerUnavailableError) as refused:
        simulator.void(None, "pay_2:authorize")
    assert refused.value.code == "connection_failed"
