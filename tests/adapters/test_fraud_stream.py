"""The fraud stream consumer on moto (in process): the DynamoDB counters end equal to the
domain's reference whatever the delivery order, however often a record is redelivered and
wherever a write fails (hypothesis: shards consumed as Lambda does, with writes failing at
random); one write per subject; the handler answers partial batch failures through Powertools,
stops a batch at its first failure, and ignores (counts) the records the features do not read;
a card-testing burst raises one fraud.alert, on the bus, and blocks the device; no card number
reaches the alert."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import logging
import random
import types
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from functions.adapters import clients, fraud_stream_tables
from functions.adapters import fraud_stream_wiring as wiring
from functions.adapters.fraud_stream_tables import (
    DynamoBlockList,
    DynamoFeatureStore,
    mark_value,
    subject_key,
)
from functions.contracts.events import FraudAlertDetail, PaymentEventDetail
from functions.domain.fraud_features import (
    FraudEvent,
    InMemoryFeatureCounters,
    StreamPosition,
    SubjectType,
)
from functions.domain.fraud_stream import block_key
from functions.handlers import fraud_stream as handler
from functions.services.fraud_stream import UnreadableRecordError, fraud_event, parse_record
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


SHARD = "shardId-000000000000"


def kinesis_event(payloads: list[bytes], first: int = 1000, shard: str = SHARD) -> dict[str, Any]:
    """Records of one shard, sequence numbers from ``first`` (a retry resends them unchanged)."""
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": "p",
                    "sequenceNumber": str(first + i),
                    "data": base64.b64encode(payload).decode(),
                    "approximateArrivalTimestamp": 1.0,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard}:{first + i}",
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
        for subject, state in store.read(event).items():
            out[subject] = {k: b for k, b in state.buckets.items() if b.count}
    return out


def test_counters_equal_the_reference_under_duplicates_and_reordering(aws: dict[str, Any]) -> None:
    details = [detail(n, card=n % 4, device=f"dev-{n % 3}", minutes=n % 9) for n in range(24)]
    events = events_of(details)
    reference = InMemoryFeatureCounters()
    for event in events:
        reference.apply(event)
    store = DynamoFeatureStore(aws["ddb"], FEATURES)
    # Two shards, each in its own sequence order; their records interleave at random, and ten
    # records are delivered again (a retried batch) right after the ones that follow them.
    rnd = random.Random(7)
    shards = [
        [(e, StreamPosition(f"shard-{s}", 10 * i)) for i, e in enumerate(events[s::2])]
        for s in (0, 1)
    ]
    delivery = []
    while any(shards):
        shard = rnd.choice([s for s in shards if s])
        delivery.append(shard.pop(0))
        if rnd.random() < 0.4 and len(delivery) > 2:
            delivery.append(delivery[-2])
    counted = {e.event_id: 0 for e in events}
    for event, at in delivery:
        counted[event.event_id] += len(store.apply(event, at, store.read(event), NOW))
    assert counted == {e.event_id: len(list(e.subjects())) for e in events}  # each subject once
    expected = {
        subject: {k: b for k, b in reference.buckets(subject).items() if b.count}
        for e in events
        for subject in e.subjects()
    }
    assert stored(store, events) == expected


def test_an_attempt_is_one_write_per_subject(aws: dict[str, Any]) -> None:
    """Five subjects (card, device, IP, merchant, BIN): five conditional UpdateItems, no
    transaction and no item per event; the hot path reads the same five items."""
    store = DynamoFeatureStore(aws["ddb"], FEATURES)
    event = events_of([detail(1)])[0]
    calls: list[str] = []
    aws["ddb"].meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.append(model.name)
    )
    store.apply(event, StreamPosition(SHARD, 1), store.read(event), NOW)
    assert calls == ["BatchGetItem", *["UpdateItem"] * 5]
    items = aws["ddb"].scan(TableName=FEATURES)["Items"]
    assert sorted(i["pk"]["S"] for i in items) == sorted(subject_key(s) for s in event.subjects())
    assert all(i[f"s:{SHARD}"]["S"] == mark_value(1) for i in items)


def test_a_second_copy_of_an_event_on_the_stream_counts_nowhere(aws: dict[str, Any]) -> None:
    """EventBridge delivers to a target at least once: one event can become two records, with
    two sequence numbers on the card's shard. The card remembers the ids it counted, so the
    copy changes no subject; a redelivery of either record changes nothing either."""
    first, other = (json.dumps(detail(n, card=1)).encode() for n in (1, 2))
    for payloads, start in (([first], 1000), ([other, first], 1001), ([first], 1000)):
        assert handler.handler(kinesis_event(payloads, first=start), _Context()) == {
            "batchItemFailures": []
        }
    store = DynamoFeatureStore(aws["ddb"], FEATURES)
    card = stored(store, events_of([detail(1, card=1)]))[(SubjectType.CARD, "card#ck_card1")]
    assert sum(b.count for (w, _), b in card.items() if w == "10m") == 2
    assert merchant_count(store) == 2


def test_marks_compare_as_numbers_of_any_length() -> None:
    # Kinesis sequence numbers run to 56 digits and more: past DynamoDB's 38-digit numbers.
    small, large = 9, 49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898
    assert mark_value(small) < mark_value(small + 1) < mark_value(large) < mark_value(large + 1)


def test_an_event_older_than_every_window_is_not_counted(aws: dict[str, Any]) -> None:
    store = DynamoFeatureStore(aws["ddb"], FEATURES)
    old = events_of([detail(1)])[0]
    later = old.occurred_at + 9 * 86_400
    assert store.apply(old, StreamPosition(SHARD, 1), store.read(old), later) == set()


def merchant_count(store: DynamoFeatureStore) -> int:
    merchant = stored(store, events_of([detail(0)]))[(SubjectType.MERCHANT, "m_1")]
    return sum(b.count for (w, _), b in merchant.items() if w == "10m")


def test_a_batch_stops_at_its_first_failed_record(aws: dict[str, Any]) -> None:
    """A poison record fails, and every record after it is answered failed without being run
    (its subjects' marks must not pass the poison); the retry Lambda makes from the poison
    (bisected until it is alone, then the on-failure queue) counts the rest once."""
    good = [json.dumps(detail(n, card=n)).encode() for n in range(3)]
    poison = json.dumps(
        {**detail(9), "card": {"brand": "visa", "last4": "4242", "number": "4242424242424242"}}
    )
    batch = kinesis_event([good[0], poison.encode(), b"not json", good[1], good[2]])
    response = handler.handler(batch, _Context())
    assert response == {
        "batchItemFailures": [{"itemIdentifier": str(n)} for n in (1001, 1002, 1003, 1004)]
    }
    store = DynamoFeatureStore(aws["ddb"], FEATURES)
    assert merchant_count(store) == 1
    # After the poison and the unparsable record went to the failure queue alone:
    assert handler.handler(kinesis_event(good[1:], first=1003), _Context()) == {
        "batchItemFailures": []
    }
    assert merchant_count(store) == 3
    # A batch retried whole (Lambda resends from its checkpoint) counts nothing twice.
    handler.handler(kinesis_event([good[0], good[1], good[2]], first=1000), _Context())
    assert merchant_count(store) == 3


def test_records_the_features_do_not_read_are_ignored_not_failed(aws: dict[str, Any]) -> None:
    """The stream also carries captures, refunds and fraud alerts (for the data lake): each is
    counted by type in the batch's log line and passes; none changes a feature."""
    captured = {
        **detail(1, device="dev-x"),
        "event_id": "pay_0001:payment.captured",
        "status": "captured",
        "decline_code": None,
        "amount_captured": 100,
        "operation_amount": 100,
    }
    refunded = {
        **captured,
        "event_id": "pay_0001:payment.refunded:re_1",
        "status": "refunded",
        "amount_refunded": 100,
        "operation_key": "re_1",
    }
    alert = {
        "alert_id": "fa_" + "a" * 32,
        "subject_type": "device",
        "subject": "dev-x",
        "typology": "card_testing",
        "score": 12,
        "reasons": ["device_distinct_cards_1h"],
        "window": "1h",
        "first_seen": "2026-12-01T11:00:00+00:00",
        "last_seen": "2026-12-01T11:10:00+00:00",
        "blocked_until": None,
    }
    payloads = [json.dumps(d).encode() for d in (captured, refunded, alert)]
    assert handler.handler(kinesis_event(payloads), _Context()) == {"batchItemFailures": []}
    assert dict(handler.seen) == {
        "payment.captured": 1,
        "payment.refunded": 1,
        "fraud.alert": 1,
        "ignored": 3,
    }
    assert aws["ddb"].scan(TableName=FEATURES)["Items"] == []


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_a_record_holding_a_card_number_fails_without_its_value_in_the_log(
    aws: dict[str, Any],
) -> None:
    """Refused whole (its neighbour passes), and the failure logged names what was wrong, never
    the value: pydantic's own message quotes the start and end of the input."""
    # First, where pydantic's message would quote it.
    leaking = {"device_id": "4242424242424242", **detail(1)} | {"device_id": "4242424242424242"}
    payloads = [json.dumps(detail(2)).encode(), json.dumps(leaking).encode()]
    lines = _Lines()
    lines.setFormatter(handler.logger.registered_formatter)
    logging.getLogger(handler.logger.name).addHandler(lines)
    try:
        response = handler.handler(kinesis_event(payloads), _Context())
    finally:
        logging.getLogger(handler.logger.name).removeHandler(lines)
    assert response == {"batchItemFailures": [{"itemIdentifier": "1001"}]}
    logged = "\n".join(lines.lines)
    assert "must not contain a card number" in logged and '"sequence_number":"1001"' in logged
    assert "42424242" not in logged  # not even the first eight digits
    with pytest.raises(UnreadableRecordError) as refused:
        parse_record(json.dumps({"number": "4242424242424242"}).encode())
    assert "4242424242424242" not in str(refused.value)


def test_a_card_testing_burst_raises_one_alert_and_blocks_the_device(aws: dict[str, Any]) -> None:
    # A new IP per attempt: only the device ties the burst together.
    burst = [
        json.dumps(detail(n, card=n, device="dev-tester", ip=f"203.0.113.{n}")).encode()
        for n in range(8)
    ]
    assert handler.handler(kinesis_event(burst[:4]), _Context()) == {"batchItemFailures": []}
    assert alerts_on_bus(aws) == []  # four cards: under the threshold of five
    handler.handler(kinesis_event(burst[4:], first=1004), _Context())
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


class _FlakyDynamoDB:
    """The DynamoDB client, with UpdateItem failing where ``failures`` says (as a throttle or
    an internal error would, after the SDK's retries)."""

    def __init__(self, client: Any, failures: list[bool]) -> None:
        self._client = client
        self._failures = iter(failures)

    def update_item(self, **kwargs: Any) -> Any:
        if next(self._failures, False):
            error = {"Error": {"Code": "InternalServerError", "Message": "injected"}}
            raise ClientError(error, "UpdateItem")  # type: ignore[arg-type]
        return self._client.update_item(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@st.composite
def consumer_runs(draw: st.DrawFn) -> dict[str, Any]:
    """Attempts on two shards (partitioned by card, as the stream is), some put on the stream
    twice, the write failures the consumer meets, and how Lambda walks each shard: batch
    sizes, which shard goes next, and batches whose work is done but which are delivered again
    (a timeout after the handler ran)."""
    n = draw(st.integers(min_value=1, max_value=10))
    details = [
        detail(
            i,
            card=draw(st.integers(0, 3)),
            device=draw(st.sampled_from(("dev-1", "dev-2"))),
            minutes=draw(st.integers(0, 9)),
            ip=draw(st.sampled_from(("198.51.100.7", "198.51.100.8"))),
        )
        for i in range(n)
    ]
    # Events EventBridge puts on the stream twice: the copy lands later on the same shard.
    copies = draw(st.lists(st.integers(0, n - 1), max_size=3))
    return {
        "details": details,
        "stream": details + [details[i] for i in copies],
        "failures": draw(st.lists(st.booleans(), max_size=40)),
        "steps": draw(st.lists(st.tuples(st.integers(0, 1), st.integers(1, 5), st.booleans()))),
    }


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(run=consumer_runs())
# The case a batch that went on past its failure would get wrong: the first record's third
# write (its IP) fails, and the second, on the same shard and merchant, would move the
# merchant's mark past the first before its retry.
@example(
    run={
        "details": [detail(0, card=0), detail(1, card=2)],
        "failures": [False, False, True],
        "steps": [(0, 2, False)],
    }
)
def test_the_consumer_counts_each_attempt_once_whatever_fails_and_is_redelivered(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch, run: dict[str, Any]
) -> None:
    """The handler as Lambda drives it on a shard: a batch from the checkpoint, the checkpoint
    moved to the lowest failed record (or kept when the whole batch failed, or when a batch that
    succeeded is delivered again); writes fail at random. When every shard is drained, the
    feature table equals the in-memory reference of the distinct attempts."""
    ddb = aws["ddb"]
    for item in ddb.scan(TableName=FEATURES)["Items"]:
        ddb.delete_item(TableName=FEATURES, Key={"pk": item["pk"]})
    service = dataclasses.replace(
        wiring.service(),
        store=DynamoFeatureStore(_FlakyDynamoDB(ddb, run["failures"]), FEATURES),  # type: ignore[arg-type]
    )
    monkeypatch.setattr(handler, "wiring", types.SimpleNamespace(service=lambda: service))
    # A record's subject writes one after another, so a drawn failure always hits the same
    # write (the store sends them together; each is independent of the others).
    monkeypatch.setattr(fraud_stream_tables, "_WRITERS", types.SimpleNamespace(map=map))
    details = run["details"]
    shards: dict[int, list[bytes]] = {0: [], 1: []}
    for d in run.get("stream", details):
        shards[int(d["platform_card_key"][-1]) % 2].append(json.dumps(d).encode())
    checkpoints = {0: 0, 1: 0}
    steps = iter(run["steps"])
    while any(checkpoints[s] < len(shards[s]) for s in shards):
        shard, size, again = next(steps, (0, 100, False))
        if checkpoints[shard] >= len(shards[shard]):
            shard = 1 - shard
        first = checkpoints[shard]
        batch = shards[shard][first : first + size]
        try:
            response = handler.handler(
                kinesis_event(batch, first=first, shard=f"shard-{shard}"), _Context()
            )
        except BatchProcessingError:
            continue  # every record failed: the batch is retried whole
        failed = [int(f["itemIdentifier"]) for f in response["batchItemFailures"]]
        if not again:
            checkpoints[shard] = min(failed) if failed else first + len(batch)
    events = events_of(details)
    reference = InMemoryFeatureCounters()
    for event in events:
        reference.apply(event)
    expected = {
        subject: {k: b for k, b in reference.buckets(subject).items() if b.count}
        for e in events
        for subject in e.subjects()
    }
    assert stored(DynamoFeatureStore(ddb, FEATURES), events) == expected
