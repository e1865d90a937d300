"""Webhooks end to end on the applied environments/local: a merchant registers an endpoint at
the local test receiver through the Payment API, makes a payment, and the receiver gets its
payment.* events signed as docs/webhooks.md says; an endpoint answering 500 is retried until it
answers 200, and the delivery log shows each attempt."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from functions.domain.cards import contains_card_number
from functions.domain.webhook_signatures import verify
from local.api_client import ApiClient
from local.webhook_receiver import Received, WebhookReceiver
from tests.conftest import Emulator
from tests.e2e.test_local_environment import create, merchant_api, payment_request

pytestmark = pytest.mark.e2e

APPROVED_CARD = "4242424242424242"
WAIT_S = 90


def register(api: ApiClient, url: str, events: list[str]) -> dict[str, Any]:
    created = api.post("/v1/webhook_endpoints", {"url": url, "enabled_events": events})
    assert created.status == 201, created.body
    assert created.body["secret"].startswith("whsec_")
    body: dict[str, Any] = created.body
    return body


def pay(api: ApiClient, amount: int, *, capture: bool = True) -> str:
    paid = create(api, payment_request(APPROVED_CARD, amount, capture=capture))
    assert paid.status == 201, paid.body
    payment_id: str = paid.body["id"]
    return payment_id


def explain(emulator: Emulator, api_env: dict[str, Any]) -> str:
    """Where deliveries stopped: the queues' depths, the mappings' last results and the webhook
    functions' last log lines (the emulator is gone by the time anyone reads a CI log)."""
    webhooks = api_env["webhooks"]
    sqs, lines = emulator.client("sqs"), []
    queues = {
        "events": webhooks["events_queue_url"],
        "deliveries": webhooks["delivery_queue_url"],
        **{f"{k}-dlq": url for k, url in webhooks["dead_letter_queue_urls"].items()},
    }
    for name, url in queues.items():
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        depth = {k: v for k, v in attributes.items() if k.startswith("ApproximateNumber")}
        lines.append(f"queue {name}: {depth}")
    mappings = emulator.client("lambda").list_event_source_mappings(
        FunctionName=webhooks["delivery_function_name"]
    )["EventSourceMappings"]
    for mapping in mappings:
        lines.append(f"mapping {mapping['EventSourceArn']}: {mapping.get('LastProcessingResult')}")
    for function in (webhooks["delivery_function_name"], webhooks["api_function_name"]):
        try:
            lines += emulator.log_messages(f"/aws/lambda/{function}")[-15:]
        except Exception as error:  # a diagnostic must never mask the failure
            lines.append(f"(no log of {function}: {type(error).__name__})")
    return "\n".join(lines)


def awaited(
    receiver: WebhookReceiver,
    done: Callable[[list[Received]], bool],
    emulator: Emulator,
    api_env: dict[str, Any],
) -> list[Received]:
    try:
        return receiver.wait_for(done, WAIT_S)
    except TimeoutError as error:
        pytest.fail(f"{error}\n{explain(emulator, api_env)}")


def settled_log(api: ApiClient, endpoint_id: str, event_ids: set[str]) -> list[dict[str, Any]]:
    """The endpoint's log entries of ``event_ids`` once none is pending: an attempt is recorded
    just after the receiver answers it."""
    deadline = time.monotonic() + 20
    while True:
        log = api.get(f"/v1/webhook_endpoints/{endpoint_id}/deliveries")
        assert log.status == 200, log.body
        ours = [d for d in log.body["data"] if d["event_id"] in event_ids]
        if (ours and all(d["status"] != "pending" for d in ours)) or time.monotonic() > deadline:
            return ours
        time.sleep(0.5)


def of_payment(payment_id: str) -> Callable[[list[Received]], bool]:
    def done(received: list[Received]) -> bool:
        return any(
            r.event["data"].get("payment_id") == payment_id and r.answered == 200 for r in received
        )

    return done


