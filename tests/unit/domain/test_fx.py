from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.domain.fx import EurRates

RATES = EurRates.from_json('{"USD": "0.92", "JPY": 0.0062, "KWD": "3", "GBP": 1.17}')


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (3200, "EUR", 3200),
        (3200, "USD", 2944),  # 32.00 USD * 0.92 = 29.44 EUR exactly
        (3261, "USD", 3001),  # 30.0012 EUR rounds up to 30.01
        (1, "USD", 1),  # 0.0092 EUR is still one cent, never zero
        (0, "USD", 0),
        (4839, "JPY", 3001),  # zero-decimal: 4839 JPY * 0.0062 = 30.0018 EUR
        (4838, "JPY", 3000),  # 29.9956 EUR rounds up to exactly 30.00
        (1000, "KWD", 300),  # three decimals: 1.000 KWD = 3.00 EUR
        (1001, "KWD", 301),  # 3.003 EUR rounds up
        (1000, "GBP", 1170),  # a JSON float is read as its decimal text
    ],
)
def test_converts_with_minor_units_and_rounds_up(amount: int, currency: str, expected: int) -> None:
    assert RATES.to_eur_minor(amount, currency) == expected


@pytest.mark.parametrize("currency", ["CHF", "XXX", "usd", ""])
def test_no_rate_means_none(currency: str) -> None:
    assert RATES.to_eur_minor(1000, currency) is None


def test_eur_needs_no_rate() -> None:
    assert EurRates(rates={}).to_eur_minor(1234, "EUR") == 1234


def test_negative_amount_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        RATES.to_eur_minor(-1, "USD")


def test_rates_cannot_be_changed_after_construction() -> None:
    source = {"USD": Decimal("0.92")}
    rates = EurRates(rates=source)
    source["USD"] = Decimal(100)
    assert rates.to_eur_minor(100, "USD") == 92
    with pytest.raises(TypeError):
        rates.rates["USD"] = Decimal(1)  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('{"US": "0.92"}', "'US'"),
        ('{"usd": "0.92"}', "'usd'"),
        ('{"USD": "0"}', "USD"),
        ('{"USD": -1}', "USD"),
        ('{"USD": "abc"}', "USD"),
        ('{"USD": "NaN"}', "USD"),
        ('{"USD": "Infinity"}', "USD"),
        ('{"USD": true}', "USD"),
        ('{"USD": null}', "USD"),
        ('{"USD": ["0.92"]}', "USD"),
        ('{"EUR": "1.1"}', "EUR"),
        ('{"USD": NaN}', "NaN"),
        ('["USD"]', "JSON object"),
    ],
)
def test_from_json_rejects_bad_entries_naming_them(text: str, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        EurRates.from_json(text)


def test_from_json_rejects_invalid_json() -> None:
    with pytest.raises(ValueError, match="Expecting"):
        EurRates.from_json('{"USD": ')


def test_eur_rate_of_one_is_accepted() -> None:
    assert EurRates.from_json('{"EUR": 1, "USD": 1}').to_eur_minor(5, "USD") == 5


def test_large_amounts_are_exact() -> None:
    rates = EurRates(rates={"USD": Decimal("0.123456789012345678901234567891")})
    amount = 10**25 + 1
    exact = Decimal(amount) * Decimal("0.123456789012345678901234567891")
    result = rates.to_eur_minor(amount, "USD")
    assert result is not None and result >= exact and result - exact < 1


@given(
    amount=st.integers(min_value=0, max_value=10**12),
    rate=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(1000), places=6),
)
def test_conversion_never_understates(amount: int, rate: Decimal) -> None:
    result = EurRates(rates={"USD": rate}).to_eur_minor(amount, "USD")
    exact = Decimal(amount) * rate
    assert result is not None
    assert exact <= result < exact + 1
