"""Every execution the Payment API starts runs through the rendered state machine into the
step contracts, and its output parses into the API's answer: a field renamed in the API's
execution models, the template or the step models fails here."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from functions.contracts.steps import ProcessAnswer
from functions.domain.fx import EurRates
from functions.domain.limits import AmountCaps
from functions.domain.payments import InMemoryPaymentStore, PaymentStatus, new_payment
from functions.domain.principals import AuthenticatedMerchant
from functions.models.payments import (
    CancelRequest,
    CaptureRequest,
    PaymentRequest,
    RefundRequest,
    ResumeRequest,
)
from functions.services.payment_commands import ApiAnswer, Execution, PaymentCommands
from tests.unit.contracts.test_workflow_contract import Functions, run
from tests.unit.services.fakes import NOW, InMemoryIdempotencyStore

SHOP = "m_1"  # the merchant the API key authenticated


class TemplateWorkflow:
    """The Workflow port over the rendered template, with fake functions behind its tasks."""

    def __init__(self) -> None:
        self.functions = Functions()
        self.visited: list[list[str]] = []

    def run(self, execution: Execution) -> ProcessAnswer:
        output, visited = run(json.loads(json.dumps(execution.payload())), self.functions)
        self.visited.append(visited)
        return ProcessAnswer.model_validate(output)


@pytest.fixture
def setup() -> tuple[PaymentCommands, TemplateWorkflow]:
    payments = InMemoryPaymentStore()
    context = {
        "payment_id": "pay_1",
        "merchant_id": "m_1",
        "amount": 2_500,
        "currency": "EUR",
        "card": {"token": "tok_1", "brand": "visa", "last4": "4242"},
    }
    payments.save(new_payment(context, PaymentStatus.AUTHORIZED, NOW))
    workflow = TemplateWorkflow()
    commands = PaymentCommands(
        payments,
        AuthenticatedMerchant(),
        AmountCaps.from_config(EurRates.from_json('{"EUR": "1"}')),
        workflow,
        InMemoryIdempotencyStore(),
    )
    return commands, workflow


def test_a_payment_request_runs_tokenize_assess_process(
    setup: tuple[PaymentCommands, TemplateWorkflow],
) -> None:
    commands, workflow = setup
    request = PaymentRequest.model_validate(
        {
            "merchant_id": "m_1",
            "amount": 2_500,
            "currency": "EUR",
            "payment_method": {
                "type": "card",
                "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030},
            },
            "customer": {"id": "c_1", "country": "DE"},
            "sca": {"setup_future_usage": "off_session"},
        }
    )
    answer = commands.create(SHOP, "k-1", request, dt.datetime(2026, 11, 30, tzinfo=dt.UTC))
    assert (answer.status, answer.json_body()["status"]) == (201, "captured")
    assert workflow.visited == [["Route", "Tokenize", "IsTokenized", "Assess", "Process"]]
    assert [c[1] for c in workflow.functions.calls] == ["tokenize", "assess", "create"]


@pytest.mark.parametrize(
    ("operation", "state"),
    [
        (lambda c: c.capture(SHOP, "pay_1", None, CaptureRequest(amount=100)), "Capture"),
        (lambda c: c.capture(SHOP, "pay_1", "k", CaptureRequest()), "Capture"),
        (lambda c: c.refund(SHOP, "pay_1", "k", RefundRequest(amount=100)), "Refund"),
        (lambda c: c.cancel(SHOP, "pay_1", None, CancelRequest()), "Cancel"),
        (
            lambda c: c.cancel(
                SHOP, "pay_1", "k", CancelRequest(cancellation_reason="requested_by_customer")
            ),
            "Cancel",
        ),
        (
            lambda c: c.resume(SHOP, "pay_1", None, ResumeRequest(challenge_response="1")),
            "VerifyChallenge",
        ),
    ],
)
def test_every_operation_reaches_its_task_in_the_step_contract(
    setup: tuple[PaymentCommands, TemplateWorkflow],
    operation: object,
    state: str,
) -> None:
    commands, workflow = setup
    assert callable(operation)
    answer = operation(commands)
    assert isinstance(answer, ApiAnswer) and answer.status in (200, 201)
    assert workflow.visited[0][:2] == ["Route", state]
