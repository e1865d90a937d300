"""The payment record as the payments table stores it: small enough that each of a sale's two
writes is one write unit (DynamoDB bills a PutItem by the larger of the old and new item, per
started KB), and read back whole."""

from __future__ import annotations

import dataclasses

from moto.dynamodb.models.dynamo_type import DynamoType, Item

from functions.adapters.payments_table import from_item, to_item
from functions.domain.payments import Payment, PaymentStatus, new_payment

NOW = "2026-12-01T04:40:00.123+00:00"


def captured_sale() -> Payment:
    """A sale as the workflow leaves it, every field the risk and sale steps fill at its
    longest usual length: the rules' and the shadow model's reasons, the fraud inputs, an SCA
    exemption, the acquirer's authorization id and the capture key."""
    context = {
        "payment_id": "pay_854acf7e1807902742a1bb1e",
        "received_at": NOW,
        "request_digest": "a" * 64,
        "merchant_id": "merchant_0123456789",
        "amount": 2_500,
        "currency": "EUR",
        "customer": {"id": "cus_0123456789abcdef", "device_id": "dev_0123456789abcdef"},
        "card": {"token": "tok_riTboVUVDqZ7hNpZtGtHbA", "brand": "visa", "last4": "4242"}
        | {"card_key": "ck_" + "A" * 43, "first6": "424242"},
        "fraud": {
            "result": {
                "score": 35,
                "decision": "allow",
                "reasons": ["amount_above_typical", "country_mismatch"],
                "model": "rules-v3",
                "inputs": {
                    "ip": "203.0.113.254",
                    "billing_country": "GB",
                    "card_country": "GB",
                    "ip_country": "FR",
                    "amount_eur_minor": 2_500,
                },
                "shadow": {
                    "score": 41,
                    "decision": "allow",
                    "reasons": ["velocity_device_1h"],
                    "model": "fraud-model-v1",
                },
            }
        },
        "sca": {"result": {"required": False, "exemption": "low_value", "reason": "low_value"}},
    }
    created = new_payment(context, PaymentStatus.AUTHORIZING, NOW).evolve(
        NOW, capture_key="pay_854acf7e1807902742a1bb1e:capture", capture_pending=2_500
    )
    return created.authorized("auth_i7tb25ehoovhyldaekepor5e2yqket6h", NOW).captured(2_500, NOW)


def item_size(payment: Payment) -> int:
    item = to_item(payment)
    return int(Item(DynamoType(item["payment_id"]), None, item).size())


def test_a_captured_sale_fits_in_one_write_unit() -> None:
    sale = captured_sale()
    assert sale.status is PaymentStatus.CAPTURED and sale.card_key
    assert item_size(sale) <= 1024


def test_the_record_reads_back_whole() -> None:
    sale = dataclasses.replace(captured_sale(), bin=None)  # the BIN is never stored
    assert from_item(to_item(sale)) == sale
    fresh = dataclasses.replace(sale, amount_captured=0, refunds=(), authorize_attempt=0)
    assert from_item(to_item(fresh)) == fresh


def test_records_written_with_the_card_key_attribute_still_read() -> None:
    sale = dataclasses.replace(captured_sale(), bin=None)
    older = to_item(sale) | {"card_key": {"S": "ck_older"}}
    assert from_item(older).card_key == "ck_older"
    assert "card_key" not in to_item(sale)


def test_metadata_reads_back_and_an_empty_map_is_not_stored() -> None:
    sale = dataclasses.replace(captured_sale(), bin=None, metadata={"order_id": "ord_1"})
    assert to_item(sale)["metadata"] == {"M": {"order_id": {"S": "ord_1"}}}
    assert from_item(to_item(sale)) == sale
    assert "metadata" not in to_item(dataclasses.replace(sale, metadata={}))
    assert from_item(to_item(dataclasses.replace(sale, metadata={}))).metadata == {}


def test_a_sale_with_an_order_reference_still_fits_in_one_write_unit() -> None:
    order = {"order_id": "ord_2026_000123456789"}
    assert item_size(dataclasses.replace(captured_sale(), metadata=order)) <= 1024


def test_a_sale_at_the_metadata_cap_costs_at_most_three_write_units_a_write() -> None:
    # 20 keys of 40 characters and values filling the 2,048 bytes (models.payments): what
    # docs/decisions/0003 prices as the most a payment's metadata adds to each write.
    keys = [f"{i:02d}".ljust(40, "k") for i in range(20)]
    metadata = {k: "v" * (2048 // 20 - 40) for k in keys}
    assert sum(len(k) + len(v) for k, v in metadata.items()) <= 2048
    assert item_size(dataclasses.replace(captured_sale(), metadata=metadata)) <= 3 * 1024
