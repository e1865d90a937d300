"""The workflow's SCA step as a use case over ports: decide whether a payment needs strong
customer authentication (``domain.sca``), open a 3-D Secure challenge when it does, verify the
cardholder's answer on resume, and keep the state the RTS rules need between payments:

* the Art. 16 counter per card across the platform (``ScaCounters``), keyed by
  ``platform_card_key``;
* the Art. 14 recurring series per merchant and card (``Mandates``);
* the monitored TRA state (``TraMonitoringSource``, stored daily by the settle run,
  ``services.fraud_monitoring``): TRA is offered only in an Annex band it offers, and not at
  all when no measurement exists or the last one is older than ``MONITORING_MAX_AGE``
  (RTS Art. 18(2)(a), 19-21: fail closed);
* the merchant-initiated agreements per merchant and card (``MitAgreements``, EBA Q&A
  2018_4031). An agreement is *opened* here when a customer-initiated payment that sets one up
  (a first recurring payment, or ``sca_preferences.setup_future_usage == "off_session"``) passes
  its SCA challenge, and *confirmed* (``confirm_agreement``) with the network transaction
  reference the acquirer returns for that payment's authorization. Only a confirmed agreement
  carries a MIT.

Nothing here imports boto3: the adapters live in ``functions.adapters.risk_tables`` and the
in-memory fakes below, which the tests and the benchmark use.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from functions.contracts.steps import (
    ChallengeAction,
    PaymentContext,
    ScaResult,
    VerifyAnswer,
)
from functions.domain import fraud_features
from functions.domain.geo import CountrySource
from functions.domain.payments import Payment, PaymentRuleError, PaymentStatus
from functions.domain.sca import (
    Channel,
    Exemption,
    LowValueCounter,
    MitAgreement,
    RecurringMandate,
    ScaDecision,
    ScaPolicy,
    ScaRequest,
    after_authentication,
    decide,
)
from functions.domain.three_ds import AccessControlServer, AuthenticationResult, Challenge
from functions.services.fraud_monitoring import TraMonitoringSource

COUNTER_WRITE_ATTEMPTS = 3
# The settle run measures once a day; a state two days old means runs have stopped, and a rate
# nobody measured since cannot carry an exemption (Art. 21: monitoring).
MONITORING_MAX_AGE = dt.timedelta(hours=48)


class CounterConflictError(Exception):
    """The counter changed since it was read: read it again and decide again."""


class ScaCounters(Protocol):
    """Art. 16 counters by platform card key, with optimistic versions (0: no item yet)."""

    def read(self, card_key: str) -> tuple[LowValueCounter, int]: ...

    def write(self, card_key: str, counter: LowValueCounter, read_version: int) -> None:
        """Raises ``CounterConflictError`` when the version is no longer ``read_version``."""
        ...


class Mandates(Protocol):
    def find(self, merchant_id: str, card_key: str) -> RecurringMandate | None: ...

    def save(self, merchant_id: str, card_key: str, amount: int, currency: str) -> None: ...


class PaymentLookup(Protocol):
    def get(self, payment_id: str) -> Payment | None: ...


class MitAgreements(Protocol):
    def find(self, merchant_id: str, card_key: str) -> MitAgreement | None:
        """The confirmed agreement of this merchant and card, if any."""
        ...

    def open(self, agreement: MitAgreement) -> None:
        """Keep an agreement set up by ``agreement.initial_payment_id`` until it is confirmed."""
        ...

    def confirm(self, initial_payment_id: str, network_reference: str) -> MitAgreement | None:
        """The opened agreement with its network reference, now the merchant's and card's
        agreement (replacing an older one); None when no agreement was opened for it."""
        ...


def merchant_card_key(card: Mapping[str, Any]) -> str:
    """The card as a merchant's mandates and agreements name it (the merchant is the other half
    of their key): the vault's ``card_key``, or the token for one written before card keys."""
    return str(card.get("card_key") or card["token"])


def platform_card_key(card: Mapping[str, Any]) -> str:
    """The card across the platform, for the Art. 16 counter: the vault's ``card_key``, a MAC
    of the card number that only the tokenize step can compute (a KMS HMAC key), the same for
    one card at every merchant and customer. A token written before card keys existed has none;
    its counter is the token's own (per customer and merchant), until a rewrap adds one."""
    return fraud_features.platform_card_key(card.get("card_key"), card["token"])


