"""Customer and device ids land in the lake only as keyed pseudonyms under one secret per
customer, and erasing that secret (GDPR Art. 17) leaves the customer's rows unlinkable: their
pseudonyms can no longer be recomputed from the id, and the customer's next rows get new ones.
The DynamoDB key store: secrets survive a second caller, are created once under a race, and
erasure deletes them."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.adapters.lake_pseudonym_keys import DynamoPseudonymKeys
from functions.domain.lake_records import (
    REDACTED,
    REMOVED_FIELDS,
    key_scope,
    prepare,
    pseudonym,
)
from local.lake_events import payment_events
from tests.unit.lake.lake_fixtures import MemoryPseudonymKeys

EVENTS = list(payment_events(60, seed=12))


def prepared(events: list[dict[str, Any]], keys: MemoryPseudonymKeys) -> list[dict[str, Any]]:
    return [json.loads(r.text) for r in prepare([json.dumps(e) for e in events], keys)]


def test_identifiers_are_replaced_by_pseudonyms_and_removed() -> None:
    keys = MemoryPseudonymKeys()
    rows = prepared(EVENTS, keys)
    assert keys.calls == 1  # one read of the key store per batch
    for event, row in zip(EVENTS, rows, strict=True):
        assert not set(REMOVED_FIELDS) & set(row)
        text = json.dumps(row)
        for field in ("customer_id", "device_id", "ip", "token"):
            assert event[field] not in text
        secret = keys.items[key_scope(event["merchant_id"], event["customer_id"])]
        assert row["customer_pseudonym"] == pseudonym(secret, "customer", event["customer_id"])
        assert row["device_pseudonym"] == pseudonym(secret, "device", event["device_id"])


def test_a_customer_keeps_one_pseudonym_and_customers_are_told_apart() -> None:
    rows = prepared(EVENTS, MemoryPseudonymKeys())
    by_customer: dict[tuple[str, str], set[str]] = {}
    for event, row in zip(EVENTS, rows, strict=True):
        by_customer.setdefault((event["merchant_id"], event["customer_id"]), set()).add(
            row["customer_pseudonym"]
        )
    assert all(len(p) == 1 for p in by_customer.values())
    # The same customer id at two merchants is two people: two pseudonyms.
    pseudonyms = [next(iter(p)) for p in by_customer.values()]
    assert len(set(pseudonyms)) == len(pseudonyms) > 8


def test_erasing_a_customer_unlinks_their_rows() -> None:
    keys = MemoryPseudonymKeys()
    erased = (EVENTS[0]["merchant_id"], EVENTS[0]["customer_id"])
    theirs = [e for e in EVENTS if (e["merchant_id"], e["customer_id"]) == erased]
    others = [e for e in EVENTS if (e["merchant_id"], e["customer_id"]) != erased]
    before = prepared(theirs + others, keys)
    old = {r["customer_pseudonym"] for r in before[: len(theirs)]}
    old_devices = {r["device_pseudonym"] for r in before[: len(theirs)]}

    assert keys.erase(key_scope(*erased)) is True
    assert keys.erase(key_scope(*erased)) is False

    # Nothing left in the key store recomputes the erased customer's pseudonyms ...
    for secret in keys.items.values():
        assert pseudonym(secret, "customer", erased[1]) not in old
        assert not {pseudonym(secret, "device", e["device_id"]) for e in theirs} & old_devices
    # ... their next rows get new ones, and everyone else's are unchanged.
    after = prepared(theirs + others, keys)
    assert not {r["customer_pseudonym"] for r in after[: len(theirs)]} & old
    assert after[len(theirs) :] == before[len(theirs) :]


def test_scopes_cannot_collide_through_the_ids() -> None:
    assert key_scope("m#a", "b") != key_scope("m", "a#b")
    assert key_scope("m", "") == key_scope("m", None)  # an empty id is no customer
    assert pseudonym(b"k" * 32, "customer", "x") != pseudonym(b"k" * 32, "device", "x")


def test_records_without_a_customer_or_a_merchant_or_not_json() -> None:
    keys = MemoryPseudonymKeys()
    anonymous = dict(EVENTS[0], customer_id=None)
    unscoped = {"event_id": "x:payment.authorized", "device_id": "dev_1", "ip": "198.51.100.1"}
    texts = [json.dumps(anonymous), json.dumps(unscoped), '{"note": "4111111111111111"', "[1]"]
    out = prepare(texts, keys)
    first, second = json.loads(out[0].text), json.loads(out[1].text)
    secret = keys.items[key_scope(anonymous["merchant_id"], None)]
    assert first["customer_pseudonym"] is None
    assert first["device_pseudonym"] == pseudonym(secret, "device", anonymous["device_id"])
    assert second == {
        "event_id": "x:payment.authorized",
        "customer_pseudonym": None,
        "device_pseudonym": None,
    }
    # Not a JSON object: passed on redacted (it fails conversion and lands under errors/).
    assert out[2].text == '{"note": "' + REDACTED + '"' and out[2].redacted == 1
    assert out[3].text == "[1]"


@pytest.fixture
def dynamo(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-2",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-2")
        client.create_table(
            TableName="keys",
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "scope", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "scope", "AttributeType": "S"}],
        )
        yield client


def test_the_table_keeps_one_secret_per_scope_and_erases_it(dynamo: Any) -> None:
    scopes = [f"customer#1:m#c{n}" for n in range(130)]  # more than one BatchGetItem
    first = DynamoPseudonymKeys(dynamo, "keys").secrets(scopes)
    again = DynamoPseudonymKeys(dynamo, "keys").secrets(scopes)
    assert first == again and len(set(first.values())) == 130
    assert all(len(s) == 32 for s in first.values())
    keys = DynamoPseudonymKeys(dynamo, "keys")
    assert keys.erase(scopes[0]) is True
    assert keys.erase(scopes[0]) is False
    assert "Item" not in dynamo.get_item(TableName="keys", Key={"scope": {"S": scopes[0]}})
    assert keys.secrets([scopes[0]])[scopes[0]] != first[scopes[0]]


def test_concurrent_first_uses_agree_on_one_secret(dynamo: Any) -> None:
    results: list[bytes] = []
    barrier = threading.Barrier(4)

    def first_use() -> None:
        keys = DynamoPseudonymKeys(dynamo, "keys")
        barrier.wait()
        results.append(keys.secrets(["customer#1:m#new"])["customer#1:m#new"])

    threads = [threading.Thread(target=first_use) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and len(set(results)) == 1


def test_the_local_erasure_command_deletes_the_customers_secret(dynamo: Any) -> None:
    from local.lake_erasure import erase_customer

    dynamo.create_table(
        TableName="pay-lake-pseudonym-keys",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "scope", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "scope", "AttributeType": "S"}],
    )
    keys = DynamoPseudonymKeys(dynamo, "pay-lake-pseudonym-keys")
    mine, other = key_scope("m_1", "cus_1"), key_scope("m_1", "cus_2")
    keys.secrets([mine, other])
    # "keys" ends with no suffix: the command finds the one lake key table by its name.
    assert erase_customer(dynamo, "m_1", "cus_1", None) is True
    assert erase_customer(dynamo, "m_1", "cus_1", None) is False
    left = dynamo.scan(TableName="pay-lake-pseudonym-keys")["Items"]
    assert [i["scope"]["S"] for i in left] == [other]


def test_fraud_alerts_sharing_the_stream_are_dropped_not_parked_under_errors() -> None:
    alert = {
        "alert_id": "fa_" + "0" * 32,
        "subject_type": "device",
        "subject": "dev_secret",
        "typology": "card_testing",
    }
    (out,) = prepare([json.dumps(alert)], MemoryPseudonymKeys())
    assert out.dropped and "dev_secret" not in out.text
