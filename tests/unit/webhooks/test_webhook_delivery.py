"""Delivery over in-memory ports: one delivery per subscribed endpoint of the event's merchant,
signed as documented; retries with growing delays until a 2xx or the deadline; nothing sent twice
for one attempt; no card data in a payload."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from functions.domain.webhook_signatures import SIGNATURE_HEADER, SignatureError, verify
from functions.domain.webhooks import (
    DeliveryStatus,
    Endpoint,
    RetryPolicy,
    SealedSecret,
)
from functions.services.webhook_delivery import (
    MAX_QUEUE_DELAY_SECONDS,
    Outcome,
    WebhookDelivery,
)
from tests.unit.webhooks.memory import ClearSealer, ListQueue, MemoryWebhookStore, ScriptedSender

T0 = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
SECRET = "whsec_test_secret_one"
SECRET_2 = "whsec_test_secret_two"


def payment_detail(merchant: str = "m_1", event_id: str = "pay_1:captured:1") -> dict[str, Any]:
    return {
        "event_id": event_id,
        "payment_id": "pay_1",
        "merchant_id": merchant,
        "status": "captured",
        "amount": 1000,
        "currency": "EUR",
        "amount_captured": 1000,
        "amount_refunded": 0,
        "token": "tok_abc",
        "card": {"brand": "visa", "last4": "4242"},
        "decline_code": None,
        "occurred_at": T0.isoformat(),
        "platform_card_key": "card#ck_abc",
        "bin": "424242",
        "ip": "203.0.113.9",
        "device_id": "dev_1",
    }


def endpoint(
    endpoint_id: str = "we_1", merchant: str = "m_1", events: tuple[str, ...] = ("payment.*",)
) -> Endpoint:
    sealed = ClearSealer().seal(SECRET, merchant, endpoint_id)
    return Endpoint(
        endpoint_id,
        merchant,
        "https://hooks.example.com/in",
        events,
        None,
        T0,
        (SealedSecret(sealed, T0),),
    )


def service(
    sender: ScriptedSender, *endpoints: Endpoint, retry: RetryPolicy | None = None
) -> tuple[WebhookDelivery, MemoryWebhookStore, ListQueue]:
    store, queue = MemoryWebhookStore(), ListQueue()
    for e in endpoints:
        store.put_endpoint(e)
    delivery = WebhookDelivery(
        store, store, ClearSealer(), sender, queue, retry or RetryPolicy(), lease_seconds=60
    )
    return delivery, store, queue


def test_an_event_reaches_each_subscribed_endpoint_of_its_merchant_only() -> None:
    sender = ScriptedSender(200)
    subscribed = endpoint("we_1")
    other_type = endpoint("we_2", events=("bnpl.*",))
    other_merchant = endpoint("we_3", merchant="m_2")
    svc, _, queue = service(sender, subscribed, other_type, other_merchant)
    assert svc.dispatch("payment.captured", payment_detail(), T0.isoformat(), T0) == 1
    [(message, delay)] = queue.take()
    assert (message.endpoint_id, message.attempt, delay) == ("we_1", 1, 0)


def test_a_delivery_is_signed_as_documented_and_carries_the_event_id() -> None:
    sender = ScriptedSender(200)
    svc, store, queue = service(sender, endpoint())
    svc.dispatch("payment.captured", payment_detail(), T0.isoformat(), T0)
    [(message, _)] = queue.take()
    assert svc.attempt(message, T0) == Outcome.SUCCEEDED
    [(_url, body, headers)] = sender.requests
    assert verify(body, headers[SIGNATURE_HEADER], SECRET, now=T0.timestamp())
    payload = json.loads(body)
    assert payload["id"] == "pay_1:captured:1" and payload["type"] == "payment.captured"
    assert payload["data"]["card"] == {"brand": "visa", "last4": "4242"}
    # The platform's own fields stay on the bus.
    assert not {"platform_card_key", "bin", "ip", "device_id"} & set(payload["data"])
    [delivery] = store.deliveries("we_1", 10)
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert [a.status_code for a in delivery.attempts] == [200]


def test_an_event_arriving_twice_is_delivered_once() -> None:
    sender = ScriptedSender(200)
    svc, _, queue = service(sender, endpoint())
    svc.dispatch("payment.captured", payment_detail(), T0.isoformat(), T0)
    [(message, _)] = queue.take()
    svc.attempt(message, T0)
    assert svc.dispatch("payment.captured", payment_detail(), T0.isoformat(), T0) == 0
    assert svc.attempt(message, T0) == Outcome.SKIPPED  # the queue's message, again
    assert len(sender.requests) == 1


def test_a_failing_endpoint_is_retried_with_backoff_then_succeeds() -> None:
    sender = ScriptedSender(500, None, 200)
    svc, store, queue = service(sender, endpoint(), retry=RetryPolicy(base_delay_seconds=30))
    svc.dispatch("payment.captured", payment_detail(), T0.isoformat(), T0)
    now = T0
    outcomes, delays = [], []
    while queue.sent:
        [(message, delay)] = queue.take()
        delays.append(delay)
        now = max(now, message.not_before)
        outcomes.append(svc.attempt(message, now))
    assert outcomes == [Outcome.RETRYING, Outcome.RETRYING, Outcome.SUCCEEDED]
    assert 15 <= delays[1] <= 30 and 30 <= delays[2] <= 60  # jittered, doubling
    [delivery] = store.deliveries("we_1", 10)
    assert [a.status_code for a in delivery.attempts] == [500, None, 200]
    assert delivery.attempts[1].error == "connection failed"
    assert delivery.status == DeliveryStatus.SUCCEEDED


def test_waits_longer_than_sqs_allows_hop_without_sending() -> None:
    sender = ScriptedSender(503)
    policy = RetryPolicy(base_delay_seconds=4000, max_delay_seconds=4000)
    svc, _, queue = service(sender, endpoint(), retry=policy)
    svc.dispatch("payment.captured", payment_detail(), T0.isoformat(), T0)
    [(first, _)] = queue.take()
    svc.attempt(first, T0)
    [(second, delay)] = queue.take()
    assert delay == MAX_QUEUE_DELAY_SECONDS
    assert svc.attempt(second, T0 + dt.timedelta(seconds=delay)) == Outcome.DEFERRED
    assert len(sender.requests) == 1
    [(hop, _)] = queue.take()
    assert hop.attempt == 2 and hop.not_before == second.not_before


def test_a_delivery_is_failed_once_the_next_try_would_pass_the_deadline() -> None:
    sender = ScriptedSender(500)
    svc, store, queue = service(sender, endpoint(), retry=RetryPolicy())
    svc.dispatch("payment.captured", payment_detail(), T0.isoformat(), T0)
    now, outcome = T0, Outcome.RETRYING
    while queue.sent:
        [(message, _)] = queue.take()
        now = max(now, message.not_before)
        outcome = svc.attempt(message, now)
    assert outcome == Outcome.FAILED
    [delivery] = store.deliveries("we_1", 10)
    assert delivery.status == DeliveryStatus.FAILED
    assert now - T0 <= dt.timedelta(hours=24)
    assert delivery.attempts[-1].at - delivery.attempts[0].at > dt.timedelta(hours=22)
    assert len(sender.requests) == len(delivery.attempts) >= 20


def test_one_attempt_is_sent_once_even_if_its_message_arrives_twice() -> None:
    sender = ScriptedSender(500, 200)
    svc, _, queue = service(sender, endpoint())
    svc.dispatch("payment.captured", payment_detail(), T0.isoformat(), T0)
    [(message, _)] = queue.take()
    assert svc.attempt(message, T0) == Outcome.RETRYING
    assert svc.attempt(message, T0) == Outcome.SKIPPED
    assert len(sender.requests) == 1


def test_a_lost_successor_message_is_queued_again_by_the_repeated_one() -> None:
    sender = ScriptedSender(500, 200)
    svc, _, queue = service(sender, endpoint())
    svc.dispatch("payment.captured", payment_detail(), T0.isoformat(), T0)
    [(message, _)] = queue.take()
    svc.attempt(message, T0)
    queue.take()  # the successor is lost
    svc.attempt(message, T0)
    [(successor, _)] = queue.take()
    assert successor.attempt == 2


def test_during_rotation_both_secrets_sign() -> None:
    sender = ScriptedSender(200)
    rotated = endpoint().rotated(
        SealedSecret(ClearSealer().seal(SECRET_2, "m_1", "we_1"), T0),
        T0 + dt.timedelta(hours=1),
    )
    svc, _, queue = service(sender, rotated)
    svc.dispatch("payment.captured", payment_detail(), T0.isoformat(), T0)
    [(message, _)] = queue.take()
    svc.attempt(message, T0)
    [(_, body, headers)] = sender.requests
    assert headers[SIGNATURE_HEADER].count("v1=") == 2
    for secret in (SECRET, SECRET_2):
        verify(body, headers[SIGNATURE_HEADER], secret, now=T0.timestamp())


def test_after_the_overlap_only_the_new_secret_signs() -> None:
    sender = ScriptedSender(200)
    rotated = endpoint().rotated(
        SealedSecret(ClearSealer().seal(SECRET_2, "m_1", "we_1"), T0), T0 + dt.timedelta(hours=1)
    )
    svc, _, queue = service(sender, rotated)
    later = T0 + dt.timedelta(hours=2)
    svc.dispatch("payment.captured", payment_detail(), later.isoformat(), later)
    [(message, _)] = queue.take()
    svc.attempt(message, later)
    [(_, body, headers)] = sender.requests
    assert headers[SIGNATURE_HEADER].count("v1=") == 1
    with pytest.raises(SignatureError):
        verify(body, headers[SIGNATURE_HEADER], SECRET, now=later.timestamp())


def test_a_deleted_endpoint_fails_its_pending_delivery_without_sending() -> None:
    sender = ScriptedSender(200)
    svc, store, queue = service(sender, endpoint())
    svc.dispatch("payment.captured", payment_detail(), T0.isoformat(), T0)
    store.delete_endpoint("m_1", "we_1")
    [(message, _)] = queue.take()
    assert svc.attempt(message, T0) == Outcome.FAILED
    assert sender.requests == []


def test_fraud_alerts_reach_the_merchant_they_name_and_no_one_for_a_card() -> None:
    sender = ScriptedSender(200)
    svc, _, _ = service(sender, endpoint(events=("fraud.alert",)))
    alert = {
        "alert_id": "fa_" + "0" * 32,
        "subject_type": "merchant",
        "subject": "m_1",
        "typology": "card_testing",
        "score": 90,
        "reasons": ["x"],
        "window": "1h",
        "first_seen": T0.isoformat(),
        "last_seen": T0.isoformat(),
        "blocked_until": None,
    }
    assert svc.dispatch("fraud.alert", alert, T0.isoformat(), T0) == 1
    card_alert = {**alert, "subject_type": "card", "subject": "card#ck_1"}
    assert svc.dispatch("fraud.alert", card_alert, T0.isoformat(), T0) == 0


def test_bnpl_events_are_delivered_whole() -> None:
    sender = ScriptedSender(200)
    svc, _, queue = service(sender, endpoint(events=("bnpl.plan_created",)))
    detail = {
        "event_id": "plan_1:bnpl.plan_created:0:0",
        "plan_id": "plan_1",
        "merchant_id": "m_1",
        "currency": "EUR",
        "amount": 2000,
        "instalment": 0,
        "status": "active",
        "occurred_at": T0.isoformat(),
    }
    assert svc.dispatch("bnpl.plan_created", detail, T0.isoformat(), T0) == 1
    [(message, _)] = queue.take()
    assert json.loads(message.body)["data"] == detail


def test_a_payload_that_looks_like_a_card_number_is_never_sent() -> None:
    svc, _, queue = service(ScriptedSender(200), endpoint())
    leaky = {**payment_detail(), "customer_id": "4242424242424242"}
    with pytest.raises(ValueError, match="card number"):
        svc.dispatch("payment.captured", leaky, T0.isoformat(), T0)
    assert queue.sent == []
