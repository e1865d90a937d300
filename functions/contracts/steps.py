"""The payment workflow's step contracts: what the state machine hands each Lambda task and what
the task answers. The template (modules/payment_workflow/templates) builds these shapes with
``Parameters`` and reads them with ``ResultSelector``; tests/unit/contracts renders it and
checks both sides against these models, so a field renamed on one side only fails a test.

Tasks serving several actions take a discriminated union on ``action``. Models forbid unknown
fields: a field the template sends that no model names is a defect, not data to carry along.

The workflow state after tokenization carries no card number: ``StepCard`` is the vault's
answer (token, brand, last four, platform card key, BIN and expiry), and nothing here has a
field that could hold a PAN or a CVC.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------------------- the context


class StepCard(Step):
    token: str = Field(min_length=1)
    brand: str = Field(min_length=1)
    last4: str = Field(pattern=r"^[0-9]{4}$")
    card_key: str | None = None
    # Left out of what the payments table keeps for a resumed payment (PCI DSS 3.5.1).
    first6: str | None = Field(default=None, pattern=r"^[0-9]{6}$")
    exp_month: int | None = Field(default=None, ge=1, le=12)
    exp_year: int | None = None


class StepCustomer(Step):
    id: str | None = None
    ip: str | None = None
    country: str | None = None
    device_id: str | None = None


class StepScaPreferences(Step):
    exemption_requested: str | None = None
    setup_future_usage: str | None = None


class FraudInputs(Step):
    """What the risk step judged the payment on, kept with its decision so that the payment
    events can carry it to the fraud stream (``functions.contracts.events``). No BIN here:
    the payments table keeps this with the card key (see ``WorkflowCardOutput``)."""

    ip: str | None = None
    billing_country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    card_country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    ip_country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    amount_eur_minor: int | None = Field(default=None, ge=0)


class FraudShadow(Step):
    """The trained model's assessment when it runs in shadow mode: recorded, not deciding."""

    score: int = Field(ge=0, le=100)
    decision: Literal["allow", "review", "block"]
    reasons: list[str] = Field(default_factory=list)
    model: str


class FraudResult(Step):
    score: int = Field(ge=0)
    decision: Literal["allow", "review", "block"]
    reasons: list[str] = Field(default_factory=list)
    model: str | None = None
    inputs: FraudInputs | None = None
    shadow: FraudShadow | None = None


class ChallengeAction(Step):
    type: Literal["three_ds_challenge"]
    challenge_id: str
    method: str
    expires_at: str


class ScaResult(Step):
    required: bool
    exemption: str | None = None
    reason: str | None = None
    amount_eur_minor: int | None = None
    in_scope: bool | None = None
    network_reference: str | None = None
    challenge: ChallengeAction | None = None
    # After a challenge (resume): what the 3-D Secure server answered.
    authenticated: bool | None = None
    eci: str | None = None
    authentication_value: str | None = None


class FraudStep(Step):
    result: FraudResult


class ScaStep(Step):
    result: ScaResult


class PaymentContext(Step):
    """The payment as the steps after tokenization see it (and as a payment waiting for its
    challenge keeps it). ``fraud`` and ``sca`` are filled by the assess step."""

    payment_id: str = Field(pattern=r"^pay_[A-Za-z0-9]+$")
    received_at: str | None = None
    request_digest: str | None = None
    merchant_id: str = Field(min_length=1)
    amount: int = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    capture: bool = True
    customer: StepCustomer | None = None
    sca_preferences: StepScaPreferences | None = None
    card: StepCard
    fraud: FraudStep | None = None
    sca: ScaStep | None = None
    # The create request's metadata (models.payments checked it), for the payment record.
    metadata: dict[str, str] | None = None

    def state(self) -> dict[str, Any]:
        """The context as the services read it (plain data)."""
        return self.model_dump(exclude_none=True)


# ------------------------------------------------------------------------------ assess_risk


class AssessInput(Step):
    action: Literal["assess"]
    payment: PaymentContext


class ChallengeResponse(Step):
    challenge_response: str


class VerifyInput(Step):
    action: Literal["verify"]
    payment_id: str
    resume: ChallengeResponse


AssessRiskInput: TypeAdapter[AssessInput | VerifyInput] = TypeAdapter(
    Annotated[AssessInput | VerifyInput, Field(discriminator="action")]
)


class StepError(Step):
    type: str
    code: str
    message: str
    param: str | None = None


