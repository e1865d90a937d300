"""Card number and expiry validation: Luhn, brand detection, length per brand, expiry.

Pure functions over strings and integers. A card number passed in here is never logged,
returned or put into an exception message: results carry only the brand, the first six
and last four digits (the PCI DSS truncation that may be displayed) and the length.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum


class CardBrand(StrEnum):
    VISA = "visa"
    MASTERCARD = "mastercard"
    AMEX = "amex"
    DISCOVER = "discover"
    JCB = "jcb"
    UNIONPAY = "unionpay"
    DINERS = "diners"
    MAESTRO = "maestro"


@dataclass(frozen=True, slots=True)
class IinRange:
    """Issuer identification numbers from ``low`` to ``high`` over the first ``digits`` digits."""

    brand: CardBrand
    low: int
    high: int
    lengths: frozenset[int]

    @property
    def digits(self) -> int:
        return len(str(self.low))

    def matches(self, pan: str) -> bool:
        return len(pan) >= self.digits and self.low <= int(pan[: self.digits]) <= self.high


def _lengths(*values: int | range) -> frozenset[int]:
    result: set[int] = set()
    for value in values:
        result.update(value if isinstance(value, range) else (value,))
    return frozenset(result)


# Published IIN ranges of the networks. Where ranges overlap (UnionPay co-branded with
# Discover, Maestro inside the 6-series) the longest matching prefix wins.
IIN_RANGES: tuple[IinRange, ...] = (
    IinRange(CardBrand.VISA, 4, 4, _lengths(13, 16, 19)),
    IinRange(CardBrand.MASTERCARD, 51, 55, _lengths(16)),
    IinRange(CardBrand.MASTERCARD, 2221, 2720, _lengths(16)),
    IinRange(CardBrand.AMEX, 34, 34, _lengths(15)),
    IinRange(CardBrand.AMEX, 37, 37, _lengths(15)),
    IinRange(CardBrand.DISCOVER, 6011, 6011, _lengths(range(16, 20))),
    IinRange(CardBrand.DISCOVER, 644, 649, _lengths(range(16, 20))),
    IinRange(CardBrand.DISCOVER, 65, 65, _lengths(range(16, 20))),
    IinRange(CardBrand.DISCOVER, 622126, 622925, _lengths(range(16, 20))),
    IinRange(CardBrand.JCB, 3528, 3589, _lengths(range(16, 20))),
    IinRange(CardBrand.UNIONPAY, 62, 62, _lengths(range(16, 20))),
    IinRange(CardBrand.UNIONPAY, 81, 81, _lengths(range(16, 20))),
    IinRange(CardBrand.DINERS, 300, 305, _lengths(14, range(16, 20))),
    IinRange(CardBrand.DINERS, 3095, 3095, _lengths(14, range(16, 20))),
    IinRange(CardBrand.DINERS, 36, 36, _lengths(14, range(16, 20))),
    IinRange(CardBrand.DINERS, 38, 39, _lengths(16, range(16, 20))),
    IinRange(CardBrand.MAESTRO, 50, 50, _lengths(range(12, 20))),
    IinRange(CardBrand.MAESTRO, 56, 58, _lengths(range(12, 20))),
    IinRange(CardBrand.MAESTRO, 639, 639, _lengths(range(12, 20))),
    IinRange(CardBrand.MAESTRO, 6304, 6304, _lengths(range(12, 20))),
    IinRange(CardBrand.MAESTRO, 6759, 6759, _lengths(range(12, 20))),
    IinRange(CardBrand.MAESTRO, 676770, 676770, _lengths(range(12, 20))),
    IinRange(CardBrand.MAESTRO, 676774, 676774, _lengths(range(12, 20))),
)

MIN_PAN_LENGTH = 12
MAX_PAN_LENGTH = 19
CARD_NUMBER_PARAM = "payment_method.card.number"
EXP_MONTH_PARAM = "payment_method.card.exp_month"
EXP_YEAR_PARAM = "payment_method.card.exp_year"
CVC_PARAM = "payment_method.card.cvc"
# Cards are not issued with expiry dates further out than this; a later year is a typo.
MAX_YEARS_AHEAD = 20


class CardValidationError(ValueError):
    """A card that cannot be used. ``code`` is the API error code, ``param`` the field."""

    def __init__(self, code: str, param: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.param = param
        self.message = message


@dataclass(frozen=True, slots=True)
class ValidatedCard:
    """What may be known of a card outside the vault: never the full number."""

    brand: CardBrand
    first6: str
    last4: str
    length: int
    exp_month: int
    exp_year: int


def normalize_pan(raw: str) -> str:
    """Digits only; spaces and dashes between digit groups are accepted and removed."""
    compact = raw.replace(" ", "").replace("-", "")
    if not compact.isascii() or not compact.isdigit():
        raise CardValidationError(
            "invalid_number", CARD_NUMBER_PARAM, "The card number must contain only digits."
        )
    return compact


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


# A run stands alone: not inside a word. Random hex identifiers (payment ids, pseudonyms, card
# keys) hold a Luhn-valid run of 13+ digits about once in a thousand, and such a payment's
# events were refused as holding a card number, so its create answered 500 on every retry.
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z_])\d(?:[ -]?\d){12,18}(?![0-9A-Za-z_])")


def card_number_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` holds 13-19 digits (spaces or dashes allowed between them) that pass
    Luhn and stand apart from letters, digits and underscores: what a card number typed into a
    free-text field looks like, and not a digit run inside an identifier."""
    return [
        match.span()
        for match in _DIGIT_RUN.finditer(text)
        if luhn_valid(re.sub(r"[ -]", "", match.group()))
    ]


