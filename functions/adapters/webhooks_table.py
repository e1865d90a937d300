"""Webhook endpoints and their delivery log on DynamoDB (modules/webhooks' table), told apart by
their partition key:

* ``merchant#<merchant id>`` / ``endpoint#<endpoint id>``: the endpoint (``url``,
  ``enabled_events``, ``description``, ``created_at``) and its signing secrets, each encrypted
  under the KMS key (``secrets``: ciphertext, created_at, expires_at; newest first) with
  ``secret_head``, the current one's ciphertext, that a rotation is conditioned on;
* ``endpoint#<endpoint id>`` / ``delivery#<event time>#<delivery id>``: one delivery of one
  event, its ``status``, every ``attempts`` entry (time, status code, latency, error),
  ``attempts_started`` and ``lease_until`` (the claim on the attempt under way), and
  ``expires_at`` (epoch seconds: the table's TTL removes the log after its retention).

A merchant's endpoints are one ``Query`` on its partition; an endpoint's log, newest first, one
``Query`` on the endpoint's. The event's time leads the log's sort key so the newest come first;
it comes from the event, so a repeated event names the same item.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from functions.domain.webhooks import (
    Attempt,
    Delivery,
    DeliveryStatus,
    Endpoint,
    SealedSecret,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    Item = dict[str, AttributeValueTypeDef]

_NEW = "attribute_not_exists(pk)"


def _time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _required_time(item: Mapping[str, Any], name: str) -> dt.datetime:
    value = _time(_s(item, name))
    if value is None:
        raise ValueError(f"webhook item without {name}")
    return value


def _s(item: Mapping[str, Any], name: str) -> str | None:
    value = item.get(name)
    return value["S"] if value and "S" in value else None


def _key_of_endpoint(merchant_id: str, endpoint_id: str) -> Item:
    return {"pk": {"S": f"merchant#{merchant_id}"}, "sk": {"S": f"endpoint#{endpoint_id}"}}


def _key_of_delivery(endpoint_id: str, delivery_id: str, occurred_at: str) -> Item:
    return {
        "pk": {"S": f"endpoint#{endpoint_id}"},
        "sk": {"S": f"delivery#{occurred_at}#{delivery_id}"},
    }


def _secrets_value(secrets: tuple[SealedSecret, ...]) -> AttributeValueTypeDef:
    values: list[AttributeValueTypeDef] = []
    for secret in secrets:
        entry: dict[str, AttributeValueTypeDef] = {
            "ciphertext": {"S": secret.ciphertext},
            "created_at": {"S": secret.created_at.isoformat()},
        }
        if secret.expires_at is not None:
            entry["expires_at"] = {"S": secret.expires_at.isoformat()}
        values.append({"M": entry})
    return {"L": values}


def endpoint_item(endpoint: Endpoint) -> Item:
    item: Item = {
        **_key_of_endpoint(endpoint.merchant_id, endpoint.id),
        "endpoint_id": {"S": endpoint.id},
        "merchant_id": {"S": endpoint.merchant_id},
        "url": {"S": endpoint.url},
        "enabled_events": {"L": [{"S": e} for e in endpoint.enabled_events]},
        "created_at": {"S": endpoint.created_at.isoformat()},
        "secrets": _secrets_value(endpoint.secrets),
        "secret_head": {"S": endpoint.secrets[0].ciphertext},
    }
    if endpoint.description is not None:
        item["description"] = {"S": endpoint.description}
    return item


def endpoint_record(item: Item) -> Endpoint:
    secrets = []
    for value in item["secrets"]["L"]:
        entry = value["M"]
        secrets.append(
            SealedSecret(
                entry["ciphertext"]["S"],
                _required_time(entry, "created_at"),
                _time(_s(entry, "expires_at")),
            )
        )
    return Endpoint(
        id=item["endpoint_id"]["S"],
        merchant_id=item["merchant_id"]["S"],
        url=item["url"]["S"],
        enabled_events=tuple(e["S"] for e in item["enabled_events"]["L"]),
        description=_s(item, "description"),
        created_at=_required_time(item, "created_at"),
        secrets=tuple(secrets),
    )


def _attempt_value(attempt: Attempt) -> AttributeValueTypeDef:
    entry: dict[str, AttributeValueTypeDef] = {
        "number": {"N": str(attempt.number)},
        "at": {"S": attempt.at.isoformat()},
        "latency_ms": {"N": str(attempt.latency_ms)},
    }
    if attempt.status_code is not None:
        entry["status_code"] = {"N": str(attempt.status_code)}
    if attempt.error is not None:
        entry["error"] = {"S": attempt.error}
    return {"M": entry}


def _attempt_record(value: AttributeValueTypeDef) -> Attempt:
    entry = value["M"]
    code = entry.get("status_code")
    return Attempt(
        number=int(entry["number"]["N"]),
        at=_required_time(entry, "at"),
        status_code=int(code["N"]) if code else None,
        latency_ms=int(entry["latency_ms"]["N"]),
        error=_s(entry, "error"),
    )


def delivery_record(item: Item) -> Delivery:
    return Delivery(
        id=item["delivery_id"]["S"],
        endpoint_id=item["endpoint_id"]["S"],
        merchant_id=item["merchant_id"]["S"],
        event_id=item["event_id"]["S"],
        event_type=item["event_type"]["S"],
        occurred_at=item["occurred_at"]["S"],
        created_at=_required_time(item, "created_at"),
        status=DeliveryStatus(item["status"]["S"]),
        attempts=tuple(_attempt_record(a) for a in item.get("attempts", {"L": []})["L"]),
        next_attempt_at=_time(_s(item, "next_attempt_at")),
    )


class DynamoWebhookStore:
    """Both ports on the one table: ``EndpointStore`` and ``DeliveryLog``."""

    def __init__(
        self, client: DynamoDBClient, table_name: str, log_retention: dt.timedelta
    ) -> None:
        self._client = client
        self._table = table_name
        self._retention = log_retention

    # EndpointStore -----------------------------------------------------------------------

    def put_endpoint(self, endpoint: Endpoint) -> None:
        self._client.put_item(
            TableName=self._table, Item=endpoint_item(endpoint), ConditionExpression=_NEW
        )

    def replace_secrets(self, endpoint: Endpoint, expected: Endpoint) -> bool:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_key_of_endpoint(endpoint.merchant_id, endpoint.id),
                UpdateExpression="SET secrets = :secrets, secret_head = :head",
                ConditionExpression="secret_head = :expected",
                ExpressionAttributeValues={
                    ":secrets": _secrets_value(endpoint.secrets),
                    ":head": {"S": endpoint.secrets[0].ciphertext},
                    ":expected": {"S": expected.secrets[0].ciphertext},
                },
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def get_endpoint(self, merchant_id: str, endpoint_id: str) -> Endpoint | None:
        answer = self._client.get_item(
            TableName=self._table,
            Key=_key_of_endpoint(merchant_id, endpoint_id),
            ConsistentRead=True,
        )
        item = answer.get("Item")
        return endpoint_record(item) if item else None

    def endpoints(self, merchant_id: str) -> list[Endpoint]:
        paginator = self._client.get_paginator("query")
        found: list[Endpoint] = []
        for page in paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": f"merchant#{merchant_id}"},
                ":prefix": {"S": "endpoint#"},
            },
        ):
            found.extend(endpoint_record(item) for item in page.get("Items", []))
        return found

    def delete_endpoint(self, merchant_id: str, endpoint_id: str) -> bool:
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=_key_of_endpoint(merchant_id, endpoint_id),
                ConditionExpression="attribute_exists(pk)",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    # DeliveryLog -------------------------------------------------------------------------

    def create(self, delivery: Delivery) -> bool:
        expires = delivery.created_at + self._retention
        item: Item = {
            **_key_of_delivery(delivery.endpoint_id, delivery.id, delivery.occurred_at),
            "delivery_id": {"S": delivery.id},
            "endpoint_id": {"S": delivery.endpoint_id},
            "merchant_id": {"S": delivery.merchant_id},
            "event_id": {"S": delivery.event_id},
            "event_type": {"S": delivery.event_type},
            "occurred_at": {"S": delivery.occurred_at},
            "created_at": {"S": delivery.created_at.isoformat()},
            "status": {"S": delivery.status.value},
            "attempts": {"L": []},
            "attempts_started": {"N": "0"},
            "expires_at": {"N": str(int(expires.timestamp()))},
        }
        if delivery.next_attempt_at is not None:
            item["next_attempt_at"] = {"S": delivery.next_attempt_at.isoformat()}
        try:
            self._client.put_item(TableName=self._table, Item=item, ConditionExpression=_NEW)
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def get(self, endpoint_id: str, delivery_id: str, occurred_at: str) -> Delivery | None:
        answer = self._client.get_item(
            TableName=self._table,
            Key=_key_of_delivery(endpoint_id, delivery_id, occurred_at),
            ConsistentRead=True,
        )
        item = answer.get("Item")
        return delivery_record(item) if item else None

    def claim(
        self, delivery: Delivery, number: int, now: dt.datetime, lease_until: dt.datetime
    ) -> bool:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_key_of_delivery(delivery.endpoint_id, delivery.id, delivery.occurred_at),
                UpdateExpression="SET attempts_started = :n, lease_until = :lease",
                ConditionExpression=(
                    "#status = :pending AND size(attempts) = :previous AND "
                    "(attempts_started = :previous OR "
                    "(attempts_started = :n AND lease_until < :now))"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":n": {"N": str(number)},
                    ":previous": {"N": str(number - 1)},
                    ":pending": {"S": DeliveryStatus.PENDING.value},
                    ":lease": {"S": lease_until.isoformat()},
                    ":now": {"S": now.isoformat()},
                },
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def record(self, delivery: Delivery, attempt: Attempt) -> None:
        names = {"#status": "status"}
        values: dict[str, AttributeValueTypeDef] = {
            ":attempt": {"L": [_attempt_value(attempt)]},
            ":status": {"S": delivery.status.value},
            ":previous": {"N": str(attempt.number - 1)},
        }
        update = "SET attempts = list_append(attempts, :attempt), #status = :status"
        if delivery.next_attempt_at is not None:
            update += ", next_attempt_at = :next"
            values[":next"] = {"S": delivery.next_attempt_at.isoformat()}
        else:
            update += " REMOVE next_attempt_at"
        self._client.update_item(
            TableName=self._table,
            Key=_key_of_delivery(delivery.endpoint_id, delivery.id, delivery.occurred_at),
            UpdateExpression=update,
            # Appended once: an attempt is recorded only after the ones before it.
            ConditionExpression="size(attempts) = :previous",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def deliveries(self, endpoint_id: str, limit: int) -> list[Delivery]:
        answer = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": f"endpoint#{endpoint_id}"},
                ":prefix": {"S": "delivery#"},
            },
            ScanIndexForward=False,
            Limit=limit,
        )
        return [delivery_record(item) for item in answer.get("Items", [])]
