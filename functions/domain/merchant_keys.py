"""Merchant secret API keys (docs/decisions/0008): their format, parsing, hashing, verification
the rotation rules, and which merchant statuses the edge admits. Pure: no I/O, the clock and
the randomness are arguments.

A key reads ``sk_<mode>_<key id>_<secret>``:

* ``mode`` is ``test`` outside production and ``live`` in it, so a test key pasted into
  production is refused by its form alone;
* ``key id`` (16 characters of lowercase base32) names the stored record; ``sk_<mode>_<key id>``
  is the key's *prefix*, safe to show in a dashboard, a ticket or a log;
* ``secret`` is 32 random bytes, base64url without padding (43 characters). It is shown once,
  when the key is issued; the registry keeps only the SHA-256 of the whole key.

The secret carries 256 bits of entropy, so a fast hash is enough: no dictionary or brute force
reaches it (slow password hashes exist for low-entropy secrets).
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

MODES = ("test", "live")
KEY_ID_LENGTH = 16
SECRET_BYTES = 32
# Long enough for a merchant to roll the new key out to every server; a week at most, so a
# leaked key that was "rotated" instead of revoked does not live on for months.
DEFAULT_OVERLAP = dt.timedelta(hours=24)
MAX_OVERLAP = dt.timedelta(days=7)
MERCHANT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# A merchant's tier names the usage plan (rate, burst, quota) its requests are throttled by.
TIER = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
DEFAULT_TIER = "standard"
USAGE_KEY_BYTES = 20

_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
_KEY = re.compile(
    rf"^sk_(?P<mode>test|live)_(?P<key_id>[{_BASE32}]{{{KEY_ID_LENGTH}}})_"
    r"(?P<secret>[A-Za-z0-9_-]{43})$"
)
_BEARER = re.compile(r"^\s*Bearer\s+(?P<key>\S+)\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ParsedKey:
    mode: str
    key_id: str
    text: str

    @property
    def prefix(self) -> str:
        return key_prefix(self.mode, self.key_id)


def key_prefix(mode: str, key_id: str) -> str:
    return f"sk_{mode}_{key_id}"


def parse_key(text: str) -> ParsedKey | None:
    """The key's parts, or None when ``text`` is not a key in our form (malformed)."""
    found = _KEY.fullmatch(text)
    if found is None:
        return None
    return ParsedKey(found["mode"], found["key_id"], text)


def bearer_key(authorization: str | None) -> str | None:
    """The credential of an ``Authorization: Bearer <key>`` header, or None for any other
    header (absent, another scheme such as a SigV4 ``AWS4-HMAC-SHA256``, or empty)."""
    if not authorization:
        return None
    found = _BEARER.fullmatch(authorization)
    return found["key"] if found else None


def key_hash(text: str) -> str:
    """What the registry stores: the SHA-256 of the whole key, hex."""
    return hashlib.sha256(text.encode()).hexdigest()


