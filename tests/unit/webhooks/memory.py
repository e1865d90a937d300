"""Webhook ports in memory, for the service tests."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Mapping, Sequence

from functions.domain.webhooks import (
    Attempt,
    Delivery,
    DeliveryMessage,
    Endpoint,
    HttpAnswer,
)


class MemoryWebhookStore:
    def __init__(self) -> None:
        self.endpoint_items: dict[tuple[str, str], Endpoint] = {}
        self.delivery_items: dict[str, Delivery] = {}
        self.started: dict[str, tuple[int, dt.datetime]] = {}

    def put_endpoint(self, endpoint: Endpoint) -> None:
        self.endpoint_items[(endpoint.merchant_id, endpoint.id)] = endpoint

    def replace_secrets(self, endpoint: Endpoint, expected: Endpoint) -> bool:
        key = (endpoint.merchant_id, endpoint.id)
        stored = self.endpoint_items.get(key)
        if stored is None or stored.secrets[0] != expected.secrets[0]:
            return False
        self.endpoint_items[key] = dataclasses.replace(stored, secrets=endpoint.secrets)
        return True

    def get_endpoint(self, merchant_id: str, endpoint_id: str) -> Endpoint | None:
        return self.endpoint_items.get((merchant_id, endpoint_id))

    def endpoints(self, merchant_id: str) -> list[Endpoint]:
        return [e for (m, _), e in self.endpoint_items.items() if m == merchant_id]

    def delete_endpoint(self, merchant_id: str, endpoint_id: str) -> bool:
        return self.endpoint_items.pop((merchant_id, endpoint_id), None) is not None

    def create(self, delivery: Delivery) -> bool:
        if delivery.id in self.delivery_items:
            return False
        self.delivery_items[delivery.id] = delivery
        return True

    def get(self, endpoint_id: str, delivery_id: str, occurred_at: str) -> Delivery | None:
        return self.delivery_items.get(delivery_id)

    def claim(
        self, delivery: Delivery, number: int, now: dt.datetime, lease_until: dt.datetime
    ) -> bool:
        stored = self.delivery_items[delivery.id]
        started, lease = self.started.get(delivery.id, (0, now))
        if stored.status != "pending" or len(stored.attempts) != number - 1:
            return False
        if started == number - 1 or (started == number and lease < now):
            self.started[delivery.id] = (number, lease_until)
            return True
        return False

    def record(self, delivery: Delivery, attempt: Attempt) -> None:
        stored = self.delivery_items[delivery.id]
        assert len(stored.attempts) == attempt.number - 1
        self.delivery_items[delivery.id] = dataclasses.replace(
            delivery, attempts=(*stored.attempts, attempt)
        )

    def deliveries(self, endpoint_id: str, limit: int) -> list[Delivery]:
        mine = [d for d in self.delivery_items.values() if d.endpoint_id == endpoint_id]
        return sorted(mine, key=lambda d: (d.occurred_at, d.id), reverse=True)[:limit]


class ClearSealer:
    """Seals by tagging the secret with its endpoint: opening it for another endpoint fails, as
    the KMS encryption context makes it fail."""

    def seal(self, secret: str, merchant_id: str, endpoint_id: str) -> str:
        return f"sealed:{merchant_id}:{endpoint_id}:{secret}"

    def open(self, ciphertext: str, merchant_id: str, endpoint_id: str) -> str:
        prefix = f"sealed:{merchant_id}:{endpoint_id}:"
        if not ciphertext.startswith(prefix):
            raise ValueError("InvalidCiphertextException")
        return ciphertext.removeprefix(prefix)


class ScriptedSender:
    """Answers each POST with the next status code of its script (the last one repeats)."""

    def __init__(self, *codes: int | None) -> None:
        self.codes = list(codes) or [200]
        self.requests: list[tuple[str, bytes, dict[str, str]]] = []

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> HttpAnswer:
        self.requests.append((url, body, dict(headers)))
        code = self.codes[min(len(self.requests), len(self.codes)) - 1]
        return HttpAnswer(code, 5, None if code else "connection failed")


class ListQueue:
    def __init__(self) -> None:
        self.sent: list[tuple[DeliveryMessage, int]] = []

    def send(self, messages: Sequence[DeliveryMessage], delay_seconds: int = 0) -> None:
        self.sent.extend((m, delay_seconds) for m in messages)

    def take(self) -> list[tuple[DeliveryMessage, int]]:
        taken, self.sent = self.sent, []
        return taken


def seeded() -> random.Random:
    return random.Random(7)
