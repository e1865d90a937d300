"""Credit decisions (``POST /v1/credit/decisions`` and the human review of one), over two
ports: the decision records and the platform's BNPL exposure figures.

Every decision is recorded whole before it is answered (``DecisionRecord``: the request, the
exposure read, the limits applied, model version, score, points and reasons), so an auditor
or a reviewer sees what the decision was made on, not what the data says today. A review
appends (reviewer, reason, time, the outcome before and after) and never rewrites the original:
the EU Consumer Credit Directive 2023/2225 (Art. 18) gives the consumer the right to ask for a
person to reassess an automated decision, and the record shows who did and why.

The decision id is derived from the merchant and the ``Idempotency-Key``: a retried request
answers the recorded decision (the figures may have moved since; the first answer stands), and
the same key with another body is refused (422).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Protocol

from functions.contracts.credit import (
    CreditDecisionRequest,
    DecisionRecord,
    DecisionView,
    ExposureView,
    InstalmentView,
    ReasonView,
    Review,
    ReviewRequest,
)
from functions.domain.credit.policy import CreditDecider, Exposure, ReasonCode
from functions.domain.credit.schedule import PLAN_TERMS, build_schedule
from functions.domain.payments import derived_id
from functions.errors import ApiError
from functions.models.tokens import ApiProblem


class DecisionStore(Protocol):
    def create(self, record: DecisionRecord) -> DecisionRecord:
        """Store ``record`` unless its id exists; answer what is stored under the id."""
        ...

    def get(self, decision_id: str) -> DecisionRecord | None: ...

    def append_review(self, decision_id: str, review: Review, expected_reviews: int) -> bool:
        """Append ``review`` if the record still has ``expected_reviews`` reviews (False
        otherwise: another review came first)."""
        ...


class ExposureSource(Protocol):
    """The platform's BNPL figures in ``currency``: credit outstanding, repayments per month
    still due, the oldest instalment's days past due."""

    def customer(self, customer_id: str, currency: str) -> Exposure: ...

    def merchant(self, merchant_id: str, currency: str) -> Exposure: ...


def _not_found(param: str) -> ApiProblem:
    return ApiProblem(
        ApiError(
            "invalid_request_error", "resource_missing", "No such credit decision.", param, 404
        )
    )


def _exposure(view: Exposure) -> ExposureView:
    return ExposureView(**dataclasses.asdict(view))


class CreditDecisions:
    def __init__(
        self,
        decider: CreditDecider,
        decisions: DecisionStore,
        exposures: ExposureSource,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._decider = decider
        self._decisions = decisions
        self._exposures = exposures
        self._clock = clock

    def decide(self, request: CreditDecisionRequest, idempotency_key: str) -> DecisionRecord:
        decision_id = derived_id("cd", request.merchant_id, idempotency_key)
        existing = self._decisions.get(decision_id)
        if existing is not None:
            return self._replayed(existing, request)
        now = self._clock()
        customer = self._exposures.customer(request.customer.id, request.currency)
        merchant = self._exposures.merchant(request.merchant_id, request.currency)
        decision = self._decider.decide(request.application(), customer, merchant, now.date())
        limits = self._decider.policy.limits.get(request.currency)
        record = DecisionRecord(
            id=decision_id,
            created_at=now.isoformat(timespec="milliseconds"),
            request=request,
            customer_exposure=_exposure(customer),
            merchant_exposure=_exposure(merchant),
            limits=dataclasses.asdict(limits) if limits else {},
            outcome=decision.outcome.value,
            approved_amount=decision.approved_amount,
            reasons=tuple(
                ReasonView(
                    code=str(r.code), message=r.message, basis=r.basis, would_change=r.would_change
                )
                for r in decision.reasons
            ),
            score=decision.score,
            cutoff=decision.cutoff,
            model_version=decision.model_version,
            points=decision.points,
        )
        return self._replayed(self._decisions.create(record), request)

    @staticmethod
    def _replayed(record: DecisionRecord, request: CreditDecisionRequest) -> DecisionRecord:
        if record.request != request:
            raise ApiProblem(
                ApiError(
                    "idempotency_error",
                    "idempotency_key_reused",
                    "This Idempotency-Key was used with another request.",
                    None,
                    422,
                )
            )
        return record

    def get(self, decision_id: str, may_act_for: Callable[[str], bool]) -> DecisionRecord:
        record = self._decisions.get(decision_id)
        # Another merchant's decision answers as one that does not exist.
        if record is None or not may_act_for(record.request.merchant_id):
            raise _not_found("id")
        return record

    def review(self, decision_id: str, request: ReviewRequest, reviewer: str) -> DecisionRecord:
        record = self._decisions.get(decision_id)
        if record is None:
            raise _not_found("id")
        amount = self._reviewed_amount(record, request)
        review = Review(
            reviewer=reviewer,
            reason=request.reason,
            at=self._clock().isoformat(timespec="milliseconds"),
            previous_outcome=record.effective_outcome,
            previous_amount=record.effective_amount,
            outcome=request.outcome,
            approved_amount=amount,
        )
        if not self._decisions.append_review(decision_id, review, len(record.reviews)):
            raise ApiProblem(
                ApiError(
                    "invalid_request_error",
                    "review_conflict",
                    "Another review of this decision was recorded first; read it and retry.",
                    None,
                    409,
                )
            )
        stored = self._decisions.get(decision_id)
        assert stored is not None
        return stored

    @staticmethod
    def _reviewed_amount(record: DecisionRecord, request: ReviewRequest) -> int:
        def refuse(code: str, message: str, param: str) -> ApiProblem:
            return ApiProblem(ApiError("invalid_request_error", code, message, param))

        if request.outcome == "declined":
            if request.approved_amount:
                raise refuse(
                    "parameter_invalid", "A declined decision approves nothing.", "approved_amount"
                )
            return 0
        if any(r.code == ReasonCode.UNDER_AGE for r in record.reasons):
            # Legal capacity is a fact, not a judgement: no review lends to a minor.
            raise refuse(
                "review_not_permitted",
                "A decision declined for the applicant's age cannot be approved on review.",
                "outcome",
            )
        asked = record.request.amount
        least = PLAN_TERMS[record.request.plan].count
        full = request.outcome == "approved"
        amount = asked if full and not request.approved_amount else request.approved_amount
        if (
            not least <= amount <= asked
            or (full and amount != asked)
            or (not full and amount == asked)
        ):
            raise refuse(
                "parameter_invalid",
                f"approved_amount must be {asked} for approved, or {least} to {asked - 1} "
                "for reduced.",
                "approved_amount",
            )
        return amount

    @staticmethod
    def view(record: DecisionRecord) -> DecisionView:
        request = record.request
        amount = record.effective_amount
        schedule = (
            build_schedule(
                request.plan,
                amount,
                request.currency,
                dt.datetime.fromisoformat(record.created_at).date(),
            )
            if amount
            else None
        )
        return DecisionView(
            id=record.id,
            outcome=record.effective_outcome,
            requested_amount=request.amount,
            approved_amount=amount,
            currency=request.currency,
            plan=request.plan,
            reasons=record.reasons,
            model_version=record.model_version,
            schedule=tuple(
                InstalmentView(number=i.number, due_date=i.due_date, amount=i.amount)
                for i in (schedule.instalments if schedule else ())
            ),
            reviewed=bool(record.reviews),
        )
