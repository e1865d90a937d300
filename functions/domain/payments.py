"""A card payment's lifecycle: its states, the amounts it may still capture or refund, the
public view the API answers with, and the events each change publishes.

Pure: the workflow's steps load a :class:`Payment`, ask it for the next one and store that
through the ``PaymentStore`` port. Statuses:

- ``requires_action`` (resumable): SCA is required; a 3-D Secure challenge is waiting.
- ``authorizing`` (resumable): the acquirer was asked; if its answer never came, the payment is
  voided by its idempotency key (compensation) and ends ``failed``. An issuer soft decline
  (``authentication_required``) of an unauthenticated payment goes back to ``requires_action``.
- ``authorized`` → ``capture_pending`` → ``captured`` → ``partially_refunded`` → ``refunded``.
- ``declined``, ``canceled`` (an authorization voided by compensation or by a cancel request,
  or a challenge abandoned), ``failed``: terminal.

A hold never outlives its use: an authorized, uncaptured payment or one waiting for its
challenge can be canceled (``canceled``, with a ``cancellation_reason``), and
:func:`stale_payments` says which ones to cancel at a given time: authorizations older than
their validity (card schemes keep an authorization for about 7 days; Stripe cancels uncaptured
payments after 7 days) and challenges whose ``expires_at`` has passed.

Money leaves only through a reservation: a capture or refund is written as pending before the
acquirer is asked, confirmed when it answers, and released only when the acquirer said that
nothing happened. An unknown outcome (a timeout) keeps the reservation, so a pending refund
still counts against what may be refunded, until the same operation is sent again under the
same idempotency key or the acquirer's record says what became of it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from .fraud_features import platform_card_key

EVENT_SOURCE = "blueprint.payments"


class PaymentStatus(StrEnum):
    REQUIRES_ACTION = "requires_action"
    AUTHORIZING = "authorizing"
    AUTHORIZED = "authorized"
    CAPTURE_PENDING = "capture_pending"
    CAPTURED = "captured"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    DECLINED = "declined"
    CANCELED = "canceled"
    FAILED = "failed"


TERMINAL_STATUSES = frozenset(
    {PaymentStatus.DECLINED, PaymentStatus.CANCELED, PaymentStatus.FAILED, PaymentStatus.REFUNDED}
)
REFUNDABLE_STATUSES = frozenset({PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED})


class EventType(StrEnum):
    AUTHORIZED = "payment.authorized"
    CAPTURED = "payment.captured"
    DECLINED = "payment.declined"
    REFUNDED = "payment.refunded"
    REQUIRES_ACTION = "payment.requires_action"
    CANCELED = "payment.canceled"


class CancellationReason(StrEnum):
    """Why a payment was canceled. The first four come from the API; ``expired`` is set only
    by the scheduled expiry of an authorization that outlived its validity."""

    REQUESTED_BY_CUSTOMER = "requested_by_customer"
    DUPLICATE = "duplicate"
    FRAUDULENT = "fraudulent"
    ABANDONED = "abandoned"
    EXPIRED = "expired"


CANCELABLE_STATUSES = frozenset({PaymentStatus.AUTHORIZED, PaymentStatus.REQUIRES_ACTION})
# How long an authorization holds the cardholder's funds before it is canceled: card schemes
# keep an authorization valid for about 7 days, and Stripe cancels uncaptured payments after 7.
DEFAULT_AUTHORIZATION_VALIDITY = dt.timedelta(days=7)


class PaymentRuleError(Exception):
    """A request the payment's state does not allow: an API error, never a 5xx."""

    def __init__(self, code: str, message: str, param: str | None = None, http_status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param
        self.http_status = http_status

    def to_answer(self) -> dict[str, Any]:
        error = {
            "type": "invalid_request_error",
            "code": self.code,
            "message": self.message,
            "param": self.param,
        }
        return {"error": error, "http_status": self.http_status}


class RefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"


@dataclass(frozen=True, slots=True)
class Refund:
    refund_id: str
    amount: int
    created_at: str
    status: RefundStatus = RefundStatus.SUCCEEDED

    @property
    def pending(self) -> bool:
        return self.status is RefundStatus.PENDING


@dataclass(frozen=True, slots=True)
class Payment:
    payment_id: str
    merchant_id: str
    amount: int
    currency: str
    capture_requested: bool
    status: PaymentStatus
    token: str
    card_brand: str
    card_last4: str
    customer_id: str
    device_id: str | None
    created_at: str
    updated_at: str
    fraud: Mapping[str, Any] = field(default_factory=dict)
    sca: Mapping[str, Any] = field(default_factory=dict)
    amount_captured: int = 0
    # Reserved by a capture the acquirer has not confirmed (0 unless ``capture_pending``).
    capture_pending: int = 0
    # Which capture request made the capture: a retry of it is answered, any other refused.
    capture_key: str | None = None
    # Includes pending refunds: a reservation is spent until the acquirer says otherwise.
    amount_refunded: int = 0
    capture_sequence: int = 0
    refunds: tuple[Refund, ...] = ()
    authorization_id: str | None = None
    decline_code: str | None = None
    failure_code: str | None = None
    next_action: Mapping[str, Any] | None = None
    # The scrubbed workflow state a resumed payment continues from (tokens only, no PAN).
    resume_context: Mapping[str, Any] | None = None
    # SHA-256 of the create request (card number truncated): a reuse of its key must match.
    request_digest: str | None = None
    # Authorizations sent before this one (1 after an issuer step-up).
    authorize_attempt: int = 0
    # When the issuer approved: an uncaptured authorization expires counted from here.
    authorized_at: str | None = None
    # When the acquirer confirmed the capture: the capture's (or sale's) ledger entry is dated
    # then, also when the reconciliation posts it later (updated_at moves on with refunds).
    captured_at: str | None = None
    cancellation_reason: str | None = None
    version: int = 0
    # The vault's platform-wide card key (a KMS MAC of the card number; None for a token written
    # before card keys): what card velocity counts on, across customers and merchants.
    card_key: str | None = None
    # The card's BIN while the workflow that tokenized it runs: only for the events it
    # publishes (the fraud stream's BIN counters). Never persisted: the payments table keeps
    # the card key, and a card key, a BIN and the last four in one item are the hashed and
    # truncated forms PCI DSS 3.5.1 says must not be correlated (models.tokens).
    bin: str | None = None
    # A BNPL payment's credit decision and plan (contracts.steps.BnplView without the
    # instalments, whose state GET /v1/bnpl/plans/{id} answers): the money is booked in the
    # credit ledger, not in the card ledger. None for a card payment.
    bnpl: Mapping[str, Any] | None = None
    # The merchant's own key-value pairs from the create request (checked there: bounded, no
    # card number in a key or a value). Answered with the payment; not in its events.
    metadata: Mapping[str, str] = field(default_factory=dict)

    @property
    def authorize_idempotency_key(self) -> str:
        # A retry after an issuer step-up is a new authorization: under the first key the
        # acquirer would replay the soft decline.
        suffix = f":{self.authorize_attempt}" if self.authorize_attempt else ""
        return f"{self.payment_id}:authorize{suffix}"

    @property
    def refundable(self) -> int:
        return self.amount_captured - self.amount_refunded

    @property
    def capture_idempotency_key(self) -> str:
        """The acquirer key of the current capture: the same on every retry of it."""
        return f"{self.payment_id}:capture:{self.capture_sequence}"

    def refund_idempotency_key(self, refund_id: str) -> str:
        return f"{self.payment_id}:refund:{refund_id}"

    @property
    def pending_refunds(self) -> tuple[Refund, ...]:
        return tuple(r for r in self.refunds if r.pending)

    @property
    def has_pending_operation(self) -> bool:
        return self.status is PaymentStatus.CAPTURE_PENDING or bool(self.pending_refunds)

    def evolve(self, now: str, **changes: Any) -> Payment:
        """The next version of this payment (``version`` may be given to write over another)."""
        changes.setdefault("version", self.version + 1)
        return dataclasses.replace(self, updated_at=now, **changes)

    # ------------------------------------------------------------------ transitions

    def authorizing(self, now: str) -> Payment:
        if self.status not in (PaymentStatus.REQUIRES_ACTION, PaymentStatus.AUTHORIZING):
            raise PaymentRuleError(
                "payment_unexpected_state",
                f"A {self.status} payment cannot be authorized.",
                None,
            )
        return self.evolve(now, status=PaymentStatus.AUTHORIZING, next_action=None)

    def with_capture_intent(self) -> Payment:
        """A sale's capture, reserved in the write that records ``authorizing`` (same version):
        its acquirer key is fixed before the acquirer is asked, so the approval and the capture
        are recorded by one later write instead of two (issue 10 write budget). Until that
        write the capture may have reached the acquirer: ``capture_may_be_pending`` says so."""
        if not self.capture_requested or self.capture_pending:
            return self
        return dataclasses.replace(
            self,
            capture_pending=self.amount,
            capture_key=self.payment_id,
            capture_sequence=self.capture_sequence + 1,
        )

    @property
    def capture_may_be_pending(self) -> bool:
        """An ``authorizing`` sale whose capture intent is recorded: the step that wrote it may
        have sent the capture before it died (the acquirer's record under the capture key
        tells)."""
        return self.status is PaymentStatus.AUTHORIZING and self.capture_pending > 0

    def authorized(self, authorization_id: str, now: str) -> Payment:
        return self.evolve(
            now,
            status=PaymentStatus.AUTHORIZED,
            authorization_id=authorization_id,
            authorized_at=now,
            resume_context=None,
        )

    def stepped_up(
        self, challenge: Mapping[str, Any], resume_context: Mapping[str, Any], now: str
    ) -> Payment:
        """The issuer soft-declined an unauthenticated payment (``authentication_required``):
        back to ``requires_action`` with a challenge, the exemption that was asked for kept
        apart from the issuer's answer, and no exemption claimed on the retry."""
        if self.status is not PaymentStatus.AUTHORIZING:
            raise PaymentRuleError(
                "payment_unexpected_state", f"A {self.status} payment cannot be stepped up."
            )
        sca = {
            "required": True,
            "exemption": None,
            "reason": "issuer_authentication_required",
            "exemption_requested": self.sca.get("exemption"),
        }
        return self.evolve(
            now,
            status=PaymentStatus.REQUIRES_ACTION,
            sca=sca,
            next_action=challenge,
            resume_context=resume_context,
            authorize_attempt=self.authorize_attempt + 1,
            # A sale's capture intent was never sent (the issuer soft-declined): withdrawn, so
            # the resumed sale captures under the same key as one never stepped up.
            capture_pending=0,
            capture_key=None if self.capture_pending else self.capture_key,
            capture_sequence=self.capture_sequence - (1 if self.capture_pending else 0),
        )

    def declined(self, decline_code: str, now: str) -> Payment:
        return self.evolve(
            now,
            status=PaymentStatus.DECLINED,
            decline_code=decline_code,
            next_action=None,
            resume_context=None,
            capture_pending=0,  # a declined sale's capture intent is never sent
        )

    def capture_amount(self, requested: int | None) -> int:
        """The amount a capture request takes: all of it by default, never more than authorized.
        One capture per payment; an uncaptured remainder is released. A state error is a 400:
        sending the same request again can never succeed (409 means "retry later")."""
        if self.status is not PaymentStatus.AUTHORIZED:
            raise PaymentRuleError(
                "payment_unexpected_state",
                f"Only an authorized payment can be captured; this one is {self.status}.",
            )
        return _amount_within(requested, self.amount, "authorized")

    def capture_reserved(self, amount: int, now: str, request_key: str | None) -> Payment:
        """The capture written before the acquirer is asked, under a new sequence (and so a new
        acquirer idempotency key)."""
        return self.evolve(
            now,
            status=PaymentStatus.CAPTURE_PENDING,
            capture_pending=amount,
            capture_key=request_key,
            capture_sequence=self.capture_sequence + 1,
        )

    def capture_confirmed(self, now: str) -> Payment:
        return self.evolve(
            now,
            status=PaymentStatus.CAPTURED,
            amount_captured=self.capture_pending,
            capture_pending=0,
            captured_at=now,
        )

    def captured(self, amount: int, now: str) -> Payment:
        """A capture the acquirer has already confirmed (reserved and confirmed in one)."""
        return (
            self.capture_reserved(amount, now, None)
            .capture_confirmed(now)
            .evolve(now, version=self.version + 1)
        )

    def capture_released(self, now: str) -> Payment:
        """Only after the acquirer said the capture did not happen; never after a timeout."""
        return self.evolve(now, status=PaymentStatus.AUTHORIZED, capture_pending=0)

    def refund_amount(self, requested: int | None) -> int:
        """The amount a refund takes: what is left by default, never more than was captured
        (pending refunds included)."""
        if self.status is PaymentStatus.REFUNDED:
            raise PaymentRuleError(
                "charge_already_refunded", "This payment has already been refunded in full."
            )
        if self.status not in REFUNDABLE_STATUSES:
            raise PaymentRuleError(
                "payment_unexpected_state",
                f"Only a captured payment can be refunded; this one is {self.status}.",
            )
        return _amount_within(requested, self.refundable, "still refundable")

    def refunded(self, refund: Refund, now: str) -> Payment:
        total = self.amount_refunded + refund.amount
        return self.evolve(now, amount_refunded=total, refunds=(*self.refunds, refund)).settled(now)

    def refund_confirmed(self, refund_id: str, now: str) -> Payment:
        refunds = tuple(
            dataclasses.replace(r, status=RefundStatus.SUCCEEDED) if r.refund_id == refund_id else r
            for r in self.refunds
        )
        return self.evolve(now, refunds=refunds)

    def refund_released(self, refund_id: str, now: str) -> Payment:
        """Only after the acquirer said the refund did not happen; never after a timeout."""
        refund = self.find_refund(refund_id)
        if refund is None or not refund.pending:
            return self
        remaining = tuple(r for r in self.refunds if r.refund_id != refund_id)
        total = self.amount_refunded - refund.amount
        return self.evolve(now, refunds=remaining, amount_refunded=total).settled(now)

    def settled(self, now: str) -> Payment:
        """The refund status that the amounts imply (with this very version)."""
        if not self.amount_refunded:
            status = PaymentStatus.CAPTURED
        elif self.amount_refunded == self.amount_captured:
            status = PaymentStatus.REFUNDED
        else:
            status = PaymentStatus.PARTIALLY_REFUNDED
        return dataclasses.replace(self, status=status)

    def find_refund(self, refund_id: str) -> Refund | None:
        return next((r for r in self.refunds if r.refund_id == refund_id), None)

    def compensated(self, failure_code: str, now: str) -> Payment:
        """Ends a payment whose workflow failed: canceled when an authorization existed (it has
        been voided), failed when the acquirer never confirmed one."""
        # Compensation runs only when nothing is pending: a sale's capture intent is dropped.
        if self.authorization_id is not None:
            return self.evolve(
                now, status=PaymentStatus.CANCELED, failure_code=failure_code, capture_pending=0
            )
        # An infrastructure failure is not the issuer's decline: a merchant's dunning acts on
        # decline_code, so it stays empty.
        return self.evolve(
            now, status=PaymentStatus.FAILED, failure_code=failure_code, capture_pending=0
        )

    def canceled(self, reason: str | None, now: str) -> Payment:
        """Cancels an authorized, uncaptured payment (its authorization is then voided) or one
        waiting for its challenge (abandoned: nothing to void). Any other state is a 400: a
        captured payment is refunded, not canceled, and retrying can never succeed."""
        if self.has_pending_operation:
            raise PaymentRuleError(
                "payment_unexpected_state",
                "An operation on this payment is pending; it cannot be canceled.",
            )
        if self.status not in CANCELABLE_STATUSES:
            raise PaymentRuleError(
                "payment_unexpected_state",
                "Only an authorized, uncaptured payment or one that requires action can be "
                f"canceled; this one is {self.status}.",
            )
        return self.evolve(
            now,
            status=PaymentStatus.CANCELED,
            cancellation_reason=None if reason is None else CancellationReason(reason).value,
            next_action=None,
            resume_context=None,
        )

    def cancel_released(self, now: str) -> Payment:
        """Undoes a cancellation whose void the acquirer refused or could not take (nothing
        happened there): the payment is authorized again and may be canceled or captured."""
        return self.evolve(now, status=PaymentStatus.AUTHORIZED, cancellation_reason=None)

    def stale_reason(
        self, now: dt.datetime, authorization_validity: dt.timedelta
    ) -> CancellationReason | None:
        """Why this payment should be canceled at ``now``, if it should: an uncaptured
        authorization at least ``authorization_validity`` old is ``expired``; a challenge past
        its ``expires_at`` is ``abandoned``. A payment with a pending operation never is."""
        if self.has_pending_operation:
            return None
        if self.status is PaymentStatus.AUTHORIZED:
            since = _instant(self.authorized_at or self.created_at)
            if since is not None and now - since >= authorization_validity:
                return CancellationReason.EXPIRED
        elif self.status is PaymentStatus.REQUIRES_ACTION and self.next_action:
            expires_at = _instant(str(self.next_action.get("expires_at", "")))
            if expires_at is not None and now >= expires_at:
                return CancellationReason.ABANDONED
        return None

    # ------------------------------------------------------------------------ views

    def view(self) -> dict[str, Any]:
        """The Payment API's answer: tokens and last four only."""
        return {
            "id": self.payment_id,
            "object": "payment",
            "status": str(self.status),
            "merchant_id": self.merchant_id,
            "amount": self.amount,
            "currency": self.currency,
            "capture": self.capture_requested,
            "amount_captured": self.amount_captured,
            "amount_refunded": self.amount_refunded,
            "token": self.token,
            "card": {"brand": self.card_brand, "last4": self.card_last4},
            "fraud": {
                "score": self.fraud.get("score"),
                "decision": self.fraud.get("decision"),
                "reasons": list(self.fraud.get("reasons", [])),
            },
            "sca": self._sca_view(),
            "next_action": dict(self.next_action) if self.next_action else None,
            "decline_code": self.decline_code,
            "failure_code": self.failure_code,
            "cancellation_reason": self.cancellation_reason,
            "refunds": [
                {"id": r.refund_id, "amount": r.amount, "status": str(r.status)}
                for r in self.refunds
            ],
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "metadata": dict(self.metadata),
            # Only on a BNPL payment: a card payment's answer stays as it was.
            **({"bnpl": dict(self.bnpl)} if self.bnpl is not None else {}),
        }

    def _sca_view(self) -> dict[str, Any]:
        view = {
            "required": bool(self.sca.get("required", False)),
            "exemption": self.sca.get("exemption"),
            "reason": self.sca.get("reason"),
        }
        if "exemption_requested" in self.sca:
            # What was asked of the issuer, apart from what it answered: only after a step-up.
            view["exemption_requested"] = self.sca["exemption_requested"]
        return view

    def event(
        self, event_type: EventType, bus_name: str, *, key: str = "", amount: int | None = None
    ) -> dict[str, Any]:
        """A PutEvents entry. ``event_id`` is deterministic so that consumers and the
        reconciliation can tell a republished event from a new one."""
        event_id = f"{self.payment_id}:{event_type.value}{':' + key if key else ''}"
        # What the fraud stream counts on (functions.contracts.events documents each field):
        # the card by its platform key, never its number; the rest as the risk step saw it.
        inputs = self.fraud.get("inputs") or {}
        detail = {
            "event_id": event_id,
            "payment_id": self.payment_id,
            "merchant_id": self.merchant_id,
            "status": str(self.status),
            "amount": self.amount,
            "currency": self.currency,
            "amount_captured": self.amount_captured,
            "amount_refunded": self.amount_refunded,
            "token": self.token,
            "card": {"brand": self.card_brand, "last4": self.card_last4},
            "decline_code": self.decline_code,
            "occurred_at": self.updated_at,
            "platform_card_key": platform_card_key(self.card_key, self.token),
            "bin": self.bin,
            "customer_id": self.customer_id or None,
            "device_id": self.device_id,
            "ip": inputs.get("ip"),
            "billing_country": inputs.get("billing_country"),
            "card_country": inputs.get("card_country"),
            "ip_country": inputs.get("ip_country"),
            "amount_eur_minor": inputs.get("amount_eur_minor"),
            # The SCA outcome the risk step decided: the lake's exemption-band query reads it.
            "sca_required": self.sca.get("required"),
            "sca_exemption": self.sca.get("exemption"),
        }
        if key:
            detail["operation_key"] = key
        if amount is not None:
            detail["operation_amount"] = amount
        return {
            "EventBusName": bus_name,
            "Source": EVENT_SOURCE,
            "DetailType": event_type.value,
            "Detail": detail,
        }


class StaleWriteError(Exception):
    """Someone else changed the payment since it was read: read again and redo the decision."""


class PaymentStore(Protocol):
    """Where payments live. Writes are optimistic: ``save`` writes a payment over the version it
    was derived from (``version - 1``, or as new when its version is 0) and raises
    ``StaleWriteError`` otherwise, so two concurrent refunds can never both spend a balance."""

    def get(self, payment_id: str) -> Payment | None: ...

    def save(self, payment: Payment) -> None: ...


class InMemoryPaymentStore(PaymentStore):
    """A ``PaymentStore`` in a dict, for tests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._payments: dict[str, Payment] = {}

    def get(self, payment_id: str) -> Payment | None:
        with self._lock:
            return self._payments.get(payment_id)

    def save(self, payment: Payment) -> None:
        with self._lock:
            current = self._payments.get(payment.payment_id)
            expected = None if payment.version == 0 else payment.version - 1
            if (current.version if current is not None else None) != expected:
                raise StaleWriteError(payment.payment_id)
            self._payments[payment.payment_id] = payment

    def all(self) -> list[Payment]:
        with self._lock:
            return list(self._payments.values())


def stale_payments(
    payments: Iterable[Payment],
    now: dt.datetime,
    authorization_validity: dt.timedelta = DEFAULT_AUTHORIZATION_VALIDITY,
) -> list[tuple[str, CancellationReason]]:
    """(payment id, reason) of every payment to cancel at ``now``, by payment id."""
    found = []
    for payment in payments:
        reason = payment.stale_reason(now, authorization_validity)
        if reason is not None:
            found.append((payment.payment_id, reason))
    return sorted(found)


def _instant(value: str) -> dt.datetime | None:
    """An ISO 8601 timestamp as an aware datetime (UTC when it names no offset), or None when
    it is not one: a malformed timestamp never makes a payment stale."""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def _amount_within(requested: int | None, limit: int, what: str) -> int:
    """``requested``, or all of ``limit`` when none was asked for; never more than ``limit``."""
    amount = limit if requested is None else requested
    if amount <= 0 or amount > limit:
        raise PaymentRuleError(
            "amount_too_large" if amount > 0 else "parameter_invalid",
            f"amount must be between 1 and the {limit} {what}.",
            "amount",
        )
    return amount


def derived_id(prefix: str, *parts: str) -> str:
    """A stable identifier from the parts that make a request unique (merchant and idempotency
    key, say), so that a retried request can never create a second payment or refund."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]
    return f"{prefix}_{digest}"


# What the payment keeps of the fraud result: the decision, what it was judged on (the fraud
# stream's fields of the events) and a shadow model's own assessment (compared offline).
_KEPT_FRAUD = ("score", "decision", "reasons", "inputs", "shadow")


def new_payment(
    context: Mapping[str, Any], status: PaymentStatus, now: str, **changes: Any
) -> Payment:
    """The first record of a payment, from the workflow's scrubbed state."""
    card = context["card"]
    customer = context.get("customer") or {}
    fraud = (context.get("fraud") or {}).get("result") or {}
    sca = (context.get("sca") or {}).get("result") or {}
    return Payment(
        payment_id=context["payment_id"],
        merchant_id=context["merchant_id"],
        amount=int(context["amount"]),
        currency=context["currency"],
        capture_requested=bool(context.get("capture", True)),
        status=status,
        token=card["token"],
        card_brand=card["brand"],
        card_last4=card["last4"],
        customer_id=customer.get("id") or "",
        device_id=customer.get("device_id"),
        created_at=context.get("received_at") or now,
        updated_at=now,
        fraud={
            k: fraud[k] for k in ("score", "decision", "reasons", "inputs", "shadow") if k in fraud
        },
        sca={k: sca[k] for k in ("required", "exemption", "reason") if k in sca},
        request_digest=context.get("request_digest"),
        card_key=card.get("card_key"),
        bin=card.get("first6"),
        metadata=context.get("metadata") or {},
        **changes,
    )
