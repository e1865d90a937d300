"""The fraud stream consumer on moto (in process): the DynamoDB counters end equal to the
domain's reference whatever the delivery order and however often an event is delivered; the
handler answers partial batch failures through Powertools' BatchProcessor; a card-testing burst
raises one fraud.alert, on the bus, and blocks the device; no card number reaches the alert."""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.adapters import clients
from functions.adapters import fraud_stream_wiring as wiring
from functions.adapters.fraud_stream_tables import DynamoBlockList, DynamoFeatureStore
from functions.contracts.events import FraudAlertDetail, PaymentEventDetail
from functions.domain.fraud_features import FraudEvent, InMemoryFeatureCounters, SubjectType
from functions.domain.fraud_stream import block_key
from functions.handlers import fraud_stream as handler
from functions.services.fraud_stream import fraud_event
from tests.adapters.payment_tables import REGION, fake_aws_environment

FEATURES = "test-fraud-features"
BLOCKS = "test-fraud-block-list"
BUS = "test-payments"
NOW = int(dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC).timestamp())


def create_tables(ddb: Any) -> None:
    for name, key in ((FEATURES, "pk"), (BLOCKS, "subject")):
        ddb.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        )


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    fake_aws_environment(
        monkeypatch,
        FRAUD_FEATURE_TABLE_NAME=FEATURES,
        FRAUD_BLOCK_LIST_TABLE_NAME=BLOCKS,
        EVENT_BUS_NAME=BUS,
        FRAUD_ALERTING=json.dumps({"cards_per_device_1h": 5, "block_ttl_seconds": 600}),
    )
    with mock_aws():
        clients.clear()
        wiring.clear()
        ddb = boto3.client("dynamodb", region_name=REGION)
        create_tables(ddb)
        # The bus delivers everything to a queue the test reads (what a rule would see).
        events = boto3.client("events", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        events.create_event_bus(Name=BUS)
        queue = sqs.create_queue(QueueName="alerts")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(
            Name="all", EventBusName=BUS, EventPattern='{"source": ["blueprint.fraud"]}'
        )
        events.put_targets(Rule="all", EventBusName=BUS, Targets=[{"Id": "q", "Arn": queue_arn}])
        yield {"ddb": ddb, "sqs": sqs, "queue": queue}
        clients.clear()
        wiring.clear()


def detail(
    n: int, *, card: int | None = None, device: str = "dev-1", minutes: int = 0, ip: str = ""
) -> dict[str, Any]:
    at = dt.datetime.fromtimestamp(NOW - 600 + 60 * minutes + n, dt.UTC)
    return {
        "event_id": f"pay_{n:04d}:payment.declined",
        "payment_id": f"pay_{n:04d}",
        "merchant_id": "m_1",
        "status": "declined",
        "amount": 100,
        "currency": "EUR",
        "amount_captured": 0,
        "amount_refunded": 0,
        "token": f"tok_{n}",
        "card": {"brand": "visa", "last4": "4242"},
        "decline_code": "fraud_suspected",
        "occurred_at": at.isoformat(),
        "platform_card_key": f"card#ck_card{n if card is None else card}",
        "bin": "424242",
        "device_id": device,
        "ip": ip or "198.51.100.7",
        "billing_country": "DE",
        "card_country": "DE",
        "ip_country": "DE",
        "amount_eur_minor": 100,
    }


def kinesis_event(payloads: list[bytes]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": "p",
                    "sequenceNumber": str(1000 + i),
                    "data": base64.b64encode(payload).decode(),
                    "approximateArrivalTimestamp": 1.0,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"shardId-000000000000:{1000 + i}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/r",
                "awsRegion": REGION,
                "eventSourceARN": "arn:aws:kinesis:eu-west-1:123456789012:stream/s",
            }
            for i, payload in enumerate(payloads)
        ]
    }


class _Context:
    function_name = "fraud-stream"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:fraud-stream"
    aws_request_id = "req-1"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


