"""Webhooks (docs/webhooks.md, docs/decisions/0009): which endpoints a merchant may register,
which events reach which merchant, when a failed delivery is tried again, and the records the
delivery log keeps. Pure rules: the stores are ports (``Protocol``s) the adapters implement.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import urlsplit

from functions.domain.payments import EventType

SECRET_PREFIX = "whsec_"  # noqa: S105  # the prefix, not a secret
ENDPOINT_PREFIX = "we_"
MAX_URL_LENGTH = 2048
MAX_ENDPOINTS_PER_MERCHANT = 16

PAYMENT_EVENTS = tuple(t.value for t in EventType)
FRAUD_EVENTS = ("fraud.alert",)
BNPL_EVENTS = (
    "bnpl.plan_created",
    "bnpl.instalment_collected",
    "bnpl.instalment_missed",
    "bnpl.plan_canceled",
)
EVENT_TYPES = PAYMENT_EVENTS + FRAUD_EVENTS + BNPL_EVENTS
# What enabled_events may name: an exact type, a family ("payment.*") or everything ("*").
EVENT_SELECTORS = frozenset(EVENT_TYPES) | {"*", "payment.*", "fraud.*", "bnpl.*"}


# -- Endpoint URLs (SSRF) ----------------------------------------------------------------------


@dataclass(frozen=True)
class UrlPolicy:
    """Where deliveries may go. Both opt-outs exist for the local emulator only, whose test
    receiver listens on plain HTTP on the loopback address (the module refuses them elsewhere)."""

    allow_http: bool = False
    allow_private_addresses: bool = False


# Names that resolve to this host or to a cloud's internal resolver, whatever DNS says.
_INTERNAL_NAMES = ("localhost", ".localhost", ".internal", ".local", ".localdomain")


def address_allowed(address: str, policy: UrlPolicy) -> bool:
    """Whether a delivery may connect to ``address`` (an IP literal): a public unicast address,
    never loopback, private, link-local (the instance metadata service at 169.254.169.254),
    shared, reserved, multicast or unspecified, unless the policy opts out."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_multicast or ip.is_unspecified:
        return False
    if policy.allow_private_addresses:
        return True
    return ip.is_global


def url_problem(url: str, policy: UrlPolicy) -> str | None:
    """Why ``url`` may not be a webhook endpoint, or None. Checked at registration; the address
    its host resolves to is checked again at each delivery (``address_allowed``), since DNS may
    change after registration."""
    if len(url) > MAX_URL_LENGTH:
        return f"must be at most {MAX_URL_LENGTH} characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "must be an absolute https URL"
    schemes = ("https", "http") if policy.allow_http else ("https",)
    if parts.scheme not in schemes:
        return "must use https"
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        return "must name a host"
    if parts.username is not None or parts.password is not None:
        return "must not carry credentials"
    if parts.fragment:
        return "must not have a fragment"
    if port == 0:
        return "must not use port 0"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not policy.allow_private_addresses and (
            host == "localhost" or host.endswith(_INTERNAL_NAMES) or "." not in host
        ):
            return "must name a public host"
        return None
    if not address_allowed(host, policy):
        return "must not be a private, loopback or link-local address"
    return None


def selects(enabled_events: Sequence[str], event_type: str) -> bool:
    """Whether an endpoint subscribed to ``enabled_events`` receives ``event_type``."""
    family = event_type.split(".", 1)[0] + ".*"
    return any(s in ("*", family, event_type) for s in enabled_events)


# -- Events to merchants -----------------------------------------------------------------------

# The fields a payment event's webhook carries: the payment as the merchant's API shows it. The
# platform's own fields (the card key, the BIN, the customer's IP and device, the EUR amount)
# stay on the bus.
PAYMENT_FIELDS = (
    "event_id",
    "payment_id",
    "merchant_id",
    "status",
    "amount",
    "currency",
    "amount_captured",
    "amount_refunded",
    "token",
    "card",
    "decline_code",
    "occurred_at",
    "operation_key",
    "operation_amount",
    "customer_id",
    "sca_required",
    "sca_exemption",
)


@dataclass(frozen=True)
class WebhookEvent:
    """An event on the payment bus as a merchant receives it."""

    id: str
    type: str
    merchant_id: str
    occurred_at: str
    data: Mapping[str, Any]

    def payload(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "event",
            "type": self.type,
            "created": self.occurred_at,
            "api_version": "v1",
            "data": dict(self.data),
        }


def webhook_event(detail_type: str, detail: Mapping[str, Any], time: str) -> WebhookEvent | None:
    """The merchant's view of a bus event, or None when no merchant receives it: a fraud alert
    about a card, a device or an IP concerns the platform (its subject may span merchants), and
    an event of a type webhooks do not carry is not delivered."""
    if detail_type in PAYMENT_EVENTS or detail_type in BNPL_EVENTS:
        # A BNPL event carries no card data, not even the token: it goes whole.
        data = (
            {k: detail[k] for k in PAYMENT_FIELDS if k in detail}
            if detail_type in PAYMENT_EVENTS
            else dict(detail)
        )
        return WebhookEvent(
            str(detail["event_id"]),
            detail_type,
            str(detail["merchant_id"]),
            str(detail.get("occurred_at") or time),
            data,
        )
    if detail_type in FRAUD_EVENTS and detail.get("subject_type") == "merchant":
        return WebhookEvent(
            str(detail["alert_id"]),
            detail_type,
            str(detail["subject"]),
            str(detail.get("last_seen") or time),
            dict(detail),
        )
    return None


