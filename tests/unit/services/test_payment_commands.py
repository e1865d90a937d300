"""The Payment API's rules on in-memory ports: merchant scoping, idempotency keys, what the
workflow is asked for each operation, and which refusals never reach it."""

from __future__ import annotations

import datetime as dt
from typing import Any

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
from functions.models.tokens import ApiProblem
from functions.services.payment_commands import (
    PaymentCommands,
    idempotency_key,
    request_digest,
    workflow_request,
)
from tests.unit.services.fakes import NOW, FakeWorkflow, InMemoryIdempotencyStore

PAN = "4242424242424242"
SHOP = "m_1"  # the merchant the API key authenticated
STRANGER = "m_2"
TODAY = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


class Api:
    def __init__(self) -> None:
        self.payments = InMemoryPaymentStore()
        self.workflow = FakeWorkflow()
        self.idempotency = InMemoryIdempotencyStore()
        self._keys = iter(f"gen{n}" for n in range(100))
        self.commands = PaymentCommands(
            self.payments,
            AuthenticatedMerchant(),
            AmountCaps.from_config(EurRates.from_json('{"EUR": "1"}'), "10000.00"),
            self.workflow,
            self.idempotency,
            new_key=lambda: next(self._keys),
        )

    def store(self, payment_id: str = "pay_1", merchant_id: str = "m_1") -> None:
        context = {
            "payment_id": payment_id,
            "merchant_id": merchant_id,
            "amount": 500,
            "currency": "EUR",
            "card": {"token": "tok_1", "brand": "visa", "last4": "4242"},
        }
        self.payments.save(new_payment(context, PaymentStatus.CAPTURED, NOW))

    def inputs(self) -> list[dict[str, Any]]:
        return [execution.payload() for execution in self.workflow.runs]


@pytest.fixture
def api() -> Api:
    return Api()


