"""Generated payment events for the lake's tests and benchmark: seeded, each a valid
``PaymentEventDetail`` of its type (functions/contracts/events.py) as the payment bus carries
it, including the fields the lake keeps out (token, device id, IP), so the allow-list is tested
on what really arrives.

One payment gives: ``payment.declined``; or ``payment.authorized``, then maybe
``payment.captured`` (the whole amount), then maybe one partial ``payment.refunded``. Its events
fall on the payment's day, in order.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

MERCHANTS = ("m_alpha", "m_beta", "m_gamma", "m_delta")
CURRENCIES = ("EUR", "GBP", "USD")
CARD_COUNTRIES = ("DE", "FR", "GB", "NL", "US", None)
DECLINE_CODES = ("do_not_honor", "insufficient_funds", "fraud_suspected")
BRANDS = ("visa", "mastercard")
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
# Random identifiers in letters only: a hex id can hold a Luhn-valid run of 13+ digits, which
# the event contract rightly refuses as a possible card number.
_LETTERS = str.maketrans("0123456789", "ghijklmnop")


def _id(rng: random.Random) -> str:
    return f"{rng.getrandbits(64):016x}".translate(_LETTERS)


def _event(
    event_type: str,
    payment: dict[str, Any],
    at: dt.datetime,
    status: str,
    *,
    captured: int = 0,
    refunded: int = 0,
    key: str | None = None,
    operation_amount: int | None = None,
    decline_code: str | None = None,
) -> dict[str, Any]:
    return {
        "event_id": f"{payment['payment_id']}:{event_type}" + (f":{key}" if key else ""),
        "payment_id": payment["payment_id"],
        "merchant_id": payment["merchant_id"],
        "status": status,
        "amount": payment["amount"],
        "currency": payment["currency"],
        "amount_captured": captured,
        "amount_refunded": refunded,
        "token": payment["token"],
        "card": {"brand": payment["brand"], "last4": payment["last4"]},
        "decline_code": decline_code,
        "occurred_at": at.isoformat(timespec="milliseconds"),
        "operation_key": key,
        "operation_amount": operation_amount,
        "platform_card_key": payment["platform_card_key"],
        "bin": payment["bin"],
        "device_id": payment["device_id"],
        "ip": payment["ip"],
        "billing_country": payment["card_country"],
        "card_country": payment["card_country"],
        "ip_country": payment["card_country"],
        "amount_eur_minor": payment["amount"],
    }


def payment_events(count: int, seed: int = 7, days: int = 5) -> Iterator[dict[str, Any]]:
    """The events of ``count`` payments spread over ``days`` days from 2026-01-01."""
    rng = random.Random(seed)  # noqa: S311 - seeded test data, not secrets
    for n in range(count):
        at = START + dt.timedelta(seconds=rng.randrange(days * 86400 - 600))
        amount = rng.randrange(100, 100_000)
        payment: dict[str, Any] = {
            "payment_id": f"pay_{seed}x{n:08d}",
            "merchant_id": rng.choice(MERCHANTS),
            "currency": rng.choice(CURRENCIES),
            "amount": amount,
            "token": f"tok_{_id(rng)}",
            "brand": rng.choice(BRANDS),
            "last4": f"{rng.randrange(10_000):04d}",
            "platform_card_key": f"card#ck_{_id(rng)}",
            "bin": f"{rng.randrange(400000, 560000)}",
            "device_id": f"dev_{_id(rng)}",
            "ip": f"198.51.100.{rng.randrange(1, 255)}",
            "card_country": rng.choice(CARD_COUNTRIES),
        }
        if rng.random() < 0.2:
            yield _event(
                "payment.declined",
                payment,
                at,
                "declined",
                decline_code=rng.choice(DECLINE_CODES),
            )
            continue
        yield _event("payment.authorized", payment, at, "authorized", operation_amount=amount)
        if rng.random() < 0.7:
            at += dt.timedelta(seconds=rng.randrange(1, 120))
            yield _event(
                "payment.captured",
                payment,
                at,
                "captured",
                captured=amount,
                operation_amount=amount,
            )
            if rng.random() < 0.2:
                at += dt.timedelta(seconds=rng.randrange(1, 300))
                refund = rng.randrange(1, amount + 1)
                yield _event(
                    "payment.refunded",
                    payment,
                    at,
                    "refunded" if refund == amount else "partially_refunded",
                    captured=amount,
                    refunded=refund,
                    key=f"re_{n:08d}",
                    operation_amount=refund,
                )
