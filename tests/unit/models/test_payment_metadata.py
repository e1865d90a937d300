"""``metadata`` on ``POST /v1/payments``: the merchant's own string pairs, bounded, never a
card number. A refusal is a 400 naming ``metadata[<key>]`` for a value and ``metadata`` for the
map as a whole or a key, and never quotes what was refused (a key may be a card number)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from functions.errors import ApiError, from_validation_error
from functions.models.payments import (
    METADATA_KEY_MAX_LENGTH,
    METADATA_MAX_BYTES,
    METADATA_MAX_KEYS,
    METADATA_VALUE_MAX_LENGTH,
    PaymentRequest,
)
from functions.services.payment_commands import request_digest, workflow_request

PAN = "4242424242424242"
AMEX = "378282246310005"


def body(metadata: object = None) -> dict[str, Any]:
    request: dict[str, Any] = {
        "merchant_id": "m_1",
        "amount": 2_500,
        "currency": "EUR",
        "payment_method": {"type": "card", "token": "tok_abcdefgh"},
        "customer": {"id": "c_1"},
    }
    if metadata is not None:
        request["metadata"] = metadata
    return request


def refusal(metadata: object) -> ApiError:
    with pytest.raises(ValidationError) as caught:
        PaymentRequest.model_validate(body(metadata))
    error = from_validation_error(caught.value)
    assert error.status == 400 and error.code == "parameter_invalid"
    return error


def test_metadata_within_the_limits_is_kept_as_given() -> None:
    pairs = {f"key_{i}": "v" * 90 for i in range(METADATA_MAX_KEYS)}  # 20 x 95 bytes
    assert PaymentRequest.model_validate(body(pairs)).metadata == pairs
    assert PaymentRequest.model_validate(body({"order-id": ""})).metadata == {"order-id": ""}


@pytest.mark.parametrize("pan", [PAN, "4242 4242 4242 4242", "4242-4242-4242-4242", AMEX])
def test_a_card_number_in_a_value_is_refused_naming_its_key(pan: str) -> None:
    error = refusal({"order_id": "A-1", "note": f"paid with {pan}"})
    assert error.param == "metadata[note]"
    assert pan not in error.message and "4242" not in error.message


@pytest.mark.parametrize("key", [PAN, AMEX, "4242-4242-4242-4242"])
def test_a_card_number_as_a_key_is_refused_without_naming_the_key(key: str) -> None:
    error = refusal({key: "x"})
    assert error.param == "metadata"
    assert key not in error.message and "card number" in error.message


@pytest.mark.parametrize(
    ("metadata", "param"),
    [
        ({f"k{i}": "v" for i in range(METADATA_MAX_KEYS + 1)}, "metadata"),
        ({"k" * (METADATA_KEY_MAX_LENGTH + 1): "v"}, "metadata"),
        ({"": "v"}, "metadata"),
        ({"order id": "v"}, "metadata"),
        ({"ordér": "v"}, "metadata"),
        ({"note": "v" * (METADATA_VALUE_MAX_LENGTH + 1)}, "metadata[note]"),
        ({"count": 3}, "metadata[count]"),
        ({"nested": {"a": "b"}}, "metadata[nested]"),
        ({"flag": None}, "metadata[flag]"),
        (["order_id"], "metadata"),
        ("order_id", "metadata"),
        # 5 x (3 + 450) bytes is 2,265: over the 2 KB total though each pair is allowed.
        ({f"k_{i}": "v" * 450 for i in range(5)}, "metadata"),
        # Characters count as UTF-8 bytes: 300 x 2 bytes x 4 = 2,400 > 2,048.
        ({f"k{i}": "é" * 300 for i in range(4)}, "metadata"),
    ],
)
def test_metadata_out_of_bounds_is_refused_naming_the_field(metadata: object, param: str) -> None:
    assert refusal(metadata).param == param


@given(
    st.dictionaries(
        st.text(alphabet=st.characters(codec="utf-8"), max_size=45),
        st.text(max_size=520),
        max_size=24,
    )
)
def test_accepted_metadata_always_keeps_every_bound(metadata: dict[str, str]) -> None:
    refused: ApiError | None = None
    try:
        kept = PaymentRequest.model_validate(body(metadata)).metadata or {}
    except ValidationError as error:
        refused = from_validation_error(error)
        kept = {}
    assert refused is None or refused.param is not None
    assert len(kept) <= METADATA_MAX_KEYS
    assert sum(len(k.encode()) + len(v.encode()) for k, v in kept.items()) <= METADATA_MAX_BYTES
    assert all(1 <= len(k) <= METADATA_KEY_MAX_LENGTH for k in kept)


def test_a_request_without_metadata_keeps_the_digest_it_had_before_metadata() -> None:
    request = PaymentRequest.model_validate(body())
    dumped = workflow_request(request)
    assert dumped["metadata"] is None  # the workflow reads $.request.metadata: always present
    before = {k: v for k, v in dumped.items() if k != "metadata"}
    assert request_digest(dumped) == request_digest(before)


def test_metadata_is_part_of_what_a_reused_key_must_match() -> None:
    first = workflow_request(PaymentRequest.model_validate(body({"order_id": "A-1"})))
    other = workflow_request(PaymentRequest.model_validate(body({"order_id": "A-2"})))
    assert request_digest(first) != request_digest(other)
