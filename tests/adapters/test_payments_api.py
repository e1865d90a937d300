"""The Payment API handler on moto (in process): every bad input a 4xx naming its field, and
Powertools idempotency on a real (moto) DynamoDB table: same key + same body answers the same,
same key + other body is 422, concurrent duplicates run the workflow once."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.adapters import clients, payment_workflow
from functions.adapters import payment_wiring as wiring
from functions.adapters.payment_workflow import idempotency_config
from functions.adapters.payments_table import PaymentsTable
from functions.domain.payments import PaymentStatus, new_payment
from functions.handlers import payments_api
from tests.adapters.payment_tables import (
    IDEMPOTENCY_TABLE,
    PAYMENTS_TABLE,
    REGION,
    create_idempotency_table,
    create_payments_table,
    fake_aws_environment,
)
from tests.adapters.test_vault_handlers import Context as VaultContext
from tests.adapters.test_vault_handlers import api_event
from tests.unit.services.fakes import FakeWorkflow

PAN = "4242424242424242"
# The merchants API keys authenticate (the authorizer's context).
SHOP = "m_1"
STRANGER = "m_2"


def body(**changes: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "merchant_id": "m_1",
        "amount": 2_500,
        "currency": "EUR",
        "capture": True,
        "payment_method": {
            "type": "card",
            "card": {"number": PAN, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        },
        "customer": {"id": "c_1", "ip": "192.0.2.10", "country": "DE", "device_id": "dev-1"},
    }
    request.update(changes)
    return request


class Context(VaultContext):
    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 29_000


@pytest.fixture
def workflow(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeWorkflow]:
    fake_aws_environment(
        monkeypatch,
        PAYMENTS_TABLE_NAME=PAYMENTS_TABLE,
        IDEMPOTENCY_TABLE_NAME=IDEMPOTENCY_TABLE,
        STATE_MACHINE_ARN="arn:aws:states:eu-west-1:123456789012:stateMachine:test",
        MAX_AMOUNT_EUR="10000.00",
        EUR_RATES=json.dumps({"EUR": "1", "IDR": "0.000058"}),
    )
    fake = FakeWorkflow()
    monkeypatch.setattr(payment_workflow, "StepFunctionsWorkflow", lambda _client, _arn: fake)
    _reset()
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name=REGION)
        create_payments_table(ddb)
        create_idempotency_table(ddb)
        yield fake
    _reset()


def _reset() -> None:
    clients.clear()
    wiring.clear()
    payment_workflow.payment_commands.cache_clear()
    idempotency_config.cache_clear()


def call(
    method: str, path: str, payload: Any, key: str | None = "key-1", caller: str = SHOP
) -> tuple[int, dict[str, Any]]:
    event = api_event(method, path, payload, merchant=None, caller=None, authorized=caller)
    if key is not None:
        event["headers"]["Idempotency-Key"] = key
    response = payments_api.handler(event, Context())
    return response["statusCode"], json.loads(response["body"])


@pytest.mark.parametrize(
    ("changes", "param"),
    [
        ({"amount": 10.5}, "amount"),
        ({"amount": "100"}, "amount"),
        ({"amount": 0}, "amount"),
        ({"currency": "eur"}, "currency"),
        ({"currency": "XYZ"}, "currency"),
        ({"surprise": 1}, "surprise"),
        ({"customer": {"id": "c_1", "country": "Germany"}}, "customer.country"),
        ({"merchant_id": None}, "merchant_id"),
        ({"customer": {"id": PAN}}, "customer.id"),
        ({"customer": {"id": "c_1", "device_id": "4242-4242-4242-4242"}}, "customer.device_id"),
        (
            {
                "payment_method": {
                    "type": "card",
                    "card": {"number": PAN, "exp_month": 13, "exp_year": 2030},
                }
            },
            "payment_method.card.exp_month",
        ),
        (
            {"payment_method": {"type": "card", "token": "tok_12345678", "card": None, "cvv": "1"}},
            "payment_method.cvv",
        ),
        # A BNPL payment names the first BNPL field it lacks (the plan, then the applicant).
        ({"payment_method": {"type": "bnpl", "token": "tok_12345678"}}, "payment_method.plan"),
        (
            {"payment_method": {"type": "bnpl", "token": "tok_12345678", "plan": "pay_in_4"}},
            "payment_method.applicant",
        ),
        (
            {"payment_method": {"type": "card", "token": "tok_12345678", "installments": 3}},
            "payment_method.installments",
        ),
    ],
)
def test_bad_input_is_400_naming_the_field_and_never_runs_the_workflow(
    workflow: FakeWorkflow, changes: dict[str, Any], param: str
) -> None:
    status, answer = call("POST", "/v1/payments", body(**changes))
    assert status == 400
    assert answer["error"]["param"] == param
    assert PAN not in json.dumps(answer)
    assert workflow.calls == []


def test_the_amount_cap_is_per_currency(workflow: FakeWorkflow) -> None:
    # EUR 10,000.00 is the cap: the same number of minor units is far below it in IDR.
    status, answer = call("POST", "/v1/payments", body(amount=1_000_001))
    assert (status, answer["error"]["code"], answer["error"]["param"]) == (
        400,
        "amount_too_large",
        "amount",
    )
    status, _ = call("POST", "/v1/payments", body(amount=1_000_001, currency="IDR"), key="k-idr")
    assert status == 201
    status, answer = call("POST", "/v1/payments", body(currency="JPY"), key="k-jpy")
    assert (status, answer["error"]["param"]) == (400, "currency")  # no rate for it here
    assert len(workflow.calls) == 1


def test_a_bad_card_is_402_before_any_workflow_runs(workflow: FakeWorkflow) -> None:
    card = {"number": "4242424242424241", "exp_month": 12, "exp_year": 2030}
    status, answer = call(
        "POST", "/v1/payments", body(payment_method={"type": "card", "card": card})
    )
    assert (status, answer["error"]["type"]) == (402, "card_error")
    assert answer["error"]["param"] == "payment_method.card.number"
    assert "4242424242424241" not in json.dumps(answer)
    assert workflow.calls == []


def test_missing_idempotency_key_is_400(workflow: FakeWorkflow) -> None:
    status, answer = call("POST", "/v1/payments", body(), key=None)
    assert (status, answer["error"]["param"]) == (400, "Idempotency-Key")


def test_malformed_json_is_400(workflow: FakeWorkflow) -> None:
    status, answer = call("POST", "/v1/payments", "{not json")
    assert status == 400 and answer["error"]["code"] == "body_invalid"


# A one-element array of a valid body: Powertools' validation alone would read it as the body.
@pytest.mark.parametrize("raw", ["[]", '"text"', "", "{not json", "[BODY]"])
def test_a_body_that_is_not_a_json_object_is_400_body_invalid(
    workflow: FakeWorkflow, raw: str
) -> None:
    raw = raw.replace("BODY", json.dumps(body()))
    status, answer = call("POST", "/v1/payments", raw)
    assert (status, answer["error"]["code"], answer["error"]["param"]) == (
        400,
        "body_invalid",
        None,
    )
    assert workflow.calls == []


def test_letters_in_a_card_number_are_a_400_naming_the_field_never_quoting_it(
    workflow: FakeWorkflow,
) -> None:
    card = {"number": "4242abcd42424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}
    status, answer = call(
        "POST", "/v1/payments", body(payment_method={"type": "card", "card": card})
    )
    assert (status, answer["error"]["code"]) == (400, "parameter_invalid")
    assert answer["error"]["param"] == "payment_method.card.number"
    assert "4242abcd" not in json.dumps(answer) and workflow.calls == []


def test_an_unknown_body_field_is_named(workflow: FakeWorkflow) -> None:
    status, answer = call("POST", "/v1/payments", body(colour="blue"))
    assert (status, answer["error"]["code"], answer["error"]["param"]) == (
        400,
        "parameter_unknown",
        "colour",
    )


def test_same_key_same_body_answers_the_same_without_running_again(workflow: FakeWorkflow) -> None:
    first = call("POST", "/v1/payments", body())
    second = call("POST", "/v1/payments", body())
    assert first == second
    assert first[0] == 201
    assert len(workflow.calls) == 1
    name, execution_input = workflow.calls[0]
    assert name == execution_input["payment_id"] and name.startswith("pay_")
    assert execution_input["request"]["payment_method"]["card"]["number"] == PAN


def test_the_idempotency_record_holds_no_card_data(workflow: FakeWorkflow) -> None:
    call("POST", "/v1/payments", body())
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName=IDEMPOTENCY_TABLE)["Items"]
    assert len(items) == 1
    stored = json.dumps(items)
    assert PAN not in stored
    # The CVC as a value (bare or inside the stored response's JSON) or under its name: a bare
    # "123" also occurs by chance in the record's hashes and expiry timestamps.
    assert "cvc" not in stored.lower()
    assert '"123"' not in stored and '\\"123\\"' not in stored


def test_same_key_other_body_is_422(workflow: FakeWorkflow) -> None:
    call("POST", "/v1/payments", body())
    status, answer = call("POST", "/v1/payments", body(amount=2_600))
    assert (status, answer["error"]["code"]) == (422, "idempotency_key_reused")
    assert len(workflow.calls) == 1


def test_another_key_is_another_payment(workflow: FakeWorkflow) -> None:
    _, first = call("POST", "/v1/payments", body(), key="key-1")
    _, second = call("POST", "/v1/payments", body(), key="key-2")
    assert first["id"] != second["id"]
    assert len(workflow.calls) == 2


def test_concurrent_duplicates_produce_exactly_one_payment(workflow: FakeWorkflow) -> None:
    workflow.delay_s = 0.5
    answers: list[tuple[int, dict[str, Any]]] = []
    start = threading.Barrier(3)

    def send() -> None:
        start.wait()
        answers.append(call("POST", "/v1/payments", body()))

    threads = [threading.Thread(target=send) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(workflow.calls) == 1
    statuses = sorted(status for status, _ in answers)
    assert statuses.count(201) >= 1
    assert set(statuses) <= {201, 409}
    for status, answer in answers:
        if status == 409:
            assert answer["error"]["code"] == "idempotency_request_in_progress"


def test_refund_needs_a_key_and_refuses_unknown_fields(workflow: FakeWorkflow) -> None:
    stored_payment()
    status, answer = call("POST", "/v1/payments/pay_1/refunds", {"amount": 100}, key=None)
    assert (status, answer["error"]["param"]) == (400, "Idempotency-Key")
    status, answer = call("POST", "/v1/payments/pay_1/refunds", {"amount": -1})
    assert (status, answer["error"]["param"]) == (400, "amount")
    status, answer = call("POST", "/v1/payments/pay_1/capture", {"amount": 1, "extra": True})
    assert (status, answer["error"]["param"]) == (400, "extra")
    status, answer = call("POST", "/v1/payments/pay_1/resume", {})
    assert (status, answer["error"]["param"]) == (400, "challenge_response")
    assert workflow.calls == []


def stored_payment(payment_id: str = "pay_1", merchant_id: str = "m_1") -> None:
    context = {
        "payment_id": payment_id,
        "merchant_id": merchant_id,
        "amount": 500,
        "currency": "EUR",
        "card": {"token": "tok_1", "brand": "visa", "last4": "4242"},
    }
    now = "2026-11-22T10:00:00.000+00:00"
    PaymentsTable(boto3.client("dynamodb", region_name=REGION), PAYMENTS_TABLE).save(
        new_payment(context, PaymentStatus.CAPTURED, now)
    )


def test_refund_execution_carries_a_refund_id_derived_from_the_key(workflow: FakeWorkflow) -> None:
    stored_payment()
    status, _ = call("POST", "/v1/payments/pay_1/refunds", {"amount": 100}, key="r-1")
    assert status == 201
    call("POST", "/v1/payments/pay_1/refunds", {"amount": 100}, key="r-1")
    call("POST", "/v1/payments/pay_1/refunds", {"amount": 100}, key="r-2")
    refunds = [i["refund_request"] for _, i in workflow.calls]
    assert len(refunds) == 2
    assert refunds[0]["refund_id"] != refunds[1]["refund_id"]
    assert all(r["refund_id"].startswith("re_") and r["amount"] == 100 for r in refunds)


def test_unknown_payment_is_404(workflow: FakeWorkflow) -> None:
    status, answer = call("GET", "/v1/payments/pay_missing", None, key=None)
    assert (status, answer["error"]["code"]) == (404, "resource_missing")


def test_a_caller_acts_only_for_its_own_merchants(workflow: FakeWorkflow) -> None:
    status, answer = call("POST", "/v1/payments", body(), caller=STRANGER)
    assert (status, answer["error"]["code"]) == (403, "merchant_not_permitted")
    assert answer["error"]["param"] == "merchant_id"
    status, _ = call("POST", "/v1/payments", body(), caller="")  # no authorizer context
    assert status == 403
    status, _ = call("POST", "/v1/payments", body())
    assert status == 201
    assert len(workflow.calls) == 1

    stored_payment("pay_owned", "m_1")
    assert call("GET", "/v1/payments/pay_owned", None, key=None)[0] == 200
    for method, path in (
        ("GET", "/v1/payments/pay_owned"),
        ("POST", "/v1/payments/pay_owned/capture"),
        ("POST", "/v1/payments/pay_owned/refunds"),
        ("POST", "/v1/payments/pay_owned/resume"),
        ("POST", "/v1/payments/pay_owned/cancel"),
    ):
        payload = {"challenge_response": "123456"} if path.endswith("resume") else {}
        status, answer = call(method, path, None if method == "GET" else payload, caller=STRANGER)
        assert (status, answer["error"]["code"]) == (404, "resource_missing"), path
    assert len(workflow.calls) == 1


# ------------------------------------------------------------- issue 19 item 12: API semantics


def test_the_same_key_on_another_endpoint_or_payment_is_refused(workflow: FakeWorkflow) -> None:
    stored_payment("pay_1")
    stored_payment("pay_2")
    status, _ = call("POST", "/v1/payments/pay_1/refunds", {"amount": 100}, key="k-shared")
    assert status == 201
    for path, payload in (
        ("/v1/payments/pay_1/capture", {"amount": 100}),
        ("/v1/payments/pay_2/refunds", {"amount": 100}),
        ("/v1/payments", body()),
    ):
        status, answer = call("POST", path, payload, key="k-shared")
        assert (status, answer["error"]["type"], answer["error"]["code"]) == (
            422,
            "idempotency_error",
            "idempotency_key_reused",
        ), path
    assert len(workflow.calls) == 1


def test_a_key_reused_after_its_record_expired_with_another_body_is_refused(
    workflow: FakeWorkflow,
) -> None:
    status, first = call("POST", "/v1/payments", body(), key="k-late")
    assert status == 201
    _, execution_input = workflow.calls[0]
    assert execution_input["request_digest"]
    # What the workflow stored, then the idempotency record's 24 hours pass.
    context = {
        "payment_id": first["id"],
        "merchant_id": "m_1",
        "amount": 2_500,
        "currency": "EUR",
        "card": {"token": "tok_1", "brand": "visa", "last4": "4242"},
        "request_digest": execution_input["request_digest"],
    }
    ddb = boto3.client("dynamodb", region_name=REGION)
    PaymentsTable(ddb, PAYMENTS_TABLE).save(
        new_payment(context, PaymentStatus.CAPTURED, "2026-11-22T10:00:00.000+00:00")
    )
    for item in ddb.scan(TableName=IDEMPOTENCY_TABLE)["Items"]:
        ddb.delete_item(TableName=IDEMPOTENCY_TABLE, Key={"id": item["id"]})
    status, answer = call("POST", "/v1/payments", body(amount=2_600), key="k-late")
    assert (status, answer["error"]["code"]) == (422, "idempotency_key_reused")
    assert len(workflow.calls) == 1
    # The same body again is the same payment, answered by the workflow from its record.
    assert call("POST", "/v1/payments", body(), key="k-late")[0] == 201
    assert len(workflow.calls) == 2


def test_resumes_without_a_key_are_scoped_to_their_payment(workflow: FakeWorkflow) -> None:
    stored_payment("pay_1")
    stored_payment("pay_2")
    for payment_id in ("pay_1", "pay_2"):
        status, _ = call(
            "POST", f"/v1/payments/{payment_id}/resume", {"challenge_response": "1"}, key=None
        )
        assert status == 200
    assert [i["payment_id"] for _, i in workflow.calls] == ["pay_1", "pay_2"]


# ------------------------------------------------------- issue 19 item 9: cancel a payment


@pytest.mark.parametrize(
    ("payload", "param"),
    [
        ({"cancellation_reason": "expired"}, "cancellation_reason"),  # the expiry's own reason
        ({"cancellation_reason": "changed_mind"}, "cancellation_reason"),
        ({"reason": "duplicate"}, "reason"),
        ({"cancellation_reason": "duplicate", "amount": 100}, "amount"),
    ],
)
def test_cancel_refuses_unknown_fields_and_reasons_naming_them(
    workflow: FakeWorkflow, payload: dict[str, Any], param: str
) -> None:
    stored_payment()
    status, answer = call("POST", "/v1/payments/pay_1/cancel", payload, key=None)
    assert (status, answer["error"]["param"]) == (400, param)
    assert workflow.calls == []


def test_cancel_without_a_key_runs_each_time_and_with_one_runs_once(
    workflow: FakeWorkflow,
) -> None:
    stored_payment()
    for _ in range(2):
        status, _ = call("POST", "/v1/payments/pay_1/cancel", None, key=None)
        assert status == 200
    assert [i for _, i in workflow.calls] == [
        {"operation": "cancel", "payment_id": "pay_1", "cancellation_reason": None}
    ] * 2
    assert len({name for name, _ in workflow.calls}) == 2  # one execution each
    assert all(name.startswith("can_") for name, _ in workflow.calls)

    reason = {"cancellation_reason": "requested_by_customer"}
    first = call("POST", "/v1/payments/pay_1/cancel", reason, key="c-1")
    assert first == call("POST", "/v1/payments/pay_1/cancel", reason, key="c-1")
    assert first[0] == 200 and len(workflow.calls) == 3
    assert workflow.calls[-1][1]["cancellation_reason"] == "requested_by_customer"
    status, answer = call(
        "POST", "/v1/payments/pay_1/cancel", {"cancellation_reason": "duplicate"}, key="c-1"
    )
    assert (status, answer["error"]["code"]) == (422, "idempotency_key_reused")
    assert len(workflow.calls) == 3
