"""Publishes payment events on the EventBridge bus (PutEvents), from the step that made them
true. Publishing is at least once: every event has a deterministic ``event_id``, so a retried
step republishes the same event and consumers drop the duplicate. An event that cannot be
published does not undo the payment: it is logged, and the scheduled reconciliation, which
compares payments with the event record, republishes it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from functions.adapters.clients import EventsClient

logger = Logger(child=True)
# PutEvents takes at most ten entries per call.
BATCH = 10
# PutEvents may accept some entries of a call and refuse others (throttled, an internal error):
# AWS asks callers to send the refused ones again. After these attempts an event is left to the
# reconciliation, which republishes what the event record lacks.
ATTEMPTS = 3


class EventBridgePublisher:
    def __init__(self, client: EventsClient) -> None:
        self._client = client

    def publish(self, entries: Iterable[Mapping[str, Any]]) -> int:
        """Publishes ``entries`` (PutEvents entries whose ``Detail`` is a mapping); answers how
        many were not accepted."""
        pending = [{**entry, "Detail": json.dumps(entry["Detail"])} for entry in entries]
        failed = 0
        for start in range(0, len(pending), BATCH):
            failed += self._put(pending[start : start + BATCH])
        return failed

    def _put(self, batch: list[dict[str, Any]]) -> int:
        for _ in range(ATTEMPTS):
            try:
                response = self._client.put_events(Entries=batch)
            except (ClientError, BotoCoreError) as error:
                logger.warning(
                    "payment events not published", extra={"error": type(error).__name__}
                )
                continue
            if not response.get("FailedEntryCount"):
                return 0
            # Results are in the order of the entries; a refused one carries an ErrorCode.
            batch = [
                entry
                for entry, result in zip(batch, response["Entries"], strict=True)
                if result.get("ErrorCode")
            ]
        logger.warning("payment events not published", extra={"failed": len(batch)})
        return len(batch)