@dataclass(frozen=True, slots=True)
class PaymentRisk:
    """What the SCA step reads of the workflow's payment state."""

    payment_id: str
    merchant_id: str
    amount: int
    currency: str
    card: Mapping[str, Any]
    fraud_decision: str
    fraud_reasons: tuple[str, ...] = ()
    exemption_requested: Exemption | None = None
    setup_future_usage: str | None = None
    channel: Channel = Channel.ECOMMERCE
    customer_present: bool = False

    @classmethod
    def from_state(cls, payment: Mapping[str, Any]) -> PaymentRisk:
        preferences = payment.get("sca_preferences") or {}
        customer = payment.get("customer") or {}
        fraud = (payment.get("fraud") or {}).get("result") or {}
        requested = preferences.get("exemption_requested")
        return cls(
            payment_id=payment["payment_id"],
            merchant_id=payment["merchant_id"],
            amount=payment["amount"],
            currency=payment["currency"],
            card=payment["card"],
            fraud_decision=fraud["decision"],
            fraud_reasons=tuple(fraud.get("reasons") or ()),
            exemption_requested=Exemption(requested) if requested else None,
            setup_future_usage=preferences.get("setup_future_usage"),
            channel=Channel(payment.get("channel") or preferences.get("channel") or "ecommerce"),
            customer_present=bool(customer.get("ip") or customer.get("device_id")),
        )


@dataclass
class ScaService:
    counters: ScaCounters
    mandates: Mandates
    agreements: MitAgreements
    issuers: CountrySource
    acs: AccessControlServer
    policy: Callable[[], ScaPolicy]
    # None: the policy's own ``monitoring`` stands (the wiring always gives a source).
    monitoring: TraMonitoringSource | None = None

    def decide(self, payment: PaymentRisk, now: dt.datetime) -> ScaResult:
        """The SCA answer of the workflow (with a challenge when SCA is required); the Art. 16
        counter is updated over the version it was read at, deciding again on a conflict."""
        decision, agreement = self._decide_counted(payment, self._monitored(now))
        challenge = None
        if decision.required:
            opened = self.acs.start_challenge(payment.payment_id, now)
            challenge = ChallengeAction(
                type="three_ds_challenge",
                challenge_id=opened.challenge_id,
                method=opened.method,
                expires_at=opened.expires_at.isoformat(timespec="seconds"),
            )
        mit = decision.exemption is Exemption.MERCHANT_INITIATED and agreement is not None
        return ScaResult(
            required=decision.required,
            exemption=str(decision.exemption) if decision.exemption else None,
            reason=decision.reason,
            amount_eur_minor=decision.amount_eur_minor,
            in_scope=decision.in_scope,
            # The MIT's authorization quotes the initial payment's network reference.
            network_reference=agreement.network_reference if mit and agreement else None,
            challenge=challenge,
        )

    def _monitored(self, now: dt.datetime) -> ScaPolicy:
        """The policy with the monitored TRA state; the read is skipped when TRA is off."""
        policy = self.policy()
        if self.monitoring is None or not policy.qualifying_bands():
            return policy
        state = self.monitoring.latest()
        if state is not None and state.stale(now, MONITORING_MAX_AGE):
            state = None
        return replace(policy, monitoring=state)

    def _decide_counted(
        self, payment: PaymentRisk, policy: ScaPolicy
    ) -> tuple[ScaDecision, MitAgreement | None]:
        key = platform_card_key(payment.card)
        card = merchant_card_key(payment.card)
        requested = payment.exemption_requested
        mandate = (
            self.mandates.find(payment.merchant_id, card)
            if requested is Exemption.RECURRING
            else None
        )
        agreement = (
            self.agreements.find(payment.merchant_id, card)
            if requested is Exemption.MERCHANT_INITIATED
            else None
        )
        for _ in range(COUNTER_WRITE_ATTEMPTS):
            counter, version = self.counters.read(key)
            decision = decide(
                ScaRequest(
                    merchant_id=payment.merchant_id,
                    amount_minor=payment.amount,
                    currency=payment.currency,
                    exemption_requested=requested,
                    fraud_decision=payment.fraud_decision,
                    counter=counter,
                    mandate=mandate,
                    fraud_reasons=payment.fraud_reasons,
                    issuer_country=self.issuers.country_of(payment.card.get("first6")),
                    channel=payment.channel,
                    customer_present=payment.customer_present,
                    mit_agreement=agreement,
                    card_key=key,
                    merchant_card_key=card,
                ),
                policy,
            )
            if decision.counter_after == counter:
                return decision, agreement
            try:
                self.counters.write(key, decision.counter_after, version)
                return decision, agreement
            except CounterConflictError:
                continue  # a concurrent payment on the same card counted first: decide again
        raise CounterConflictError(f"SCA counter for card kept changing ({key[:12]}…)")

    def authenticated(self, context: Mapping[str, Any], payment_id: str) -> None:
        """After a passed challenge: reset the card's counter (Art. 16 counts from the last
        SCA), and remember what this authenticated payment set up (Art. 14 series, MIT
        agreement)."""
        card = context["card"]
        key = platform_card_key(card)
        counter, version = self.counters.read(key)
        # On a conflict another payment counted meanwhile; the next SCA resets the counter.
        with contextlib.suppress(CounterConflictError):
            self.counters.write(key, after_authentication(counter), version)
        preferences = context.get("sca_preferences") or {}
        merchant, merchant_card = context["merchant_id"], merchant_card_key(card)
        recurring = preferences.get("exemption_requested") == Exemption.RECURRING.value
        if recurring:
            self.mandates.save(merchant, merchant_card, context["amount"], context["currency"])
        if recurring or preferences.get("setup_future_usage") == "off_session":
            self.agreements.open(MitAgreement(merchant, merchant_card, payment_id, None, True))

    def verify(
        self, payment_id: str, response: str, payments: PaymentLookup, now: dt.datetime
    ) -> VerifyAnswer:
        """Check the cardholder's answer to the payment's challenge; answers the saved workflow
        state with the authentication result to continue from, or an error answer."""
        payment = payments.get(payment_id)
        if payment is None:
            return VerifyAnswer.model_validate(
                PaymentRuleError(
                    "resource_missing", f"No payment {payment_id}.", "payment_id", 404
                ).to_answer()
            )
        if payment.status is not PaymentStatus.REQUIRES_ACTION or not payment.next_action:
            return VerifyAnswer.model_validate(
                PaymentRuleError(
                    "payment_unexpected_state",
                    "Only a payment that requires action can be resumed; "
                    f"this one is {payment.status}.",
                    None,
                    400,  # never succeeds on retry: 409 is kept for "retry later"
                ).to_answer()
            )
        action = payment.next_action
        challenge = Challenge(
            challenge_id=action["challenge_id"],
            payment_id=payment_id,
            method=action["method"],
            expires_at=dt.datetime.fromisoformat(action["expires_at"]),
        )
        result: AuthenticationResult = self.acs.verify(challenge, response, now)
        context = dict(payment.resume_context or {})
        context["sca"] = {
            "result": {
                "required": True,
                "exemption": None,
                "reason": result.reason,
                "authenticated": result.authenticated,
                "eci": result.eci,
                "authentication_value": result.authentication_value,
            }
        }
        if result.authenticated:
            self.authenticated(context, payment_id)
        return VerifyAnswer(
            authenticated=result.authenticated, payment=PaymentContext.model_validate(context)
        )

    def confirm_agreement(
        self, initial_payment_id: str, network_reference: str | None
    ) -> MitAgreement | None:
        """Called once the initial payment is authorized, with the acquirer's network
        transaction reference: the agreement becomes usable for MITs."""
        if not network_reference:
            return None
        return self.agreements.confirm(initial_payment_id, network_reference)


