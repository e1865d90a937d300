"""The lake's transformation step: a card number that reached the stream anyway is redacted
before Firehose converts the record, and the log says how many, never which; everything else
passes unchanged."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from functions.domain.cards import contains_card_number
from functions.domain.lake_records import REDACTED, Redaction, redact_card_numbers
from functions.handlers import lake_transform
from local.lake_events import payment_events
from tests.unit.lake.lake_fixtures import Context

VISA = "4111111111111111"


def test_luhn_valid_runs_are_redacted_in_any_spelling() -> None:
    text = json.dumps({"a": VISA, "b": "4111 1111 1111 1111", "c": "5555-5555-5555-4444"})
    redaction = redact_card_numbers(text)
    assert redaction.redacted == 3
    assert not contains_card_number(redaction.text)
    assert redaction.text.count(REDACTED) == 3


def test_other_digits_are_left_alone() -> None:
    # Not Luhn-valid, too short or too long: amounts, timestamps, ids.
    text = json.dumps({"n": "4111111111111112", "short": "411111111111", "long": "4" * 20})
    assert redact_card_numbers(text).text == text
    for event in payment_events(50, seed=8):
        line = json.dumps(event)
        assert redact_card_numbers(line) == Redaction(line, 0)


def firehose_event(payloads: list[bytes]) -> dict[str, Any]:
    return {
        "invocationId": "inv-1",
        "deliveryStreamArn": "arn:aws:firehose:eu-west-1:111122223333:deliverystream/pay",
        "region": "eu-west-1",
        "records": [
            {
                "recordId": f"r{i}",
                "approximateArrivalTimestamp": 1767225600000,
                "data": base64.b64encode(p).decode(),
            }
            for i, p in enumerate(payloads)
        ],
    }


def test_the_handler_answers_every_record_ok_with_card_numbers_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clean = json.dumps(next(payment_events(1, seed=2))).encode()
    dirty = json.dumps({"event_id": "pay_1:payment.authorized", "note": VISA}).encode()
    response = lake_transform.handler(firehose_event([clean, dirty]), Context())
    records = response["records"]
    assert [(r["recordId"], r["result"]) for r in records] == [("r0", "Ok"), ("r1", "Ok")]
    kept = json.loads(base64.b64decode(records[0]["data"]))
    assert kept["customer_pseudonym"].startswith("ps_") and "customer_id" not in kept
    redacted = base64.b64decode(records[1]["data"]).decode()
    assert VISA not in redacted and REDACTED in redacted
    # The log record carries the count as a field (Powertools' JSON line), not the number.
    (record,) = [r for r in caplog.records if getattr(r, "lake_redaction", None)]
    assert (record.__dict__["lake_redaction"], record.__dict__["count"]) == ("card_number", 1)
    assert VISA not in caplog.text and VISA not in str(record.__dict__)


def test_each_delivery_stream_keeps_its_own_kind_and_drops_the_other() -> None:
    payment = next(payment_events(1, seed=4))
    alert = {
        "alert_id": "fa_" + "1" * 32,
        "subject_type": "device",
        "subject": "dev_burst",
        "typology": "card_testing",
        "score": 80,
        "reasons": ["device_distinct_cards_1h"],
        "window": "1h",
        "first_seen": "2026-01-01T00:00:00+00:00",
        "last_seen": "2026-01-01T00:10:00+00:00",
        "blocked_until": None,
    }
    payloads = [json.dumps(payment).encode(), json.dumps(alert).encode()]
    answers = {}
    for stream in ("pay", "pay-alerts"):  # tests/unit/lake/conftest.py names their tables
        event = firehose_event(payloads)
        event["deliveryStreamArn"] = (
            f"arn:aws:firehose:eu-west-1:111122223333:deliverystream/{stream}"
        )
        answers[stream] = lake_transform.handler(event, Context())["records"]
    assert [r["result"] for r in answers["pay"]] == ["Ok", "Dropped"]
    assert [r["result"] for r in answers["pay-alerts"]] == ["Dropped", "Ok"]
    landed = json.loads(base64.b64decode(answers["pay-alerts"][1]["data"]))
    assert landed["alert_id"] == alert["alert_id"] and landed["subject"] is None


def test_a_delivery_stream_the_step_does_not_know_fails_the_invocation() -> None:
    event = firehose_event([json.dumps(next(payment_events(1, seed=4))).encode()])
    event["deliveryStreamArn"] = "arn:aws:firehose:eu-west-1:111122223333:deliverystream/other"
    with pytest.raises(KeyError):
        lake_transform.handler(event, Context())
