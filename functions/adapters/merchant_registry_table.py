"""The merchant registry on DynamoDB (modules/merchant_registry's table), one item per merchant
and one per key, told apart by their partition key:

* ``merchant#<id>``: ``record``, the merchant's contract as JSON (settings, limits, status),
  and ``status`` again, which a status change is conditioned on;
* ``key#<key id>``: ``merchant_id``, ``mode``, ``hash`` (SHA-256 of the key: never the key),
  ``created_at`` and, once set, ``expires_at`` and ``revoked_at`` (ISO 8601), and ``key_owner``
  (the merchant again), which only key items carry: the sparse ``keys_by_merchant`` index an
  operator's rotation lists a merchant's keys from.

``config#usage_plans`` holds ``plans``, a map of usage plan id by merchant tier, written by
Terraform (modules/merchant_registry).

The authorizer reads one key item by id (``GetItem``, strongly consistent, so a revocation is
seen by the next uncached request); everything else is the operator's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from functions.contracts.merchants import MerchantRecord
from functions.domain.merchant_keys import KeyRecord, MerchantStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

KEYS_INDEX = "keys_by_merchant"
USAGE_PLANS_PK = "config#usage_plans"
_NEW = "attribute_not_exists(pk)"


def _time(item: dict[str, AttributeValueTypeDef], name: str) -> dt.datetime | None:
    value = item.get(name)
    return dt.datetime.fromisoformat(value["S"]) if value and "S" in value else None


def key_item(key: KeyRecord) -> dict[str, AttributeValueTypeDef]:
    item: dict[str, AttributeValueTypeDef] = {
        "pk": {"S": f"key#{key.key_id}"},
        "key_id": {"S": key.key_id},
        "merchant_id": {"S": key.merchant_id},
        "key_owner": {"S": key.merchant_id},
        "mode": {"S": key.mode},
        "hash": {"S": key.hash},
        "created_at": {"S": key.created_at.isoformat()},
    }
    for name, value in (("expires_at", key.expires_at), ("revoked_at", key.revoked_at)):
        if value is not None:
            item[name] = {"S": value.isoformat()}
    return item


def merchant_item(merchant: MerchantRecord) -> dict[str, AttributeValueTypeDef]:
    return {
        "pk": {"S": f"merchant#{merchant.merchant_id}"},
        "record": {"S": merchant.model_dump_json()},
        "status": {"S": merchant.status.value},
    }


def key_record(item: dict[str, AttributeValueTypeDef]) -> KeyRecord:
    created = _time(item, "created_at")
    assert created is not None
    return KeyRecord(
        key_id=item["key_id"]["S"],
        merchant_id=item["merchant_id"]["S"],
        mode=item["mode"]["S"],
        hash=item["hash"]["S"],
        created_at=created,
        expires_at=_time(item, "expires_at"),
        revoked_at=_time(item, "revoked_at"),
    )


class DynamoMerchantStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def add_merchant(self, merchant: MerchantRecord, first_key: KeyRecord) -> bool:
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": self._table, "Item": item, "ConditionExpression": _NEW}}
                    for item in (merchant_item(merchant), key_item(first_key))
                ]
            )
        except self._client.exceptions.TransactionCanceledException:
            if self.merchant(merchant.merchant_id) is not None:
                return False
            raise
        return True

    def merchant(self, merchant_id: str) -> MerchantRecord | None:
        found = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": f"merchant#{merchant_id}"}}, ConsistentRead=True
        ).get("Item")
        return MerchantRecord.model_validate_json(found["record"]["S"]) if found else None

    def replace_merchant(self, old: MerchantRecord, new: MerchantRecord) -> bool:
        # The status is kept beside the record as the optimistic lock: two operators changing
        # a merchant's status at once cannot both win (a reactivation undoing a closure). An
        # item from before the attribute existed is as the record says.
        try:
            self._client.put_item(
                TableName=self._table,
                Item=merchant_item(new),
                ConditionExpression="attribute_exists(pk) AND "
                "(#status = :old OR (attribute_not_exists(#status) AND :old = :active))",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":old": {"S": old.status.value},
                    ":active": {"S": MerchantStatus.ACTIVE.value},
                },
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def usage_plans(self) -> dict[str, str]:
        """Usage plan id by merchant tier: the ``config#usage_plans`` item Terraform writes
        (modules/merchant_registry, from payment_workflow's plans); empty before it exists."""
        found = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": USAGE_PLANS_PK}}, ConsistentRead=True
        ).get("Item")
        plans = (found or {}).get("plans", {}).get("M", {})
        return {tier: value["S"] for tier, value in plans.items() if "S" in value}

    def add_key(self, key: KeyRecord) -> None:
        self._client.put_item(TableName=self._table, Item=key_item(key), ConditionExpression=_NEW)

    def key(self, key_id: str) -> KeyRecord | None:
        found = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": f"key#{key_id}"}}, ConsistentRead=True
        ).get("Item")
        return key_record(found) if found else None

    def keys_of(self, merchant_id: str) -> Sequence[KeyRecord]:
        pages = self._client.get_paginator("query").paginate(
            TableName=self._table,
            IndexName=KEYS_INDEX,
            KeyConditionExpression="key_owner = :m",
            ExpressionAttributeValues={":m": {"S": merchant_id}},
        )
        return [key_record(item) for page in pages for item in page.get("Items", [])]

    def end_key(
        self, key_id: str, *, expires_at: dt.datetime | None, revoked_at: dt.datetime | None
    ) -> None:
        ends = {"expires_at": expires_at, "revoked_at": revoked_at}
        names = [name for name, value in ends.items() if value is not None]
        if not names:
            return
        self._client.update_item(
            TableName=self._table,
            Key={"pk": {"S": f"key#{key_id}"}},
            UpdateExpression="SET " + ", ".join(f"{n} = :{n}" for n in names),
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={
                f":{n}": {"S": value.isoformat()} for n, value in ends.items() if value is not None
            },
        )
