"""The webhook adapters on moto and a real local HTTP server: the table's conditional writes (a
delivery created once, an attempt claimed once, a lease taken over only once expired), secrets
sealed under their endpoint's KMS context, the SSRF-guarded sender, and both handlers end to end
in process (the API's routes and errors; dispatch then delivery of a bus event)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from functions.adapters import clients, webhook_wiring
from functions.adapters.webhook_http import HttpWebhookSender
from functions.adapters.webhook_queue import SqsDeliveryQueue, parse_message
from functions.adapters.webhook_secrets import KmsSecretSealer
from functions.adapters.webhooks_table import DynamoWebhookStore
from functions.domain.webhook_signatures import SIGNATURE_HEADER, verify
from functions.domain.webhooks import (
    Attempt,
    Delivery,
    DeliveryMessage,
    DeliveryStatus,
    Endpoint,
    SealedSecret,
    UrlPolicy,
)
from functions.handlers import webhook_delivery, webhooks_api
from local.webhook_receiver import WebhookReceiver
from tests.adapters.payment_tables import fake_aws_environment

REGION = "eu-west-1"
TABLE = "payments-local-webhooks"
T0 = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
LOCAL = UrlPolicy(allow_http=True, allow_private_addresses=True)


def create_table(client: Any) -> None:
    client.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
    )


@dataclass
class Aws:
    dynamodb: Any
    kms: Any
    sqs: Any
    key_id: str
    queue_url: str

    def store(self) -> DynamoWebhookStore:
        return DynamoWebhookStore(self.dynamodb, TABLE, dt.timedelta(days=30))


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    fake_aws_environment(monkeypatch)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        kms = boto3.client("kms", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        create_table(dynamodb)
        key_id = kms.create_key()["KeyMetadata"]["Arn"]
        queue_url = sqs.create_queue(QueueName="payments-local-webhook-deliveries")["QueueUrl"]
        for name, value in {
            "WEBHOOKS_TABLE_NAME": TABLE,
            "WEBHOOKS_KMS_KEY_ARN": key_id,
            "WEBHOOK_DELIVERY_QUEUE_URL": queue_url,
            "WEBHOOK_ALLOW_HTTP": "true",
            "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true",
        }.items():
            monkeypatch.setenv(name, value)
        clients.clear()
        webhook_wiring.webhook_endpoints.cache_clear()
        webhook_wiring.webhook_delivery.cache_clear()
        yield Aws(dynamodb, kms, sqs, key_id, queue_url)
        clients.clear()
        webhook_wiring.webhook_endpoints.cache_clear()
        webhook_wiring.webhook_delivery.cache_clear()


def endpoint(url: str = "https://hooks.example.com/in", endpoint_id: str = "we_1") -> Endpoint:
    return Endpoint(endpoint_id, "m_1", url, ("*",), None, T0, (SealedSecret("c1", T0),))


def delivery(
    endpoint_id: str = "we_1", event: str = "evt_1", at: str = "2026-12-02T09:00"
) -> Delivery:
    return Delivery(f"wd_{event}", endpoint_id, "m_1", event, "payment.captured", at, T0)


# -- table ---------------------------------------------------------------------------------


def test_endpoints_are_stored_listed_per_merchant_and_deleted(aws: Aws) -> None:
    store = aws.store()
    store.put_endpoint(endpoint())
    store.put_endpoint(endpoint(endpoint_id="we_2"))
    assert store.get_endpoint("m_1", "we_1") == endpoint()
    assert {e.id for e in store.endpoints("m_1")} == {"we_1", "we_2"}
    assert store.endpoints("m_2") == [] and store.get_endpoint("m_2", "we_1") is None
    assert store.delete_endpoint("m_1", "we_1") and not store.delete_endpoint("m_1", "we_1")


def test_a_rotation_is_written_only_over_the_secrets_it_read(aws: Aws) -> None:
    store = aws.store()
    current = endpoint()
    store.put_endpoint(current)
    rotated = current.rotated(SealedSecret("c2", T0), T0 + dt.timedelta(hours=1))
    assert store.replace_secrets(rotated, current)
    assert not store.replace_secrets(rotated, current)  # a second, concurrent rotation
    stored = store.get_endpoint("m_1", "we_1")
    assert stored is not None and [s.ciphertext for s in stored.secrets] == ["c2", "c1"]
    assert stored.secrets[1].expires_at == T0 + dt.timedelta(hours=1)


def test_a_delivery_is_created_once_and_expires_with_the_log(aws: Aws) -> None:
    store = aws.store()
    assert store.create(delivery()) and not store.create(delivery())
    item = aws.dynamodb.scan(TableName=TABLE)["Items"][0]
    expires = int(item["expires_at"]["N"])
    assert expires == int((T0 + dt.timedelta(days=30)).timestamp())


def test_an_attempt_is_claimed_once_and_a_dead_workers_lease_only_after_it_expires(
    aws: Aws,
) -> None:
    store = aws.store()
    d = delivery()
    store.create(d)
    lease = T0 + dt.timedelta(minutes=2)
    assert store.claim(d, 1, T0, lease)
    assert not store.claim(d, 1, T0, lease)  # the same message, again
    assert not store.claim(d, 1, T0 + dt.timedelta(minutes=1), lease)
    assert store.claim(d, 1, T0 + dt.timedelta(minutes=3), lease + dt.timedelta(minutes=3))
    assert not store.claim(d, 2, T0, lease)  # attempt 1 is not recorded yet


def test_attempts_are_appended_in_order_and_the_log_reads_newest_first(aws: Aws) -> None:
    store = aws.store()
    older, newer = delivery(event="evt_1"), delivery(event="evt_2", at="2026-12-02T09:05")
    for d in (older, newer):
        store.create(d)
    store.claim(older, 1, T0, T0)
    failed = Attempt(1, T0, 500, 40, None)
    store.record(dataclass_replace(older, next_attempt_at=T0), failed)
    with pytest.raises(ClientError):  # attempt 1 recorded twice
        store.record(older, failed)
    store.claim(older, 2, T0, T0)
    store.record(
        dataclass_replace(older, status=DeliveryStatus.SUCCEEDED), Attempt(2, T0, 200, 12, None)
    )
    log = store.deliveries("we_1", 10)
    assert [d.event_id for d in log] == ["evt_2", "evt_1"]
    assert [a.status_code for a in log[1].attempts] == [500, 200]
    assert log[1].status == DeliveryStatus.SUCCEEDED and log[1].next_attempt_at is None
    assert store.deliveries("we_1", 1)[0].event_id == "evt_2"


def dataclass_replace(d: Delivery, **changes: Any) -> Delivery:
    import dataclasses

    return dataclasses.replace(d, **changes)


# -- KMS and SQS ---------------------------------------------------------------------------


def test_a_secret_is_sealed_under_its_endpoint_and_opens_for_no_other(aws: Aws) -> None:
    sealer = KmsSecretSealer(aws.kms, aws.key_id)
    sealed = sealer.seal("whsec_abc", "m_1", "we_1")
    assert "whsec_abc" not in sealed
    assert sealer.open(sealed, "m_1", "we_1") == "whsec_abc"
    with pytest.raises(ClientError):
        KmsSecretSealer(aws.kms, aws.key_id).open(sealed, "m_1", "we_2")


def test_the_queue_carries_each_attempt_whole_with_its_delay(aws: Aws) -> None:
    queue = SqsDeliveryQueue(aws.sqs, aws.queue_url)
    message = DeliveryMessage("we_1", "m_1", "wd_1", "2026-12-02T09:00", 3, T0, '{"id":"e"}')
    queue.send([message] * 12, delay_seconds=0)
    received = []
    while batch := aws.sqs.receive_message(QueueUrl=aws.queue_url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        received.extend(batch)
        for m in batch:
            aws.sqs.delete_message(QueueUrl=aws.queue_url, ReceiptHandle=m["ReceiptHandle"])
    assert len(received) == 12
    assert parse_message(json.loads(received[0]["Body"])) == message


# -- HTTP ----------------------------------------------------------------------------------


def test_the_sender_posts_and_keeps_only_the_status_code() -> None:
    with WebhookReceiver(answers=[503]) as receiver:
        sender = HttpWebhookSender(LOCAL, timeout_seconds=5)
        first = sender.post(f"{receiver.url}/in?x=1", b"{}", {"X-Test": "1"})
        second = sender.post(f"{receiver.url}/in", b"{}", {})
    assert (first.status_code, first.error) == (503, None)
    assert second.status_code == 200 and second.latency_ms >= 0
    assert receiver.received[0].path == "/in?x=1"
    assert receiver.received[0].headers["x-test"] == "1"


def test_the_sender_refuses_a_host_resolving_to_a_private_address() -> None:
    with WebhookReceiver() as receiver:
        strict = HttpWebhookSender(UrlPolicy(allow_http=True), timeout_seconds=5)
        for url in (receiver.url, receiver.url.replace("127.0.0.1", "localhost")):
            answer = strict.post(url, b"{}", {})
            assert (answer.status_code, answer.error) == (None, "address not allowed")
        assert receiver.received == []


def test_the_sender_never_follows_a_redirect() -> None:
    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        answer = HttpWebhookSender(LOCAL, 5).post(
            f"http://127.0.0.1:{server.server_address[1]}/", b"{}", {}
        )
    finally:
        server.shutdown()
        server.server_close()
    assert answer.status_code == 302  # a failed attempt, not a request to the metadata service


def test_an_unreachable_endpoint_is_a_failed_attempt_with_its_reason() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()  # nothing listens there now
    answer = HttpWebhookSender(LOCAL, 2).post(f"http://127.0.0.1:{port}/", b"{}", {})
    assert answer.status_code is None and answer.error is not None
    assert answer.error.startswith("connection failed")


def test_plain_http_is_refused_without_the_local_opt_out() -> None:
    answer = HttpWebhookSender(UrlPolicy(), 2).post("http://93.184.216.34/", b"{}", {})
    assert (answer.status_code, answer.error) == (None, "scheme not allowed")


# -- handlers ------------------------------------------------------------------------------


@dataclass
class Context:
    function_name: str = "payments-local-webhooks-api"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = (
        "arn:aws:lambda:eu-west-1:123456789012:function:payments-local-webhooks-api"
    )
    aws_request_id: str = "req-1"


def api(
    method: str, path: str, body: Any = None, merchant: str | None = "m_1", query: Any = None
) -> tuple[int, Any]:
    event = {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "requestId": "r-1",
            "stage": "v1",
            "path": path,
            "httpMethod": method,
            "resourcePath": path,
            "identity": {"sourceIp": "203.0.113.9"},
            **({"authorizer": {"merchant_id": merchant}} if merchant else {}),
        },
        "body": body if isinstance(body, str) or body is None else json.dumps(body),
        "isBase64Encoded": False,
    }
    answer = webhooks_api.handler(event, Context())
    return answer["statusCode"], json.loads(answer["body"])


def test_the_api_registers_lists_and_refuses_in_the_error_shape(aws: Aws) -> None:
    status, created = api(
        "POST",
        "/v1/webhook_endpoints",
        {"url": "https://hooks.example.com/in", "enabled_events": ["payment.*"]},
    )
    assert status == 201 and created["secret"].startswith("whsec_")
    item = aws.dynamodb.scan(TableName=TABLE)["Items"][0]
    assert created["secret"] not in json.dumps(item)  # sealed, never in clear
    status, listed = api("GET", "/v1/webhook_endpoints")
    assert status == 200 and [e["id"] for e in listed["data"]] == [created["id"]]

    for body, param in (
        ("not json", None),
        ({"url": "ftp://hooks.example.com/", "enabled_events": ["*"]}, "url"),
        ({"url": "https://hooks.example.com/", "enabled_events": ["nope"]}, "enabled_events"),
    ):
        status, refused = api("POST", "/v1/webhook_endpoints", body)
        assert status == 400 and set(refused["error"]) == {"type", "code", "message", "param"}
        if param:
            assert refused["error"]["param"] == param
    status, refused = api(
        "GET", f"/v1/webhook_endpoints/{created['id']}/deliveries", query={"limit": "x"}
    )
    assert (status, refused["error"]["param"]) == (400, "limit")
    status, refused = api("GET", "/v1/webhook_endpoints", merchant=None)
    assert status == 401
    status, refused = api("DELETE", f"/v1/webhook_endpoints/{created['id']}", merchant="m_2")
    assert (status, refused["error"]["code"]) == (404, "resource_missing")


def test_a_bus_event_is_dispatched_then_delivered_signed(aws: Aws) -> None:
    with WebhookReceiver() as receiver:
        _, created = api(
            "POST", "/v1/webhook_endpoints", {"url": f"{receiver.url}/in", "enabled_events": ["*"]}
        )
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
        bus_event = {
            "detail-type": "bnpl.plan_created",
            "source": "blueprint.credit",
            "time": T0.isoformat(),
            "detail": detail,
        }
        first = webhook_delivery.handler(
            {"Records": [{"messageId": "m1", "body": json.dumps(bus_event)}]}, Context()
        )
        assert first == {"batchItemFailures": []}
        queued = aws.sqs.receive_message(QueueUrl=aws.queue_url, MaxNumberOfMessages=10)["Messages"]
        assert len(queued) == 1
        second = webhook_delivery.handler(
            {"Records": [{"messageId": "m2", "body": queued[0]["Body"]}]}, Context()
        )
        assert second == {"batchItemFailures": []}
        [received] = receiver.wait_for(lambda r: len(r) == 1, 10)
    verify(received.body, received.headers[SIGNATURE_HEADER.lower()], created["secret"])
    assert received.event["data"] == detail
    _, log = api("GET", f"/v1/webhook_endpoints/{created['id']}/deliveries")
    assert [d["status"] for d in log["data"]] == ["succeeded"]


def test_a_record_that_fails_is_reported_alone(aws: Aws) -> None:
    good = {"detail-type": "payment.captured", "detail": {"merchant_id": "m_9"}, "time": ""}
    answer = webhook_delivery.handler(
        {
            "Records": [
                {"messageId": "bad", "body": "{}"},
                {"messageId": "also-bad", "body": json.dumps(good)},
            ]
        },
        Context(),
    )
    assert answer == {
        "batchItemFailures": [{"itemIdentifier": "bad"}, {"itemIdentifier": "also-bad"}]
    }