# -- Retries -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: attempt n waits a random time between half and all of
    ``base * 2**(n-1)`` seconds, at most ``max_delay``; no attempt starts after ``give_up_after``
    from the first one, and the delivery is then failed."""

    base_delay_seconds: int = 30
    max_delay_seconds: int = 3600
    give_up_after_seconds: int = 24 * 3600

    def delay(self, failed_attempts: int, rng: random.Random | None = None) -> int:
        """Seconds to wait after the ``failed_attempts``-th failure (1-based)."""
        ceiling = min(
            self.max_delay_seconds, self.base_delay_seconds * 2 ** min(failed_attempts - 1, 30)
        )
        low = max(1, ceiling // 2)
        return (rng or random).randint(low, max(low, ceiling))

    def next_attempt_at(
        self, first_attempt: dt.datetime, now: dt.datetime, failed_attempts: int, rng: Any = None
    ) -> dt.datetime | None:
        """When to try again, or None when the next try would start past the deadline."""
        at = now + dt.timedelta(seconds=self.delay(failed_attempts, rng))
        if at > first_attempt + dt.timedelta(seconds=self.give_up_after_seconds):
            return None
        return at


# -- Records -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SealedSecret:
    """A signing secret as stored: encrypted under the KMS key, never in clear."""

    ciphertext: str
    created_at: dt.datetime
    expires_at: dt.datetime | None = None

    def live(self, now: dt.datetime) -> bool:
        return self.expires_at is None or now < self.expires_at


@dataclass(frozen=True)
class Endpoint:
    id: str
    merchant_id: str
    url: str
    enabled_events: tuple[str, ...]
    description: str | None
    created_at: dt.datetime
    # Newest first: the current secret, then one still in its rotation overlap.
    secrets: tuple[SealedSecret, ...]

    def live_secrets(self, now: dt.datetime) -> tuple[SealedSecret, ...]:
        return tuple(s for s in self.secrets if s.live(now))

    def rotated(self, new: SealedSecret, overlap_ends: dt.datetime) -> Endpoint:
        """The new secret current; the one it replaces signs until ``overlap_ends`` (an older
        one, from an earlier rotation still overlapping, stops now)."""
        previous = self.secrets[0]
        if previous.expires_at is None or previous.expires_at > overlap_ends:
            previous = replace(previous, expires_at=overlap_ends)
        kept = (previous,) if previous.live(new.created_at) else ()
        return replace(self, secrets=(new, *kept))


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class Attempt:
    number: int
    at: dt.datetime
    status_code: int | None
    latency_ms: int
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True)
class Delivery:
    """One event for one endpoint, and every attempt to deliver it."""

    id: str
    endpoint_id: str
    merchant_id: str
    event_id: str
    event_type: str
    occurred_at: str
    created_at: dt.datetime
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: tuple[Attempt, ...] = field(default=())
    next_attempt_at: dt.datetime | None = None


# -- Ports -------------------------------------------------------------------------------------


class EndpointStore(Protocol):
    def put_endpoint(self, endpoint: Endpoint) -> None: ...

    def replace_secrets(self, endpoint: Endpoint, expected: Endpoint) -> bool:
        """Write ``endpoint``'s secrets if the stored ones are still ``expected``'s."""
        ...

    def get_endpoint(self, merchant_id: str, endpoint_id: str) -> Endpoint | None: ...

    def endpoints(self, merchant_id: str) -> list[Endpoint]: ...

    def delete_endpoint(self, merchant_id: str, endpoint_id: str) -> bool: ...


class DeliveryLog(Protocol):
    def create(self, delivery: Delivery) -> bool:
        """Record a new delivery; False when it exists already (the event arrived twice)."""
        ...

    def get(self, endpoint_id: str, delivery_id: str, occurred_at: str) -> Delivery | None: ...

    def claim(
        self,
        delivery: Delivery,
        number: int,
        now: dt.datetime,
        lease_until: dt.datetime,
    ) -> bool:
        """Reserve attempt ``number`` (the one after those recorded) of a pending delivery until
        ``lease_until``: False when another worker holds it or it was made already."""
        ...

    def record(self, delivery: Delivery, attempt: Attempt) -> None:
        """Append ``attempt`` and write ``delivery``'s status and next attempt."""
        ...

    def deliveries(self, endpoint_id: str, limit: int) -> list[Delivery]:
        """Newest first."""
        ...


class SecretSealer(Protocol):
    def seal(self, secret: str, merchant_id: str, endpoint_id: str) -> str: ...

    def open(self, ciphertext: str, merchant_id: str, endpoint_id: str) -> str: ...


@dataclass(frozen=True)
class HttpAnswer:
    status_code: int | None
    latency_ms: int
    error: str | None


class WebhookSender(Protocol):
    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> HttpAnswer: ...


@dataclass(frozen=True)
class DeliveryMessage:
    """What the delivery queue carries: which delivery, which attempt, not before when, and the
    exact body every attempt sends."""

    endpoint_id: str
    merchant_id: str
    delivery_id: str
    occurred_at: str
    attempt: int
    not_before: dt.datetime
    body: str


class DeliveryQueue(Protocol):
    def send(self, messages: Sequence[DeliveryMessage], delay_seconds: int = 0) -> None: ...
