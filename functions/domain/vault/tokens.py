"""Token formats.

* opaque: ``tok_`` + 128 random bits, base64url without padding (22 characters).
* format-preserving: the PAN's first six and last four digits and its length, random digits in
  between, chosen so that the whole fails the Luhn check. Only for PANs of at least 16 digits
  (``FPE_MIN_PAN_LENGTH``): a shorter PAN would keep 2 to 5 random digits, leaving 10 to 10^4
  candidates for the card behind a token. A real PAN passes Luhn, so such a
  token can never be taken for a card number, and it can never equal the PAN it stands for.
"""

from __future__ import annotations

import base64
import re

from functions.domain.cards import MAX_PAN_LENGTH, MIN_PAN_LENGTH, luhn_valid

from .model import TokenFormat
from .ports import RandomSource

OPAQUE_PREFIX = "tok_"
FPE_MIN_PAN_LENGTH = 16
OPAQUE_RANDOM_BYTES = 16
_OPAQUE_PATTERN = re.compile(r"tok_[A-Za-z0-9_-]{22}")


def new_opaque_token(random: RandomSource) -> str:
    raw = random.token_bytes(OPAQUE_RANDOM_BYTES)
    return OPAQUE_PREFIX + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def new_format_preserving_token(pan: str, random: RandomSource) -> str:
    """Keep first six, last four and length; random middle; Luhn-invalid by rejection sampling
    (nine in ten candidates qualify, so the loop ends after about one draw)."""
    middle_length = len(pan) - 10
    while True:
        middle = "".join(str(random.randbelow(10)) for _ in range(middle_length))
        candidate = pan[:6] + middle + pan[-4:]
        if not luhn_valid(candidate):
            return candidate


def token_format_of(token: str) -> TokenFormat | None:
    """The format a presented token has, or None if it cannot be a vault token."""
    if _OPAQUE_PATTERN.fullmatch(token):
        return TokenFormat.OPAQUE
    if (
        MIN_PAN_LENGTH <= len(token) <= MAX_PAN_LENGTH
        and token.isascii()
        and token.isdigit()
        and not luhn_valid(token)
    ):
        return TokenFormat.FORMAT_PRESERVING
    return None
