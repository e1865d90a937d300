"""PSD2 strong customer authentication: is SCA required for a card payment, or does an
exemption of the RTS (Commission Delegated Regulation (EU) 2018/389) apply?

``decide`` is a pure function of the request, the payer's low-value counter and the PSP's
policy. The rules:

* Merchant-initiated transactions are out of scope (Art. 97 PSD2 covers payments the payer
  initiates): no SCA, counter unchanged.
* Recurring (Art. 14): exempt only for a series whose first payment was authenticated with SCA,
  to the same merchant, with the same amount and currency. A mandate of another merchant, or
  one not authenticated, makes this payment the first of a series: SCA.
* Low value (Art. 16): at most EUR 30, and since the last SCA at most 5 consecutive exempted
  payments *and* at most EUR 100 in total including this one. The RTS lets a PSP choose the
  count or the cumulative limit; applying both is the stricter reading.
* Transaction risk analysis (Art. 18): offered only when the PSP's fraud rate is within a band
  of the Annex; the amount must be within that band's limit and the fraud decision "allow".
  A TRA exemption does not touch the low-value counter.

A requested exemption that does not apply means SCA: the merchant asked for that exemption and
another one is not silently substituted. Without a request the PSP tries TRA first (it spends
no low-value allowance), then low value; if neither applies the reason is ``no_exemption``.
Limits are compared in EUR after conversion that rounds up (``fx``); a currency without a rate
cannot be shown to be within a limit, so it needs SCA (``no_rate_for_currency``). A blocked
payment never reaches SCA in the workflow; if asked, the answer is SCA (``fraud_blocked``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from .fraud import FraudDecision
from .fx import EurRates


class Exemption(StrEnum):
    LOW_VALUE = "low_value"
    TRANSACTION_RISK_ANALYSIS = "transaction_risk_analysis"
    RECURRING = "recurring"
    MERCHANT_INITIATED = "merchant_initiated"


class ScaReason(StrEnum):
    """The stable codes of ``ScaDecision.reason``."""

    LOW_VALUE_WITHIN_LIMITS = "low_value_within_limits"
    LOW_VALUE_COUNT_EXCEEDED = "low_value_count_exceeded"
    LOW_VALUE_CUMULATIVE_EXCEEDED = "low_value_cumulative_exceeded"
    AMOUNT_ABOVE_LOW_VALUE_LIMIT = "amount_above_low_value_limit"
    TRA_WITHIN_BAND = "tra_within_band"
    TRA_AMOUNT_ABOVE_BAND = "tra_amount_above_band"
    TRA_NOT_OFFERED = "tra_not_offered"
    TRA_RISK_NOT_LOW = "tra_risk_not_low"
    RECURRING_FIXED_AMOUNT = "recurring_fixed_amount"
    RECURRING_AMOUNT_CHANGED = "recurring_amount_changed"
    RECURRING_FIRST_PAYMENT = "recurring_first_payment"
    MERCHANT_INITIATED_OUT_OF_SCOPE = "merchant_initiated_out_of_scope"
    NO_RATE_FOR_CURRENCY = "no_rate_for_currency"
    FRAUD_BLOCKED = "fraud_blocked"
    NO_EXEMPTION = "no_exemption"


@dataclass(frozen=True, slots=True)
class LowValueCounter:
    """Remote payments of the payer exempted as low value since the last SCA."""

    consecutive: int = 0
    cumulative_eur_minor: int = 0

    def __post_init__(self) -> None:
        if self.consecutive < 0 or self.cumulative_eur_minor < 0:
            raise ValueError("a low-value counter cannot be negative")


@dataclass(frozen=True, slots=True)
class RecurringMandate:
    """A series of payments; ``authenticated`` when its first payment was made with SCA."""

    amount_minor: int
    currency: str
    merchant_id: str
    authenticated: bool


@dataclass(frozen=True, slots=True)
class ScaPolicy:
    """The PSP's exemption policy. ``tra_reference_fraud_rate_bps`` is the PSP's fraud rate for
    remote card payments in basis points (13 == 0.13 %); None when TRA is not offered.

    The limits default to the RTS maxima (Art. 16, Annex); a PSP may set lower ones.
    """

    rates: EurRates
    tra_reference_fraud_rate_bps: int | None
    low_value_limit_eur_minor: int = 3_000
    low_value_max_consecutive: int = 5
    low_value_max_cumulative_eur_minor: int = 10_000
    # (reference fraud rate in bps, amount limit in EUR cents), RTS Annex, remote card payments.
    tra_bands: tuple[tuple[int, int], ...] = ((13, 10_000), (6, 25_000), (1, 50_000))

    def __post_init__(self) -> None:
        if self.tra_reference_fraud_rate_bps is not None and self.tra_reference_fraud_rate_bps < 0:
            raise ValueError("tra_reference_fraud_rate_bps cannot be negative")
        if min(
            self.low_value_limit_eur_minor,
            self.low_value_max_consecutive,
            self.low_value_max_cumulative_eur_minor,
        ) < 0 or any(rate < 0 or limit < 0 for rate, limit in self.tra_bands):
            raise ValueError("SCA policy limits cannot be negative")

    def tra_limit_eur_minor(self) -> int | None:
        """The largest amount TRA may exempt at the PSP's fraud rate; None when not offered."""
        rate = self.tra_reference_fraud_rate_bps
        if rate is None:
            return None
        limits = [limit for reference, limit in self.tra_bands if reference >= rate]
        return max(limits, default=None)


