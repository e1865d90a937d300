"""The credit decision's contracts: the body of ``POST /v1/credit/decisions`` (a BNPL
pre-qualification, or the credit half of a BNPL payment), the decision record kept for audit
and review, and the review request.

Every field is validated as the card payment's are (strict types, amounts in minor units,
unknown fields refused), so a missing or malformed applicant field is a 400 that names it
(``functions.errors.from_validation_error``). The request has no field for sex, marital
status, nationality or any card data: what is not collected cannot be scored or leaked.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_serializer, field_validator

from functions.contracts.events import EventDetail
from functions.domain.credit import policy
from functions.domain.credit import profile as p
from functions.domain.credit.schedule import Plan
from functions.domain.currencies import is_currency

MinorUnits = Annotated[StrictInt, Field(ge=0, le=10**12)]
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]


def iso_date(value: object) -> object:
    """A date string in ISO form (or a date) only: pydantic would take a Unix timestamp too."""
    if not isinstance(value, str | dt.date):
        raise ValueError("must be a date, YYYY-MM-DD")
    return value


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Applicant(Contract):
    id: Identifier
    # Read by the legal-capacity rule only (docs/models/credit.md).
    date_of_birth: dt.date

    _iso_date = field_validator("date_of_birth", mode="before")(iso_date)


class Finances(Contract):
    monthly_net_income: MinorUnits
    monthly_commitments: MinorUnits


class Profile(Contract):
    checking_account: p.CheckingAccount
    credit_history: p.CreditHistory
    purpose: p.Purpose
    savings: p.Savings
    employment: p.Employment
    other_debtors: p.OtherDebtors
    property: p.Property
    other_instalment_plans: p.OtherInstalmentPlans
    housing: p.Housing

    def declared(self) -> p.DeclaredProfile:
        return p.DeclaredProfile(**self.model_dump())


class CreditDecisionRequest(Contract):
    merchant_id: Identifier
    amount: Annotated[StrictInt, Field(ge=1, le=10**12)]
    currency: str
    plan: Plan
    customer: Applicant
    finances: Finances
    profile: Profile

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not is_currency(value):
            raise ValueError("must be an ISO 4217 currency code")
        return value

    def application(self) -> policy.Application:
        return policy.Application(
            customer_id=self.customer.id,
            merchant_id=self.merchant_id,
            date_of_birth=self.customer.date_of_birth,
            amount=self.amount,
            currency=self.currency,
            plan=self.plan,
            monthly_income=self.finances.monthly_net_income,
            monthly_commitments=self.finances.monthly_commitments,
            profile=self.profile.declared(),
        )


class ReasonView(Contract):
    code: str
    message: str
    basis: str
    would_change: str


class ExposureView(Contract):
    outstanding: int
    monthly_repayments: int
    days_past_due: int


Outcome = Literal["approved", "reduced", "declined"]


class Review(Contract):
    # The reviewer's authenticated principal (an IAM ARN), never a name the request declares.
    reviewer: Annotated[str, Field(min_length=1, max_length=2048)]
    reason: Annotated[str, Field(min_length=1, max_length=2000)]
    at: str
    previous_outcome: Outcome
    previous_amount: int
    outcome: Outcome
    approved_amount: int


class ReviewRequest(Contract):
    """The body of ``POST /v1/credit/decisions/{id}/reviews``; the reviewer is whoever signed
    the request."""

    reason: Annotated[str, Field(min_length=10, max_length=2000)]
    outcome: Outcome
    # For approved or reduced: the amount the reviewer approves (at most the amount asked).
    approved_amount: Annotated[StrictInt, Field(ge=0, le=10**12)] = 0


class DecisionRecord(Contract):
    """Everything the decision was made on and of, for audit and review: the request, the
    platform's exposure figures as read, the policy limits applied, the model version, score,
    points per feature and the reasons; reviews append, the original stays."""

    id: str
    created_at: str
    request: CreditDecisionRequest
    customer_exposure: ExposureView
    merchant_exposure: ExposureView
    limits: dict[str, int]
    outcome: Outcome
    approved_amount: int
    reasons: tuple[ReasonView, ...]
    score: int | None
    cutoff: int | None
    model_version: str | None
    points: dict[str, int]
    reviews: tuple[Review, ...] = ()

    @property
    def effective_outcome(self) -> Outcome:
        return self.reviews[-1].outcome if self.reviews else self.outcome

    @property
    def effective_amount(self) -> int:
        return self.reviews[-1].approved_amount if self.reviews else self.approved_amount


class InstalmentView(Contract):
    number: int
    due_date: dt.date
    amount: int


class DecisionView(Contract):
    """The answer of ``POST /v1/credit/decisions`` and ``GET`` of a decision."""

    id: str
    outcome: Outcome
    requested_amount: int
    approved_amount: int
    currency: str
    plan: Plan
    reasons: tuple[ReasonView, ...]
    model_version: str | None
    schedule: tuple[InstalmentView, ...]
    reviewed: bool


# ------------------------------------------------------------------------------ plans


# refunded: collected, then given back when the payment was refunded; canceled: never to be
# collected (the payment was refunded first).
InstalmentStatus = Literal["due", "collected", "late", "written_off", "refunded", "canceled"]
# canceled: the checkout that opened it failed half-way and was compensated (its first
# instalment refunded, its ledger entries reversed). refunded: its payment was refunded in
# full (the goods returned): nothing more is owed, everything paid went back to the card.
PlanStatus = Literal["active", "paid", "settled_early", "written_off", "canceled", "refunded"]


class PlanCard(Contract):
    """What the acquirer connector needs beside the token to charge it (the simulator acts on
    the last four digits); displayable card data only, never a card number."""

    brand: Annotated[str, Field(min_length=1, max_length=32)]
    last4: Annotated[str, Field(pattern=r"^[0-9]{4}$")]


class PlanInstalment(Contract):
    number: int
    due_date: dt.date
    amount: int
    # Added when the instalment first goes late; collected with it.
    late_fee: int = 0
    status: InstalmentStatus = "due"
    attempts: int = 0
    last_attempt: dt.date | None = None
    decline_code: str | None = None


# What holds a plan while its money moves: claimed (a conditional version bump) before any
# charge, refund or entry, released by the operation's final save. Without it a refund and a
# collection that read the same version both moved money and the later save lost the other's
# charge from the record (issue: refund racing a collection).
PlanOperation = Literal["collect", "settle", "refund"]


class PlanClaim(Contract):
    operation: PlanOperation
    # When it was claimed: a claim older than the policy's lease is a claimant that died, and
    # whoever finds it finishes that operation first.
    at: str
    # The business day the operation works on, so a claim finished later does what the
    # claimant would have done that day (the same attempt, the same keys).
    day: dt.date


class PlanRecord(Contract):
    """A BNPL plan as ``GET /v1/bnpl/plans/{id}`` answers it and the collections read it. The
    card is the vault's token (never a card number); the fee is the merchant's."""

    id: str
    decision_id: str
    merchant_id: str
    customer_id: str
    # The payment request's card token as the vault issues it (opaque: ``tok_`` and URL-safe
    # base64, so "-" too; or format-preserving digits), under the request's own constraints.
    token: Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
    card: PlanCard | None = None
    currency: str
    plan: Plan
    total: int
    merchant_fee: int
    created_at: str
    status: PlanStatus = "active"
    instalments: tuple[PlanInstalment, ...]
    version: int = 0
    claim: PlanClaim | None = None

    def outstanding(self) -> int:
        return sum(i.amount + i.late_fee for i in self.instalments if i.status in ("due", "late"))

    def late_fees(self) -> int:
        return sum(i.late_fee for i in self.instalments)


class BnplEventDetail(EventDetail):
    """``bnpl.plan_created``, ``bnpl.instalment_collected``, ``bnpl.instalment_missed``,
    ``bnpl.plan_canceled`` (the payment refunded: nothing more is owed; ``amount`` is what went
    back to the card): the plan, the instalment (0 for the plan itself) and the amount; no
    card data, not even the token."""

    event_id: str
    plan_id: str
    merchant_id: str
    currency: str
    amount: int
    instalment: int
    status: PlanStatus
    occurred_at: str
    decline_code: str | None = None


BnplEventType = Literal[
    "bnpl.plan_created", "bnpl.instalment_collected", "bnpl.instalment_missed", "bnpl.plan_canceled"
]


class BnplApplicant(Contract):
    """The applicant data a ``payment_method: {type: "bnpl"}`` payment carries beside the
    customer's id (``customer.id``): what ``POST /v1/credit/decisions`` asks for, nothing more."""

    date_of_birth: dt.date
    finances: Finances
    profile: Profile

    _iso_date = field_validator("date_of_birth", mode="before")(iso_date)

    @field_serializer("date_of_birth")
    def _as_text(self, value: dt.date) -> str:
        # Text in every dump: the payment request's digest and the workflow's input are JSON.
        return value.isoformat()