def contains_card_number(text: str) -> bool:
    """True when ``text`` holds what looks like a card number (``card_number_spans``). Used to
    keep card data out of every field that is not meant for it."""
    return bool(card_number_spans(text))


def detect_brand(pan: str) -> IinRange | None:
    """The IIN range with the longest prefix that matches, or None for an unknown network."""
    best: IinRange | None = None
    for iin in IIN_RANGES:
        if iin.matches(pan) and (best is None or iin.digits > best.digits):
            best = iin
    return best


def validate_pan(raw: str) -> tuple[str, CardBrand]:
    """Return the normalized PAN and its brand, or raise CardValidationError."""
    pan = normalize_pan(raw)
    if not MIN_PAN_LENGTH <= len(pan) <= MAX_PAN_LENGTH:
        raise CardValidationError(
            "invalid_number",
            CARD_NUMBER_PARAM,
            f"A card number has {MIN_PAN_LENGTH} to {MAX_PAN_LENGTH} digits.",
        )
    iin = detect_brand(pan)
    if iin is None:
        raise CardValidationError(
            "unsupported_card_brand", CARD_NUMBER_PARAM, "The card network is not supported."
        )
    if len(pan) not in iin.lengths:
        raise CardValidationError(
            "invalid_number",
            CARD_NUMBER_PARAM,
            f"A {iin.brand.value} card number cannot have {len(pan)} digits.",
        )
    if not luhn_valid(pan):
        raise CardValidationError(
            "invalid_number", CARD_NUMBER_PARAM, "The card number fails its check digit."
        )
    return pan, iin.brand


def validate_expiry(exp_month: int, exp_year: int, today: dt.date) -> None:
    """A card is valid through the last day of its expiry month."""
    if not 1 <= exp_month <= 12:
        raise CardValidationError(
            "invalid_expiry_month", EXP_MONTH_PARAM, "The expiry month must be 1 to 12."
        )
    if not 2000 <= exp_year <= today.year + MAX_YEARS_AHEAD:
        raise CardValidationError(
            "invalid_expiry_year",
            EXP_YEAR_PARAM,
            f"The expiry year must be a four-digit year no later than "
            f"{today.year + MAX_YEARS_AHEAD}.",
        )
    if (exp_year, exp_month) < (today.year, today.month):
        raise CardValidationError("expired_card", EXP_YEAR_PARAM, "The card has expired.")


def validate_cvc(cvc: str, brand: CardBrand) -> None:
    expected = 4 if brand is CardBrand.AMEX else 3
    if len(cvc) != expected or not cvc.isascii() or not cvc.isdigit():
        raise CardValidationError(
            "invalid_cvc",
            CVC_PARAM,
            f"The security code of a {brand.value} card has {expected} digits.",
        )


def validate_card(
    number: str, exp_month: int, exp_year: int, cvc: str | None, today: dt.date
) -> ValidatedCard:
    """Validate a card for authorization. The CVC is checked, never kept."""
    pan, brand = validate_pan(number)
    validate_expiry(exp_month, exp_year, today)
    if cvc is not None:
        validate_cvc(cvc, brand)
    return ValidatedCard(
        brand=brand,
        first6=pan[:6],
        last4=pan[-4:],
        length=len(pan),
        exp_month=exp_month,
        exp_year=exp_year,
    )
