"""Webhook signatures (docs/webhooks.md): how a delivery is signed and how a receiver checks it.

Every delivery carries ``Payments-Signature: t=<unix seconds>,v1=<hex>``, where ``<hex>`` is
HMAC-SHA256 keyed with the endpoint's signing secret (the whole ``whsec_...`` string, as UTF-8)
over ``f"{t}.".encode() + body``: the timestamp, a dot and the exact bytes of the request body.
While a rotated secret is still in its overlap window the header carries one ``v1=`` per live
secret, newest first, so a receiver holding either secret accepts the delivery.

Signing the timestamp with the body lets a receiver refuse a captured request played again later
(``verify``'s ``tolerance``); comparing in constant time keeps the check from leaking how much of
a guessed signature was right. This module is the sample verifier docs/webhooks.md shows: it
needs the standard library only.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence

SIGNATURE_HEADER = "Payments-Signature"
SCHEME = "v1"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureError(ValueError):
    """The delivery is not ours, was altered, or is a replay outside the window."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``f"{timestamp}." + body`` under ``secret``."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secrets: Sequence[str], timestamp: int, body: bytes) -> str:
    """``t=<timestamp>,v1=<sig>[,v1=<sig>...]``: one signature per live secret."""
    if not secrets:
        raise ValueError("at least one secret is needed to sign")
    parts = [f"t={timestamp}"] + [f"{SCHEME}={signature(s, timestamp, body)}" for s in secrets]
    return ",".join(parts)


def parse_header(header: str) -> tuple[int, list[str]]:
    """The header's timestamp and its ``v1`` signatures; other schemes are ignored so a future
    scheme can be added beside v1 without breaking receivers."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == SCHEME and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureError("the signature header has no timestamp or no v1 signature")
    return timestamp, signatures


def verify(
    payload: bytes | str,
    header: str,
    secrets: str | Sequence[str],
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> int:
    """Check a delivery: ``payload`` is the raw request body, ``header`` the
    ``Payments-Signature`` value, ``secrets`` the endpoint's secret (or, while rotating, each
    secret the receiver holds). Returns the signed timestamp; raises ``SignatureError`` when no
    signature matches any secret or the timestamp is more than ``tolerance`` seconds from
    ``now`` (a replay, or a clock far off)."""
    body = payload.encode() if isinstance(payload, str) else payload
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    timestamp, signatures = parse_header(header)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError("the signature's timestamp is outside the tolerance window")
    for secret in keys:
        expected = signature(secret, timestamp, body)
        if any(hmac.compare_digest(expected, candidate) for candidate in signatures):
            return timestamp
    raise SignatureError("no signature matches the endpoint's secret")
