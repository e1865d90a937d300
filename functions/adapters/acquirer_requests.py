"""The acquirer simulator's request record (``RequestLog``) in the payments table: one item per
request it received, ``acquirer-req#<idempotency key>#<request id>``, so that every container's
requests are read together (``make chaos`` counts them and finds a key sent again with other
parameters). Only the simulator writes here; a real acquirer keeps its own logs.

The items carry no ``update_key``, so neither the payments' indexes nor the reconciliation's
windows ever see them."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from functions.domain.acquirer import (
    AcquirerRequest,
    AcquirerUnavailableError,
    ErrorCode,
    RequestLog,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REQUEST_PREFIX = "acquirer-req#"


class AcquirerRequestsTable(RequestLog):
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def received(self, request: AcquirerRequest) -> None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    "payment_id": {"S": f"{REQUEST_PREFIX}{request.reference}#{uuid.uuid4().hex}"},
                    "kind": {"S": request.kind},
                    "reference": {"S": request.reference},
                    "authorization_id": {"S": request.authorization_id},
                    "amount": {"N": str(request.amount)},
                    "currency": {"S": request.currency},
                },
            )
        except ClientError as error:
            # Written before the simulator acts: an unrecorded request is one that never
            # arrived, which the caller may send again under the same key.
            raise AcquirerUnavailableError(ErrorCode.CONNECTION_FAILED) from error

    def requests(self) -> list[AcquirerRequest]:
        pages = self._client.get_paginator("scan").paginate(
            TableName=self._table,
            ConsistentRead=True,
            FilterExpression="begins_with(payment_id, :prefix)",
            ExpressionAttributeValues={":prefix": {"S": REQUEST_PREFIX}},
        )
        return [
            AcquirerRequest(
                kind=item["kind"]["S"],
                reference=item["reference"]["S"],
                authorization_id=item["authorization_id"]["S"],
                amount=int(item["amount"]["N"]),
                currency=item["currency"]["S"],
            )
            for page in pages
            for item in page.get("Items", [])
        ]
