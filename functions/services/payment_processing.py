"""The workflow's money-moving use case, over the ``PaymentStore``, ``AcquirerConnector`` and
ledger ports. One action per call:

- ``create``: act on the assessment: ``decline`` (fraud block), ``require_action`` (an SCA
  challenge) or ``authorize``.
- ``authorize``: record ``authorizing`` (the resumable state), ask the acquirer, record its answer.
  A sale (``capture`` requested) writes the authorization and the capture reservation in one
  write and captures at once: one step, three writes of the payment record.
- ``capture`` / ``refund``: reserve the amount on the record as pending first (an optimistic
  write, so two concurrent requests can't both spend it), then ask the acquirer. The reservation
  is released only when the acquirer said nothing happened (``AcquirerUnavailableError``,
  ``AcquirerRejectedError``). After a timeout the outcome is unknown: the reservation stays
  pending and is resolved by sending the same operation again under the same acquirer key
  (``resolve``, also run by the scheduled reconciliation), never by releasing it.
- ``void``: compensation after a failed step; voids the authorization (by its id, or by the
  authorize idempotency key when the acquirer's answer never came).
- ``cancel``: a merchant's cancel request, or the expiry of a stale hold (the reconciliation):
  an authorized, uncaptured payment is recorded ``canceled`` first (an optimistic write, so a
  concurrent capture and cancel cannot both reach the acquirer), then voided and its entries
  reversed; a payment waiting for its challenge is canceled without the acquirer.

Every action is safe to repeat: a retried call finds its own earlier write and answers from it.
Each answer is a ``StepOutcome``: the payment as the API shows it and the PutEvents entries the
step publishes (plus what the callers besides the workflow read: approval, amounts, the refund).
Every read-decide-write goes through ``retry_on_conflict``: a write that lost to a concurrent
one is decided again on the latest version, never written anyway.

Journal entries follow the payment record: once a write records an authorization, a capture or
a refund as done, the matching entry is posted (idempotent per payment and step, so a retried
call posts nothing twice), dated at the write that recorded the movement. An authorization
is booked in the memo ledger only (no money moved); a capture or sale books the merchant service
charge inside its own entry (docs/ledger.md). A posting that fails does not undo what the
acquirer did: it is logged at ERROR with ``ledger_alarm`` (a metric filter counts it and an
alarm fires) and the scheduled reconciliation posts the entry the payment record proves.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict

from functions.contracts.events import PaymentEventEntry, parse_entry
from functions.contracts.steps import (
    PaymentContext,
    PaymentView,
    ProcessAnswer,
    ScaResult,
    StepFailure,
)
from functions.domain.acquirer import (
    AcquirerConnector,
    AcquirerOperation,
    AcquirerRejectedError,
    AcquirerTimeoutError,
    AcquirerUnavailableError,
    Authentication,
    AuthorizationRequest,
    AuthorizationResult,
    CardReference,
    DeclineCode,
    OperationKind,
    OperationStatus,
)
from functions.domain.ledger import ConflictingEntryError, LedgerRuleError, PaymentLedger
from functions.domain.payments import (
    EventType,
    Payment,
    PaymentRuleError,
    PaymentStatus,
    PaymentStore,
    Refund,
    RefundStatus,
    StaleWriteError,
    new_payment,
)
from functions.domain.three_ds import AccessControlServer
from functions.services.optimistic_write import retry_on_conflict
from functions.services.risk import MitAgreements

logger = Logger(child=True)
# Errors after which the acquirer did nothing: the only ones that may release a reservation.
NOTHING_HAPPENED = (AcquirerUnavailableError, AcquirerRejectedError)
FAILURE_CODES = {
    "AcquirerTimeoutError": "acquirer_timeout",
    "AcquirerUnavailableError": "processing_error",
    "AcquirerRejectedError": "acquirer_rejected",
}


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


LEDGER_ALARM = "posting_failed"
# A posting that fails for one of these leaves the entry missing until the reconciliation
# posts it; anything else is a defect and fails the step.
LEDGER_FAILURES = (ClientError, BotoCoreError, LedgerRuleError, ConflictingEntryError)


class CaptureOutcomeUnknownError(Exception):
    """The capture of a sale timed out: the acquirer may have captured. The workflow answers
    the payment as ``capture_pending`` (never voids it); the same key or the acquirer's record
    settles it."""


class RefundDone(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    amount: int


class StepOutcome(BaseModel):
    """What one action did. ``payment`` is what the workflow answers (``answer()``);
    ``events`` are the PutEvents entries the step publishes, as ``Payment.event`` builds them
    (tests/unit/contracts checks those against ``contracts.events``). The rest is read by the
    reconciliation and the tests, never by the state machine; None where it does not apply."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    payment: PaymentView
    events: list[PaymentEventEntry]
    approved: bool | None = None
    step_up: bool | None = None
    captured_amount: int | None = None
    sequence: int | None = None
    refund: RefundDone | None = None
    pending: bool | None = None

    def answer(self) -> ProcessAnswer:
        return ProcessAnswer(payment=self.payment)

    def entries(self) -> list[dict[str, Any]]:
        """The events as PutEvents entries (``Detail`` still a mapping) for a publisher."""
        return [event.model_dump(mode="json") for event in self.events]


