"""The state machine and the step models agree: every path of the rendered workflow is walked
with a small ASL evaluator (Parameters, ResultSelector, ResultPath, OutputPath, Choice, Catch),
each task's payload is parsed with the model of the function it invokes, and each task answers
with a value built from the models. A field renamed in the template or in Python alone breaks
a parse or a path here."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from functions.contracts.bnpl_steps import (
    BnplStepInput,
    CheckoutInput,
    CompensateInput,
    RefundInput,
)
from functions.contracts.steps import (
    AssessAnswer,
    AssessInput,
    AssessRiskInput,
    PaymentContext,
    ProcessAnswer,
    ProcessPaymentInput,
    RefundOrder,
    VerifyAnswer,
    VerifyInput,
)
from functions.models.tokens import WorkflowCardOutput, WorkflowTokenizeInput
from functions.services.payment_commands import RefundExecution
from tests import workflow_definition
from tests.unit.credit.test_bnpl_checkout import payment as bnpl_payment

Json = Any

# ------------------------------------------------------------------------------ evaluator


class PathMissing(Exception):
    pass


def read(data: Json, path: str) -> Json:
    if path == "$":
        return data
    assert path.startswith("$."), path
    value = data
    for part in path[2:].split("."):
        if not isinstance(value, dict) or part not in value:
            raise PathMissing(path)
        value = value[part]
    return value


def write(data: Json, path: str | None, result: Json) -> Json:
    if path is None:
        return data
    if path == "$":
        return result
    data = copy.deepcopy(data)
    node = data
    parts = path[2:].split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = result
    return data


def build(template: Json, data: Json) -> Json:
    if isinstance(template, dict):
        out = {}
        for key, value in template.items():
            if key.endswith(".$"):
                out[key[:-2]] = read(data, value)
            else:
                out[key] = build(value, data)
        return out
    if isinstance(template, list):
        return [build(v, data) for v in template]
    return template


def matches(rule: dict[str, Any], data: Json) -> bool:
    if "And" in rule:
        return all(matches(r, data) for r in rule["And"])
    try:
        value = read(data, rule["Variable"])
    except PathMissing:
        return "IsPresent" in rule and rule["IsPresent"] is False
    if "IsPresent" in rule:
        return bool(rule["IsPresent"])
    if "StringEquals" in rule:
        return bool(value == rule["StringEquals"])
    if "BooleanEquals" in rule:
        return bool(value is rule["BooleanEquals"])
    raise AssertionError(f"unsupported choice rule {rule}")


class Failure(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


Lambda = Callable[[str, Json], Json]


def run(execution_input: Json, invoke: Lambda) -> tuple[Json, list[str]]:
    """Runs the workflow; answers its output and the states it entered."""
    states = workflow_definition.states()
    name = "Route"
    data = execution_input
    visited: list[str] = []
    while True:
        visited.append(name)
        state = states[name]
        kind = state["Type"]
        if kind == "Choice":
            name = next(
                (c["Next"] for c in state["Choices"] if matches(c, data)), state.get("Default")
            )
            assert name is not None
            continue
        if kind == "Fail":
            raise Failure(state["Error"])
        if kind == "Pass":
            if "Result" in state:
                result = state["Result"]
            else:
                result = build(state["Parameters"], data) if "Parameters" in state else data
            data = write(data, state.get("ResultPath", "$"), result)
        else:
            assert kind == "Task"
            params = build(state["Parameters"], data)
            try:
                raw = {"Payload": invoke(params["FunctionName"], params["Payload"])}
            except Failure as failure:
                catcher = next(
                    c
                    for c in state.get("Catch", [])
                    if failure.error in c["ErrorEquals"] or "States.ALL" in c["ErrorEquals"]
                )
                data = write(data, catcher["ResultPath"], {"Error": failure.error, "Cause": ""})
                name = catcher["Next"]
                continue
            result = build(state["ResultSelector"], raw) if "ResultSelector" in state else raw
            data = write(data, state.get("ResultPath", "$"), result)
        if "OutputPath" in state:
            data = read(data, state["OutputPath"])
        if state.get("End"):
            return data, visited
        name = state["Next"]


# ------------------------------------------------------------------------ fake functions

CARD = WorkflowCardOutput(
    token="tok_abcdefgh12345678",
    brand="visa",
    last4="4242",
    card_key="ck_" + "a" * 43,
    first6="424242",
    exp_month=12,
    exp_year=2030,
)


def view(context: PaymentContext, status: str) -> dict[str, Any]:
    return {
        "id": context.payment_id,
        "object": "payment",
        "status": status,
        "merchant_id": context.merchant_id,
        "amount": context.amount,
        "currency": context.currency,
        "capture": context.capture,
        "amount_captured": context.amount if status == "captured" else 0,
        "amount_refunded": 0,
        "token": context.card.token,
        "card": {"brand": context.card.brand, "last4": context.card.last4},
        "fraud": {"score": 0, "decision": "allow", "reasons": []},
        "sca": {"required": False, "exemption": "low_value", "reason": "low_value"},
        "next_action": None,
        "decline_code": None,
        "failure_code": None,
        "refunds": [],
        "created_at": "2026-11-30T10:00:00.000+00:00",
        "updated_at": "2026-11-30T10:00:00.000+00:00",
    }


def assessed(context: PaymentContext) -> PaymentContext:
    return PaymentContext.model_validate(
        {
            **context.model_dump(exclude_none=True),
            "fraud": {"result": {"score": 0, "decision": "allow", "reasons": [], "model": "r"}},
            "sca": {"result": {"required": False, "exemption": "low_value"}},
        }
    )


def dumped(model: BaseModel) -> Json:
    return model.model_dump(mode="json", exclude_none=True)


class Functions:
    """The three functions the workflow invokes, each parsing its input with its model."""

    def __init__(
        self,
        fail: dict[str, str] | None = None,
        refuse_card: bool = False,
        authenticated: bool = True,
    ) -> None:
        self.fail = fail or {}
        self.refuse_card = refuse_card
        self.authenticated = authenticated
        self.calls: list[tuple[str, str]] = []
        self.context: PaymentContext | None = None
        self.bnpl_steps: list[BaseModel] = []

    def __call__(self, function: str, payload: Json) -> Json:
        if function == "tokenize_function_arn":
            WorkflowTokenizeInput.model_validate(payload)
            assert payload["workflow"] == "tokenize"
            self.calls.append((function, "tokenize"))
            if self.refuse_card:
                error = {"type": "card_error", "code": "x", "message": "m", "param": "p"}
                return {"error": error, "http_status": 402}
            return {"card": dumped(CARD)}
        if function == "assess_risk_function_arn":
            step = AssessRiskInput.validate_python(payload)
            self.calls.append((function, step.action))
            if isinstance(step, AssessInput):
                self.context = assessed(step.payment)
                return dumped(AssessAnswer(payment=self.context))
            assert isinstance(step, VerifyInput)
            self.context = assessed(saved_context())
            answer = VerifyAnswer(authenticated=self.authenticated, payment=self.context)
            return dumped(answer)
        if function == "bnpl_function_arn":
            bnpl = BnplStepInput.validate_python(payload)
            assert isinstance(bnpl, CheckoutInput | CompensateInput | RefundInput)
            self.calls.append((function, bnpl.action))
            self.bnpl_steps.append(bnpl)
            if bnpl.action in self.fail:
                raise Failure(self.fail.pop(bnpl.action))
            context = saved_context()
            status = {"checkout": "captured", "refund": "refunded"}.get(bnpl.action, "failed")
            return ProcessAnswer.model_validate({"payment": view(context, status)}).output()
        assert function == "process_payment_function_arn", function
        process = ProcessPaymentInput.validate_python(payload)
        self.calls.append((function, process.action))
        if process.action in self.fail:
            raise Failure(self.fail.pop(process.action))
        context = getattr(process, "payment", None) or self.context or saved_context()
        outcomes = {
            "void": "canceled",
            "cancel": "canceled",
            "pending": "capture_pending",
            "decline": "declined",
        }
        status = outcomes.get(process.action, "captured")
        return ProcessAnswer.model_validate({"payment": view(context, status)}).output()


def saved_context() -> PaymentContext:
    card = CARD.model_dump(exclude={"first6"})
    return PaymentContext(
        payment_id="pay_1", merchant_id="m_1", amount=2500, currency="EUR", card=card
    )


def create_input() -> Json:
    return {
        "operation": "create",
        "payment_id": "pay_1",
        "received_at": "2026-11-30T10:00:00.000+00:00",
        "request_digest": "d" * 64,
        "request": {
            "merchant_id": "m_1",
            "amount": 2500,
            "currency": "EUR",
            "capture": True,
            "payment_method": {
                "type": "card",
                "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030},
            },
            "customer": {"id": "c_1", "ip": None, "country": "DE", "device_id": "dev_1"},
            "sca": {"exemption_requested": None, "setup_future_usage": None},
            "metadata": {"order_id": "ord_1"},
        },
    }


def bnpl_input() -> Json:
    execution = create_input()
    execution["request"]["payment_method"] = bnpl_payment()["payment_method"]
    return execution


# ----------------------------------------------------------------------------------- tests


def test_a_sale_is_tokenize_assess_process_and_its_output_is_the_api_answer() -> None:
    functions = Functions()
    output, visited = run(create_input(), functions)
    assert ProcessAnswer.model_validate(output).payment is not None
    assert [c[1] for c in functions.calls] == ["tokenize", "assess", "create"]
    assert visited == ["Route", "Tokenize", "IsTokenized", "Assess", "Process"]


def test_a_bnpl_payment_takes_its_own_branch_from_the_first_choice() -> None:
    functions = Functions()
    output, visited = run(bnpl_input(), functions)
    assert visited == ["Route", "Bnpl", "IsBnplCardKnown", "BnplCheckout"]
    assert [c[1] for c in functions.calls] == ["tokenize", "checkout"]
    answer = ProcessAnswer.model_validate(output)
    assert answer.payment is not None and answer.payment.status == "captured"


def test_the_bnpl_checkout_gets_the_request_digest_for_the_payment_record() -> None:
    functions = Functions()
    run(bnpl_input(), functions)
    (checkout,) = functions.bnpl_steps
    assert isinstance(checkout, CheckoutInput) and checkout.request_digest == "d" * 64


def bnpl_refund_input(method: str = "bnpl") -> Json:
    execution = RefundExecution(
        payment_id="pay_1",
        refund_request=RefundOrder(refund_id="re_1", amount=None),
        payment_method=method,
    )
    return execution.model_dump(mode="json")


def test_a_bnpl_payments_refund_goes_to_the_bnpl_step_a_cards_to_process_payment() -> None:
    functions = Functions()
    output, visited = run(bnpl_refund_input(), functions)
    assert visited == ["Route", "BnplRefund"]
    assert functions.calls == [("bnpl_function_arn", "refund")]
    answer = ProcessAnswer.model_validate(output)
    assert answer.payment is not None and answer.payment.status == "refunded"
    card = Functions()
    assert run(bnpl_refund_input("card"), card)[1] == ["Route", "Refund"]
    assert card.calls == [("process_payment_function_arn", "refund")]


def test_without_credit_decisioning_a_bnpl_refund_finds_no_payment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    states = workflow_definition.render(bnpl=False)["States"]
    monkeypatch.setattr(workflow_definition, "states", lambda: states)
    functions = Functions()
    output, visited = run(bnpl_refund_input(), functions)
    assert visited == ["Route", "BnplRefund"] and functions.calls == []
    assert output["http_status"] == 404


def test_a_failed_bnpl_checkout_is_compensated() -> None:
    functions = Functions(fail={"checkout": "States.TaskFailed"})
    output, visited = run(bnpl_input(), functions)
    assert visited[-1] == "BnplCompensate"
    assert [c[1] for c in functions.calls] == ["tokenize", "checkout", "compensate"]
    answer = ProcessAnswer.model_validate(output)
    assert answer.payment is not None and answer.payment.status == "failed"


def test_an_unknown_bnpl_token_ends_with_the_vaults_error() -> None:
    output, visited = run(bnpl_input(), Functions(refuse_card=True))
    assert visited[-1] == "BnplCardRefused" and output["http_status"] == 402


def test_without_credit_decisioning_a_bnpl_payment_is_refused_not_paid_by_card(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    states = workflow_definition.render(bnpl=False)["States"]
    monkeypatch.setattr(workflow_definition, "states", lambda: states)
    functions = Functions()
    output, visited = run(bnpl_input(), functions)
    assert visited == ["Route", "Bnpl"] and functions.calls == []
    assert output["http_status"] == 400
    assert output["error"]["param"] == "payment_method.type"


def test_no_state_after_tokenize_holds_the_card_number() -> None:
    seen: list[str] = []

    def spy(function: str, payload: Json) -> Json:
        if function != "tokenize_function_arn":
            seen.append(repr(payload))
        return functions(function, payload)

    functions = Functions()
    output, _ = run(create_input(), spy)
    assert seen and all("4242424242424242" not in text for text in seen)
    assert "4242424242424242" not in repr(output)


def test_a_refused_card_ends_with_the_vaults_error() -> None:
    output, visited = run(create_input(), Functions(refuse_card=True))
    assert output["http_status"] == 402 and output["error"]["type"] == "card_error"
    assert visited[-1] == "TokenizeRefused"


@pytest.mark.parametrize(
    ("error", "last"),
    [("AcquirerUnavailableError", "Compensate"), ("CaptureOutcomeUnknownError", "Pending")],
)
def test_a_failed_sale_is_compensated_or_left_pending(error: str, last: str) -> None:
    functions = Functions(fail={"create": error})
    output, visited = run(create_input(), functions)
    assert visited[-1] == last
    assert ProcessAnswer.model_validate(output).payment is not None


def test_resume_verifies_then_authorizes_and_compensates_with_the_saved_context() -> None:
    resume = {"operation": "resume", "payment_id": "pay_1", "resume": {"challenge_response": "1"}}
    functions = Functions(fail={"resume": "AcquirerRejectedError"})
    output, visited = run(resume, functions)
    assert [c[1] for c in functions.calls] == ["verify", "resume", "void"]
    assert visited[-1] == "Compensate"
    assert ProcessAnswer.model_validate(output).payment is not None


CANCEL = {"operation": "cancel", "payment_id": "pay_1", "cancellation_reason": "duplicate"}


@pytest.mark.parametrize(
    "execution_input",
    [
        {
            "operation": "capture",
            "payment_id": "pay_1",
            "capture_request": {"amount": None},
            "capture_key": "k1",
        },
        {
            "operation": "refund",
            "payment_id": "pay_1",
            "refund_request": {"refund_id": "re_1", "amount": 100},
        },
        CANCEL,
        {"operation": "cancel", "payment_id": "pay_1", "cancellation_reason": None},
    ],
)
def test_later_operations_reach_process_payment_in_its_contract(execution_input: Json) -> None:
    functions = Functions()
    output, visited = run(execution_input, functions)
    assert visited == ["Route", execution_input["operation"].capitalize()]
    assert ProcessAnswer.model_validate(output).payment is not None


def test_a_cancel_is_one_process_payment_task_with_the_reason() -> None:
    seen: list[Json] = []

    def spy(function: str, payload: Json) -> Json:
        seen.append(payload)
        return functions(function, payload)

    functions = Functions()
    output, visited = run(CANCEL, spy)
    assert visited == ["Route", "Cancel"]
    assert seen == [{"action": "cancel", "payment_id": "pay_1", "cancellation_reason": "duplicate"}]
    answer = ProcessAnswer.model_validate(output)
    assert answer.payment is not None and answer.payment.status == "canceled"


def test_expired_is_not_a_reason_the_workflow_takes() -> None:
    # ``expired`` is the scheduled expiry's own reason; it never comes through the API.
    with pytest.raises(ValueError, match="cancellation_reason"):
        run({**CANCEL, "cancellation_reason": "expired"}, Functions())


def test_a_renamed_field_breaks_the_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    # The template with one Process parameter renamed: the model refuses it.
    states = workflow_definition.states()
    states["Capture"]["Parameters"]["Payload"]["capture_key.$"] = states["Capture"]["Parameters"][
        "Payload"
    ].pop("request_key.$")
    monkeypatch.setattr(workflow_definition, "states", lambda: states)
    execution = {
        "operation": "capture",
        "payment_id": "pay_1",
        "capture_request": {"amount": None},
        "capture_key": "k1",
    }
    with pytest.raises(ValueError, match="request_key"):
        run(execution, Functions())


def test_every_task_of_the_template_is_walked() -> None:
    walked: set[str] = set()
    inputs: list[tuple[Json, Functions]] = [
        (create_input(), Functions()),
        (create_input(), Functions(refuse_card=True)),
        (create_input(), Functions(fail={"create": "AcquirerUnavailableError"})),
        (create_input(), Functions(fail={"create": "CaptureOutcomeUnknownError"})),
        (
            {"operation": "resume", "payment_id": "pay_1", "resume": {"challenge_response": "1"}},
            Functions(),
        ),
        (
            {
                "operation": "capture",
                "payment_id": "pay_1",
                "capture_request": {"amount": None},
                "capture_key": "k",
            },
            Functions(),
        ),
        (
            {"operation": "resume", "payment_id": "pay_1", "resume": {"challenge_response": "0"}},
            Functions(authenticated=False),
        ),
        (
            {"operation": "refund", "payment_id": "pay_1", "refund_request": {"refund_id": "r"}},
            Functions(),
        ),
        (CANCEL, Functions()),
        (bnpl_input(), Functions()),
        (bnpl_input(), Functions(fail={"checkout": "States.TaskFailed"})),
        (bnpl_refund_input(), Functions()),
    ]
    for execution_input, functions in inputs:
        walked.update(run(execution_input, functions)[1])
    tasks = {n for n, s in workflow_definition.states().items() if s["Type"] == "Task"}
    missing = tasks - walked
    assert not missing, f"tasks no test walks: {sorted(missing)}"


def test_the_scheduled_bnpl_reconciliation_names_no_window() -> None:
    """It continues from its checkpoint: a window beside ``scheduled`` would be ignored."""
    assert BnplStepInput.validate_python({"action": "reconcile", "scheduled": True})
    with pytest.raises(ValidationError, match="no since, until or after"):
        BnplStepInput.validate_python(
            {"action": "reconcile", "scheduled": True, "since": "2027-01-01T00:00:00Z"}
        )
