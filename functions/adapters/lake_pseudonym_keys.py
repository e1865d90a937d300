"""The lake's pseudonymisation secrets on DynamoDB (modules/data_lake pseudonyms.tf): one item
per scope, ``scope`` -> ``secret`` (32 random bytes) and ``created_at``. The table is encrypted
with the lake's customer-managed key and has no point-in-time recovery, so a deleted secret is
gone, not kept in a backup for 35 days. A secret is created by a conditional put, so concurrent
transformation steps that meet a new customer agree on one secret."""

from __future__ import annotations

import datetime as dt
import secrets as random_source
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# BatchGetItem takes 100 keys a call.
_BATCH = 100
SECRET_BYTES = 32


class DynamoPseudonymKeys:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def secrets(self, scopes: Collection[str]) -> Mapping[str, bytes]:
        found = self._read(sorted(set(scopes)))
        for scope in set(scopes) - found.keys():
            found[scope] = self._create(scope)
        return found

    def erase(self, scope: str) -> bool:
        old = self._client.delete_item(
            TableName=self._table, Key={"scope": {"S": scope}}, ReturnValues="ALL_OLD"
        )
        return bool(old.get("Attributes"))

    def _read(self, scopes: list[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for start in range(0, len(scopes), _BATCH):
            request = {
                self._table: {
                    "Keys": [{"scope": {"S": s}} for s in scopes[start : start + _BATCH]],
                    "ConsistentRead": True,
                    "ProjectionExpression": "#s, secret",
                    "ExpressionAttributeNames": {"#s": "scope"},
                }
            }
            while request:
                answer = self._client.batch_get_item(RequestItems=request)  # type: ignore[arg-type]
                for item in answer["Responses"].get(self._table, []):
                    found[item["scope"]["S"]] = bytes(item["secret"]["B"])
                request = answer.get("UnprocessedKeys") or {}  # type: ignore[assignment]
        return found

    def _create(self, scope: str) -> bytes:
        secret = random_source.token_bytes(SECRET_BYTES)
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    "scope": {"S": scope},
                    "secret": {"B": secret},
                    "created_at": {"S": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")},
                },
                ConditionExpression="attribute_not_exists(#s)",
                ExpressionAttributeNames={"#s": "scope"},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            # Another step created it first: use that one.
            item = self._client.get_item(
                TableName=self._table, Key={"scope": {"S": scope}}, ConsistentRead=True
            )["Item"]
            return bytes(item["secret"]["B"])
        return secret