class PaymentProcessor:
    def __init__(
        self,
        store: PaymentStore,
        acquirer: AcquirerConnector,
        bus_name: str,
        now: Callable[[], str],
        acs: AccessControlServer | None = None,
        agreements: MitAgreements | None = None,
        ledger: PaymentLedger | None = None,
    ) -> None:
        self._store = store
        # None only in tests of the payment record alone.
        self._ledger = ledger
        self._acquirer = acquirer
        self._bus = bus_name
        self._now = now
        # Opens the challenge of an issuer step-up; without one a soft decline is a decline.
        self._acs = acs
        # Merchant-initiated agreements opened by a challenged payment, confirmed here with the
        # network reference of its authorization (EBA Q&A 2018_4031).
        self._agreements = agreements

    def _answer(
        self,
        payment: Payment,
        *events: dict[str, Any],
        approved: bool | None = None,
        step_up: bool | None = None,
        captured_amount: int | None = None,
        sequence: int | None = None,
        refund: RefundDone | None = None,
        pending: bool | None = None,
    ) -> StepOutcome:
        return StepOutcome(
            payment=PaymentView.model_validate(payment.view()),
            # Checked against the event contracts as they are made: a field without its
            # contract, or anything that looks like a card number, never reaches the bus.
            events=[parse_entry(event) for event in events],
            approved=approved,
            step_up=step_up,
            captured_amount=captured_amount,
            sequence=sequence,
            refund=refund,
            pending=pending,
        )

    def _load(self, payment_id: str) -> Payment:
        payment = self._store.get(payment_id)
        if payment is None:
            raise PaymentRuleError(
                "resource_missing", f"No payment {payment_id}.", "payment_id", 404
            )
        return payment

    def _update(self, payment_id: str, change: Callable[[Payment], Payment]) -> Payment:
        """Applies ``change`` to the latest version (``change`` answering it as it is: nothing
        to write) and answers the payment as it now stands."""

        def write(current: Payment) -> Payment:
            changed = change(current)
            if changed is not current:
                self._store.save(changed)
            return changed

        return retry_on_conflict(payment_id, lambda: self._load(payment_id), write)

    # ---------------------------------------------------------------- outcomes

    def create(self, context: PaymentContext) -> StepOutcome:
        """Acts on the assess step's answer: a fraud block is declined, a payment that needs SCA
        waits for its challenge, any other is authorized (and captured when asked)."""
        if context.fraud is not None and context.fraud.result.decision == "block":
            existing = self._store.get(context.payment_id)
            if existing is not None and existing.status is PaymentStatus.AUTHORIZING:
                # A retried create assessed again (velocity now counts the first attempt): the
                # first run decided to authorize, and its authorization may be granted already.
                return self.authorize(context)
            return self._decline(context, "fraud_suspected", existing)
        if _sca(context).required:
            return self.require_action(context)
        return self.authorize(context, new=True)

    def decline(self, context: PaymentContext, decline_code: str) -> StepOutcome:
        return self._decline(context, decline_code, self._store.get(context.payment_id))

    def _decline(
        self, context: PaymentContext, decline_code: str, existing: Payment | None
    ) -> StepOutcome:
        """``existing``: the payment's record as just read, or None."""
        if existing is not None:
            if existing.status is PaymentStatus.DECLINED:
                return self._answer(existing, existing.event(EventType.DECLINED, self._bus))
            if existing.status in (PaymentStatus.CANCELED, PaymentStatus.FAILED):
                return self._compensated_answer(existing)
            if existing.status not in (PaymentStatus.REQUIRES_ACTION, PaymentStatus.AUTHORIZING):
                # An outcome is recorded (a retried create's second assessment blocked what the
                # first let through and the acquirer authorized): a decline would hide money
                # held or moved.
                return self._recorded_answer(existing)
        now = self._now()
        payment = (
            existing.declined(decline_code, now)
            if existing is not None
            else new_payment(
                context.state(), PaymentStatus.DECLINED, now, decline_code=decline_code
            )
        )
        self._store.save(payment)
        logger.info(
            "payment declined", extra={"payment_id": payment.payment_id, "code": decline_code}
        )
        return self._answer(payment, payment.event(EventType.DECLINED, self._bus))

    def require_action(self, context: PaymentContext) -> StepOutcome:
        existing = self._store.get(context.payment_id)
        if existing is not None:
            return self._answer(existing, existing.event(EventType.REQUIRES_ACTION, self._bus))
        challenge = _sca(context).challenge
        if challenge is None:
            raise ValueError(f"{context.payment_id}: SCA required without a challenge to wait for")
        payment = new_payment(
            context.state(),
            PaymentStatus.REQUIRES_ACTION,
            self._now(),
            next_action=challenge.model_dump(),
            resume_context=_resume_state(context),
        )
        self._store.save(payment)
        return self._answer(payment, payment.event(EventType.REQUIRES_ACTION, self._bus))

    # ------------------------------------------------------------ authorization

    def authorize(self, context: PaymentContext, *, new: bool = False) -> StepOutcome:
        """``new``: the payment is most likely not recorded yet (the create step), so its
        ``authorizing`` record is written first, conditionally, instead of being looked for:
        one round trip fewer; a retried step finds its record by that write's refusal."""
        created = self._create_authorizing(context) if new else None
        payment = created or self._store.get(context.payment_id)
        if payment is not None and payment.bin is None:
            # The BIN is never stored (PCI DSS 3.5.1): a retried step takes it from its input
            # again, so the events it answers with are the first attempt's, BIN included.
            payment = dataclasses.replace(payment, bin=context.card.first6)
        if payment is not None and payment.status not in (
            PaymentStatus.REQUIRES_ACTION,
            PaymentStatus.AUTHORIZING,
        ):
            return self._recorded_answer(payment)  # a retried call: the outcome is recorded
        now = self._now()
        sca = _sca(context)
        if payment is None:
            payment = new_payment(context.state(), PaymentStatus.AUTHORIZING, now)
            self._store.save(payment.with_capture_intent())
        elif created is None and payment.status is PaymentStatus.REQUIRES_ACTION:
            payment = payment.authorizing(now)
            payment = payment.evolve(
                now,
                sca={
                    "required": True,
                    "exemption": None,
                    "reason": sca.reason,
                    "exemption_requested": payment.sca.get("exemption_requested"),
                },
                version=payment.version,
            ).with_capture_intent()
            self._store.save(payment)
        payment = payment.with_capture_intent()
        card = context.card
        result = self._acquirer.authorize(
            AuthorizationRequest(
                payment_id=payment.payment_id,
                merchant_id=payment.merchant_id,
                amount=payment.amount,
                currency=payment.currency,
                card=CardReference(
                    token=payment.token,
                    brand=payment.card_brand,
                    last4=payment.card_last4,
                    exp_month=card.exp_month,
                    exp_year=card.exp_year,
                ),
                authentication=Authentication(
                    eci=sca.eci,
                    authentication_value=sca.authentication_value,
                    exemption=sca.exemption,
                ),
                idempotency_key=payment.authorize_idempotency_key,
            )
        )
        now = self._now()
        if self._steps_up(result, sca):
            return self._step_up(payment, context, now)
        if result.approved and result.authorization_id:
            authorized = payment.authorized(result.authorization_id, now)
            self._confirm_agreement(authorized, result)
            if authorized.capture_requested:
                # A sale: the capture reserved with ``authorizing`` is sent now, and one write
                # records the authorization with the capture's outcome (not written yet: the
                # stored version is still ``payment``'s).
                reserved = dataclasses.replace(authorized, status=PaymentStatus.CAPTURE_PENDING)
                # No entry yet: a sale books one entry once the capture is confirmed.
                return self._sale_capture(reserved, written=False)
            payment = authorized
        else:
            code = result.decline_code.value if result.decline_code else "do_not_honor"
            payment = payment.declined(code, now)
        self._store.save(payment)
        self._post_authorization(payment)
        logger.info(
            "authorization answered",
            extra={"payment_id": payment.payment_id, "status": str(payment.status)},
        )
        return self._authorized_answer(payment)

    def _create_authorizing(self, context: PaymentContext) -> Payment | None:
        payment = new_payment(
            context.state(), PaymentStatus.AUTHORIZING, self._now()
        ).with_capture_intent()
        try:
            self._store.save(payment)
        except StaleWriteError:
            return None  # recorded already: a retried step
        return payment

    def _recorded_answer(self, payment: Payment) -> StepOutcome:
        """The answer of an authorize (or sale) step whose outcome is already recorded; posts
        what the record proves in case the earlier attempt died before posting."""
        self._post_authorization(payment)
        if payment.status is PaymentStatus.CANCELED and payment.failure_code is None:
            # Canceled (abandoned challenge) while its resume was on the way: never authorized.
            return self._canceled_answer(payment)
        if payment.status is PaymentStatus.CAPTURE_PENDING and payment.capture_key == (
            payment.payment_id
        ):
            return self._sale_capture(payment)
        if payment.status is PaymentStatus.REQUIRES_ACTION:
            return self._answer(payment, payment.event(EventType.REQUIRES_ACTION, self._bus))
        if payment.amount_captured and payment.capture_key == payment.payment_id:
            self._post_capture(payment)
            return self._sale_answer(payment)
        if payment.status is PaymentStatus.AUTHORIZED and payment.capture_requested:
            # The sale's capture was released (the acquirer said it did not happen): the retried
            # step captures again, under a new sequence; a second refusal is compensated.
            reserved = payment.capture_reserved(payment.amount, self._now(), payment.payment_id)
            self._store.save(reserved)
            return self._sale_capture(reserved)
        return self._authorized_answer(payment)

    def _sale_capture(self, pending: Payment, written: bool = True) -> StepOutcome:
        # A refusal (NOTHING_HAPPENED) propagates as it is: the capture was released and the
        # workflow voids the authorization. Only a timeout leaves the outcome unknown.
        try:
            captured = self._capture(pending, written)
        except (AcquirerTimeoutError, TimeoutError) as error:
            if not written:
                # The authorization and the pending capture are recorded now: the same key or
                # the acquirer's record settles the capture (never a void).
                self._write_over(pending, lambda p: p)
            raise CaptureOutcomeUnknownError(pending.payment_id) from error
        return self._sale_answer(captured)

    def _sale_answer(self, payment: Payment) -> StepOutcome:
        authorized = payment.event(EventType.AUTHORIZED, self._bus, amount=payment.amount)
        captured = payment.event(EventType.CAPTURED, self._bus, amount=payment.amount_captured)
        return self._answer(payment, authorized, captured, approved=True)

    # ----------------------------------------------------------------- ledger

    def _post(self, payment: Payment, step: str, post: Callable[[PaymentLedger], Any]) -> None:
        if self._ledger is None:
            return
        try:
            post(self._ledger)
        except LEDGER_FAILURES as error:
            logger.error(
                "ledger posting failed: the journal entry is missing until reconcile posts it",
                extra={
                    "ledger_alarm": LEDGER_ALARM,
                    "payment_id": payment.payment_id,
                    "step": step,
                    "error": type(error).__name__,
                },
            )

    def _post_authorization(self, payment: Payment) -> None:
        # A sale's hold is a memo on the payment record: its one entry comes with the capture.
        if payment.authorization_id is None or payment.capture_requested:
            return
        self._post(
            payment,
            "authorization",
            lambda ledger: ledger.record_authorization(
                payment.payment_id,
                payment.merchant_id,
                payment.amount,
                payment.currency,
                at=payment.authorized_at,
            ),
        )

    def _post_capture(self, payment: Payment) -> None:
        def post(ledger: PaymentLedger) -> None:
            if payment.capture_requested:
                ledger.record_sale(
                    payment.payment_id,
                    payment.merchant_id,
                    payment.amount_captured,
                    payment.currency,
                    at=payment.updated_at,
                )
                return
            ledger.record_capture(
                payment.payment_id,
                payment.merchant_id,
                payment.amount_captured,
                payment.currency,
                payment.capture_sequence,
                at=payment.updated_at,
            )
            # One capture per payment: whatever it left uncaptured is released now.
            ledger.record_void(
                payment.payment_id, payment.merchant_id, payment.currency, at=payment.updated_at
            )

        self._post(payment, "capture", post)

    def _post_refund(self, payment: Payment, refund: Refund) -> None:
        self._post(
            payment,
            "refund",
            lambda ledger: ledger.record_refund(
                payment.payment_id,
                payment.merchant_id,
                refund.amount,
                payment.currency,
                refund.refund_id,
                at=payment.updated_at,
            ),
        )

    def _confirm_agreement(self, payment: Payment, result: AuthorizationResult) -> None:
        """Only a payment that passed a challenge can have opened an agreement, so only those
        pay for the lookup."""
        if self._agreements is None or not result.network_reference:
            return
        if payment.sca.get("required"):
            self._agreements.confirm(payment.payment_id, result.network_reference)

    def _steps_up(self, result: AuthorizationResult, sca: ScaResult) -> bool:
        """A soft decline of a payment sent without authentication: challenge, then retry. An
        authenticated payment soft-declined again is a decline (no loop of challenges)."""
        return (
            self._acs is not None
            and not result.approved
            and result.decline_code is DeclineCode.AUTHENTICATION_REQUIRED
            and not sca.eci
        )

    def _step_up(self, payment: Payment, context: PaymentContext, now: str) -> StepOutcome:
        assert self._acs is not None
        challenge = self._acs.start_challenge(payment.payment_id, dt.datetime.fromisoformat(now))
        waiting = payment.stepped_up(
            {
                "type": "three_ds_challenge",
                "challenge_id": challenge.challenge_id,
                "method": challenge.method,
                "expires_at": challenge.expires_at.isoformat(timespec="seconds"),
            },
            _resume_state(context),
            now,
        )
        self._store.save(waiting)
        logger.info("issuer asked for authentication", extra={"payment_id": payment.payment_id})
        event = waiting.event(EventType.REQUIRES_ACTION, self._bus)
        return self._answer(waiting, event, approved=False, step_up=True)

    def _authorized_answer(self, payment: Payment) -> StepOutcome:
        if payment.status is PaymentStatus.DECLINED:
            return self._answer(
                payment, payment.event(EventType.DECLINED, self._bus), approved=False
            )
        authorized = payment.event(EventType.AUTHORIZED, self._bus, amount=payment.amount)
        return self._answer(payment, authorized, approved=True)

    # ----------------------------------------------------------------- capture

    def capture(
        self, payment_id: str, requested: int | None, request_key: str | None = None
    ) -> StepOutcome:
        """``request_key`` names the capture request (the workflow passes its own); the same
        request again gets the same answer, any other capture of a captured payment is refused."""

        def reserve(payment: Payment) -> Callable[[], StepOutcome]:
            # Decides on the latest version and reserves the capture (the write a concurrent
            # capture or cancel can win); what it answers runs once, after the write.
            if payment.status is PaymentStatus.CAPTURE_PENDING:
                if requested not in (None, payment.capture_pending):
                    raise PaymentRuleError(
                        "payment_unexpected_state",
                        "A capture of this payment is pending; it cannot be changed.",
                        "amount",
                    )
                # Sending the pending capture again under its key can never capture twice.
                return lambda: self._complete_capture(payment)
            if payment.amount_captured:
                if request_key is not None and request_key == payment.capture_key:
                    if requested not in (None, payment.amount_captured):
                        raise _key_reused()
                    return lambda: self._repeated_capture(payment)  # the same request again
                raise PaymentRuleError(
                    "payment_unexpected_state",
                    f"This payment has already been captured; it is {payment.status}.",
                )
            amount = payment.capture_amount(requested)
            reserved = payment.capture_reserved(amount, self._now(), request_key)
            self._store.save(reserved)
            return lambda: self._complete_capture(reserved)

        # A refusal is the merchant's answer: as the payment "as it stands" it read as a 200
        # success.
        with _refusal_answered("capture"):
            return retry_on_conflict(payment_id, lambda: self._load(payment_id), reserve)()

    def _repeated_capture(self, payment: Payment) -> StepOutcome:
        self._post_capture(payment)  # in case the first attempt died before posting
        return self._captured_answer(payment)

    def _complete_capture(self, pending: Payment) -> StepOutcome:
        return self._captured_answer(self._capture(pending))

    def _capture(self, pending: Payment, written: bool = True) -> Payment:
        """``written`` False: ``pending`` is a sale's authorization with its capture, not yet
        recorded (the stored version is ``pending.version - 1``, ``authorizing``); the write
        that records the capture's outcome records the authorization with it."""
        assert pending.authorization_id is not None  # only an authorized payment is captured
        sequence = pending.capture_sequence
        try:
            self._acquirer.capture(
                pending.authorization_id,
                pending.capture_pending,
                pending.currency,
                idempotency_key=pending.capture_idempotency_key,
            )
        except NOTHING_HAPPENED:
            release = lambda p: _release_capture(p, sequence, self._now())  # noqa: E731
            if written:
                self._update(pending.payment_id, release)
            else:
                self._write_over(pending, release)
            raise
        # Any other failure (a timeout above all) leaves the capture pending: its outcome is
        # unknown, and only the same key or the acquirer's record may settle it.
        confirm = lambda p: _confirm_capture(p, sequence, self._now())  # noqa: E731
        captured = (
            self._write_over(pending, confirm)
            if not written
            else self._update(pending.payment_id, confirm)
        )
        self._post_capture(captured)
        logger.info(
            "payment captured",
            extra={"payment_id": captured.payment_id, "amount": captured.amount_captured},
        )
        return captured

    def _write_over(self, unwritten: Payment, change: Callable[[Payment], Payment]) -> Payment:
        """Writes ``change(unwritten)`` over the version ``unwritten`` came from, without
        reading it again; if another writer got there first, ``change`` is decided again on
        the latest version (``_update``), where a sale's record may still be ``authorizing``."""
        changed = change(unwritten).evolve(self._now(), version=unwritten.version)
        try:
            self._store.save(changed)
        except StaleWriteError:

            def decide(current: Payment) -> Payment:
                known = _as_authorized(current, unwritten)
                decided = change(known)
                if decided is known and known is not current:
                    return known.evolve(self._now())  # record what this step knows
                return decided

            return self._update(unwritten.payment_id, decide)
        return changed

    def _captured_answer(self, payment: Payment) -> StepOutcome:
        return self._answer(
            payment,
            payment.event(EventType.CAPTURED, self._bus, amount=payment.amount_captured),
            captured_amount=payment.amount_captured,
            sequence=payment.capture_sequence,
        )

    # ------------------------------------------------------------------ refund

    def refund(self, payment_id: str, refund_id: str, requested: int | None) -> StepOutcome:
        def reserve(payment: Payment) -> Callable[[], StepOutcome]:
            # Decides on the latest version and reserves the refund (a concurrent refund
            # winning means checking the balance again); what it answers runs once, after.
            done = payment.find_refund(refund_id)
            if done is not None:
                if requested not in (None, done.amount):
                    raise _key_reused()  # the refund id comes from the key: another request
                if done.pending:
                    return lambda: self._complete_refund(payment, done)
                return lambda: self._repeated_refund(payment, done)
            amount = payment.refund_amount(requested)
            refund = Refund(refund_id, amount, self._now(), RefundStatus.PENDING)
            reserved = payment.refunded(refund, self._now())
            self._store.save(reserved)
            return lambda: self._complete_refund(reserved, refund)

        # A refusal is the merchant's answer: it failed the execution, a 5xx retried in vain.
        with _refusal_answered("refund"):
            return retry_on_conflict(payment_id, lambda: self._load(payment_id), reserve)()

    def _repeated_refund(self, payment: Payment, refund: Refund) -> StepOutcome:
        self._post_refund(payment, refund)  # in case the first attempt died before posting
        return self._refunded_answer(payment, refund)

    def _complete_refund(self, payment: Payment, refund: Refund) -> StepOutcome:
        assert payment.authorization_id is not None
        refund_id = refund.refund_id
        try:
            self._acquirer.refund(
                payment.authorization_id,
                refund.amount,
                payment.currency,
                idempotency_key=payment.refund_idempotency_key(refund_id),
            )
        except NOTHING_HAPPENED:
            self._update(payment.payment_id, lambda p: p.refund_released(refund_id, self._now()))
            raise
        # A timeout leaves the refund pending; it still counts against the refundable amount.
        refunded = self._update(
            payment.payment_id, lambda p: _confirm_refund(p, refund_id, self._now())
        )
        logger.info(
            "payment refunded", extra={"payment_id": payment.payment_id, "amount": refund.amount}
        )
        confirmed = refunded.find_refund(refund_id)
        assert confirmed is not None
        self._post_refund(refunded, confirmed)
        return self._refunded_answer(refunded, confirmed)

    def _refunded_answer(self, payment: Payment, refund: Refund) -> StepOutcome:
        return self._answer(
            payment,
            payment.event(
                EventType.REFUNDED, self._bus, key=refund.refund_id, amount=refund.amount
            ),
            refund=RefundDone(id=refund.refund_id, amount=refund.amount),
        )

    # ------------------------------------------------------------ pending

    def pending(self, payment_id: str) -> StepOutcome:
        """The payment as it stands after a step whose outcome is unknown (no event: nothing
        is known to have happened yet)."""
        return self._answer(self._load(payment_id), pending=True)

    def resolve(self, payment_id: str) -> list[StepOutcome]:
        """Settles every pending capture or refund of the payment by the acquirer's own answer:
        succeeded → confirmed; failed → released; not found → sent again under the same key
        (which either finds the first attempt or makes it now). Returns the answers of what it
        settled (each with the events to publish); what still times out stays pending."""
        payment = self._load(payment_id)
        settled: list[StepOutcome] = []
        if payment.status is PaymentStatus.CAPTURE_PENDING:
            answer = self._resolve_capture(payment)
            if answer is not None:
                settled.append(answer)
        for refund in self._load(payment_id).pending_refunds:
            answer = self._resolve_refund(payment_id, refund)
            if answer is not None:
                settled.append(answer)
        return settled

    def _resolve_capture(self, payment: Payment) -> StepOutcome | None:
        sequence = payment.capture_sequence
        status = self._acquirer.operation_status(payment.capture_idempotency_key)
        if status is OperationStatus.FAILED:
            self._update(payment.payment_id, lambda p: _release_capture(p, sequence, self._now()))
            return None
        if status is OperationStatus.SUCCEEDED:
            captured = self._update(
                payment.payment_id, lambda p: _confirm_capture(p, sequence, self._now())
            )
            self._post_capture(captured)
            return self._captured_answer(captured)
        return self._complete_capture(payment)

    def _resolve_refund(self, payment_id: str, refund: Refund) -> StepOutcome | None:
        payment = self._load(payment_id)
        status = self._acquirer.operation_status(payment.refund_idempotency_key(refund.refund_id))
        if status is OperationStatus.FAILED:
            self._update(payment_id, lambda p: p.refund_released(refund.refund_id, self._now()))
            return None
        if status is OperationStatus.SUCCEEDED:
            refunded = self._update(
                payment_id, lambda p: _confirm_refund(p, refund.refund_id, self._now())
            )
            self._post_refund(refunded, refund)
            return self._refunded_answer(refunded, refund)
        return self._complete_refund(payment, refund)

    # ------------------------------------------------------------------ cancel

    def cancel(self, payment_id: str, reason: str | None) -> StepOutcome:
        """Cancels an authorized, uncaptured payment or one that requires action; a canceled
        payment is answered again (same event). Every other state is a 400."""

        def record(payment: Payment) -> tuple[Payment, bool]:
            # Records it canceled on the latest version (a concurrent capture or cancel winning
            # means deciding again): the payment, and whether this call canceled it.
            if payment.status is PaymentStatus.CANCELED:
                return payment, False
            canceled = payment.canceled(reason, self._now())
            self._store.save(canceled)
            return canceled, True

        payment, canceled_now = retry_on_conflict(
            payment_id, lambda: self._load(payment_id), record
        )
        if not canceled_now:
            if payment.authorization_id is not None and payment.failure_code is None:
                # Canceled by a request whose void may have timed out: the same key again
                # voids it now or finds the first void. (Compensation voids before it
                # records canceled, so its payments need no second void.)
                self._void(payment)
            return self._canceled_answer(payment)
        if payment.authorization_id is not None:
            self._void_canceled(payment)
        logger.info("payment canceled", extra={"payment_id": payment_id, "reason": reason})
        return self._canceled_answer(payment)

    def _void_canceled(self, canceled: Payment) -> None:
        try:
            self._void(canceled)
        except NOTHING_HAPPENED:
            # The acquirer voided nothing: authorized again, so the hold is not left unbooked.
            self._update(canceled.payment_id, lambda p: _release_cancel(p, canceled, self._now()))
            raise
        # A timeout leaves it canceled (nothing can capture it any more): the same request
        # again voids it under the same key.

    def _void(self, payment: Payment) -> None:
        assert payment.authorization_id is not None
        self._acquirer.void(payment.authorization_id, idempotency_key=f"{payment.payment_id}:void")

    def _canceled_answer(self, payment: Payment) -> StepOutcome:
        if payment.authorization_id is not None:
            self._reverse(payment)  # the authorization entry; idempotent
        return self._answer(payment, payment.event(EventType.CANCELED, self._bus))

    # ------------------------------------------------------------ compensation

    def void(
        self, payment_id: str, failure: StepFailure, context: PaymentContext | None
    ) -> StepOutcome:
        failure_code = FAILURE_CODES.get(str(failure.Error), "workflow_error")
        payment = self._store.get(payment_id)
        if payment is not None and payment.bin is None and context is not None:
            # The events a step answers carry the BIN, which is never stored: the workflow's
            # compensation has it from the step's input (the sweeper's has no input), so the
            # events it answers for the step are the step's own.
            payment = dataclasses.replace(payment, bin=context.card.first6)
        if payment is not None and payment.status in (PaymentStatus.CANCELED, PaymentStatus.FAILED):
            self._reverse(payment)
            return self._compensated_answer(payment)
        if payment is not None and _outcome_recorded(payment):
            # The step reached its outcome and recorded it (and published it); what failed was
            # its answer, lost on every try (a runtime that died after the write, an answer
            # lost to a timeout). Voiding now would record a capture as money not moved and
            # turn a published decline or authorization into a failure: the compensation
            # answers the recorded outcome, as the step run again would.
            logger.warning(
                "compensation found the outcome recorded",
                extra={"payment_id": payment_id, "status": str(payment.status)},
            )
            return self._recorded_answer(payment)
        if payment is not None and payment.capture_may_be_pending:
            capture = self._acquirer.operation(payment.capture_idempotency_key)
            if capture is not None and capture.status is OperationStatus.SUCCEEDED:
                # The sale's step died after the acquirer took its capture, which a void can
                # never undo: the sale is finished instead, as the step run again would.
                return self._finish(payment, capture) or self.pending(payment_id)
        if payment is not None and payment.has_pending_operation:
            # Voiding would undo money the acquirer may have moved: the payment stays as it is
            # until the same key or the acquirer's record settles the pending operation.
            logger.warning(
                "compensation left a pending operation", extra={"payment_id": payment_id}
            )
            return self.pending(payment_id)
        if payment is None:
            if context is None:
                raise ValueError(f"{payment_id}: no payment record and no context to void by")
            payment = new_payment(context.state(), PaymentStatus.AUTHORIZING, self._now())
            self._store.save(payment)
        if payment.authorization_id is not None:
            self._void(payment)
        else:
            # The acquirer's answer never came: void whatever that request may have created.
            self._acquirer.void(None, idempotency_key=payment.authorize_idempotency_key)
        payment = payment.compensated(failure_code, self._now())
        self._store.save(payment)
        self._reverse(payment)
        logger.warning(
            "payment compensated",
            extra={"payment_id": payment_id, "status": str(payment.status), "code": failure_code},
        )
        return self._compensated_answer(payment)

    def _finish(self, payment: Payment, capture: AcquirerOperation) -> StepOutcome | None:
        """Records a sale left ``authorizing`` by a step that died between the capture and the
        write recording it, from the acquirer's record of that ``capture`` (which names the
        authorization): captured in one write, as the step would have, its entry posted, the
        answer carrying ``payment.authorized`` and ``payment.captured`` (the ids the step would
        have published them with). Nothing is sent to the acquirer. None when the capture does
        not match the record (left for an operator, never guessed) or a concurrent writer
        settled the payment otherwise."""
        payment_id = payment.payment_id
        if (capture.kind, capture.amount, capture.currency) != (
            OperationKind.CAPTURE,
            payment.capture_pending,
            payment.currency,
        ):
            logger.error(
                "the acquirer's capture does not match the sale",
                extra={"payment_id": payment_id, "kind": str(capture.kind)},
            )
            return None
        now = self._now()
        sale = dataclasses.replace(
            payment.authorized(capture.authorization_id, now),
            status=PaymentStatus.CAPTURE_PENDING,
        )
        sequence = sale.capture_sequence
        captured = self._write_over(sale, lambda p: _confirm_capture(p, sequence, self._now()))
        if not (captured.amount_captured and captured.capture_key == payment_id):
            return None
        self._post_capture(captured)
        if self._agreements is not None and payment.sca.get("required"):
            # The network reference comes only with the authorization's answer, which died with
            # the step: an agreement this sale opened stays unconfirmed (no merchant-initiated
            # payment on it) rather than confirmed with a guess.
            logger.warning(
                "finished sale's agreement, if it opened one, left unconfirmed",
                extra={"payment_id": payment_id},
            )
        logger.warning(
            "sale finished from the acquirer's capture",
            extra={"payment_id": payment_id, "amount": captured.amount_captured},
        )
        return self._sale_answer(captured)

    def _reverse(self, payment: Payment) -> None:
        """Compensation reverses every entry the payment has (none when it never authorized)."""
        self._post(
            payment,
            "reversal",
            lambda ledger: ledger.reverse_all(payment.payment_id, at=payment.updated_at),
        )

    def _compensated_answer(self, payment: Payment) -> StepOutcome:
        kind = (
            EventType.CANCELED if payment.status is PaymentStatus.CANCELED else EventType.DECLINED
        )
        events = [payment.event(kind, self._bus)]
        if payment.authorization_id is not None and payment.capture_requested:
            # A sale whose capture failed raised before its step could publish the authorization
            # it made: it is published here, before the cancellation (same event id if it was).
            authorized = payment.event(EventType.AUTHORIZED, self._bus, amount=payment.amount)
            events.insert(0, authorized)
        return self._answer(payment, *events)


