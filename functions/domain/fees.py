"""The merchant service charge (MSC): what the platform charges a merchant per captured payment,
a rate in basis points plus a fixed amount, per currency, per merchant with a default.

Amounts are integers in the currency's minor units (ISO 4217 exponent, ``currencies``): the
fixed part is configured in major units as a decimal string ("0.25" EUR is 25 minor units, "30"
JPY is 30) and refused when the currency cannot represent it ("0.255" EUR, "0.5" JPY); the rate
part is rounded half up to a minor unit. A charge never exceeds the captured amount.

Configuration (``MERCHANT_SERVICE_CHARGE``, from the payment_workflow variable of the same
name)::

    {"default": {"EUR": {"bps": 140, "fixed": "0.25"}},
     "merchants": {"m_1": {"EUR": {"bps": "95.5", "fixed": "0"}}}}

A currency with no rate (neither the merchant's nor the default) is charged nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from functions.domain.currencies import is_currency, minor_units

_MAX_BPS = Decimal(10_000)


class FeeScheduleError(ValueError):
    """A fee schedule that cannot be applied as written."""


@dataclass(frozen=True, slots=True)
class ServiceCharge:
    """A rate (basis points, fractions allowed) and a fixed part in minor units."""

    bps: Decimal
    fixed_minor: int

    def charge(self, amount: int) -> int:
        rated = (Decimal(amount) * self.bps / _MAX_BPS).quantize(Decimal(1), ROUND_HALF_UP)
        return min(amount, int(rated) + self.fixed_minor)


def _decimal(value: Any, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        raise FeeScheduleError(f"{name} must be a number or a decimal string")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise FeeScheduleError(f"{name} must be a number or a decimal string") from None
    if not number.is_finite():
        raise FeeScheduleError(f"{name} must be finite")
    return number


def _rate(currency: str, raw: Any, where: str) -> ServiceCharge:
    if not isinstance(currency, str) or not is_currency(currency):
        raise FeeScheduleError(f"{where}: {currency!r} is not an ISO 4217 currency")
    if not isinstance(raw, Mapping) or not set(raw) <= {"bps", "fixed"} or "bps" not in raw:
        raise FeeScheduleError(f"{where}.{currency} must be {{bps, fixed?}}")
    bps = _decimal(raw["bps"], f"{where}.{currency}.bps")
    if not Decimal(0) <= bps <= _MAX_BPS:
        raise FeeScheduleError(f"{where}.{currency}.bps must be between 0 and 10000")
    fixed = _decimal(raw.get("fixed", "0"), f"{where}.{currency}.fixed")
    minor = fixed.scaleb(minor_units(currency))
    if fixed < 0 or minor != minor.to_integral_value():
        raise FeeScheduleError(
            f"{where}.{currency}.fixed must be a non-negative amount that {currency} can "
            f"represent ({minor_units(currency)} decimals)"
        )
    return ServiceCharge(bps, int(minor))


def _rates(raw: Any, where: str) -> Mapping[str, ServiceCharge]:
    if not isinstance(raw, Mapping):
        raise FeeScheduleError(f"{where} must map currencies to rates")
    return MappingProxyType({cur: _rate(cur, value, where) for cur, value in raw.items()})


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    default: Mapping[str, ServiceCharge] = field(default_factory=dict)
    merchants: Mapping[str, Mapping[str, ServiceCharge]] = field(default_factory=dict)

    @classmethod
    def from_config(cls, raw: Any) -> FeeSchedule:
        if not isinstance(raw, Mapping) or not set(raw) <= {"default", "merchants"}:
            raise FeeScheduleError("a fee schedule is {default?, merchants?}")
        merchants = raw.get("merchants", {})
        if not isinstance(merchants, Mapping):
            raise FeeScheduleError("merchants must map merchant ids to rates")
        return cls(
            default=_rates(raw.get("default", {}), "default"),
            merchants=MappingProxyType(
                {str(m): _rates(r, f"merchants.{m}") for m, r in merchants.items()}
            ),
        )

    @classmethod
    def from_json(cls, text: str) -> FeeSchedule:
        """An empty string is no schedule: nothing is charged."""
        if not text.strip():
            return cls()
        try:
            raw = json.loads(text, parse_float=Decimal)
        except ValueError:
            raise FeeScheduleError("the fee schedule is not JSON") from None
        return cls.from_config(raw)

    def rate(self, merchant_id: str, currency: str) -> ServiceCharge | None:
        own = self.merchants.get(merchant_id, {})
        return own.get(currency) or self.default.get(currency)

    def charge(self, merchant_id: str, amount: int, currency: str) -> int:
        """The charge on a capture of ``amount`` minor units."""
        rate = self.rate(merchant_id, currency)
        return 0 if rate is None else rate.charge(amount)
