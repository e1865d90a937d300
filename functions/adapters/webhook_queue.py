"""The webhook delivery queue on SQS: one message per attempt, held back by ``DelaySeconds``
(at most 900 s; ``WebhookDelivery`` hops a longer wait)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from functions.domain.webhooks import DeliveryMessage

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

BATCH = 10


def message_body(message: DeliveryMessage) -> str:
    return json.dumps(
        {
            "kind": "webhook_delivery",
            "endpoint_id": message.endpoint_id,
            "merchant_id": message.merchant_id,
            "delivery_id": message.delivery_id,
            "occurred_at": message.occurred_at,
            "attempt": message.attempt,
            "not_before": message.not_before.isoformat(),
            "body": message.body,
        }
    )


def parse_message(data: dict[str, Any]) -> DeliveryMessage:
    return DeliveryMessage(
        endpoint_id=str(data["endpoint_id"]),
        merchant_id=str(data["merchant_id"]),
        delivery_id=str(data["delivery_id"]),
        occurred_at=str(data["occurred_at"]),
        attempt=int(data["attempt"]),
        not_before=dt.datetime.fromisoformat(str(data["not_before"])),
        body=str(data["body"]),
    )


class SqsDeliveryQueue:
    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self._url = queue_url

    def send(self, messages: Sequence[DeliveryMessage], delay_seconds: int = 0) -> None:
        for start in range(0, len(messages), BATCH):
            entries: list[SendMessageBatchRequestEntryTypeDef] = [
                {
                    "Id": str(index),
                    "MessageBody": message_body(message),
                    "DelaySeconds": delay_seconds,
                }
                for index, message in enumerate(messages[start : start + BATCH])
            ]
            answer = self._client.send_message_batch(QueueUrl=self._url, Entries=entries)
            if answer.get("Failed"):
                # Raised: the batch item that carried the event returns to its queue and is
                # dispatched again; deliveries already queued are not sent twice (the claim).
                raise RuntimeError(f"{len(answer['Failed'])} webhook deliveries not queued")
