"""The registry's DynamoDB store on moto: the service's onboarding, rotation and revocation
through the real item layout, and what the items hold."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.adapters.merchant_registry_table import DynamoMerchantStore
from functions.domain.merchant_keys import Authenticated, Denied, MerchantStatus, Rejection
from functions.services.merchant_registry import MerchantRegistry, RegistryError
from tests.adapters.merchant_registry import create_registry_table
from tests.adapters.payment_tables import fake_aws_environment

TABLE = "payments-merchants"
START = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def ddb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    fake_aws_environment(monkeypatch)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        create_registry_table(client, TABLE)
        yield client


def test_onboarding_rotation_and_revocation_through_the_table(ddb: Any) -> None:
    now = [START]
    registry = MerchantRegistry(DynamoMerchantStore(ddb, TABLE), "test", lambda: now[0])
    first = registry.create_merchant("m_shop", settings={"statement_descriptor": "SHOP"})
    with pytest.raises(RegistryError, match="exists already"):
        registry.create_merchant("m_shop")
    assert registry.authenticate(f"Bearer {first.api_key}") == Authenticated(
        "m_shop", first.key_id, first.prefix
    )
    second = registry.rotate_key("m_shop", overlap=dt.timedelta(hours=1))
    now[0] += dt.timedelta(minutes=59)
    assert isinstance(registry.authenticate(f"Bearer {first.api_key}"), Authenticated)
    now[0] += dt.timedelta(minutes=1)
    assert registry.authenticate(f"Bearer {first.api_key}") == Rejection.EXPIRED
    registry.revoke_key("m_shop", second.key_id)
    assert registry.authenticate(f"Bearer {second.api_key}") == Rejection.REVOKED
    assert {k.key_id for k in registry.keys("m_shop")} == {first.key_id, second.key_id}

    items = ddb.scan(TableName=TABLE)["Items"]
    assert len(items) == 3
    text = repr(items)
    for key in (first, second):
        assert key.api_key not in text and key.prefix.rsplit("_", 1)[-1] in text
    merchant = next(i for i in items if i["pk"]["S"] == "merchant#m_shop")
    assert "key_owner" not in merchant  # the index holds keys only
    assert "SHOP" in merchant["record"]["S"]


def test_a_failed_onboarding_that_is_not_a_duplicate_is_raised(ddb: Any) -> None:
    store = DynamoMerchantStore(ddb, TABLE)
    registry = MerchantRegistry(store, "test", lambda: START)
    issued = registry.create_merchant("m_shop")
    # The merchant item gone, its key left: the next onboarding's transaction is not refused by
    # the merchant's condition, so the store must not answer "exists already".
    ddb.delete_item(TableName=TABLE, Key={"pk": {"S": "merchant#m_shop"}})
    colliding = MerchantRegistry(store, "test", lambda: START, token_bytes=lambda n: b"\0" * n)
    colliding.create_merchant("m_a")
    with pytest.raises(ddb.exceptions.TransactionCanceledException):
        colliding.create_merchant("m_b")
    assert store.key(issued.key_id) is not None


def test_a_status_change_is_conditioned_on_the_stored_status(ddb: Any) -> None:
    store = DynamoMerchantStore(ddb, TABLE)
    registry = MerchantRegistry(store, "test", lambda: START)
    issued = registry.create_merchant("m_shop")
    active = store.merchant("m_shop")
    assert active is not None
    suspended = registry.suspend("m_shop")
    assert store.merchant("m_shop") == suspended
    assert registry.authenticate(f"Bearer {issued.api_key}") == Denied(
        "m_shop", MerchantStatus.SUSPENDED
    )
    # A writer that still believes the merchant active loses.
    closed = active.model_copy(update={"status": MerchantStatus.CLOSED})
    assert not store.replace_merchant(active, closed)
    assert store.merchant("m_shop") == suspended
    # An item written before the status attribute existed counts as its record says: active.
    ddb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": "merchant#m_shop"}},
        UpdateExpression="REMOVE #s",
        ExpressionAttributeNames={"#s": "status"},
    )
    ddb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": "merchant#m_shop"}},
        UpdateExpression="SET #r = :r",
        ExpressionAttributeNames={"#r": "record"},
        ExpressionAttributeValues={":r": {"S": active.model_dump_json()}},
    )
    assert registry.suspend("m_shop").status is MerchantStatus.SUSPENDED
    # And a merchant that does not exist is never created by a status change.
    ghost = active.model_copy(update={"merchant_id": "m_ghost"})
    assert not store.replace_merchant(ghost, ghost)
    assert store.merchant("m_ghost") is None