def test_a_payment_reaches_the_merchants_endpoint_signed_as_documented(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    api = merchant_api(emulator, api_env)
    with WebhookReceiver() as receiver:
        endpoint = register(api, f"{receiver.url}/hooks", ["payment.*"])
        payment_id = pay(api, 1500)
        received = awaited(receiver, of_payment(payment_id), emulator, api_env)

    mine = [r for r in received if r.event["data"].get("payment_id") == payment_id]
    # authorized and captured, or requires_action once the card's low-value exemptions are spent
    assert mine and all(r.event["type"].startswith("payment.") for r in mine)
    for delivery in mine:
        assert delivery.path == "/hooks"
        verify(delivery.body, delivery.signature, endpoint["secret"])
        assert delivery.event["data"]["merchant_id"] == api.merchant_id
        assert delivery.event["id"]  # the receiver's key to drop a repeat
        assert not contains_card_number(delivery.body.decode())
        with pytest.raises(ValueError, match="no signature matches"):
            verify(delivery.body, delivery.signature, "whsec_someone_else")

    ours = settled_log(api, endpoint["id"], {r.event["id"] for r in mine})
    assert ours and all(d["status"] == "succeeded" for d in ours)
    assert all(d["attempts"][-1]["status_code"] == 200 for d in ours)
    assert all(d["attempts"][-1]["latency_ms"] >= 0 for d in ours)


def test_an_endpoint_answering_500_is_retried_until_it_answers_200(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    api = merchant_api(emulator, api_env)
    with WebhookReceiver(answers=[500, 500]) as receiver:
        endpoint = register(api, f"{receiver.url}/flaky", ["payment.*"])
        payment_id = pay(api, 1600, capture=False)
        received = awaited(receiver, of_payment(payment_id), emulator, api_env)

    attempts = [r for r in received if r.event["data"].get("payment_id") == payment_id]
    assert [r.answered for r in attempts] == [500, 500, 200]
    assert len({r.event["id"] for r in attempts}) == 1  # one event, three attempts
    # Backoff: each wait at least half of 2 s * 2^(n-1) (environments/local's base).
    gaps = [b.at - a.at for a, b in itertools.pairwise(attempts)]
    assert gaps[0] >= 1 and gaps[1] >= 2, gaps
    for r in attempts:  # each attempt signed afresh
        verify(r.body, r.signature, endpoint["secret"])

    [delivery] = settled_log(api, endpoint["id"], {attempts[0].event["id"]})
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 500, 200]
    assert delivery["status"] == "succeeded"


def test_endpoints_belong_to_their_merchant_and_bad_input_names_its_field(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    api = merchant_api(emulator, api_env)
    other = merchant_api(emulator, api_env, "m_webhooks_other")
    endpoint = register(api, "https://hooks.example.com/in", ["*"])

    listed = api.get("/v1/webhook_endpoints")
    assert listed.status == 200
    assert [e["id"] for e in listed.body["data"]] == [endpoint["id"]]
    assert all("secret" not in e for e in listed.body["data"])
    assert endpoint["secret"] not in json.dumps(listed.body)
    assert other.get("/v1/webhook_endpoints").body["data"] == []
    for answer in (
        other.request("DELETE", f"/v1/webhook_endpoints/{endpoint['id']}"),
        other.post(f"/v1/webhook_endpoints/{endpoint['id']}/rotate_secret", {}),
        other.get(f"/v1/webhook_endpoints/{endpoint['id']}/deliveries"),
    ):
        assert answer.status == 404, answer.body
        assert answer.body["error"]["param"] == "webhook_endpoint_id"

    # The function names the field it refuses, a missing one too (ADR 0011: API Gateway's own
    # body check, which cannot name it, is opt-in).
    for body, param, code in (
        ({"url": "ftp://hooks.example.com/", "enabled_events": ["*"]}, "url", "parameter_invalid"),
        (
            {"url": "https://a.example.com/", "enabled_events": ["payment.no"]},
            "enabled_events",
            "parameter_invalid",
        ),
        ({"url": "https://hooks.example.com/"}, "enabled_events", "parameter_missing"),
    ):
        refused = api.post("/v1/webhook_endpoints", body)
        assert refused.status == 400, refused.body
        assert (refused.body["error"]["param"], refused.body["error"]["code"]) == (param, code)
    bad_limit = api.get(f"/v1/webhook_endpoints/{endpoint['id']}/deliveries?limit=0")
    assert (bad_limit.status, bad_limit.body["error"]["param"]) == (400, "limit")

    rotated = api.post(f"/v1/webhook_endpoints/{endpoint['id']}/rotate_secret", {})
    assert rotated.status == 200, rotated.body
    assert rotated.body["secret"] != endpoint["secret"]
    assert rotated.body["secret_rotation_ends_at"]
    deleted = api.request("DELETE", f"/v1/webhook_endpoints/{endpoint['id']}")
    assert (deleted.status, deleted.body["deleted"]) == (200, True)
    assert api.get("/v1/webhook_endpoints").body["data"] == []


def test_during_a_rotation_deliveries_carry_both_signatures(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    api = merchant_api(emulator, api_env)
    with WebhookReceiver() as receiver:
        endpoint = register(api, f"{receiver.url}/rotating", ["payment.*"])
        rotated = api.post(f"/v1/webhook_endpoints/{endpoint['id']}/rotate_secret", {})
        assert rotated.status == 200, rotated.body
        payment_id = pay(api, 1700, capture=False)
        received = awaited(receiver, of_payment(payment_id), emulator, api_env)
    [delivery] = [r for r in received if r.event["data"].get("payment_id") == payment_id]
    assert delivery.signature.count("v1=") == 2
    verify(delivery.body, delivery.signature, endpoint["secret"])
    verify(delivery.body, delivery.signature, rotated.body["secret"])