def _sca(context: PaymentContext) -> ScaResult:
    """The assess step's SCA answer; a context without one (no SCA asked) reads as not
    required, nothing exempted, no authentication."""
    return context.sca.result if context.sca is not None else ScaResult(required=False)


def _resume_state(context: PaymentContext) -> dict[str, Any]:
    """What a payment waiting for a challenge keeps to resume from, in the payments table: no
    SCA answer (the challenge gives a new one) and no BIN beside the card key and last four
    (PCI DSS 3.5.1); the resumed authorization needs the token and the expiry."""
    # The metadata is on the payment record already: not kept a second time in the same item.
    return context.model_dump(
        exclude_none=True, exclude={"sca": True, "card": {"first6"}, "metadata": True}
    )


@contextlib.contextmanager
def _refusal_answered(operation: str) -> Iterator[None]:
    """A capture or refund the acquirer refused (it did nothing and never will under this
    authorization: voided, expired, refused) becomes the merchant's 422: nothing moved, the
    reservation is released, and the same request again would be refused again. The acquirer's
    code is named; its message never reaches the merchant. The reconciliation's ``resolve``
    keeps the acquirer's own error."""
    try:
        yield
    except AcquirerRejectedError as refused:
        raise PaymentRuleError(
            f"{operation}_refused",
            f"The acquirer refused the {operation} ({refused.code}); nothing was moved.",
            None,
            422,
        ) from None


