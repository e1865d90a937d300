"""The monitored TRA state as one item of the payments table, beside the SCA counters and
mandates: ``payment_id = "tra-monitoring#remote_card"``, ``state`` the JSON of
``TraMonitoring``. Written once a day by the settle function (``PutItem``), read by assess_risk
(``GetItem``, which its role already holds on the table), cached per container for
``CACHE_SECONDS`` so the hot path pays one read per container and interval, not per payment
(the state changes once a day)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from functions.domain.fraud_rate import TraMonitoring
from functions.services.fraud_monitoring import TraMonitoringStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MONITORING_KEY = "tra-monitoring#remote_card"
CACHE_SECONDS = 300.0


class TableTraMonitoring(TraMonitoringStore):
    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        cache_seconds: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._table = table_name
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cached: tuple[float, TraMonitoring | None] | None = None

    def latest(self) -> TraMonitoring | None:
        now = self._clock()
        if self._cached is not None and now - self._cached[0] < self._cache_seconds:
            return self._cached[1]
        item = self._client.get_item(
            TableName=self._table,
            Key={"payment_id": {"S": MONITORING_KEY}},
            ConsistentRead=True,
        ).get("Item")
        state = None if item is None else TraMonitoring.from_dict(json.loads(item["state"]["S"]))
        self._cached = (now, state)
        return state

    def save(self, state: TraMonitoring) -> None:
        self._client.put_item(
            TableName=self._table,
            Item={
                "payment_id": {"S": MONITORING_KEY},
                "state": {"S": json.dumps(state.to_dict(), sort_keys=True)},
            },
        )
        self._cached = None
