"""The tokenize rate limit per card class (issue 18, finding 5: tokenize is an oracle).

Card testing through tokenize: whoever holds a merchant's credentials and one of its tokens,
and knows the card's first six and last four digits (a receipt, a format-preserving token),
tokenizes candidate card numbers for the token's customer until one comes back with the known
token (deduplication answers the same token for the same card). For a 16-digit card that is at
most 10^5 Luhn-valid candidates, all in one *class*: the same tenant, first six digits, last
four digits and length. Honest traffic almost never brings a tenant many different cards of one
class in an hour; an enumeration brings thousands.

The rule: count, per tenant and class and fixed window, the tokenizations that **created** a
record (a card the customer scope had not tokenized: every wrong guess does, a returning card
does not); once the count reaches ``max_new_cards``, refuse **every** tokenization of that class
and tenant until the window ends, repeat cards included. Refusing before the card is looked up
is what keeps the refusal itself from being the oracle: a limit that refused only new cards
would answer the right guess (a known card) and refuse the wrong ones.

The class is the card number with at least six digits removed: the first six and the last
``min(4, length - 12)`` digits, and the length (a 16-digit card keeps 6 + 4, a 15-digit one
6 + 3, a 12-digit one the first six only), so the class of a short card is not a near-copy of
it. Its counter key is a SHA-256 digest of the label, tenant, class and window: the table item
key, and with it the key CloudTrail data events record, never shows the first six and last four
digits. The digest is not a secret (the truncated form can be recovered by trying every class),
which is acceptable because the class is the truncation PCI DSS 3.4.1 allows to be displayed and
the counter item holds nothing else: no fingerprint, no card key, no token. The class and its
digest never appear in a log line or an error; the refusal names the tenant only.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

_CLASS_LABEL = "vault-class-v1"
_BIN_DIGITS = 6
_MAX_LAST_DIGITS = 4
_DIGITS_REMOVED = 6
_EXPIRY_SLACK_SECONDS = 60
MAX_WINDOW_SECONDS = 24 * 3600


@dataclass(frozen=True, slots=True)
class ClassLimit:
    """At most ``max_new_cards`` new cards per tenant and class in a ``window_seconds`` window."""

    max_new_cards: int = 20
    window_seconds: int = 3600

    def __post_init__(self) -> None:
        if self.max_new_cards < 1:
            raise ValueError("class limit max_new_cards must be at least 1")
        if not 60 <= self.window_seconds <= MAX_WINDOW_SECONDS:
            raise ValueError("class limit window_seconds must be between 60 and 86400")


@dataclass(frozen=True, slots=True)
class ClassWindow:
    """The counter of one tenant, class and window: its key and when it may be forgotten."""

    key: str
    expires_at: int


def card_class(pan: str) -> str:
    """Length, first six and the last ``min(4, length - 12)`` digits: at least six removed."""
    kept_last = max(0, min(_MAX_LAST_DIGITS, len(pan) - _BIN_DIGITS - _DIGITS_REMOVED))
    last = pan[len(pan) - kept_last :] if kept_last else ""
    return f"{len(pan)}:{pan[:_BIN_DIGITS]}:{last}"


def class_window(tenant_id: str, pan: str, now: float, limit: ClassLimit) -> ClassWindow:
    """The counter a tokenization of ``pan`` for ``tenant_id`` at ``now`` counts in."""
    start = int(now) // limit.window_seconds * limit.window_seconds
    message = "\x1f".join((_CLASS_LABEL, tenant_id, card_class(pan), str(start)))
    digest = hashlib.sha256(message.encode()).digest()[:16]
    key = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return ClassWindow(key, start + limit.window_seconds + _EXPIRY_SLACK_SECONDS)
