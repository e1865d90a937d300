"""The payment events honour their contracts, and the committed JSON Schemas are the ones the
contracts generate (so a field renamed on one side only fails here)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from functions.contracts.events import DETAIL_MODELS, json_schemas, parse_entry
from functions.domain.payments import EventType, Payment, PaymentStatus, Refund, new_payment

SCHEMA_DIR = Path(__file__).parents[3] / "docs" / "schemas" / "events"
NOW = "2026-11-30T10:00:00.000+00:00"
PAN = "4242424242424242"


def payment(**changes: Any) -> Payment:
    context = {
        "payment_id": "pay_0123456789abcdef01234567",
        "merchant_id": "m_1",
        "amount": 2_500,
        "currency": "EUR",
        "capture": True,
        "customer": {"id": "cus_1", "device_id": "dev-1"},
        "card": {"token": "tok_abcdefgh12345678", "brand": "visa", "last4": "4242"},
    }
    return new_payment(context, PaymentStatus.AUTHORIZED, NOW).evolve(NOW, **changes)


def entries() -> list[dict[str, Any]]:
    authorized = payment(authorization_id="auth_1")
    captured = authorized.captured(2_500, NOW)
    refund = Refund("re_1", 1_000, NOW)
    refunded = captured.refunded(refund, NOW)
    declined = payment(status=PaymentStatus.DECLINED, decline_code="insufficient_funds")
    return [
        authorized.event(EventType.AUTHORIZED, "bus", amount=2_500),
        captured.event(EventType.CAPTURED, "bus", amount=2_500),
        refunded.event(EventType.REFUNDED, "bus", key="re_1", amount=1_000),
        declined.event(EventType.DECLINED, "bus"),
        payment(status=PaymentStatus.REQUIRES_ACTION).event(EventType.REQUIRES_ACTION, "bus"),
        payment(status=PaymentStatus.CANCELED).event(EventType.CANCELED, "bus"),
    ]


def test_every_event_type_has_a_contract() -> None:
    assert set(DETAIL_MODELS) == set(EventType)


@pytest.mark.parametrize("entry", entries(), ids=lambda e: e["DetailType"])
def test_the_events_the_domain_publishes_parse_into_their_contracts(entry: dict[str, Any]) -> None:
    parsed = parse_entry(entry)
    assert parsed.DetailType == entry["DetailType"]
    # The entry goes onto the bus as JSON: it must survive a round trip unchanged.
    assert json.loads(json.dumps(entry)) == entry


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("token", PAN),
        ("merchant_id", f"m {PAN[:4]} {PAN[4:8]} {PAN[8:12]} {PAN[12:]}"),
        ("surprise", "a field nobody announced"),
        ("card", {"brand": "visa", "last4": "4242", "number": PAN}),
        ("amount", 0),
        ("occurred_at", "2026-11-30T10:00:00"),  # no offset: ambiguous for the lake
    ],
)
def test_an_event_breaking_its_contract_is_refused(field: str, value: Any) -> None:
    entry = copy.deepcopy(entries()[0])
    entry["Detail"][field] = value
    with pytest.raises(ValidationError):
        parse_entry(entry)


def test_a_refund_event_names_its_refund() -> None:
    entry = copy.deepcopy(entries()[2])
    del entry["Detail"]["operation_key"]
    with pytest.raises(ValidationError):
        parse_entry(entry)


def test_the_committed_schemas_are_generated_from_the_contracts() -> None:
    generated = json_schemas()
    committed = {path.stem: json.loads(path.read_text()) for path in SCHEMA_DIR.glob("*.json")}
    assert committed == generated, (
        "regenerate with: python -m functions.contracts.events docs/schemas/events"
    )