def hash_matches(text: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented key with a stored hash: the time taken does not
    tell a caller how many leading characters of the hash its guess got right."""
    return hmac.compare_digest(key_hash(text).encode(), stored_hash.encode())


def new_key(mode: str, token_bytes: Callable[[int], bytes] = secrets.token_bytes) -> ParsedKey:
    """A fresh key: a random id and a random 32-byte secret."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    raw_id = token_bytes(10)  # 80 bits: 16 base32 characters, ids never collide in practice
    key_id = base64.b32encode(raw_id).decode().lower()[:KEY_ID_LENGTH]
    secret = base64.urlsafe_b64encode(token_bytes(SECRET_BYTES)).decode().rstrip("=")
    text = f"{key_prefix(mode, key_id)}_{secret}"
    parsed = parse_key(text)
    assert parsed is not None
    return parsed


def mode_for(environment: str) -> str:
    return "live" if environment == "prod" else "test"


class Rejection(enum.StrEnum):
    """Why a presented credential is refused: every one is a 401 to the caller, who learns
    nothing more (the reason goes to the authorizer's log, never the key)."""

    MISSING = "missing"
    MALFORMED = "malformed"
    WRONG_MODE = "wrong_mode"
    UNKNOWN = "unknown"
    MISMATCH = "mismatch"
    REVOKED = "revoked"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """What the registry holds for one key: never the key itself."""

    key_id: str
    merchant_id: str
    mode: str
    hash: str
    created_at: dt.datetime
    expires_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None

    @property
    def prefix(self) -> str:
        return key_prefix(self.mode, self.key_id)

    def refusal_at(self, now: dt.datetime) -> Rejection | None:
        """Why the key cannot be used at ``now`` (None: it can)."""
        if self.revoked_at is not None and self.revoked_at <= now:
            return Rejection.REVOKED
        if self.expires_at is not None and self.expires_at <= now:
            return Rejection.EXPIRED
        return None

    def active_at(self, now: dt.datetime) -> bool:
        return self.refusal_at(now) is None


@dataclass(frozen=True, slots=True)
class Authenticated:
    merchant_id: str
    key_id: str
    prefix: str
    # The merchant's API Gateway API key (its value), which the authorizer hands API Gateway as
    # usageIdentifierKey: the usage plan of the merchant's tier throttles it. None for a
    # merchant onboarded before usage plans (API Gateway refuses it until it has one).
    usage_key: str | None = None


def authenticate(
    authorization: str | None,
    mode: str,
    lookup: Callable[[str], KeyRecord | None],
    now: dt.datetime,
) -> Authenticated | Rejection:
    """The merchant an ``Authorization`` header authenticates, or why it does not.

    ``lookup`` reads a key record by id (the registry); it is not called for a malformed key,
    so garbage costs no read."""
    text = bearer_key(authorization)
    if text is None:
        return Rejection.MISSING if not (authorization or "").strip() else Rejection.MALFORMED
    parsed = parse_key(text)
    if parsed is None:
        return Rejection.MALFORMED
    if parsed.mode != mode:
        return Rejection.WRONG_MODE
    record = lookup(parsed.key_id)
    if record is None:
        return Rejection.UNKNOWN
    # The hash first: a caller who does not hold the key learns nothing about its state.
    if not hash_matches(parsed.text, record.hash):
        return Rejection.MISMATCH
    refusal = record.refusal_at(now)
    if refusal is not None:
        return refusal
    return Authenticated(record.merchant_id, record.key_id, record.prefix)


def rotation_expiry(now: dt.datetime, overlap: dt.timedelta) -> dt.datetime:
    """When a key being rotated out stops working: ``overlap`` after ``now`` (0 ends it now,
    which is a revocation in all but name)."""
    if overlap < dt.timedelta(0) or overlap > MAX_OVERLAP:
        raise ValueError(f"the overlap must be between 0 and {MAX_OVERLAP.days} days")
    return now + overlap


class MerchantStatus(enum.StrEnum):
    """Where a merchant stands with the platform. Only an active merchant's keys are admitted;
    a suspension is reversible (a compliance hold, unpaid fees), a closure is not."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


# The changes an operator may make (staying put is always allowed: a retried command). A
# closure is final, so no typo can quietly reopen a merchant that was shut down.
_STATUS_CHANGES = {
    (MerchantStatus.ACTIVE, MerchantStatus.SUSPENDED),
    (MerchantStatus.SUSPENDED, MerchantStatus.ACTIVE),
    (MerchantStatus.ACTIVE, MerchantStatus.CLOSED),
    (MerchantStatus.SUSPENDED, MerchantStatus.CLOSED),
}


def status_change_allowed(current: MerchantStatus, wanted: MerchantStatus) -> bool:
    return current is wanted or (current, wanted) in _STATUS_CHANGES


@dataclass(frozen=True, slots=True)
class Denied:
    """A working key whose merchant may not use the API now: a 403 (the caller proved who it
    is, so it may learn why), unlike a ``Rejection``'s 401."""

    merchant_id: str
    status: MerchantStatus

    @property
    def code(self) -> str:
        return f"merchant_{self.status.value}"

    @property
    def message(self) -> str:
        if self.status is MerchantStatus.SUSPENDED:
            return "The merchant account is suspended: contact support to reactivate it."
        return "The merchant account is closed."


def admit(authenticated: Authenticated, status: MerchantStatus) -> Authenticated | Denied:
    """A key's merchant let through only while it is active."""
    if status is MerchantStatus.ACTIVE:
        return authenticated
    return Denied(authenticated.merchant_id, status)


def new_usage_key(token_bytes: Callable[[int], bytes] = secrets.token_bytes) -> str:
    """The value of a merchant's API Gateway API key: random, 40 hex characters (API Gateway
    wants at least 20). It identifies the merchant to its usage plan and authenticates
    nothing: the authorizer supplies it, clients never send it (api_key_source AUTHORIZER), so
    it is not the secret ``sk_`` key and is no secret either."""
    return token_bytes(USAGE_KEY_BYTES).hex()
