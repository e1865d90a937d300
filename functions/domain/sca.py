"""PSD2 strong customer authentication: is SCA required for a card payment, or is it out of
scope, or does an exemption of the RTS (Commission Delegated Regulation (EU) 2018/389) apply?

``decide`` is a pure function of the request, the payer's counter and the PSP's policy, applied
in this order (docs/sca-policy.md has the table):

1. A payment the fraud scorer blocked is never waved through: SCA (``fraud_blocked``).
2. Scope (Art. 97 PSD2, which binds the payer's PSP in the EEA; the UK kept the RTS):
   mail and telephone orders are not electronic remote payments (``moto_out_of_scope``); an
   acquirer outside the EEA/UK is not bound (``acquirer_outside_eea_uk``); an issuer outside
   the EEA/UK makes the payment "one leg out": SCA is best effort, so no challenge by default
   (``one_leg_out_issuer``; ``challenge_one_leg_out`` or a ``review`` decision challenges).
   An unknown issuer country is in scope (fails closed). Scope is decided before any EUR
   conversion, so a USD payment on a US card is not refused for a missing rate.
3. Fraud ``review`` (RTS Art. 2: the PSP's own monitoring flagged the payment): SCA, no
   exemption and no MIT (``fraud_review_step_up``) while ``review_steps_up`` is on (default).
4. Merchant-initiated transactions are outside SCA only on an agreement the payer set up with
   SCA (EBA Q&A 2018_4031): a stored ``MitAgreement`` of this merchant and card, authenticated,
   with the network transaction reference of its initial customer-initiated payment. Refused
   when the customer is present (a customer-initiated payment needs SCA).
5. Recurring (Art. 14): exempt only for a series whose first payment was authenticated with SCA,
   to the same merchant, with the same amount and currency.
6. A currency without a EUR rate cannot be shown to be within a limit: SCA
   (``no_rate_for_currency``).
7. Transaction risk analysis (Art. 18): the PSP's fraud rate (Art. 19) picks the band of the
   Annex (a cap), the monitored state (Art. 19-21, stored by the daily settle run) must offer
   the band, and without one no TRA is offered at all; the amount must be within the band,
   the fraud decision ``allow`` and no Art. 18(2)(c) risk factor present among the fired fraud
   reasons.
8. Low value (Art. 16): at most EUR 30, and since the last SCA at most 5 previous unauthenticated
   remote payments and at most EUR 100 of them *including this one*. Counting the current
   payment into the EUR 100 and refusing the 6th is a policy choice stricter than the text
   (which counts previous payments only); SCA may always be applied.

The counter (Art. 16(b)/(c)) counts every remote payment the payer initiated without SCA since
the last SCA: low-value *and* TRA exemptions. It is kept per card across the platform
(``ScaRequest.card_key``), not per merchant. Out-of-scope, MIT and recurring payments are not
payer-initiated remote payments under the RTS and leave it alone.

A requested exemption that does not apply means SCA: another one is not silently substituted.
Without a request the PSP tries TRA first, then low value; if neither applies the reason is
``no_exemption``. Limits are compared in EUR after conversion that rounds up (``fx``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from .fraud import FraudDecision, risk_factors
from .fraud_rate import ANNEX_REMOTE_CARD_BANDS, TraBand
from .fx import EurRates
from .geo import in_sca_area


class Exemption(StrEnum):
    LOW_VALUE = "low_value"
    TRANSACTION_RISK_ANALYSIS = "transaction_risk_analysis"
    RECURRING = "recurring"
    MERCHANT_INITIATED = "merchant_initiated"


class Channel(StrEnum):
    ECOMMERCE = "ecommerce"
    MOTO = "moto"  # mail or telephone order: not an electronic remote payment of the payer


class ScaReason(StrEnum):
    """The stable codes of ``ScaDecision.reason``."""

    LOW_VALUE_WITHIN_LIMITS = "low_value_within_limits"
    LOW_VALUE_COUNT_EXCEEDED = "low_value_count_exceeded"
    LOW_VALUE_CUMULATIVE_EXCEEDED = "low_value_cumulative_exceeded"
    AMOUNT_ABOVE_LOW_VALUE_LIMIT = "amount_above_low_value_limit"
    TRA_WITHIN_BAND = "tra_within_band"
    TRA_AMOUNT_ABOVE_BAND = "tra_amount_above_band"
    TRA_NOT_OFFERED = "tra_not_offered"
    TRA_SUSPENDED = "tra_suspended_fraud_rate_exceeded"
    TRA_NOT_MONITORED = "tra_fraud_rate_not_monitored"
    TRA_RISK_NOT_LOW = "tra_risk_not_low"
    TRA_RISK_FACTOR_PRESENT = "tra_risk_factor_present"
    RECURRING_FIXED_AMOUNT = "recurring_fixed_amount"
    RECURRING_AMOUNT_CHANGED = "recurring_amount_changed"
    RECURRING_FIRST_PAYMENT = "recurring_first_payment"
    MERCHANT_INITIATED_OUT_OF_SCOPE = "merchant_initiated_out_of_scope"
    MERCHANT_INITIATED_NO_AGREEMENT = "merchant_initiated_no_agreement"
    MERCHANT_INITIATED_CUSTOMER_PRESENT = "merchant_initiated_customer_present"
    MOTO_OUT_OF_SCOPE = "moto_out_of_scope"
    ACQUIRER_OUTSIDE_EEA_UK = "acquirer_outside_eea_uk"
    ONE_LEG_OUT_ISSUER = "one_leg_out_issuer"
    ONE_LEG_OUT_CHALLENGED = "one_leg_out_challenged"
    FRAUD_REVIEW_STEP_UP = "fraud_review_step_up"
    NO_RATE_FOR_CURRENCY = "no_rate_for_currency"
    FRAUD_BLOCKED = "fraud_blocked"
    NO_EXEMPTION = "no_exemption"


@dataclass(frozen=True, slots=True)
class LowValueCounter:
    """Remote payments the payer initiated without SCA since the last SCA (Art. 16(b)/(c)):
    low-value and TRA exemptions alike."""

    consecutive: int = 0
    cumulative_eur_minor: int = 0

    def __post_init__(self) -> None:
        if self.consecutive < 0 or self.cumulative_eur_minor < 0:
            raise ValueError("a low-value counter cannot be negative")

    def plus(self, amount_eur_minor: int) -> LowValueCounter:
        return LowValueCounter(self.consecutive + 1, self.cumulative_eur_minor + amount_eur_minor)


@dataclass(frozen=True, slots=True)
class RecurringMandate:
    """A series of payments; ``authenticated`` when its first payment was made with SCA."""

    amount_minor: int
    currency: str
    merchant_id: str
    authenticated: bool


@dataclass(frozen=True, slots=True)
class MitAgreement:
    """The agreement a merchant-initiated payment rests on (EBA Q&A 2018_4031): the payer set
    it up in a customer-initiated payment (``initial_payment_id``) authenticated with SCA, and
    the acquirer answered that payment's authorization with the scheme's network transaction
    reference (``network_reference``), which subsequent MITs quote. ``card_key`` identifies the
    card (the vault's platform-wide card key; the merchant is the other half of the key)."""

    merchant_id: str
    card_key: str
    initial_payment_id: str
    network_reference: str | None
    authenticated: bool

    @property
    def usable(self) -> bool:
        return self.authenticated and bool(self.network_reference)

    def confirmed(self, network_reference: str) -> MitAgreement:
        """This agreement with the network reference of its initial payment's authorization."""
        return replace(self, network_reference=network_reference)


class BandMonitor(Protocol):
    """What the policy asks of monitoring (``fraud_rate.TraMonitoring`` stored by the settle
    run, or a ``FraudRateReport``): is TRA offered in this Annex band."""

    def band_offered(self, band: TraBand) -> bool: ...


@dataclass(frozen=True, slots=True)
class ScaPolicy:
    """The PSP's SCA policy.

    ``tra_fraud_rate_percent`` is the PSP's fraud rate for remote card payments computed per
    Art. 19 (``Decimal("0.015")`` is 0.015 %); None (the default) offers no TRA exemption.
    ``monitoring`` is the monitored state (``fraud_rate.TraMonitoring``, written by the daily
    settle run): a band it does not offer (its monitored rate exceeded the reference, Art. 20,
    or it has no volume) is not offered; without it no TRA is offered at all (fail closed: the
    configured rate is the operator's statement, Art. 18(2)(a) needs the measured one).
    ``tra_reference_fraud_rate_bps`` is the old integer setting (13 == 0.13 %), read only when
    the percent is not given.

    ``review_steps_up``: a fraud ``review`` gets no exemption and no MIT (default on).
    ``challenge_one_leg_out``: challenge one-leg-out payments although SCA is best effort.
    ``acquirer_country``: None means the acquirer is in the EEA/UK (in scope).
    The limits default to the RTS maxima (Art. 16, Annex); a PSP may set lower ones.
    """

    rates: EurRates
    tra_reference_fraud_rate_bps: int | None = None
    tra_fraud_rate_percent: Decimal | None = None
    low_value_limit_eur_minor: int = 3_000
    low_value_max_consecutive: int = 5
    low_value_max_cumulative_eur_minor: int = 10_000
    tra_bands: tuple[TraBand, ...] = ANNEX_REMOTE_CARD_BANDS
    monitoring: BandMonitor | None = None
    review_steps_up: bool = True
    challenge_one_leg_out: bool = False
    acquirer_country: str | None = None

    def __post_init__(self) -> None:
        bps = self.tra_reference_fraud_rate_bps
        if bps is not None:
            if bps < 0:
                raise ValueError("tra_reference_fraud_rate_bps cannot be negative")
            if self.tra_fraud_rate_percent is not None:
                raise ValueError("give tra_fraud_rate_percent or the old bps setting, not both")
            object.__setattr__(self, "tra_fraud_rate_percent", Decimal(bps) / 100)
        rate = self.tra_fraud_rate_percent
        if rate is not None and (not rate.is_finite() or rate < 0):
            raise ValueError("tra_fraud_rate_percent cannot be negative")
        if (
            min(
                self.low_value_limit_eur_minor,
                self.low_value_max_consecutive,
                self.low_value_max_cumulative_eur_minor,
            )
            < 0
        ):
            raise ValueError("SCA policy limits cannot be negative")

    def qualifying_bands(self) -> list[TraBand]:
        """The Annex bands whose reference rate the PSP's fraud rate is within (Art. 18(2)(a))."""
        rate = self.tra_fraud_rate_percent
        if rate is None:
            return []
        return [band for band in self.tra_bands if band.reference_rate_percent >= rate]

    def tra_limit_eur_minor(self) -> int | None:
        """The largest amount TRA may exempt: the bands the PSP's rate qualifies for (Art. 18
        (2)(a), Annex) that monitoring offers (Art. 19-21); None when none is left, or when
        there is no monitoring."""
        if self.monitoring is None:
            return None
        bands = [band for band in self.qualifying_bands() if self.monitoring.band_offered(band)]
        return max((band.limit_eur_minor for band in bands), default=None)


@dataclass(frozen=True, slots=True)
class ScaRequest:
    """One payment as the SCA step sees it.

    ``card_key``: the card across the platform, which keys the Art. 16 counter (the caller
    reads ``counter`` by it). ``merchant_card_key``: the card within the merchant (mandates,
    MIT agreements). ``fraud_reasons``: the reasons the fraud scorer fired. ``customer_present``:
    the request carries the customer's browser or device data (IP, device id).
    """

    merchant_id: str
    amount_minor: int
    currency: str
    exemption_requested: Exemption | None
    fraud_decision: str  # a FraudDecision value: "allow", "review" or "block"
    counter: LowValueCounter
    mandate: RecurringMandate | None = None
    fraud_reasons: tuple[str, ...] = ()
    issuer_country: str | None = None
    channel: Channel = Channel.ECOMMERCE
    customer_present: bool = False
    mit_agreement: MitAgreement | None = None
    card_key: str = ""
    merchant_card_key: str = ""

    def __post_init__(self) -> None:
        if self.amount_minor < 0:
            raise ValueError("amount_minor cannot be negative")
        FraudDecision(self.fraud_decision)  # ValueError for a code the workflow does not know
        if self.exemption_requested is not None:
            object.__setattr__(self, "exemption_requested", Exemption(self.exemption_requested))
        object.__setattr__(self, "channel", Channel(self.channel))
        object.__setattr__(self, "fraud_reasons", tuple(self.fraud_reasons))


@dataclass(frozen=True, slots=True)
class ScaDecision:
    required: bool
    exemption: Exemption | None  # the exemption applied; None when SCA is required
    reason: str  # a ScaReason value
    amount_eur_minor: int | None
    counter_after: LowValueCounter  # the payer's counter to store for the next payment
    in_scope: bool = True  # False: PSD2 does not mandate SCA (MOTO, one leg out, acquirer)


def after_authentication(counter: LowValueCounter) -> LowValueCounter:
    """The counter once SCA has been performed: Art. 16 counts from the last SCA."""
    return replace(counter, consecutive=0, cumulative_eur_minor=0)


@dataclass(frozen=True, slots=True)
class _Outcome:
    exemption: Exemption | None
    reason: ScaReason
    counter_after: LowValueCounter
    required: bool | None = None  # None: required unless an exemption applies
    in_scope: bool = True


def decide(request: ScaRequest, policy: ScaPolicy) -> ScaDecision:
    """Whether ``request`` needs SCA; see the module docstring for the rules."""
    amount_eur = policy.rates.to_eur_minor(request.amount_minor, request.currency)
    outcome = _outcome(request, policy, amount_eur)
    required = outcome.exemption is None if outcome.required is None else outcome.required
    return ScaDecision(
        required=required,
        exemption=outcome.exemption,
        reason=outcome.reason,
        amount_eur_minor=amount_eur,
        counter_after=outcome.counter_after,
        in_scope=outcome.in_scope,
    )


def _outcome(request: ScaRequest, policy: ScaPolicy, amount_eur: int | None) -> _Outcome:
    counter = request.counter
    requested = request.exemption_requested
    review = request.fraud_decision == FraudDecision.REVIEW and policy.review_steps_up
    if request.fraud_decision == FraudDecision.BLOCK:
        return _Outcome(None, ScaReason.FRAUD_BLOCKED, counter)
    out_of_scope = _scope(request, policy, review)
    if out_of_scope is not None:
        return out_of_scope
    if review:
        return _Outcome(None, ScaReason.FRAUD_REVIEW_STEP_UP, counter)
    if requested == Exemption.MERCHANT_INITIATED:
        return _merchant_initiated(request)
    if requested == Exemption.RECURRING:
        return _recurring(request)
    if amount_eur is None:
        return _Outcome(None, ScaReason.NO_RATE_FOR_CURRENCY, counter)
    if requested == Exemption.LOW_VALUE:
        return _low_value(counter, amount_eur, policy)
    if requested == Exemption.TRANSACTION_RISK_ANALYSIS:
        return _tra(request, amount_eur, policy)
    for attempt in (_tra(request, amount_eur, policy), _low_value(counter, amount_eur, policy)):
        if attempt.exemption is not None:
            return attempt
    return _Outcome(None, ScaReason.NO_EXEMPTION, counter)


def _scope(request: ScaRequest, policy: ScaPolicy, review: bool) -> _Outcome | None:
    """Art. 97 PSD2 scope; None when SCA rules apply to the payment."""
    counter = request.counter
    if request.channel is Channel.MOTO:
        return _Outcome(None, ScaReason.MOTO_OUT_OF_SCOPE, counter, required=False, in_scope=False)
    if in_sca_area(policy.acquirer_country) is False:
        return _Outcome(
            None, ScaReason.ACQUIRER_OUTSIDE_EEA_UK, counter, required=False, in_scope=False
        )
    if in_sca_area(request.issuer_country) is False:
        if policy.challenge_one_leg_out or review:
            return _Outcome(None, ScaReason.ONE_LEG_OUT_CHALLENGED, counter, in_scope=False)
        return _Outcome(None, ScaReason.ONE_LEG_OUT_ISSUER, counter, required=False, in_scope=False)
    return None


def _merchant_initiated(request: ScaRequest) -> _Outcome:
    counter = request.counter
    if request.customer_present:
        return _Outcome(None, ScaReason.MERCHANT_INITIATED_CUSTOMER_PRESENT, counter)
    agreement = request.mit_agreement
    if (
        agreement is None
        or not agreement.usable
        or agreement.merchant_id != request.merchant_id
        or not request.merchant_card_key
        or agreement.card_key != request.merchant_card_key
    ):
        return _Outcome(None, ScaReason.MERCHANT_INITIATED_NO_AGREEMENT, counter)
    return _Outcome(
        Exemption.MERCHANT_INITIATED, ScaReason.MERCHANT_INITIATED_OUT_OF_SCOPE, counter
    )


def _recurring(request: ScaRequest) -> _Outcome:
    mandate = request.mandate
    if mandate is None or not mandate.authenticated or mandate.merchant_id != request.merchant_id:
        return _Outcome(None, ScaReason.RECURRING_FIRST_PAYMENT, request.counter)
    if (mandate.amount_minor, mandate.currency) != (request.amount_minor, request.currency):
        return _Outcome(None, ScaReason.RECURRING_AMOUNT_CHANGED, request.counter)
    return _Outcome(Exemption.RECURRING, ScaReason.RECURRING_FIXED_AMOUNT, request.counter)


def _low_value(counter: LowValueCounter, amount_eur: int, policy: ScaPolicy) -> _Outcome:
    if amount_eur > policy.low_value_limit_eur_minor:
        return _Outcome(None, ScaReason.AMOUNT_ABOVE_LOW_VALUE_LIMIT, counter)
    if counter.consecutive + 1 > policy.low_value_max_consecutive:
        return _Outcome(None, ScaReason.LOW_VALUE_COUNT_EXCEEDED, counter)
    if counter.cumulative_eur_minor + amount_eur > policy.low_value_max_cumulative_eur_minor:
        return _Outcome(None, ScaReason.LOW_VALUE_CUMULATIVE_EXCEEDED, counter)
    return _Outcome(
        Exemption.LOW_VALUE, ScaReason.LOW_VALUE_WITHIN_LIMITS, counter.plus(amount_eur)
    )


def _tra(request: ScaRequest, amount_eur: int, policy: ScaPolicy) -> _Outcome:
    counter = request.counter
    if not policy.qualifying_bands():
        return _Outcome(None, ScaReason.TRA_NOT_OFFERED, counter)
    if policy.monitoring is None:
        return _Outcome(None, ScaReason.TRA_NOT_MONITORED, counter)
    limit = policy.tra_limit_eur_minor()
    if limit is None:
        return _Outcome(None, ScaReason.TRA_SUSPENDED, counter)
    if request.fraud_decision != FraudDecision.ALLOW:
        return _Outcome(None, ScaReason.TRA_RISK_NOT_LOW, counter)
    if risk_factors(request.fraud_reasons):
        return _Outcome(None, ScaReason.TRA_RISK_FACTOR_PRESENT, counter)
    if amount_eur > limit:
        return _Outcome(None, ScaReason.TRA_AMOUNT_ABOVE_BAND, counter)
    # Art. 16(b)/(c) count every remote payment without SCA: a TRA exemption counts too.
    return _Outcome(
        Exemption.TRANSACTION_RISK_ANALYSIS, ScaReason.TRA_WITHIN_BAND, counter.plus(amount_eur)
    )
