"""The largest amount a payment may have, per currency, from one cap in EUR.

Amounts arrive in minor units, whose worth differs by currency: 100000000 is EUR 1,000,000.00
but IDR 1,000,000.00 (about EUR 57) and KWD 100,000.000 (about EUR 300,000). One number in
minor units for every currency is therefore no limit at all. Here the operator sets one cap in
EUR major units (``max_amount_eur``); a currency's cap in its minor units is

    floor(max_amount_eur / rate * 10 ** exponent)

with ``rate`` the EUR per one unit of the currency (``fx.EurRates``, the same rates the fraud
and SCA limits use: ``EUR_RATES``, ``eur_rates`` in Terraform) and ``exponent`` its ISO 4217
minor units (``currencies``). Rounding is down, so an amount at the cap is never worth more
than ``max_amount_eur``: exactly the amounts ``EurRates.to_eur_minor`` (which rounds up) puts
at or below the cap pass.

An explicit override in minor units per currency replaces the converted cap (to allow more, or
less, or a currency the rates do not list). A currency with neither a rate nor an override is
refused, naming ``currency``: without a rate no amount can be shown to be within the cap, and
accepting any amount would bring back the problem this module exists for.

Default cap: EUR 10,000.00 (``DEFAULT_MAX_AMOUNT_EUR``). It is twice the fraud scorer's default
``amount_limit_eur_minor`` (EUR 5,000), so the band the scorer blocks for its amount
(``amount_above_limit``) still reaches it and is scored and recorded, rather than being a bare
400; and it bounds what one mistaken request (an amount sent in major units, the wrong
currency) can be worth. A merchant whose payments are larger raises it for its environment.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal, InvalidOperation, localcontext
from types import MappingProxyType
from typing import Any

from .currencies import format_major, is_currency, minor_units
from .fx import EurRates

DEFAULT_MAX_AMOUNT_EUR = Decimal("10000.00")
# The largest integer a JSON number carries exactly in every client (2**53 - 1, JavaScript's
# Number.MAX_SAFE_INTEGER): the structural bound of an amount, not a business limit. A
# converted cap above it is clamped to it.
LARGEST_AMOUNT_MINOR = 2**53 - 1


@dataclass(frozen=True, slots=True)
class AmountRefusal:
    """Why an amount is refused, with the fields of ``functions.errors.ApiError`` in its order
    (``ApiError(**dataclasses.asdict(refusal))``): a 400 naming ``amount`` or ``currency``."""

    type: str
    code: str
    message: str
    param: str
    status: int = 400

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "code": self.code, "message": self.message, "param": self.param}


def _max_amount_eur(value: object) -> Decimal:
    # bool is an int and a float is a binary neighbour of the decimal meant: both are mistakes.
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValueError("max_amount_eur must be a decimal string, an integer or a Decimal")
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise ValueError(f"max_amount_eur {value!r} is not a decimal number") from None
    if not amount.is_finite() or amount <= 0:
        raise ValueError("max_amount_eur must be a positive amount of EUR")
    if amount != amount.quantize(Decimal("0.01"), rounding=ROUND_FLOOR):
        raise ValueError("max_amount_eur must be in whole EUR cents (at most two decimals)")
    return amount


def _override(currency: object, value: object) -> tuple[str, int]:
    if not isinstance(currency, str) or not is_currency(currency):
        raise ValueError(f"amount cap override {currency!r} is not an ISO 4217 currency code")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"the amount cap of {currency} must be an integer of minor units")
    if not 0 < value <= LARGEST_AMOUNT_MINOR:
        raise ValueError(
            f"the amount cap of {currency} must be between 1 and {LARGEST_AMOUNT_MINOR} minor units"
        )
    return currency, value


def _overrides_from_json(text: str) -> dict[str, object]:
    if not text.strip():
        return {}
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise ValueError(f"amount cap overrides are not valid JSON: {error.msg}") from None
    if not isinstance(data, dict):
        raise ValueError("amount cap overrides must be a JSON object of currency code to integer")
    return data


@dataclass(frozen=True, slots=True)
class AmountCaps:
    """The cap of every currency: ``max_amount_eur`` (EUR major units) converted with ``rates``,
    unless ``overrides`` (minor units per currency) says otherwise."""

    rates: EurRates
    max_amount_eur: Decimal = DEFAULT_MAX_AMOUNT_EUR
    overrides: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "max_amount_eur", _max_amount_eur(self.max_amount_eur))
        checked = dict(_override(code, value) for code, value in self.overrides.items())
        object.__setattr__(self, "overrides", MappingProxyType(checked))

    @classmethod
    def from_config(
        cls,
        rates: EurRates,
        max_amount_eur: str | int | Decimal = DEFAULT_MAX_AMOUNT_EUR,
        overrides_json: str = "",
    ) -> AmountCaps:
        """From settings as environment variables carry them: ``max_amount_eur`` a decimal
        string (``"10000.00"``), ``overrides_json`` a JSON object (``{"JPY": 2000000}``) or
        empty. Raises ValueError naming what is wrong."""
        overrides = dict(_override(c, v) for c, v in _overrides_from_json(overrides_json).items())
        return cls(rates=rates, max_amount_eur=_max_amount_eur(max_amount_eur), overrides=overrides)

    def max_minor(self, currency: str) -> int | None:
        """The largest amount of ``currency`` in its minor units; None when neither an override
        nor a rate is known for it (or it is not an ISO 4217 code)."""
        if currency in self.overrides:
            return self.overrides[currency]
        rate = self.rates.rate(currency)
        if rate is None or not is_currency(currency):
            return None
        exponent = minor_units(currency)
        # Rounded towards zero at every step, with room for every digit of the integer part:
        # the quotient is then at most the exact one and its floor is the exact floor.
        digits = self.max_amount_eur.adjusted() - rate.adjusted() + exponent + 2
        with localcontext() as context:
            context.prec = max(28, digits + 4)
            context.rounding = ROUND_FLOOR
            exact = self.max_amount_eur.scaleb(exponent) / rate
            cap = int(exact.to_integral_value(rounding=ROUND_FLOOR))
        return min(cap, LARGEST_AMOUNT_MINOR)

    def refusal(self, amount_minor: int, currency: str) -> AmountRefusal | None:
        """None when ``amount_minor`` of ``currency`` is within its cap, else the 400 to answer:
        ``amount_too_large`` naming ``amount`` and the cap in the currency's major units, or
        ``currency_not_supported`` naming ``currency`` when the currency has no cap."""
        cap = self.max_minor(currency)
        if cap is None:
            return AmountRefusal(
                "invalid_request_error",
                "currency_not_supported",
                f"currency {currency} is not accepted: no EUR rate or amount cap is configured"
                " for it.",
                "currency",
            )
        if amount_minor > cap:
            return AmountRefusal(
                "invalid_request_error",
                "amount_too_large",
                f"amount must be at most {format_major(cap, currency)} {currency}"
                f" ({cap} in minor units).",
                "amount",
            )
        return None
