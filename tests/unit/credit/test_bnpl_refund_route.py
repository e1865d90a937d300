"""The Payment API asks the workflow to refund a BNPL payment on the BNPL route: its refund
execution says so (the state machine's first Choice reads it), a card payment's says card."""

from __future__ import annotations

import dataclasses

import pytest

from functions.contracts.steps import ProcessAnswer, StepError
from functions.domain.fx import EurRates
from functions.domain.limits import AmountCaps
from functions.domain.payments import InMemoryPaymentStore, PaymentStatus, new_payment
from functions.models.payments import RefundRequest
from functions.models.tokens import ApiProblem
from functions.services.payment_commands import PaymentCommands
from tests.unit.services.fakes import NOW, FakeWorkflow, InMemoryIdempotencyStore


class Anyone:
    def may_act_for(self, caller: str, merchant_id: str) -> bool:
        return True


def test_a_bnpl_payments_refund_execution_names_the_bnpl_route() -> None:
    payments, workflow = InMemoryPaymentStore(), FakeWorkflow()
    commands = PaymentCommands(
        payments,
        Anyone(),
        AmountCaps.from_config(EurRates.from_json('{"EUR": "1"}'), "10000.00"),
        workflow,
        InMemoryIdempotencyStore(),
    )
    for payment_id, bnpl in (("pay_card", None), ("pay_bnpl", {"plan_id": "pl_1"})):
        context = {
            "payment_id": payment_id,
            "merchant_id": "m_1",
            "amount": 500,
            "currency": "EUR",
            "card": {"token": "tok_1", "brand": "visa", "last4": "4242"},
        }
        payment = new_payment(context, PaymentStatus.CAPTURED, NOW)
        payments.save(dataclasses.replace(payment, bnpl=bnpl))
        commands.refund("m_1", payment_id, f"r-{payment_id}", RefundRequest())
    methods = {e.payload()["payment_id"]: e.payload()["payment_method"] for e in workflow.runs}
    assert methods == {"pay_card": "card", "pay_bnpl": "bnpl"}


def test_a_refund_refused_while_the_plan_is_busy_is_not_kept_under_its_key() -> None:
    """A refund that met a collection on its plan (409 plan_busy) runs again when the client
    retries with the same Idempotency-Key, instead of getting the 409 back for ever."""
    payments, workflow = InMemoryPaymentStore(), FakeWorkflow()
    idempotency = InMemoryIdempotencyStore()
    commands = PaymentCommands(
        payments,
        Anyone(),
        AmountCaps.from_config(EurRates.from_json('{"EUR": "1"}'), "10000.00"),
        workflow,
        idempotency,
    )
    context = {
        "payment_id": "pay_bnpl",
        "merchant_id": "m_1",
        "amount": 500,
        "currency": "EUR",
        "card": {"token": "tok_1", "brand": "visa", "last4": "4242"},
    }
    payment = new_payment(context, PaymentStatus.CAPTURED, NOW)
    payments.save(dataclasses.replace(payment, bnpl={"plan_id": "pl_1"}))
    workflow.answer = ProcessAnswer(
        error=StepError(type="invalid_request_error", code="plan_busy", message="busy", param="id"),
        http_status=409,
    )
    with pytest.raises(ApiProblem) as busy:
        commands.refund("m_1", "pay_bnpl", "r-1", RefundRequest())
    assert (busy.value.error.status, busy.value.error.code) == (409, "plan_busy")
    assert idempotency.records == {}
    workflow.answer = None
    answer = commands.refund("m_1", "pay_bnpl", "r-1", RefundRequest())
    assert answer.status == 201 and len(workflow.runs) == 2