class AssessAnswer(Step):
    """The context with ``fraud`` and ``sca`` filled."""

    payment: PaymentContext


class VerifyAnswer(Step):
    """Either the saved context with the authentication result (``sca``), or an API error."""

    authenticated: bool | None = None
    payment: PaymentContext | None = None
    error: StepError | None = None
    http_status: int | None = None


# -------------------------------------------------------------------------- process_payment


class CreateInput(Step):
    """Decline (fraud block), require action (SCA challenge) or sell (authorize and, when the
    request asks for it, capture) an assessed payment."""

    action: Literal["create"]
    payment: PaymentContext


class ResumeInput(Step):
    """Authorize (and capture) a payment whose challenge was passed."""

    action: Literal["resume"]
    payment: PaymentContext


class DeclineInput(Step):
    action: Literal["decline"]
    decline_code: Literal["authentication_failed", "fraud_suspected"]
    payment: PaymentContext


class CaptureInput(Step):
    action: Literal["capture"]
    payment_id: str
    amount: int | None = None
    request_key: str


class RefundOrder(Step):
    refund_id: str
    amount: int | None = None


class RefundInput(Step):
    action: Literal["refund"]
    payment_id: str
    refund: RefundOrder


class PendingInput(Step):
    action: Literal["pending"]
    payment_id: str


class CancelInput(Step):
    """Cancel an authorized, uncaptured payment (void its authorization, reverse its entries)
    or one whose challenge is waiting. ``expired`` is not a reason the API may give."""

    action: Literal["cancel"]
    payment_id: str
    cancellation_reason: (
        Literal["requested_by_customer", "duplicate", "fraudulent", "abandoned"] | None
    ) = None


class StepFailure(Step):
    """What Step Functions puts at a Catch's ``ResultPath``."""

    Error: str | None = None
    Cause: str | None = None


class VoidInput(Step):
    action: Literal["void"]
    payment_id: str
    failure: StepFailure = StepFailure()
    payment: PaymentContext | None = None


ProcessInput = (
    CreateInput
    | ResumeInput
    | DeclineInput
    | CaptureInput
    | RefundInput
    | CancelInput
    | PendingInput
    | VoidInput
)
ProcessPaymentInput: TypeAdapter[ProcessInput] = TypeAdapter(
    Annotated[ProcessInput, Field(discriminator="action")]
)


class CardSummary(Step):
    brand: str
    last4: str


class FraudView(Step):
    score: int | None = None
    decision: str | None = None
    reasons: list[str] = Field(default_factory=list)


class ScaView(Step):
    required: bool
    exemption: str | None = None
    reason: str | None = None
    exemption_requested: str | None = None


class RefundView(Step):
    id: str
    amount: int
    status: str


class BnplReasonView(Step):
    code: str
    message: str
    would_change: str


class BnplInstalmentView(Step):
    number: int
    due_date: str
    amount: int
    status: str


class BnplView(Step):
    """A BNPL payment's credit decision and plan: the decision's reasons when it declined, the
    instalments (summing to the amount, in minor units) when it approved."""

    decision_id: str
    outcome: str
    approved_amount: int
    plan: str
    reasons: list[BnplReasonView] = Field(default_factory=list)
    plan_id: str | None = None
    instalments: list[BnplInstalmentView] = Field(default_factory=list)


class PaymentView(Step):
    """The Payment API's payment object (what ``GET /v1/payments/{id}`` answers)."""

    id: str
    object: Literal["payment"]
    status: str
    merchant_id: str
    amount: int
    currency: str
    capture: bool
    amount_captured: int
    amount_refunded: int
    token: str
    card: CardSummary
    fraud: FraudView
    sca: ScaView
    next_action: ChallengeAction | None = None
    decline_code: str | None = None
    failure_code: str | None = None
    cancellation_reason: str | None = None
    refunds: list[RefundView] = Field(default_factory=list)
    # BNPL payments only (absent from a card payment's answer).
    bnpl: BnplView | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    created_at: str
    updated_at: str


class ProcessAnswer(Step):
    """The workflow's output: the payment, or the API error of a refused request."""

    payment: PaymentView | None = None
    error: StepError | None = None
    http_status: int | None = None

    def output(self) -> dict[str, Any]:
        """The answer as JSON data: only the fields set, each in full (a payment's null
        fields stay, they are part of the API's payment object)."""
        return self.model_dump(exclude_unset=True)
