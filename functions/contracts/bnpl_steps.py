"""The payment workflow's BNPL step (modules/credit_decisioning's bnpl function): its input per
action, parsed as the state machine sends it, and the payment summary it answers with.

``checkout``: the payment request (``payment_method.type = "bnpl"``) and the customer's card as
the vault described its token; ``compensate``: the same, after ``checkout`` failed for good;
``refund``: a refund of a BNPL payment; ``collect``: the collections run (the schedule's input,
or ``make collect-bnpl``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from functions.contracts.steps import RefundOrder
from functions.models.payments import PaymentRequest
from functions.models.tokens import WorkflowCardOutput


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CheckoutInput(_Step):
    action: Literal["checkout"]
    payment_id: str = Field(pattern=r"^pay_[A-Za-z0-9]+$")
    received_at: str
    request: PaymentRequest
    card: WorkflowCardOutput
    # The create request's digest (payment_commands): kept on the payment record, so that a
    # late retry of its Idempotency-Key with another body is refused.
    request_digest: str | None = None


class CompensateInput(_Step):
    action: Literal["compensate"]
    payment_id: str = Field(pattern=r"^pay_[A-Za-z0-9]+$")
    received_at: str
    request: PaymentRequest
    card: WorkflowCardOutput
    # Step Functions' catch: {Error, Cause}. Kept for the log, never answered.
    failure: dict[str, str | None] = Field(default_factory=dict)


class RefundInput(_Step):
    """``POST /v1/payments/{id}/refunds`` on a BNPL payment (the workflow's route for one)."""

    action: Literal["refund"]
    payment_id: str = Field(pattern=r"^pay_[A-Za-z0-9]+$")
    refund: RefundOrder


class CollectInput(_Step):
    action: Literal["collect"]
    # The day collections run for; the function's clock when absent (the schedule).
    today: dt.date | None = None
    # One plan only (an operator's retry); every plan due when absent.
    plan_id: str | None = None


class ReconcilePlace(_Step):
    """A place in an order the reconciliation reads in: a time and the id (a payment's, or an
    acquirer operation's reference) that breaks ties; an empty id is the start of the time."""

    at: str = Field(min_length=1)
    id: str = ""


class ReconcileReached(_Step):
    """Where a run by hand that stopped for time got to (its answer's ``reached``)."""

    payments: ReconcilePlace
    operations: ReconcilePlace


class ReconcileInput(_Step):
    action: Literal["reconcile"]
    # The schedule's run: from where the last one got to (its checkpoint) to shortly before
    # now. It names no window.
    scheduled: bool = False
    # A run by hand: the window of payment updates to check, the last hour and a few minutes
    # when absent; and, to continue a run of the same window that stopped for time, the place
    # it reached.
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    after: ReconcileReached | None = None

    @model_validator(mode="after")
    def _window_by_hand_only(self) -> ReconcileInput:
        if self.scheduled and (
            self.since is not None or self.until is not None or self.after is not None
        ):
            raise ValueError(
                "a scheduled run continues from its checkpoint: no since, until or after"
            )
        return self


BnplStepInput = TypeAdapter(
    Annotated[
        CheckoutInput | CompensateInput | RefundInput | CollectInput | ReconcileInput,
        Field(discriminator="action"),
    ]
)


class CollectReport(_Step):
    today: dt.date
    plans: int
    collected: int
    missed: int
    written_off: int
