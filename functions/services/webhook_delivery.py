"""Webhook delivery (docs/decisions/0009): an event on the payment bus becomes one delivery per
subscribed endpoint of its merchant (``dispatch``), and each delivery is POSTed, signed, until
the endpoint answers 2xx or the retry policy gives up (``attempt``).

At most one request per attempt number: a worker claims attempt n in the delivery log (a
conditional write) before it sends, so a queue message delivered twice sends nothing twice. A
worker that dies after its claim leaves a lease that expires; the attempt is then made again,
which the receiver drops by the event id in the payload. Once an attempt succeeded, nothing is
sent again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from functions.domain.cards import contains_card_number
from functions.domain.webhook_signatures import SIGNATURE_HEADER, signature_header
from functions.domain.webhooks import (
    Attempt,
    Delivery,
    DeliveryLog,
    DeliveryMessage,
    DeliveryQueue,
    DeliveryStatus,
    EndpointStore,
    RetryPolicy,
    SecretSealer,
    WebhookEvent,
    WebhookSender,
    selects,
    webhook_event,
)

# SQS holds a message back for at most 15 minutes: a longer wait is several hops.
MAX_QUEUE_DELAY_SECONDS = 900
USER_AGENT = "payments-blueprint-webhooks/1"


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    RETRYING = "retrying"
    FAILED = "failed"
    DEFERRED = "deferred"
    SKIPPED = "skipped"


def delivery_id(endpoint_id: str, event_id: str) -> str:
    """One delivery per event per endpoint, whatever number of times the event arrives."""
    return "wd_" + hashlib.sha256(f"{endpoint_id}:{event_id}".encode()).hexdigest()[:24]


def event_body(event: WebhookEvent) -> str:
    body = json.dumps(event.payload(), separators=(",", ":"), sort_keys=True, default=str)
    # Events carry no card data (functions.contracts.events refuses it); a webhook leaves the
    # platform, so it is checked again on the way out.
    if contains_card_number(body):
        raise ValueError(f"{event.type} {event.id} looks like it holds a card number")
    return body


@dataclass
class WebhookDelivery:
    endpoints: EndpointStore
    log: DeliveryLog
    sealer: SecretSealer
    sender: WebhookSender
    queue: DeliveryQueue
    retry: RetryPolicy
    lease_seconds: int = 120

    def dispatch(
        self, detail_type: str, detail: Mapping[str, Any], time: str, now: dt.datetime
    ) -> int:
        """Queue the event's first attempt for each endpoint of its merchant that subscribed to
        it; returns how many were queued."""
        event = webhook_event(detail_type, detail, time)
        if event is None:
            return 0
        body = event_body(event)
        messages = []
        for endpoint in self.endpoints.endpoints(event.merchant_id):
            if not selects(endpoint.enabled_events, event.type):
                continue
            delivery = Delivery(
                delivery_id(endpoint.id, event.id),
                endpoint.id,
                event.merchant_id,
                event.id,
                event.type,
                event.occurred_at,
                now,
                next_attempt_at=now,
            )
            if not self.log.create(delivery):
                # The event arrived again: queue its first attempt again only if none was made
                # (the queueing after the first arrival may have failed); the claim drops a
                # second message for an attempt already under way.
                known = self.log.get(endpoint.id, delivery.id, delivery.occurred_at)
                if known is None or known.status != DeliveryStatus.PENDING or known.attempts:
                    continue
            messages.append(
                DeliveryMessage(
                    endpoint.id, event.merchant_id, delivery.id, event.occurred_at, 1, now, body
                )
            )
        self.queue.send(messages)
        return len(messages)

    def attempt(self, message: DeliveryMessage, now: dt.datetime) -> Outcome:
        wait = (message.not_before - now).total_seconds()
        if wait >= 1:
            self.queue.send([message], min(MAX_QUEUE_DELAY_SECONDS, int(wait)))
            return Outcome.DEFERRED
        delivery = self.log.get(message.endpoint_id, message.delivery_id, message.occurred_at)
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return Outcome.SKIPPED
        made = len(delivery.attempts)
        if made >= message.attempt:
            if made == message.attempt and delivery.next_attempt_at is not None:
                # This attempt was recorded but its successor may not have been queued.
                self._queue_next(message, delivery.next_attempt_at, now)
            return Outcome.SKIPPED
        lease = now + dt.timedelta(seconds=self.lease_seconds)
        if made != message.attempt - 1 or not self.log.claim(delivery, message.attempt, now, lease):
            return Outcome.SKIPPED
        endpoint = self.endpoints.get_endpoint(message.merchant_id, message.endpoint_id)
        if endpoint is None:
            gone = Attempt(message.attempt, now, None, 0, "endpoint deleted")
            self.log.record(replace(delivery, status=DeliveryStatus.FAILED), gone)
            return Outcome.FAILED
        secrets = [
            self.sealer.open(s.ciphertext, endpoint.merchant_id, endpoint.id)
            for s in endpoint.live_secrets(now)
        ]
        body = message.body.encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            SIGNATURE_HEADER: signature_header(secrets, int(now.timestamp()), body),
        }
        answer = self.sender.post(endpoint.url, body, headers)
        attempt = Attempt(message.attempt, now, answer.status_code, answer.latency_ms, answer.error)
        if attempt.succeeded:
            done = replace(delivery, status=DeliveryStatus.SUCCEEDED, next_attempt_at=None)
            self.log.record(done, attempt)
            return Outcome.SUCCEEDED
        first = delivery.attempts[0].at if delivery.attempts else now
        next_at = self.retry.next_attempt_at(first, now, message.attempt)
        if next_at is None:
            failed = replace(delivery, status=DeliveryStatus.FAILED, next_attempt_at=None)
            self.log.record(failed, attempt)
            return Outcome.FAILED
        self.log.record(replace(delivery, next_attempt_at=next_at), attempt)
        self._queue_next(message, next_at, now)
        return Outcome.RETRYING

    def _queue_next(self, message: DeliveryMessage, at: dt.datetime, now: dt.datetime) -> None:
        following = replace(message, attempt=message.attempt + 1, not_before=at)
        delay = max(0, min(MAX_QUEUE_DELAY_SECONDS, int((at - now).total_seconds())))
        self.queue.send([following], delay)
