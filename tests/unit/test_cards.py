from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.domain.cards import (
    CardBrand,
    CardValidationError,
    contains_card_number,
    detect_brand,
    luhn_valid,
    validate_card,
    validate_pan,
)

TODAY = dt.date(2026, 11, 22)


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        ("4242424242424242", CardBrand.VISA),
        ("4222222222222", CardBrand.VISA),
        ("5555555555554444", CardBrand.MASTERCARD),
        ("2223003122003222", CardBrand.MASTERCARD),
        ("2720999999999996", CardBrand.MASTERCARD),
        ("378282246310005", CardBrand.AMEX),
        ("371449635398431", CardBrand.AMEX),
        ("6011111111111117", CardBrand.DISCOVER),
        ("6445644564456445", CardBrand.DISCOVER),
        ("3566002020360505", CardBrand.JCB),
        ("6200000000000005", CardBrand.UNIONPAY),
        ("36227206271667", CardBrand.DINERS),
        ("3056930009020004", CardBrand.DINERS),
        ("6759649826438453", CardBrand.MAESTRO),
        ("5018 0000 0009", CardBrand.MAESTRO),
        ("4242-4242-4242-4242", CardBrand.VISA),
    ],
)
def test_known_test_cards_are_valid_with_their_brand(number: str, brand: CardBrand) -> None:
    pan, detected = validate_pan(number)
    assert detected is brand
    assert pan.isdigit()


def test_unionpay_cobranded_range_is_discover() -> None:
    iin = detect_brand("6221260000000000")
    assert iin is not None and iin.brand is CardBrand.DISCOVER


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("4242424242424241", "invalid_number"),  # check digit
        ("42424242424242421", "invalid_number"),  # 17 digits is no Visa length
        ("37828224631000", "invalid_number"),  # Amex has 15 digits
        ("5555555555554", "invalid_number"),  # Mastercard has 16
        ("9999999999999995", "unsupported_card_brand"),
        ("42424242", "invalid_number"),  # too short for any card
        ("4242424242424242424242", "invalid_number"),  # too long
        ("4242abcd42424242", "invalid_number"),
        ("\uff14\uff12" * 8, "invalid_number"),  # full-width digits
        ("", "invalid_number"),
    ],
)
def test_bad_numbers_are_refused_with_a_code(number: str, code: str) -> None:
    with pytest.raises(CardValidationError) as raised:
        validate_pan(number)
    assert raised.value.code == code
    assert raised.value.param == "payment_method.card.number"


def test_error_messages_never_contain_the_number() -> None:
    for number in ("4242424242424241", "42424242424242421", "9999999999999995"):
        with pytest.raises(CardValidationError) as raised:
            validate_pan(number)
        assert number not in str(raised.value)
        assert number[-4:] not in raised.value.message


@pytest.mark.parametrize(
    ("month", "year", "code"),
    [
        (10, 2026, "expired_card"),
        (12, 2025, "expired_card"),
        (13, 2027, "invalid_expiry_month"),
        (0, 2027, "invalid_expiry_month"),
        (1, 1999, "invalid_expiry_year"),
        (1, 2047, "invalid_expiry_year"),
    ],
)
def test_expiry_is_checked(month: int, year: int, code: str) -> None:
    with pytest.raises(CardValidationError) as raised:
        validate_card("4242424242424242", month, year, "123", TODAY)
    assert raised.value.code == code


def test_a_card_is_valid_through_its_expiry_month() -> None:
    card = validate_card("4242424242424242", 11, 2026, "123", TODAY)
    assert (card.first6, card.last4, card.length) == ("424242", "4242", 16)


@pytest.mark.parametrize(
    ("number", "cvc", "ok"),
    [
        ("378282246310005", "1234", True),
        ("378282246310005", "123", False),
        ("4242424242424242", "123", True),
        ("4242424242424242", "1234", False),
        ("4242424242424242", "12a", False),
    ],
)
def test_cvc_length_follows_the_brand(number: str, cvc: str, ok: bool) -> None:
    if ok:
        validate_card(number, 12, 2030, cvc, TODAY)
    else:
        with pytest.raises(CardValidationError) as raised:
            validate_card(number, 12, 2030, cvc, TODAY)
        assert raised.value.code == "invalid_cvc"


def luhn_complete(body: str) -> str:
    for check in "0123456789":
        if luhn_valid(body + check):
            return body + check
    raise AssertionError("one check digit always completes a number")


@given(st.text(alphabet="0123456789", min_size=11, max_size=18))
def test_exactly_one_check_digit_completes_any_number(body: str) -> None:
    completions = [d for d in "0123456789" if luhn_valid(body + d)]
    assert len(completions) == 1


@given(
    st.text(alphabet="0123456789", min_size=15, max_size=15),
    st.integers(min_value=0, max_value=15),
    st.integers(min_value=1, max_value=9),
)
def test_luhn_catches_every_single_digit_error(body: str, position: int, delta: int) -> None:
    number = luhn_complete("4" + body[:14])
    wrong = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    assert not luhn_valid(wrong)


@given(st.text(alphabet="0123456789", min_size=14, max_size=14))
def test_any_luhn_valid_16_digit_visa_validates(body: str) -> None:
    number = luhn_complete("4" + body)
    assert validate_pan(number) == (number, CardBrand.VISA)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("4242424242424242", True),
        ("customer 4242 4242 4242 4242", True),
        ("ref-3782-822463-10005", True),
        ("4242424242424241", False),  # fails Luhn
        ("dev-1234", False),
        ("2026-11-22T10:00:00.000+00:00", False),
        ("42424242424242420000000", False),  # 23 digits: not a card number
        ('{"number": "4242424242424242"}', True),
        ("card:4242424242424242.", True),
        # Inside an identifier (a random hex payment id or pseudonym): not a card number.
        ("pay_a4242424242424242b0c1d", False),
        ("ps_4242424242424242", False),
        ('{"payment_id": "pay_ab4242424242424242", "x": 1}', False),
    ],
)
def test_contains_card_number(text: str, found: bool) -> None:
    assert contains_card_number(text) is found


def test_random_hex_identifiers_never_look_like_card_numbers() -> None:
    """About one random 24-hex payment id in a thousand holds a Luhn-valid run of 13+ digits;
    the event contract refused such a payment's events (its create answered 500 for good)."""
    rng = random.Random(17)
    ids = [f"pay_{rng.getrandbits(96):024x}" for _ in range(20_000)]
    assert [i for i in ids if contains_card_number(f'{{"payment_id": "{i}"}}')] == []