def request(**changes: Any) -> PaymentRequest:
    body: dict[str, Any] = {
        "merchant_id": "m_1",
        "amount": 2_500,
        "currency": "EUR",
        "payment_method": {
            "type": "card",
            "card": {"number": PAN, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        },
        "customer": {"id": "c_1"},
    }
    body.update(changes)
    return PaymentRequest.model_validate(body)


def refusal(call: Any) -> tuple[int, str, str | None]:
    with pytest.raises(ApiProblem) as refused:
        call()
    error = refused.value.error
    return error.status, error.code, error.param


def test_a_payment_runs_once_per_key_with_the_card_only_in_the_workflow_input(api: Api) -> None:
    first = api.commands.create(SHOP, "k-1", request(), TODAY)
    again = api.commands.create(SHOP, "k-1", request(), TODAY)
    assert first == again and first.status == 201
    assert len(api.workflow.runs) == 1
    execution = api.workflow.runs[0]
    assert execution.name == execution.input.payment_id == first.json_body()["id"]
    payload = execution.payload()
    assert payload["request"]["payment_method"]["card"]["number"] == PAN
    assert payload["request_digest"] == request_digest(workflow_request(request()))
    assert payload["received_at"] == "2026-11-30T12:00:00.000+00:00"
    # The idempotency record holds a digest of the truncated card, never the card.
    ((command, _),) = api.idempotency.records.values()
    assert PAN not in repr(command) and PAN[:6] not in repr(command)


def test_another_key_is_another_payment_and_a_reused_key_is_422(api: Api) -> None:
    first = api.commands.create(SHOP, "k-1", request(), TODAY)
    second = api.commands.create(SHOP, "k-2", request(), TODAY)
    assert first.json_body()["id"] != second.json_body()["id"]
    assert refusal(lambda: api.commands.create(SHOP, "k-1", request(amount=2_600), TODAY)) == (
        422,
        "idempotency_key_reused",
        "Idempotency-Key",
    )
    assert len(api.workflow.runs) == 2


def test_a_duplicate_still_running_is_409(api: Api) -> None:
    api.idempotency.in_progress.add(("m_1", "k-1"))
    assert refusal(lambda: api.commands.create(SHOP, "k-1", request(), TODAY))[:2] == (
        409,
        "idempotency_request_in_progress",
    )


@pytest.mark.parametrize(
    ("caller", "changes", "expected"),
    [
        (SHOP, {"amount": 1_000_001}, (400, "amount_too_large", "amount")),
        (SHOP, {"currency": "USD"}, (400, "currency_not_supported", "currency")),
        (STRANGER, {}, (403, "merchant_not_permitted", "merchant_id")),
        (
            SHOP,
            {
                "payment_method": {
                    "type": "card",
                    "card": {"number": "4242424242424241", "exp_month": 12, "exp_year": 2030},
                }
            },
            (402, "invalid_number", "payment_method.card.number"),
        ),
    ],
)
def test_refused_requests_never_run_the_workflow(
    api: Api, caller: str, changes: dict[str, Any], expected: tuple[int, str, str]
) -> None:
    assert refusal(lambda: api.commands.create(caller, "k-1", request(**changes), TODAY)) == (
        expected
    )
    assert api.workflow.runs == [] and api.idempotency.records == {}


def test_a_late_retry_with_another_body_is_refused_by_the_payments_digest(api: Api) -> None:
    answer = api.commands.create(SHOP, "k-late", request(), TODAY)
    payment_id = answer.json_body()["id"]
    context = {
        "payment_id": payment_id,
        "merchant_id": "m_1",
        "amount": 2_500,
        "currency": "EUR",
        "card": {"token": "tok_1", "brand": "visa", "last4": "4242"},
        "request_digest": api.inputs()[0]["request_digest"],
    }
    api.payments.save(new_payment(context, PaymentStatus.CAPTURED, NOW))
    api.idempotency.records.clear()  # the record's 24 hours pass
    late = lambda: api.commands.create(SHOP, "k-late", request(amount=2_600), TODAY)  # noqa: E731
    assert refusal(late)[:2] == (422, "idempotency_key_reused")
    assert api.commands.create(SHOP, "k-late", request(), TODAY).status == 201
    assert len(api.workflow.runs) == 2


def test_another_merchants_payment_is_answered_as_missing(api: Api) -> None:
    api.store("pay_theirs", "m_2")
    api.store("pay_1")
    missing = (404, "resource_missing", "payment_id")
    for call in (
        lambda: api.commands.get(SHOP, "pay_theirs"),
        lambda: api.commands.get(STRANGER, "pay_1"),
        lambda: api.commands.get(SHOP, "pay_nothere"),
        lambda: api.commands.get(SHOP, "not_a_payment_id"),
        lambda: api.commands.capture(STRANGER, "pay_1", "k", CaptureRequest()),
        lambda: api.commands.cancel(STRANGER, "pay_1", None, CancelRequest()),
        lambda: api.commands.refund(STRANGER, "pay_1", "k", RefundRequest(amount=1)),
        lambda: api.commands.resume(STRANGER, "pay_1", None, ResumeRequest(challenge_response="1")),
    ):
        assert refusal(call) == missing
    assert api.workflow.runs == []
    view = api.commands.get(SHOP, "pay_1")
    assert (view.status, view.json_body()["status"]) == (200, "captured")


def test_capture_and_cancel_without_a_key_run_each_time_as_their_own_execution(api: Api) -> None:
    api.store()
    for _ in range(2):
        assert api.commands.capture(SHOP, "pay_1", None, CaptureRequest(amount=100)).status == 200
        assert api.commands.cancel(SHOP, "pay_1", None, CancelRequest()).status == 200
    names = [execution.name for execution in api.workflow.runs]
    assert len(set(names)) == 4
    assert [n[:4] for n in names] == ["cap_", "can_", "cap_", "can_"]
    assert api.inputs()[0] == {
        "operation": "capture",
        "payment_id": "pay_1",
        "capture_request": {"amount": 100},
        "capture_key": "gen0",
    }
    assert api.inputs()[1] == {
        "operation": "cancel",
        "payment_id": "pay_1",
        "cancellation_reason": None,
    }
    assert api.idempotency.records == {}


def test_a_capture_with_a_key_is_named_by_it_and_runs_once(api: Api) -> None:
    api.store()
    first = api.commands.capture(SHOP, "pay_1", "c-1", CaptureRequest(amount=100))
    assert first == api.commands.capture(SHOP, "pay_1", "c-1", CaptureRequest(amount=100))
    assert api.inputs() == [
        {
            "operation": "capture",
            "payment_id": "pay_1",
            "capture_request": {"amount": 100},
            "capture_key": "c-1",
        }
    ]
    other_amount = lambda: api.commands.capture(  # noqa: E731
        SHOP, "pay_1", "c-1", CaptureRequest(amount=200)
    )
    assert refusal(other_amount)[:2] == (422, "idempotency_key_reused")


def test_a_refund_id_comes_from_the_key_and_the_key_is_bound_to_its_payment(api: Api) -> None:
    api.store("pay_1")
    api.store("pay_2")
    assert api.commands.refund(SHOP, "pay_1", "r-1", RefundRequest(amount=100)).status == 201
    api.commands.refund(SHOP, "pay_1", "r-1", RefundRequest(amount=100))
    api.commands.refund(SHOP, "pay_1", "r-2", RefundRequest(amount=100))
    orders = [i["refund_request"] for i in api.inputs()]
    assert len(orders) == 2 and orders[0]["refund_id"] != orders[1]["refund_id"]
    assert all(o["refund_id"].startswith("re_") and o["amount"] == 100 for o in orders)
    on_another_payment = lambda: api.commands.refund(  # noqa: E731
        SHOP, "pay_2", "r-1", RefundRequest(amount=100)
    )
    assert refusal(on_another_payment)[:2] == (422, "idempotency_key_reused")


def test_resumes_without_a_key_are_scoped_to_their_payment(api: Api) -> None:
    api.store("pay_1")
    api.store("pay_2")
    for payment_id in ("pay_1", "pay_2", "pay_1"):
        api.commands.resume(SHOP, payment_id, None, ResumeRequest(challenge_response="1"))
    assert [i["payment_id"] for i in api.inputs()] == ["pay_1", "pay_2"]
    assert api.inputs()[0]["resume"] == {"challenge_response": "1"}
    another_code = lambda: api.commands.resume(  # noqa: E731
        SHOP, "pay_1", None, ResumeRequest(challenge_response="2")
    )
    assert refusal(another_code)[:2] == (422, "idempotency_key_reused")


def test_a_refusal_by_the_workflow_is_answered_with_its_status(api: Api) -> None:
    error = {"type": "card_error", "code": "card_declined", "message": "Declined."}
    api.workflow.answer = ProcessAnswer.model_validate({"error": error, "http_status": 402})
    answer = api.commands.create(SHOP, "k-1", request(), TODAY)
    assert (answer.status, answer.json_body()) == (402, {"error": error})
    api.store()
    api.workflow.answer = ProcessAnswer.model_validate({"error": error})
    assert api.commands.capture(SHOP, "pay_1", None, CaptureRequest()).status == 400


def test_a_workflow_that_fails_stores_no_answer_so_the_client_may_retry(api: Api) -> None:
    api.workflow.fail = True
    with pytest.raises(RuntimeError):
        api.commands.create(SHOP, "k-1", request(), TODAY)
    api.workflow.fail = False
    assert api.commands.create(SHOP, "k-1", request(), TODAY).status == 201
    assert len(api.workflow.runs) == 2


@pytest.mark.parametrize(
    ("header", "expected"),
    [(None, None), ("  ", None), (" k-1:a_b.c ", "k-1:a_b.c"), ("x" * 255, "x" * 255)],
)
def test_the_idempotency_key_header_form(header: str | None, expected: str | None) -> None:
    assert idempotency_key(header) == expected


@pytest.mark.parametrize("header", ["x" * 256, "key with spaces", "kéy", "k/1"])
def test_a_malformed_idempotency_key_is_400_naming_the_header(header: str) -> None:
    assert refusal(lambda: idempotency_key(header)) == (
        400,
        "parameter_invalid",
        "Idempotency-Key",
    )