def _key_reused() -> PaymentRuleError:
    # Reached after the API's idempotency record expired: the key names an operation that was
    # made with another amount, and answering that operation would hide the difference.
    return PaymentRuleError(
        "idempotency_key_reused",
        "This Idempotency-Key was already used for a different request.",
        "Idempotency-Key",
        422,
    )


def _release_cancel(payment: Payment, canceled: Payment, now: str) -> Payment:
    if payment.version != canceled.version or payment.status is not PaymentStatus.CANCELED:
        return payment  # already changed by a concurrent call
    return payment.cancel_released(now)


def _outcome_recorded(payment: Payment) -> bool:
    """The authorize (or sale) step finished: a decline, an authorization that was not to be
    captured, or money captured. An ``authorizing`` record, a waiting challenge and a sale's
    authorization whose capture the acquirer refused are what compensation is for."""
    if payment.status is PaymentStatus.AUTHORIZED:
        return not payment.capture_requested
    return payment.status in (
        PaymentStatus.DECLINED,
        PaymentStatus.CAPTURED,
        PaymentStatus.PARTIALLY_REFUNDED,
        PaymentStatus.REFUNDED,
    )


def _as_authorized(stored: Payment, sale: Payment) -> Payment:
    """The stored record of a sale as its step now knows it: an ``authorizing`` record with
    the capture intent is the authorization ``sale`` holds, with its capture pending."""
    if stored.capture_may_be_pending and stored.capture_sequence == sale.capture_sequence:
        return dataclasses.replace(
            stored,
            status=PaymentStatus.CAPTURE_PENDING,
            authorization_id=sale.authorization_id,
            authorized_at=sale.authorized_at,
            resume_context=None,
        )
    return stored


def _release_capture(payment: Payment, sequence: int, now: str) -> Payment:
    if payment.status is not PaymentStatus.CAPTURE_PENDING or payment.capture_sequence != sequence:
        return payment  # already settled by a concurrent call
    return payment.capture_released(now)


def _confirm_capture(payment: Payment, sequence: int, now: str) -> Payment:
    if payment.capture_sequence != sequence:
        raise StaleWriteError(payment.payment_id)
    if payment.status is not PaymentStatus.CAPTURE_PENDING:
        return payment  # a concurrent call confirmed it
    return payment.capture_confirmed(now)


def _confirm_refund(payment: Payment, refund_id: str, now: str) -> Payment:
    refund = payment.find_refund(refund_id)
    if refund is None or not refund.pending:
        return payment
    return payment.refund_confirmed(refund_id, now)
