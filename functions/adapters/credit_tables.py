"""DynamoDB implementations of the credit services' ports (modules/credit_decisioning's
tables), each record kept whole as its contract's JSON beside the few attributes a condition
or an index reads.

* decisions (``id``): ``record``, ``merchant_id``, ``reviews`` (the count a review is
  conditional on, so two reviews decided on one read record one);
* plans (``id``): ``record``, ``version`` (replacements are conditional on it),
  ``customer_id`` and ``merchant_id`` (the ``customer`` and ``merchant`` indexes the exposure
  figures query), and while the plan is active ``collectable = "active"`` with ``next_due``,
  its earliest unpaid due date (the sparse ``due`` index a collection run queries).

* credit ledger (``plan_id``, ``step``): one item per entry, its lines as JSON, written once
  (a conditional put; a replay with other lines is refused), read per plan in one query.

None holds card data: a plan carries the vault token only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

from functions.contracts.credit import DecisionRecord, PlanRecord, Review
from functions.domain.credit.ledger import CreditEntry, entry_id_of
from functions.domain.ledger import ConflictingEntryError, JournalLine

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


def entry_item(entry: CreditEntry) -> dict[str, AttributeValueTypeDef]:
    lines = [[line.account, line.currency, line.debit, line.credit] for line in entry.lines]
    return {
        "plan_id": {"S": entry.plan_id},
        "step": {"S": entry.step},
        "lines": {"S": json.dumps(lines, separators=(",", ":"))},
        "effective_at": {"S": entry.effective_at},
    }


def entry_of(item: dict[str, AttributeValueTypeDef]) -> CreditEntry:
    plan_id, step = str(item["plan_id"]["S"]), str(item["step"]["S"])
    lines = tuple(
        JournalLine(account, currency, debit=debit, credit=credit)
        for account, currency, debit, credit in json.loads(str(item["lines"]["S"]))
    )
    return CreditEntry(
        entry_id_of(plan_id, step), plan_id, step, lines, str(item["effective_at"]["S"])
    )


class DynamoCreditLedgerStore:
    """The credit ledger's ``CreditLedgerStore``: an entry is written once, atomically, by a
    conditional put on its key; positions are derived from the plan's entries (one query)."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def post(self, entry: CreditEntry) -> bool:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=entry_item(entry),
                ConditionExpression="attribute_not_exists(plan_id)",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            stored = self._client.get_item(
                TableName=self._table,
                Key={"plan_id": {"S": entry.plan_id}, "step": {"S": entry.step}},
                ConsistentRead=True,
            )["Item"]
            if entry_of(stored).lines != entry.lines:
                raise ConflictingEntryError(
                    f"{entry.entry_id} is posted with other lines"
                ) from None
            return False
        return True

    def entries_for(self, plan_id: str) -> list[CreditEntry]:
        pages = self._client.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="plan_id = :plan",
            ExpressionAttributeValues={":plan": {"S": plan_id}},
            ConsistentRead=True,
        )
        return [entry_of(item) for page in pages for item in page.get("Items", [])]