def alerts_on_bus(aws: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        messages = aws["sqs"].receive_message(QueueUrl=aws["queue"], MaxNumberOfMessages=10)
        if not messages.get("Messages"):
            return found
        for message in messages["Messages"]:
            found.append(json.loads(message["Body"]))
            aws["sqs"].delete_message(QueueUrl=aws["queue"], ReceiptHandle=message["ReceiptHandle"])


def events_of(details: list[dict[str, Any]]) -> list[FraudEvent]:
    return [fraud_event(PaymentEventDetail.model_validate(d)) for d in details]


def stored(store: DynamoFeatureStore, events: list[FraudEvent]) -> dict[Any, Any]:
    """The non-empty buckets of every subject the events touch."""
    out = {}
    for event in events:
        for subject, buckets in store.read(event).items():
            out[subject] = {k: b for k, b in buckets.items() if b.count}
    return out


def test_counters_equal_the_reference_under_duplicates_and_reordering(aws: dict[str, Any]) -> None:
    details = [detail(n, card=n % 4, device=f"dev-{n % 3}", minutes=n % 9) for n in range(24)]
    events = events_of(details)
    reference = InMemoryFeatureCounters()
    for event in events:
        reference.apply(event)
    store = DynamoFeatureStore(aws["ddb"], FEATURES)
    delivery = events + random.Random(7).sample(events, 10)  # ten redelivered
    random.Random(11).shuffle(delivery)
    applied = [store.apply(e, store.read(e), NOW) for e in delivery]
    assert sum(applied) == len(events)  # each event counted exactly once
    expected = {
        subject: {k: b for k, b in reference.buckets(subject).items() if b.count}
        for e in events
        for subject in e.subjects()
    }
    assert stored(store, events) == expected


def test_an_event_older_than_every_window_is_not_counted(aws: dict[str, Any]) -> None:
    store = DynamoFeatureStore(aws["ddb"], FEATURES)
    old = events_of([detail(1)])[0]
    assert store.apply(old, store.read(old), old.occurred_at + 9 * 86_400) is False


def test_a_poison_record_fails_alone_and_the_rest_are_counted(aws: dict[str, Any]) -> None:
    good = [json.dumps(detail(n, card=n)).encode() for n in range(3)]
    poison = json.dumps(
        {**detail(9), "card": {"brand": "visa", "last4": "4242", "number": "4242424242424242"}}
    )
    batch = kinesis_event([good[0], poison.encode(), b"not json", good[1], good[2]])
    response = handler.handler(batch, _Context())
    assert response == {
        "batchItemFailures": [{"itemIdentifier": "1001"}, {"itemIdentifier": "1002"}]
    }
    store = DynamoFeatureStore(aws["ddb"], FEATURES)
    merchant = stored(store, events_of([detail(0)]))[(SubjectType.MERCHANT, "m_1")]
    assert sum(b.count for (w, _), b in merchant.items() if w == "10m") == 3
    # Retrying the batch (Lambda resends from the first failure) counts nothing twice.
    handler.handler(kinesis_event([good[1], good[2]]), _Context())
    merchant = stored(store, events_of([detail(0)]))[(SubjectType.MERCHANT, "m_1")]
    assert sum(b.count for (w, _), b in merchant.items() if w == "10m") == 3


def test_a_card_testing_burst_raises_one_alert_and_blocks_the_device(aws: dict[str, Any]) -> None:
    # A new IP per attempt: only the device ties the burst together.
    burst = [
        json.dumps(detail(n, card=n, device="dev-tester", ip=f"203.0.113.{n}")).encode()
        for n in range(8)
    ]
    assert handler.handler(kinesis_event(burst[:4]), _Context()) == {"batchItemFailures": []}
    assert alerts_on_bus(aws) == []  # four cards: under the threshold of five
    handler.handler(kinesis_event(burst[4:]), _Context())
    handler.handler(kinesis_event(burst), _Context())  # redelivered
    alerts = alerts_on_bus(aws)
    assert [(a["detail-type"], a["source"]) for a in alerts] == [("fraud.alert", "blueprint.fraud")]
    alert = FraudAlertDetail.model_validate(alerts[0]["detail"])
    assert (alert.subject_type, alert.subject, alert.typology) == (
        "device",
        "dev-tester",
        "card_testing",
    )
    assert alert.reasons[0] == "device_distinct_cards_1h"
    assert alert.blocked_until is not None
    blocked = DynamoBlockList(aws["ddb"], BLOCKS).blocked(
        [block_key(SubjectType.DEVICE, "dev-tester"), block_key(SubjectType.DEVICE, "dev-other")],
        int(dt.datetime.now(dt.UTC).timestamp()),
    )
    assert [(b.key, b.typology, b.alert_id) for b in blocked] == [
        ("device#dev-tester", "card_testing", alert.alert_id)
    ]


def test_a_block_past_its_expiry_is_not_in_force(aws: dict[str, Any]) -> None:
    blocks = DynamoBlockList(aws["ddb"], BLOCKS)
    blocks.block("ip#198.51.100.7", "fa_" + "0" * 32, "card_testing", NOW + 60)
    assert [b.key for b in blocks.blocked(["ip#198.51.100.7"], NOW)] == ["ip#198.51.100.7"]
    assert blocks.blocked(["ip#198.51.100.7"], NOW + 60) == []


def test_a_sales_authorization_counts_though_its_status_says_captured(
    aws: dict[str, Any],
) -> None:
    """A sale publishes payment.authorized with the payment's state after it: captured. The
    stream carries authorization attempts only, so every record is one."""
    sale = {
        **detail(0, device="dev-sale"),
        "event_id": "pay_0000:payment.authorized",
        "status": "captured",
        "decline_code": None,
        "amount_captured": 100,
        "operation_amount": 100,
    }
    assert handler.handler(kinesis_event([json.dumps(sale).encode()]), _Context()) == {
        "batchItemFailures": []
    }
    store = DynamoFeatureStore(aws["ddb"], FEATURES)
    device = stored(store, events_of([sale]))[(SubjectType.DEVICE, "dev-sale")]
    assert [(b.count, b.declines) for (w, _), b in device.items() if w == "10m"] == [(1, 0)]
