"""The payment workflow's BNPL step: ``POST /v1/payments`` with ``payment_method.type =
"bnpl"`` decided, planned, charged and booked, or undone.

checkout: the credit decision (``CreditDecisions.decide``, keyed by the payment id, so a
retried step answers the recorded decision); anything but an approval of the whole amount is a
declined payment carrying the decision's ordered reasons (a reduced approval too: the basket
costs what it costs; the merchant may offer the approved amount). Approved: the plan opened
(``BnplPlans.open``: the exact schedule, the first instalment charged on the customer's card
token, the credit ledger, the bnpl events). A first instalment the card declines is a declined
payment; any other failure raises, the state machine retries the step (every write is keyed)
and then compensates.

compensate: whatever the checkout did is undone, and nothing twice. The first instalment's
charge is resolved under its own key (the acquirer answers the first charge, or makes it), and
refunded once under a key derived from it; the plan, if stored, is canceled; its ledger entries
are reversed. The payment answers ``failed``.

The payment record: every outcome is written to the payments table, so that
``GET /v1/payments/{id}`` answers a BNPL payment as it answers a card payment. Captured for the
whole amount (the merchant is paid in full at checkout, less its fee, whatever the customer has
paid so far), with no card authorization of its own (the card pays the instalments, each a
charge of the plan's) and ``bnpl``: the decision, its reasons and the plan's id; the
instalments' state is the plan's (``GET /v1/bnpl/plans/{id}``). Its money is in the credit
ledger, not the card ledger.

refund: in full only (the goods returned): the plan unwound (``BnplPlans.refund``: nothing more
owed, every charge the customer paid given back), then the payment ``refunded``. A part refund
is refused: which instalments a part of the goods would cancel is a term of the credit
agreement this platform does not model.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from functions.contracts.bnpl_steps import (
    CheckoutInput,
    CollectReport,
    CompensateInput,
    RefundInput,
)
from functions.contracts.credit import (
    Applicant,
    CreditDecisionRequest,
    DecisionRecord,
    PlanCard,
    PlanRecord,
)
from functions.contracts.events import parse_entry
from functions.contracts.steps import (
    BnplInstalmentView,
    BnplReasonView,
    BnplView,
    PaymentView,
    ProcessAnswer,
    StepError,
)
from functions.domain.credit.ledger import BnplLedger
from functions.domain.credit.schedule import PLAN_ID_PREFIX
from functions.domain.payments import (
    EventType,
    Payment,
    PaymentStatus,
    PaymentStore,
    Refund,
    StaleWriteError,
    derived_id,
)
from functions.errors import ApiError
from functions.models.tokens import ApiProblem
from functions.services.credit_decisions import CreditDecisions
from functions.services.credit_plans import (
    BnplPlans,
    CardCharger,
    PlanStore,
    first_instalment_key,
)

logger = Logger(child=True)


class PaymentEventSink(Protocol):
    def publish(self, entries: Iterable[Mapping[str, Any]]) -> int:
        """Publish PutEvents entries; answer how many were not accepted."""
        ...


# What a BNPL payment announces, as a card payment does (webhooks, the fraud stream and the lake
# read payment.* events): its checkout captured for the whole amount or declined, its refund. A
# compensated checkout (failed) announces a decline, as a compensated card payment does: the
# purchase did not go through, whatever an earlier attempt of the step announced.
_STATUS_EVENT = {
    PaymentStatus.CAPTURED: EventType.CAPTURED,
    PaymentStatus.DECLINED: EventType.DECLINED,
    PaymentStatus.FAILED: EventType.DECLINED,
}


def credit_request(step: CheckoutInput | CompensateInput) -> CreditDecisionRequest:
    request = step.request
    method = request.payment_method
    if method.type != "bnpl" or method.plan is None or method.applicant is None:
        raise ValueError("the BNPL step takes bnpl payments only")
    applicant = method.applicant
    return CreditDecisionRequest(
        merchant_id=request.merchant_id,
        amount=request.amount,
        currency=request.currency,
        plan=method.plan,
        customer=Applicant(id=request.customer.id, date_of_birth=applicant.date_of_birth),
        finances=applicant.finances,
        profile=applicant.profile,
    )


def decision_id_of(merchant_id: str, payment_id: str) -> str:
    """The decision a BNPL payment takes (``CreditDecisions.decide`` keyed by the payment)."""
    return derived_id("cd", merchant_id, payment_id)


class BnplCheckout:
    def __init__(
        self,
        decisions: CreditDecisions,
        plans: BnplPlans,
        plan_store: PlanStore,
        ledger: BnplLedger,
        charger: CardCharger,
        payments: PaymentStore,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        events: PaymentEventSink | None = None,
        bus_name: str = "",
    ) -> None:
        self._events = events
        self._bus = bus_name
        self._decisions = decisions
        self._plans = plans
        self._store = plan_store
        self._ledger = ledger
        self._charger = charger
        self._payments = payments
        self._clock = clock

    def checkout(self, step: CheckoutInput) -> ProcessAnswer:
        request = step.request
        try:
            decision = self._decisions.decide(credit_request(step), step.payment_id)
        except ApiProblem as problem:
            return _refused(problem)
        if decision.effective_outcome != "approved" or decision.effective_amount != request.amount:
            code = (
                "credit_declined" if decision.effective_outcome == "declined" else "credit_reduced"
            )
            return self._answer(step, "declined", decision, None, decline_code=code)
        card = PlanCard(brand=step.card.brand, last4=step.card.last4)
        try:
            plan = self._plans.open(decision.id, request.merchant_id, step.card.token, card)
        except ApiProblem as problem:
            if problem.error.status == 402:
                return self._answer(
                    step, "declined", decision, None, decline_code="first_instalment_declined"
                )
            return _refused(problem)
        return self._answer(step, "captured", decision, plan)

    def compensate(self, step: CompensateInput) -> ProcessAnswer:
        logger.warning(
            "bnpl checkout compensated",
            extra={"payment_id": step.payment_id, "error": step.failure.get("Error")},
        )
        request = step.request
        decision_id = decision_id_of(request.merchant_id, step.payment_id)
        try:
            decision = self._decisions.get(decision_id, request.merchant_id.__eq__)
        except ApiProblem:
            # Failed before a decision was recorded: nothing was charged or booked.
            return self._answer(step, "failed", None, None, failure_code="bnpl_checkout_failed")
        plan_id = derived_id(PLAN_ID_PREFIX, decision_id)
        at = self._clock().isoformat(timespec="milliseconds")
        stored = self._store.get(plan_id)
        if stored is not None and stored.status != "canceled":
            self._store.replace(
                stored.model_copy(update={"status": "canceled", "version": stored.version + 1}),
                stored.version,
            )
        self._ledger.reverse_plan(plan_id, at)
        schedule = CreditDecisions.view(decision).schedule
        if schedule:
            token, card = step.card.token, PlanCard(brand=step.card.brand, last4=step.card.last4)
            key = first_instalment_key(plan_id, token)
            amount, currency = schedule[0].amount, request.currency
            # Resolved under its own key: the first charge's answer, or the charge made now;
            # either way refunded once, so no money stays moved and none moves twice.
            charged = self._charger.charge(
                token, amount, currency, key, card, customer_present=True
            )
            if charged.succeeded:
                self._charger.refund(token, amount, currency, key, card, customer_present=True)
        return self._answer(step, "failed", decision, None, failure_code="bnpl_checkout_failed")

    def refund(self, step: RefundInput) -> ProcessAnswer:
        payment = self._payments.get(step.payment_id)
        if payment is None or payment.bnpl is None:
            return _refused(_unexpected("No BNPL payment " + step.payment_id + ".", 404))
        order = step.refund
        if any(r.refund_id == order.refund_id for r in payment.refunds):
            return ProcessAnswer(payment=PaymentView.model_validate(payment.view()))
        if payment.status is PaymentStatus.REFUNDED:
            return _refused(
                ApiProblem(
                    ApiError(
                        "invalid_request_error",
                        "charge_already_refunded",
                        "This payment has already been refunded in full.",
                        None,
                    )
                )
            )
        if payment.status is not PaymentStatus.CAPTURED:
            return _refused(_unexpected(f"A {payment.status} payment cannot be refunded."))
        if order.amount is not None and order.amount != payment.amount:
            return _refused(
                ApiProblem(
                    ApiError(
                        "invalid_request_error",
                        "parameter_invalid",
                        "A BNPL payment is refunded in full (its plan is canceled): leave "
                        "amount out or give the whole amount.",
                        "amount",
                    )
                )
            )
        try:
            self._plans.refund(str(payment.bnpl["plan_id"]), payment.merchant_id)
        except ApiProblem as problem:
            return _refused(problem)
        now = self._clock().isoformat(timespec="milliseconds")
        refunded = payment.evolve(
            now,
            status=PaymentStatus.REFUNDED,
            amount_refunded=payment.amount,
            refunds=(*payment.refunds, Refund(order.refund_id, payment.amount, now)),
        )
        # A StaleWriteError raises: the workflow retries the step, which finds the plan
        # refunded already and this refund recorded, or records it.
        self._payments.save(refunded)
        self._publish(
            refunded.event(
                EventType.REFUNDED, self._bus, key=order.refund_id, amount=refunded.amount
            )
        )
        return ProcessAnswer(payment=PaymentView.model_validate(refunded.view()))

    def collect(self, today: dt.date, plan_id: str | None = None) -> CollectReport:
        plans = [self._plans.collect_plan(plan_id, today)] if plan_id else None
        done = plans if plans is not None else self._plans.collect_due(today)
        changed = [i for p in done for i in p.instalments if i.last_attempt == today]
        return CollectReport(
            today=today,
            plans=len(done),
            collected=sum(1 for i in changed if i.status == "collected"),
            missed=sum(1 for i in changed if i.status == "late"),
            written_off=sum(1 for p in done if p.status == "written_off"),
        )

    def _publish(self, entry: dict[str, Any]) -> None:
        """One payment event, checked against the event contracts as it is made (a field
        without its contract, or anything like a card number, fails the step instead of
        reaching the bus). One the bus keeps refusing is logged, as the card steps do."""
        checked = parse_entry(entry).model_dump(mode="json")
        if self._events is not None and self._events.publish([checked]):
            logger.warning("bnpl payment event not published", extra={"event": entry["DetailType"]})

    def _answer(
        self,
        step: CheckoutInput | CompensateInput,
        status: str,
        decision: DecisionRecord | None,
        plan: PlanRecord | None,
        *,
        decline_code: str | None = None,
        failure_code: str | None = None,
    ) -> ProcessAnswer:
        """The payment recorded (``GET /v1/payments/{id}`` reads it) and answered; the answer
        carries the plan's instalments too, as they stand at checkout."""
        payment = self._record(
            step, PaymentStatus(status), decision, plan, decline_code, failure_code
        )
        kind = _STATUS_EVENT.get(payment.status)
        if kind is not None:
            amount = payment.amount_captured if kind is EventType.CAPTURED else None
            # The record first, the event after: a step retried after the record was written
            # publishes the same event id again, which consumers drop.
            self._publish(payment.event(kind, self._bus, amount=amount))
        view = PaymentView.model_validate(payment.view())
        if view.bnpl is not None and plan is not None:
            view = view.model_copy(
                update={"bnpl": view.bnpl.model_copy(update={"instalments": _instalments(plan)})}
            )
        return ProcessAnswer(payment=view)

    def _record(
        self,
        step: CheckoutInput | CompensateInput,
        status: PaymentStatus,
        decision: DecisionRecord | None,
        plan: PlanRecord | None,
        decline_code: str | None,
        failure_code: str | None,
    ) -> Payment:
        request = step.request
        now = self._clock().isoformat(timespec="milliseconds")
        captured = status is PaymentStatus.CAPTURED
        existing = self._payments.get(step.payment_id)
        if existing is not None and existing.status is status:
            return existing  # a retried step: recorded already
        fields = {
            "status": status,
            # The merchant is paid the whole amount at checkout (less its fee), whatever the
            # customer has paid so far.
            "amount_captured": request.amount if captured else 0,
            "captured_at": now if captured else None,
            "decline_code": decline_code,
            "failure_code": failure_code,
            "bnpl": None
            if decision is None
            else _bnpl_view(decision, plan).model_dump(mode="json", exclude={"instalments"}),
        }
        if existing is not None:
            # Compensated after the record was written: the payment failed after all.
            payment = existing.evolve(now, **fields)
        else:
            payment = Payment(
                payment_id=step.payment_id,
                merchant_id=request.merchant_id,
                amount=request.amount,
                currency=request.currency,
                capture_requested=True,
                token=step.card.token,
                card_brand=step.card.brand,
                card_last4=step.card.last4,
                customer_id=request.customer.id,
                device_id=request.customer.device_id,
                created_at=step.received_at,
                updated_at=now,
                request_digest=step.request_digest if isinstance(step, CheckoutInput) else None,
                metadata=request.metadata or {},
                **fields,  # type: ignore[arg-type]
            )
        try:
            self._payments.save(payment)
        except StaleWriteError:
            # Written meanwhile by a retry of this step: what it wrote stands.
            stored = self._payments.get(step.payment_id)
            if stored is None or stored.status is not status:
                raise
            return stored
        return payment


def _unexpected(message: str, status: int = 400) -> ApiProblem:
    code = "resource_missing" if status == 404 else "payment_unexpected_state"
    return ApiProblem(ApiError("invalid_request_error", code, message, None, status))


def _instalments(plan: PlanRecord) -> list[BnplInstalmentView]:
    return [
        BnplInstalmentView(
            number=i.number, due_date=i.due_date.isoformat(), amount=i.amount, status=i.status
        )
        for i in plan.instalments
    ]


def _bnpl_view(decision: DecisionRecord, plan: PlanRecord | None) -> BnplView:
    view = CreditDecisions.view(decision)
    return BnplView(
        decision_id=decision.id,
        outcome=decision.effective_outcome,
        approved_amount=decision.effective_amount,
        plan=decision.request.plan,
        reasons=[
            BnplReasonView(code=r.code, message=r.message, would_change=r.would_change)
            for r in view.reasons
        ],
        plan_id=None if plan is None else plan.id,
    )


def _refused(problem: ApiProblem) -> ProcessAnswer:
    error = problem.error
    return ProcessAnswer(
        error=StepError(type=error.type, code=error.code, message=error.message, param=error.param),
        http_status=error.status,
    )
