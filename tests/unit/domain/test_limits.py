"""The amount cap per currency, from one cap in EUR (issue 19, item 11).

Rates here are illustrative (EUR per unit, of the order of late 2026), not reference data.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.domain.currencies import format_major
from functions.domain.fx import EurRates
from functions.domain.limits import (
    DEFAULT_MAX_AMOUNT_EUR,
    LARGEST_AMOUNT_MINOR,
    AmountCaps,
    AmountRefusal,
)
from functions.errors import ApiError
from functions.models.payments import CaptureRequest, PaymentRequest

RATES = EurRates.from_json(
    '{"IDR": "0.000057", "JPY": "0.0061", "KWD": "3", "BHD": "2.45", "USD": "0.92"}'
)
CAPS = AmountCaps(RATES)  # the default cap, EUR 10,000.00


def test_the_default_cap_is_ten_thousand_eur() -> None:
    assert str(DEFAULT_MAX_AMOUNT_EUR) == "10000.00"
    assert CAPS.max_minor("EUR") == 1_000_000


def test_the_same_minor_units_pass_in_idr_and_fail_in_eur() -> None:
    """The review's example: 100000000 minor units are EUR 1,000,000.00 but IDR 1,000,000.00
    (about EUR 57). Only the amount that converts within EUR 10,000 passes."""
    same = 100_000_000
    assert CAPS.refusal(same, "IDR") is None
    refused = CAPS.refusal(same, "EUR")
    assert refused is not None and (refused.code, refused.param) == ("amount_too_large", "amount")
    # IDR's own cap: 10000 / 0.000057 = 175,438,596.49... IDR, rounded down to the sen.
    assert CAPS.max_minor("IDR") == 17_543_859_649
    assert CAPS.refusal(17_543_859_649, "IDR") is None
    over = CAPS.refusal(17_543_859_650, "IDR")
    assert over is not None
    assert over.message == "amount must be at most 175438596.49 IDR (17543859649 in minor units)."


@pytest.mark.parametrize(
    ("currency", "cap", "major"),
    [
        ("EUR", 1_000_000, "10000.00"),
        ("USD", 1_086_956, "10869.56"),  # 10000 / 0.92 = 10869.5652...
        ("JPY", 1_639_344, "1639344"),  # exponent 0: 10000 / 0.0061 = 1639344.26...
        ("KWD", 3_333_333, "3333.333"),  # exponent 3: 10000 / 3 = 3333.3333...
        ("BHD", 4_081_632, "4081.632"),  # exponent 3: 10000 / 2.45 = 4081.6326...
    ],
)
def test_at_the_cap_passes_and_one_minor_unit_more_fails(
    currency: str, cap: int, major: str
) -> None:
    assert CAPS.max_minor(currency) == cap
    assert CAPS.refusal(cap, currency) is None
    assert CAPS.refusal(1, currency) is None
    refused = CAPS.refusal(cap + 1, currency)
    assert refused == AmountRefusal(
        "invalid_request_error",
        "amount_too_large",
        f"amount must be at most {major} {currency} ({cap} in minor units).",
        "amount",
        400,
    )


def test_an_exact_quotient_is_not_rounded_away() -> None:
    caps = AmountCaps(EurRates.from_json('{"KWD": "2.5"}'), max_amount_eur=Decimal("10000"))
    assert caps.max_minor("KWD") == 4_000_000  # exactly 4000.000 KWD


def test_a_currency_without_rate_or_override_is_refused_naming_currency() -> None:
    refused = CAPS.refusal(1, "GBP")
    assert refused is not None
    assert (refused.status, refused.code) == (400, "currency_not_supported")
    assert refused.param == "currency"
    assert "GBP" in refused.message
    assert CAPS.max_minor("GBP") is None
    assert CAPS.max_minor("XYZ") is None


def test_eur_needs_no_rate() -> None:
    assert AmountCaps(EurRates(rates={})).refusal(1_000_000, "EUR") is None


def test_an_override_in_minor_units_replaces_the_converted_cap() -> None:
    caps = AmountCaps.from_config(RATES, "10000.00", '{"JPY": 5000000, "GBP": 900000}')
    assert caps.max_minor("JPY") == 5_000_000  # more than the converted cap
    assert caps.refusal(5_000_000, "JPY") is None
    assert caps.refusal(5_000_001, "JPY") is not None
    assert caps.max_minor("GBP") == 900_000  # a currency without a rate
    assert caps.refusal(900_000, "GBP") is None
    refused = caps.refusal(900_001, "GBP")
    assert refused is not None and "9000.00 GBP" in refused.message
    assert caps.max_minor("IDR") == 17_543_859_649  # the others keep the EUR cap


def test_the_eur_cap_is_configurable() -> None:
    caps = AmountCaps.from_config(RATES, " 250.50 ")
    assert caps.max_amount_eur == Decimal("250.50")
    assert caps.max_minor("EUR") == 25_050
    assert caps.max_minor("KWD") == 83_500  # 250.50 / 3 = 83.500 KWD


def test_a_converted_cap_beyond_the_structural_bound_is_clamped() -> None:
    caps = AmountCaps(EurRates.from_json('{"VND": "0.00000001"}'), Decimal("1000000000"))
    assert caps.max_minor("VND") == LARGEST_AMOUNT_MINOR


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("0", "positive"),
        ("-1", "positive"),
        ("10000.001", "cents"),
        ("Infinity", "positive"),
        ("NaN", "positive"),
        ("ten", "not a decimal"),
        (10000.0, "decimal string"),
        (True, "decimal string"),
    ],
)
def test_a_bad_eur_cap_is_refused(value: object, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        AmountCaps.from_config(RATES, value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('{"jpy": 100}', "'jpy'"),
        ('{"XYZ": 100}', "'XYZ'"),
        ('{"JPY": "100"}', "integer"),
        ('{"JPY": 100.5}', "integer"),
        ('{"JPY": true}', "integer"),
        ('{"JPY": 0}', "between 1"),
        (f'{{"JPY": {2**53}}}', "between 1"),
        ('["JPY", 100]', "JSON object"),
        ("{", "not valid JSON"),
    ],
)
def test_bad_overrides_are_refused_naming_the_problem(text: str, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        AmountCaps.from_config(RATES, overrides_json=text)


def test_empty_overrides_mean_none() -> None:
    assert AmountCaps.from_config(RATES, overrides_json="  ").overrides == {}


def test_overrides_cannot_be_changed_after_construction() -> None:
    source = {"JPY": 100}
    caps = AmountCaps(RATES, overrides=source)
    source["JPY"] = 10**9
    assert caps.max_minor("JPY") == 100


def test_a_refusal_is_an_api_error() -> None:
    refused = CAPS.refusal(1_000_001, "EUR")
    assert refused is not None
    error = ApiError(**dataclasses.asdict(refused))
    assert (error.status, error.to_dict()) == (400, refused.to_dict())
    assert refused.to_dict() == {
        "type": "invalid_request_error",
        "code": "amount_too_large",
        "message": "amount must be at most 10000.00 EUR (1000000 in minor units).",
        "param": "amount",
    }


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [(1050, "EUR", "10.50"), (1050, "JPY", "1050"), (1050, "KWD", "1.050"), (5, "CLF", "0.0005")],
)
def test_format_major(amount: int, currency: str, text: str) -> None:
    assert format_major(amount, currency) == text


@given(
    currency=st.sampled_from(["USD", "JPY", "KWD", "BHD", "IDR", "CLF", "EUR"]),
    rate=st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(1000), places=6),
    max_eur=st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10**9), places=2),
)
def test_the_cap_is_the_largest_amount_worth_at_most_the_eur_cap(
    currency: str, rate: Decimal, max_eur: Decimal
) -> None:
    """Against the conversion the fraud and SCA limits use (``to_eur_minor`` rounds up): the cap
    is worth at most the EUR cap, and one minor unit more is worth more."""
    rates = EurRates(rates={} if currency == "EUR" else {currency: rate})
    cap = AmountCaps(rates, max_eur).max_minor(currency)
    assert cap is not None and 0 <= cap <= LARGEST_AMOUNT_MINOR
    eur_cents = int(max_eur * 100)
    worth, worth_one_more = rates.to_eur_minor(cap, currency), rates.to_eur_minor(cap + 1, currency)
    assert worth is not None and worth_one_more is not None
    assert worth <= eur_cents
    assert worth_one_more > eur_cents or cap == LARGEST_AMOUNT_MINOR


def test_the_request_models_bound_amounts_structurally_not_per_currency() -> None:
    """IDR 175,000,000.00 (about EUR 10,000) is 17500000000 minor units: the request models
    accept it (they refused anything above 100000000 before, IDR 1,000,000.00); the cap per
    currency is ``AmountCaps``, checked where the currency is known."""
    request = PaymentRequest.model_validate(
        {
            "merchant_id": "m_1",
            "amount": 17_500_000_000,
            "currency": "IDR",
            "payment_method": {"type": "card", "token": "tok_12345678"},
            "customer": {"id": "cus_1"},
        }
    )
    assert (request.amount, CAPS.refusal(request.amount, request.currency)) == (
        17_500_000_000,
        None,
    )
    assert CaptureRequest.model_validate({"amount": LARGEST_AMOUNT_MINOR}).amount is not None
    with pytest.raises(ValueError, match="amount"):
        CaptureRequest.model_validate({"amount": LARGEST_AMOUNT_MINOR + 1})
