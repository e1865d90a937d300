"""DynamoDB implementations of the credit services' ports (modules/credit_decisioning's
tables), each record kept whole as its contract's JSON beside the few attributes a condition
or an index reads.

* decisions (``id``): ``record``, ``merchant_id``, ``reviews`` (the count a review is
  conditional on, so two reviews decided on one read record one);
* plans (``id``): ``record``, ``version`` (replacements are conditional on it),
  ``customer_id`` and ``merchant_id`` (the ``customer`` and ``merchant`` indexes the exposure
  figures query), and while the plan is active ``collectable = "active"`` with ``next_due``,
  its earliest unpaid due date (the sparse ``due`` index a collection run queries).

Neither holds card data: a plan carries the vault token only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from functions.contracts.credit import DecisionRecord, PlanRecord, Review

if TYPE_CHECKING:
    import datetime as dt

    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef


def _next_due(plan: PlanRecord) -> str | None:
    unpaid = [i.due_date for i in plan.instalments if i.status in ("due", "late")]
    return min(unpaid).isoformat() if unpaid else None


def decision_item(record: DecisionRecord) -> dict[str, AttributeValueTypeDef]:
    return {
        "id": {"S": record.id},
        "merchant_id": {"S": record.request.merchant_id},
        "reviews": {"N": str(len(record.reviews))},
        "record": {"S": record.model_dump_json()},
    }


def plan_item(plan: PlanRecord) -> dict[str, AttributeValueTypeDef]:
    item: dict[str, AttributeValueTypeDef] = {
        "id": {"S": plan.id},
        "customer_id": {"S": plan.customer_id},
        "merchant_id": {"S": plan.merchant_id},
        "version": {"N": str(plan.version)},
        "record": {"S": plan.model_dump_json()},
    }
    next_due = _next_due(plan)
    if plan.status == "active" and next_due:
        item["collectable"] = {"S": "active"}
        item["next_due"] = {"S": next_due}
    return item


class DynamoDecisionStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def create(self, record: DecisionRecord) -> DecisionRecord:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=decision_item(record),
                ConditionExpression="attribute_not_exists(id)",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            stored = self.get(record.id)
            assert stored is not None
            return stored
        return record

    def get(self, decision_id: str) -> DecisionRecord | None:
        item = self._client.get_item(
            TableName=self._table, Key={"id": {"S": decision_id}}, ConsistentRead=True
        ).get("Item")
        return DecisionRecord.model_validate_json(item["record"]["S"]) if item else None

    def append_review(self, decision_id: str, review: Review, expected_reviews: int) -> bool:
        record = self.get(decision_id)
        if record is None or len(record.reviews) != expected_reviews:
            return False
        updated = record.model_copy(update={"reviews": (*record.reviews, review)})
        try:
            self._client.put_item(
                TableName=self._table,
                Item=decision_item(updated),
                ConditionExpression="reviews = :expected",
                ExpressionAttributeValues={":expected": {"N": str(expected_reviews)}},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True


class DynamoPlanStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def create(self, plan: PlanRecord) -> PlanRecord:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=plan_item(plan),
                ConditionExpression="attribute_not_exists(id)",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            stored = self.get(plan.id)
            assert stored is not None
            return stored
        return plan

    def get(self, plan_id: str) -> PlanRecord | None:
        item = self._client.get_item(
            TableName=self._table, Key={"id": {"S": plan_id}}, ConsistentRead=True
        ).get("Item")
        return PlanRecord.model_validate_json(item["record"]["S"]) if item else None

    def replace(self, plan: PlanRecord, expected_version: int) -> bool:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=plan_item(plan),
                ConditionExpression="version = :expected",
                ExpressionAttributeValues={":expected": {"N": str(expected_version)}},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def _query(
        self, index: str, condition: str, values: dict[str, AttributeValueTypeDef]
    ) -> Iterator[PlanRecord]:
        pages = self._client.get_paginator("query").paginate(
            TableName=self._table,
            IndexName=index,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
        )
        for page in pages:
            for item in page.get("Items", []):
                yield PlanRecord.model_validate_json(item["record"]["S"])

    def due(self, today: dt.date) -> list[PlanRecord]:
        return list(
            self._query(
                "due",
                "collectable = :active AND next_due <= :today",
                {":active": {"S": "active"}, ":today": {"S": today.isoformat()}},
            )
        )

    def of_customer(self, customer_id: str) -> list[PlanRecord]:
        return list(self._query("customer", "customer_id = :id", {":id": {"S": customer_id}}))

    def of_merchant(self, merchant_id: str) -> list[PlanRecord]:
        return list(self._query("merchant", "merchant_id = :id", {":id": {"S": merchant_id}}))
