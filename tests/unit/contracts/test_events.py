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


def assessed_payment() -> Payment:
    """A payment created from a context the risk step filled, as the workflow creates it."""
    context = {
        "payment_id": "pay_0123456789abcdef01234568",
        "merchant_id": "m_1",
        "amount": 2_500,
        "currency": "GBP",
        "customer": {"id": "cus_1", "device_id": "dev-1", "ip": "192.0.2.10", "country": "DE"},
        "card": {
            "token": "tok_abcdefgh12345678",
            "brand": "visa",
            "last4": "4242",
            "card_key": "ck_" + "A" * 43,
            "first6": "424242",
        },
        "fraud": {
            "result": {
                "score": 0,
                "decision": "allow",
                "reasons": [],
                "inputs": {
                    "ip": "192.0.2.10",
                    "billing_country": "DE",
                    "card_country": "US",
                    "ip_country": "FR",
                    "amount_eur_minor": 2_950,
                },
            }
        },
    }
    return new_payment(context, PaymentStatus.AUTHORIZED, NOW)


def test_payment_events_carry_what_the_fraud_stream_counts_on() -> None:
    entry = assessed_payment().event(EventType.AUTHORIZED, "bus", amount=2_500)
    detail = parse_entry(entry).Detail
    assert {k: detail[k] for k in ("platform_card_key", "bin", "device_id", "ip")} == {
        "platform_card_key": "card#ck_" + "A" * 43,
        "bin": "424242",
        "device_id": "dev-1",
        "ip": "192.0.2.10",
    }
    assert (detail["billing_country"], detail["card_country"], detail["ip_country"]) == (
        "DE",
        "US",
        "FR",
    )
    assert detail["amount_eur_minor"] == 2_950


def test_a_card_without_card_key_is_named_by_its_token_and_unknowns_are_null() -> None:
    detail = parse_entry(payment().event(EventType.AUTHORIZED, "bus", amount=2_500)).Detail
    assert detail["platform_card_key"] == "token#tok_abcdefgh12345678"
    assert detail["bin"] is detail["ip"] is detail["amount_eur_minor"] is None


def test_the_payments_table_never_keeps_the_bin_with_the_card_key() -> None:
    from functions.adapters.payments_table import from_item, to_item

    item = to_item(assessed_payment())
    assert "424242" not in json.dumps(item)
    # What the table gives back publishes its later events without a BIN, nothing else lost.
    detail = parse_entry(from_item(item).event(EventType.CAPTURED, "bus", amount=1)).Detail
    assert detail["bin"] is None
    assert detail["platform_card_key"].startswith("card#ck_")
    assert detail["ip_country"] == "FR"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("platform_card_key", PAN),
        ("platform_card_key", "ck_abc"),
        ("bin", "4242424242424242"),
        ("card_country", "de"),
        ("amount_eur_minor", -1),
    ],
)
def test_a_stream_field_out_of_shape_is_refused(field: str, value: Any) -> None:
    entry = copy.deepcopy(assessed_payment().event(EventType.AUTHORIZED, "bus", amount=2_500))
    entry["Detail"][field] = value
    with pytest.raises(ValidationError):
        parse_entry(entry)
