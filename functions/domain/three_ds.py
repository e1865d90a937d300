"""3-D Secure: a challenge of the cardholder and the access control server (ACS) that runs it.

``AccessControlServer`` is what the payment workflow talks to. ``SimulatedAcs`` stands in for
an issuer's ACS in local runs and tests: it issues a one-time-code challenge and accepts
exactly ``SimulatedAcs.PASSING_CODE``. Everything it derives (challenge ids, authentication
values) is an HMAC under its key, so it is deterministic and keeps no state: a retried start
for a payment yields the same challenge id, and only challenges it issued verify.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import ClassVar, Protocol

OTP_METHOD = "otp"
ECI_AUTHENTICATED = "05"  # electronic commerce indicator: fully authenticated
_CHALLENGE_LABEL = b"3ds-challenge-v1\x1f"
_CAVV_LABEL = b"3ds-cavv-v1\x1f"
_CAVV_BYTES = 20  # a CAVV is 20 bytes, 28 characters in base64
MIN_KEY_BYTES = 16


class AuthenticationOutcome(StrEnum):
    """The stable codes of ``AuthenticationResult.reason``."""

    AUTHENTICATED = "authenticated"
    WRONG_RESPONSE = "wrong_response"
    CHALLENGE_EXPIRED = "challenge_expired"
    UNKNOWN_CHALLENGE = "unknown_challenge"  # not issued by this ACS for this payment


@dataclass(frozen=True, slots=True)
class Challenge:
    challenge_id: str
    payment_id: str
    method: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class AuthenticationResult:
    authenticated: bool
    reason: str  # an AuthenticationOutcome value
    eci: str | None  # "05" when authenticated
    authentication_value: str | None  # CAVV-like proof of the authentication, opaque


class AccessControlServer(Protocol):
    def start_challenge(self, payment_id: str, now: datetime) -> Challenge: ...

    def verify(
        self, challenge: Challenge, response: str, now: datetime
    ) -> AuthenticationResult: ...


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")


def _failed(reason: AuthenticationOutcome) -> AuthenticationResult:
    return AuthenticationResult(
        authenticated=False, reason=reason, eci=None, authentication_value=None
    )


class SimulatedAcs(AccessControlServer):
    """A stand-in ACS: the one-time code ``PASSING_CODE`` authenticates, any other fails."""

    PASSING_CODE: ClassVar[str] = "123456"

    def __init__(self, key: bytes, challenge_ttl: timedelta = timedelta(minutes=10)) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(f"the simulator key must have at least {MIN_KEY_BYTES} bytes")
        if challenge_ttl <= timedelta(0):
            raise ValueError("challenge_ttl must be positive")
        self._key = key
        self._ttl = challenge_ttl

    def __repr__(self) -> str:
        return f"SimulatedAcs(challenge_ttl={self._ttl!r})"

    def _mac(self, label: bytes, value: str) -> bytes:
        return hmac.new(self._key, label + value.encode(), hashlib.sha256).digest()

    def challenge_id_for(self, payment_id: str) -> str:
        digest = self._mac(_CHALLENGE_LABEL, payment_id)[:16]
        return "chl_" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def start_challenge(self, payment_id: str, now: datetime) -> Challenge:
        _require_aware(now)
        return Challenge(
            challenge_id=self.challenge_id_for(payment_id),
            payment_id=payment_id,
            method=OTP_METHOD,
            expires_at=now + self._ttl,
        )

    def verify(self, challenge: Challenge, response: str, now: datetime) -> AuthenticationResult:
        _require_aware(now)
        expected_id = self.challenge_id_for(challenge.payment_id)
        if not hmac.compare_digest(challenge.challenge_id.encode(), expected_id.encode()):
            return _failed(AuthenticationOutcome.UNKNOWN_CHALLENGE)
        if now >= challenge.expires_at:
            return _failed(AuthenticationOutcome.CHALLENGE_EXPIRED)
        if not hmac.compare_digest(response.encode(), self.PASSING_CODE.encode()):
            return _failed(AuthenticationOutcome.WRONG_RESPONSE)
        cavv = self._mac(_CAVV_LABEL, challenge.challenge_id)[:_CAVV_BYTES]
        return AuthenticationResult(
            authenticated=True,
            reason=AuthenticationOutcome.AUTHENTICATED,
            eci=ECI_AUTHENTICATED,
            authentication_value=base64.b64encode(cavv).decode(),
        )