# ----------------------------------------------------------------------- in-memory fakes


@dataclass
class InMemoryRiskStore(ScaCounters, Mandates):
    """Counters and mandates in dictionaries (tests, benchmark)."""

    counters: dict[str, tuple[LowValueCounter, int]] = field(default_factory=dict)
    mandates: dict[tuple[str, str], RecurringMandate] = field(default_factory=dict)

    def read(self, card_key: str) -> tuple[LowValueCounter, int]:
        return self.counters.get(card_key, (LowValueCounter(), 0))

    def write(self, card_key: str, counter: LowValueCounter, read_version: int) -> None:
        if self.read(card_key)[1] != read_version:
            raise CounterConflictError(card_key)
        self.counters[card_key] = (counter, read_version + 1)

    def find(self, merchant_id: str, card_key: str) -> RecurringMandate | None:
        return self.mandates.get((merchant_id, card_key))

    def save(self, merchant_id: str, card_key: str, amount: int, currency: str) -> None:
        self.mandates[(merchant_id, card_key)] = RecurringMandate(
            amount, currency, merchant_id, authenticated=True
        )


@dataclass
class InMemoryMitAgreements(MitAgreements):
    confirmed: dict[tuple[str, str], MitAgreement] = field(default_factory=dict)
    opened: dict[str, MitAgreement] = field(default_factory=dict)

    def find(self, merchant_id: str, card_key: str) -> MitAgreement | None:
        return self.confirmed.get((merchant_id, card_key))

    def open(self, agreement: MitAgreement) -> None:
        self.opened[agreement.initial_payment_id] = agreement

    def confirm(self, initial_payment_id: str, network_reference: str) -> MitAgreement | None:
        opened = self.opened.get(initial_payment_id)
        if opened is None:
            return None
        agreement = opened.confirmed(network_reference)
        self.confirmed[(agreement.merchant_id, agreement.card_key)] = agreement
        return agreement