@dataclass(frozen=True, slots=True)
class ScaRequest:
    merchant_id: str
    amount_minor: int
    currency: str
    exemption_requested: Exemption | None
    fraud_decision: str  # a FraudDecision value: "allow", "review" or "block"
    counter: LowValueCounter
    mandate: RecurringMandate | None = None

    def __post_init__(self) -> None:
        if self.amount_minor < 0:
            raise ValueError("amount_minor cannot be negative")
        FraudDecision(self.fraud_decision)  # ValueError for a code the workflow does not know
        if self.exemption_requested is not None:
            object.__setattr__(self, "exemption_requested", Exemption(self.exemption_requested))


@dataclass(frozen=True, slots=True)
class ScaDecision:
    required: bool
    exemption: Exemption | None  # the exemption applied; None when SCA is required
    reason: str  # a ScaReason value
    amount_eur_minor: int | None
    counter_after: LowValueCounter  # the payer's counter to store for the next payment


def after_authentication(counter: LowValueCounter) -> LowValueCounter:
    """The counter once SCA has been performed: Art. 16 counts from the last SCA."""
    return replace(counter, consecutive=0, cumulative_eur_minor=0)


@dataclass(frozen=True, slots=True)
class _Outcome:
    exemption: Exemption | None
    reason: ScaReason
    counter_after: LowValueCounter


def decide(request: ScaRequest, policy: ScaPolicy) -> ScaDecision:
    """Whether ``request`` needs SCA; see the module docstring for the rules."""
    amount_eur = policy.rates.to_eur_minor(request.amount_minor, request.currency)
    outcome = _outcome(request, policy, amount_eur)
    return ScaDecision(
        required=outcome.exemption is None,
        exemption=outcome.exemption,
        reason=outcome.reason,
        amount_eur_minor=amount_eur,
        counter_after=outcome.counter_after,
    )


def _outcome(request: ScaRequest, policy: ScaPolicy, amount_eur: int | None) -> _Outcome:
    counter = request.counter
    requested = request.exemption_requested
    if request.fraud_decision == FraudDecision.BLOCK:
        return _Outcome(None, ScaReason.FRAUD_BLOCKED, counter)
    if requested == Exemption.MERCHANT_INITIATED:
        return _Outcome(
            Exemption.MERCHANT_INITIATED, ScaReason.MERCHANT_INITIATED_OUT_OF_SCOPE, counter
        )
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
    cumulative = counter.cumulative_eur_minor + amount_eur
    if cumulative > policy.low_value_max_cumulative_eur_minor:
        return _Outcome(None, ScaReason.LOW_VALUE_CUMULATIVE_EXCEEDED, counter)
    return _Outcome(
        Exemption.LOW_VALUE,
        ScaReason.LOW_VALUE_WITHIN_LIMITS,
        LowValueCounter(consecutive=counter.consecutive + 1, cumulative_eur_minor=cumulative),
    )


def _tra(request: ScaRequest, amount_eur: int, policy: ScaPolicy) -> _Outcome:
    limit = policy.tra_limit_eur_minor()
    if limit is None:
        return _Outcome(None, ScaReason.TRA_NOT_OFFERED, request.counter)
    if request.fraud_decision != FraudDecision.ALLOW:
        return _Outcome(None, ScaReason.TRA_RISK_NOT_LOW, request.counter)
    if amount_eur > limit:
        return _Outcome(None, ScaReason.TRA_AMOUNT_ABOVE_BAND, request.counter)
    return _Outcome(Exemption.TRANSACTION_RISK_ANALYSIS, ScaReason.TRA_WITHIN_BAND, request.counter)
