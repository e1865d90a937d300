"""The credit decision (pure domain): hard policy, then affordability and limits, then the
scorecard; every decline or reduced amount with its ordered principal reasons and what would
change the decision.

Order, and why each rule exists (each row of tests/unit/credit/test_decision_table.py names its
rule):

1. Policy (decline, no score): the applicant is 18 or older on the decision date (legal
   capacity to contract: a minor's credit agreement is not enforceable against them, e.g. the
   UK Minors' Contracts Act 1987; every member state sets majority at 18); no instalment of
   this platform in arrears (an applicant already failing to repay is not lent more: EU
   Consumer Credit Directive 2023/2225 Art. 18, FCA CONC 5.2A for UK deferred payment credit);
   the currency is offered and the amount within the plan's bounds.
2. Affordability and limits (decline, or a reduced amount when a smaller one passes): the
   largest monthly repayment of the plan fits the declared net income less declared
   commitments, the platform's own BNPL repayments and a configured living-costs buffer
   (CCD 2023/2225 Art. 18: income and expenses; FCA CONC 5.2A: income and
   non-discretionary expenditure, from 15 July 2026 for deferred payment credit too); the
   customer's outstanding BNPL credit on this platform plus this credit stays within the
   customer limit (CONC 5.2A: the total indebtedness) and the merchant's within the merchant
   limit (the platform's concentration risk: a merchant reason, not an adverse one about the
   customer).
3. The scorecard (decline below its cutoff, with the features that cost the most points).

The decision is returned whole (inputs' digest, model version, score, reasons, outcome) for
the audit record; a person can review and change it (services.credit_decisions), which the
CCD's Art. 18 gives the consumer the right to ask for.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from enum import StrEnum

from functions.domain.credit.profile import DeclaredProfile
from functions.domain.credit.schedule import (
    PLAN_TERMS,
    Plan,
    Schedule,
    build_schedule,
    largest_total,
    most_due_in_a_month,
)
from functions.domain.credit.scorecard import Scorecard, Scored, reasons_needed
from functions.domain.currencies import format_major, is_currency
from functions.domain.fx import EurRates

ADULT_AGE = 18


class Outcome(StrEnum):
    APPROVED = "approved"
    # Approved for less than asked: ``approved_amount`` is the most that passes every rule.
    REDUCED = "reduced"
    DECLINED = "declined"


class ReasonCode(StrEnum):
    UNDER_AGE = "under_age"
    IN_ARREARS = "in_arrears"
    CURRENCY_NOT_OFFERED = "currency_not_offered"
    AMOUNT_BELOW_MINIMUM = "amount_below_minimum"
    AMOUNT_ABOVE_MAXIMUM = "amount_above_maximum"
    NOT_AFFORDABLE = "not_affordable"
    CUSTOMER_LIMIT = "customer_limit"
    MERCHANT_LIMIT = "merchant_limit"
    SCORE_BELOW_CUTOFF = "score_below_cutoff"
    # One per scorecard feature that cost points: ``score_<feature>``.
    SCORE_FEATURE = "score_feature"


# The rule or regulation each reason rests on, for the audit record and the consumer's
# explanation.
BASIS = {
    ReasonCode.UNDER_AGE: "legal capacity: credit only to adults (18)",
    ReasonCode.IN_ARREARS: "CCD 2023/2225 Art. 18; FCA CONC 5.2A (existing arrears)",
    ReasonCode.CURRENCY_NOT_OFFERED: "platform policy: currencies offered",
    ReasonCode.AMOUNT_BELOW_MINIMUM: "platform policy: plan bounds",
    ReasonCode.AMOUNT_ABOVE_MAXIMUM: "platform policy: plan bounds",
    ReasonCode.NOT_AFFORDABLE: "CCD 2023/2225 Art. 18; FCA CONC 5.2A (income and expenditure)",
    ReasonCode.CUSTOMER_LIMIT: "FCA CONC 5.2A (total indebtedness); platform customer limit",
    ReasonCode.MERCHANT_LIMIT: "platform policy: merchant concentration limit",
    ReasonCode.SCORE_BELOW_CUTOFF: "CCD 2023/2225 Art. 18 (creditworthiness model)",
    ReasonCode.SCORE_FEATURE: (
        "CCD 2023/2225 Art. 18, GDPR Art. 22 (explanation of an automated assessment)"
    ),
}


class CreditPolicyError(ValueError):
    """A policy configuration that cannot be applied."""


@dataclass(frozen=True, slots=True)
class CurrencyLimits:
    """Per currency, in its minor units."""

    min_amount: int
    max_amount: int
    customer_limit: int  # outstanding BNPL credit per customer on the platform
    merchant_limit: int  # outstanding BNPL credit per merchant
    living_costs_buffer: int  # per month, left over after every repayment

    def __post_init__(self) -> None:
        values = (
            self.min_amount,
            self.max_amount,
            self.customer_limit,
            self.merchant_limit,
            self.living_costs_buffer,
        )
        if any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in values):
            raise CreditPolicyError("limits are non-negative integers in minor units")
        if self.min_amount < 1 or self.min_amount > self.max_amount:
            raise CreditPolicyError("min_amount must be at least 1 and at most max_amount")


@dataclass(frozen=True, slots=True)
class CreditPolicy:
    limits: dict[str, CurrencyLimits]
    rates: EurRates = field(default_factory=lambda: EurRates({}))

    @classmethod
    def from_json(cls, text: str, rates: EurRates) -> CreditPolicy:
        """``{"EUR": {"min_amount": 1000, "max_amount": 200000, "customer_limit": ...,
        "merchant_limit": ..., "living_costs_buffer": ...}}`` (minor units; the
        credit_decisioning module's ``credit_policy`` variable). Raises CreditPolicyError."""
        data = json.loads(text)
        if not isinstance(data, dict) or not data:
            raise CreditPolicyError("the credit policy is a JSON object of currency -> limits")
        limits = {}
        for currency, values in data.items():
            if not is_currency(currency) or not isinstance(values, dict):
                raise CreditPolicyError(f"{currency!r}: a currency code and its limits")
            try:
                limits[currency] = CurrencyLimits(**values)
            except TypeError as error:
                raise CreditPolicyError(f"{currency}: {error}") from None
        return cls(limits, rates)


@dataclass(frozen=True, slots=True)
class Exposure:
    """What the platform knows of the customer (or merchant): BNPL credit outstanding, the
    repayments it still asks per month, and instalments past due."""

    outstanding: int = 0
    monthly_repayments: int = 0
    days_past_due: int = 0


@dataclass(frozen=True, slots=True)
class Application:
    customer_id: str
    merchant_id: str
    date_of_birth: dt.date
    amount: int
    currency: str
    plan: Plan
    monthly_income: int  # net, minor units of ``currency``
    monthly_commitments: int  # rent, other credit: minor units of ``currency``
    profile: DeclaredProfile


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    message: str
    basis: str
    # What would change the decision, in words a consumer can act on.
    would_change: str


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    requested_amount: int
    approved_amount: int  # 0 when declined
    currency: str
    plan: Plan
    reasons: tuple[Reason, ...]
    score: int | None
    cutoff: int | None
    model_version: str | None
    points: dict[str, int] = field(default_factory=dict)

    @property
    def approved(self) -> bool:
        return self.outcome is not Outcome.DECLINED


def age_on(date_of_birth: dt.date, day: dt.date) -> int:
    years = day.year - date_of_birth.year
    return years - ((day.month, day.day) < (date_of_birth.month, date_of_birth.day))


def _capped(a: Application, total: int) -> int:
    """A limit's largest total, or the amount asked when that is smaller (the limit does not
    bind), and 0 when not even the smallest plan fits."""
    return min(a.amount, total) if total >= PLAN_TERMS[a.plan].count else 0


def _money(amount: int, currency: str) -> str:
    return f"{currency} {format_major(amount, currency)}"


class CreditDecider:
    """Decides applications under ``policy`` with ``scorecard``."""

    def __init__(self, policy: CreditPolicy, scorecard: Scorecard) -> None:
        self.policy = policy
        self.scorecard = scorecard

    def decide(
        self,
        application: Application,
        customer: Exposure,
        merchant: Exposure,
        today: dt.date,
    ) -> Decision:
        a = application
        hard = self._policy_reasons(a, customer, today)
        if hard:
            return self._declined(a, hard)
        limits = self.policy.limits[a.currency]
        most, limit_reasons = self._most_lendable(a, customer, merchant, limits, today)
        amount = min(a.amount, most)
        if amount < max(limits.min_amount, PLAN_TERMS[a.plan].count):
            return self._declined(a, limit_reasons)
        schedule = build_schedule(a.plan, amount, a.currency, today)
        scored = self._score(a, schedule)
        if scored is None:
            return self._declined(a, (self._currency_reason(a.currency),))
        if not scored.passes:
            return self._declined(a, (*limit_reasons, *self._score_reasons(scored)), scored)
        outcome = Outcome.APPROVED if amount == a.amount else Outcome.REDUCED
        return Decision(
            outcome,
            a.amount,
            amount,
            a.currency,
            a.plan,
            tuple(limit_reasons) if outcome is Outcome.REDUCED else (),
            scored.score,
            scored.cutoff,
            self.scorecard.version,
            dict(scored.points),
        )

    # ----------------------------------------------------------------------------- policy

    def _currency_reason(self, currency: str) -> Reason:
        offered = ", ".join(sorted(self.policy.limits))
        return Reason(
            ReasonCode.CURRENCY_NOT_OFFERED,
            f"plans are not offered in {currency}",
            BASIS[ReasonCode.CURRENCY_NOT_OFFERED],
            f"pay in one of: {offered}",
        )

    def _policy_reasons(self, a: Application, customer: Exposure, today: dt.date) -> list[Reason]:
        reasons = []
        age = age_on(a.date_of_birth, today)
        if age < ADULT_AGE:
            reasons.append(
                Reason(
                    ReasonCode.UNDER_AGE,
                    "the applicant must be 18 or older",
                    BASIS[ReasonCode.UNDER_AGE],
                    "nothing until the applicant is 18",
                )
            )
        if customer.days_past_due > 0:
            reasons.append(
                Reason(
                    ReasonCode.IN_ARREARS,
                    f"an instalment on this platform is {customer.days_past_due} days past due",
                    BASIS[ReasonCode.IN_ARREARS],
                    "paying the instalments past due",
                )
            )
        limits = self.policy.limits.get(a.currency)
        if limits is None or self.policy.rates.to_eur_minor(1, a.currency) is None:
            reasons.append(self._currency_reason(a.currency))
            return reasons
        if a.amount < max(limits.min_amount, PLAN_TERMS[a.plan].count):
            least = max(limits.min_amount, PLAN_TERMS[a.plan].count)
            reasons.append(
                Reason(
                    ReasonCode.AMOUNT_BELOW_MINIMUM,
                    f"the amount is below the smallest plan, {_money(least, a.currency)}",
                    BASIS[ReasonCode.AMOUNT_BELOW_MINIMUM],
                    f"a purchase of at least {_money(least, a.currency)}",
                )
            )
        return reasons

    def _most_lendable(
        self,
        a: Application,
        customer: Exposure,
        merchant: Exposure,
        limits: CurrencyLimits,
        today: dt.date,
    ) -> tuple[int, list[Reason]]:
        """The largest amount up to the one asked that every limit admits, and the reasons of
        the limits that bind (those below the amount asked), tightest first."""
        bounds: list[tuple[int, Reason]] = []
        bounds.append(
            (
                limits.max_amount,
                Reason(
                    ReasonCode.AMOUNT_ABOVE_MAXIMUM,
                    f"the largest plan is {_money(limits.max_amount, a.currency)}",
                    BASIS[ReasonCode.AMOUNT_ABOVE_MAXIMUM],
                    f"a purchase of at most {_money(limits.max_amount, a.currency)}",
                ),
            )
        )
        affordable = self._most_affordable(a, customer, limits, today)
        budget = self._monthly_budget(a, customer, limits)
        bounds.append(
            (
                affordable,
                Reason(
                    ReasonCode.NOT_AFFORDABLE,
                    f"the repayments would leave less than "
                    f"{_money(limits.living_costs_buffer, a.currency)} a month after declared "
                    f"commitments (room for {_money(max(budget, 0), a.currency)} a month)",
                    BASIS[ReasonCode.NOT_AFFORDABLE],
                    f"a purchase of at most {_money(affordable, a.currency)}, a longer plan, "
                    "or lower monthly commitments",
                ),
            )
        )
        for code, limit, exposure, whose in (
            (ReasonCode.CUSTOMER_LIMIT, limits.customer_limit, customer, "your"),
            (ReasonCode.MERCHANT_LIMIT, limits.merchant_limit, merchant, "the merchant's"),
        ):
            # The credit is the amount less the first instalment, paid at checkout: the
            # later instalments, count - 1 of them, each total // count.
            count = PLAN_TERMS[a.plan].count
            headroom = _capped(
                a, largest_total(a.plan, (limit - exposure.outstanding) // (count - 1))
            )
            bounds.append(
                (
                    headroom,
                    Reason(
                        code,
                        f"{whose} outstanding plans leave room for {_money(headroom, a.currency)}",
                        BASIS[code],
                        f"a purchase of at most {_money(headroom, a.currency)}"
                        + (
                            ", or repaying current plans"
                            if code is ReasonCode.CUSTOMER_LIMIT
                            else ""
                        ),
                    ),
                )
            )
        most = min(bound for bound, _ in bounds)
        binding = sorted(
            ((bound, reason) for bound, reason in bounds if bound < a.amount),
            key=lambda pair: pair[0],
        )
        return most, [reason for _, reason in binding]

    @staticmethod
    def _monthly_budget(a: Application, customer: Exposure, limits: CurrencyLimits) -> int:
        return (
            a.monthly_income
            - a.monthly_commitments
            - customer.monthly_repayments
            - limits.living_costs_buffer
        )

    def _most_affordable(
        self, a: Application, customer: Exposure, limits: CurrencyLimits, today: dt.date
    ) -> int:
        budget = self._monthly_budget(a, customer, limits)
        return _capped(a, largest_total(a.plan, budget // most_due_in_a_month(a.plan, today)))

    # ---------------------------------------------------------------------------- score

    def _score(self, a: Application, schedule: Schedule) -> Scored | None:
        amount_eur = self.policy.rates.to_eur_minor(schedule.total, a.currency)
        if amount_eur is None:
            return None
        return self.scorecard.score(a.profile.complete(schedule.duration_months, amount_eur))

    def _score_reasons(self, scored: Scored) -> list[Reason]:
        missing = scored.cutoff - scored.score
        enough = reasons_needed(scored.reasons, missing)
        summary = Reason(
            ReasonCode.SCORE_BELOW_CUTOFF,
            f"the credit score {scored.score} is below {scored.cutoff}",
            BASIS[ReasonCode.SCORE_BELOW_CUTOFF],
            (
                "; ".join(f"{r.feature}: {r.best}" for r in enough)
                if enough
                else "no change to up to four answers alone reaches the cutoff"
            ),
        )
        return [
            summary,
            *(
                Reason(
                    f"score_{r.feature}",
                    f"{r.feature} '{r.value}' scored {r.points} points, "
                    f"{r.shortfall} below the best",
                    BASIS[ReasonCode.SCORE_FEATURE],
                    f"{r.feature}: {r.best} (+{r.shortfall} points)",
                )
                for r in scored.reasons
            ),
        ]

    def _declined(
        self,
        a: Application,
        reasons: list[Reason] | tuple[Reason, ...],
        scored: Scored | None = None,
    ) -> Decision:
        return Decision(
            Outcome.DECLINED,
            a.amount,
            0,
            a.currency,
            a.plan,
            tuple(reasons),
            scored.score if scored else None,
            scored.cutoff if scored else None,
            self.scorecard.version if scored else None,
            dict(scored.points) if scored else {},
        )
