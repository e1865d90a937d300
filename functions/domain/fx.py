"""Explicit conversion of amounts to EUR, for comparing them against regulatory limits.

The PSD2 exemption limits are set in EUR. A payment in another currency is compared against
them after conversion with a rate the operator supplies (``EurRates.from_json``); nothing here
fetches rates. Conversion rounds up to the next EUR cent, so a converted amount is never
smaller than the exact one: a limit is never passed by rounding.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, InvalidOperation, localcontext
from types import MappingProxyType
from typing import NoReturn

from .currencies import is_currency, minor_units

EUR = "EUR"
_EUR_EXPONENT = 2


def _rate_of(code: object, value: object) -> Decimal:
    if not isinstance(code, str) or not is_currency(code):
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    # bool is an int: true/false in a rates file is a mistake, not the rate 1 or 0.
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError(f"the rate of {code} must be a decimal number or a string")
    try:
        rate = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise ValueError(f"the rate of {code} is not a decimal number") from None
    if not rate.is_finite() or rate <= 0:
        raise ValueError(f"the rate of {code} must be a positive finite number")
    if code == EUR and rate != 1:
        raise ValueError("the rate of EUR must be 1")
    return rate


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a rate")


@dataclass(frozen=True, slots=True)
class EurRates:
    """EUR per one unit of each currency (``{"USD": Decimal("0.92")}``); EUR itself is 1."""

    rates: Mapping[str, Decimal]

    def __post_init__(self) -> None:
        checked = {code: _rate_of(code, value) for code, value in self.rates.items()}
        object.__setattr__(self, "rates", MappingProxyType(checked))

    @classmethod
    def from_json(cls, text: str) -> EurRates:
        """A JSON object of rates, ``{"USD": "0.92", "JPY": 0.0062}``. Raises ValueError."""
        # Floats are read as Decimal so that 0.92 stays 0.92, not its binary neighbour.
        data = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
        if not isinstance(data, dict):
            raise ValueError("EUR rates must be a JSON object of currency code to rate")
        return cls(rates=data)

    def rate(self, currency: str) -> Decimal | None:
        if currency == EUR:
            return Decimal(1)
        return self.rates.get(currency)

    def to_eur_minor(self, amount_minor: int, currency: str) -> int | None:
        """``amount_minor`` of ``currency`` in EUR cents, rounded up; None without a rate."""
        if amount_minor < 0:
            raise ValueError("amount_minor must not be negative")
        rate = self.rate(currency)
        if rate is None or not is_currency(currency):
            return None
        if currency == EUR:
            return amount_minor
        # Enough digits for the exact product: the default 28 would round it, possibly down.
        with localcontext() as context:
            context.prec = len(str(amount_minor)) + len(rate.as_tuple().digits) + 2
            exact = Decimal(amount_minor).scaleb(_EUR_EXPONENT - minor_units(currency)) * rate
            return int(exact.to_integral_value(rounding=ROUND_CEILING))
