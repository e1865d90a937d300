"""BNPL end to end on the applied environments/local: POST /v1/payments with
``payment_method.type = "bnpl"`` through the same API, merchant signing and workflow as a card
payment, read back through GET /v1/payments/{id} and refunded through its refunds route; the
plan read back through GET /v1/bnpl/plans/{id}; the collections run invoked as
`make collect-bnpl` invokes it; the bnpl.* events read from their record on the bus."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from typing import Any

import pytest

from functions.adapters.credit_tables import DynamoCreditLedgerStore
from functions.domain.credit.ledger import credit_balances
from local.api_client import ApiClient
from local.bnpl_collections import collect
from tests.conftest import Emulator
from tests.e2e.test_local_environment import create, merchant_api, published
from tests.unit.credit.test_bnpl_checkout import payment as unit_payment

pytestmark = pytest.mark.e2e
# When this module's payments begin: its last test reconciles every BNPL payment since.
STARTED = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)

MERCHANT = "m_bnpl_e2e"
APPROVED_CARD = "4242424242424242"
# The simulator's card that pays while its holder does and is empty when the lender charges it
# alone (docs/test-cards.md): every collection on it fails.
EMPTY_LATER_CARD = "4000000000005100"


@pytest.fixture(scope="module")
def api(emulator: Emulator, api_env: dict[str, Any]) -> ApiClient:
    return merchant_api(emulator, api_env, MERCHANT)


def card_token(emulator: Emulator, api_env: dict[str, Any], number: str, customer: str) -> str:
    """The customer's card token (POST /v1/tokens for the merchant): it pays the instalments."""
    tokens = merchant_api(emulator, api_env, MERCHANT)
    created = tokens.post("/v1/tokens", {"number": number, "customer_id": customer})
    assert created.status == 201, created.body
    value: str = created.body["token"]
    return value


@pytest.fixture(scope="module")
def token(emulator: Emulator, api_env: dict[str, Any]) -> str:
    return card_token(emulator, api_env, APPROVED_CARD, "cus_bnpl_1")


@pytest.fixture(scope="module")
def empty_later_token(emulator: Emulator, api_env: dict[str, Any]) -> str:
    return card_token(emulator, api_env, EMPTY_LATER_CARD, "cus_bnpl_2")


def bnpl_request(
    token: str, amount: int, plan: str = "pay_in_4", **applicant: Any
) -> dict[str, Any]:
    # The unit tests' applicant (tests/unit/credit), with this test's changes.
    data = {**unit_payment()["payment_method"]["applicant"], **applicant}
    return {
        "merchant_id": MERCHANT,
        "amount": amount,
        "currency": "EUR",
        "payment_method": {"type": "bnpl", "plan": plan, "token": token, "applicant": data},
        "customer": {"id": f"cus_{uuid.uuid4().hex[:10]}", "country": "DE"},
    }


def test_an_approved_bnpl_payment_has_an_exact_plan_and_a_balanced_ledger(
    api: ApiClient, token: str, emulator: Emulator, api_env: dict[str, Any]
) -> None:
    answer = create(api, bnpl_request(token, 10_001))
    assert answer.status == 201, answer.body
    payment = answer.body
    assert payment["status"] == "captured" and payment["amount_captured"] == 10_001
    bnpl = payment["bnpl"]
    assert bnpl["outcome"] == "approved" and bnpl["plan_id"]
    amounts = [i["amount"] for i in bnpl["instalments"]]
    assert len(amounts) == 4 and sum(amounts) == 10_001 and min(amounts) > 0
    assert [i["status"] for i in bnpl["instalments"]] == ["collected", "due", "due", "due"]
    # "card" never leaves the token: brand and last four only.
    assert APPROVED_CARD not in json.dumps(payment)

    plan = api.get(f"/v1/bnpl/plans/{bnpl['plan_id']}")
    assert plan.status == 200, plan.body
    assert [i["amount"] for i in plan.body["instalments"]] == amounts

    entries = DynamoCreditLedgerStore(
        emulator.client("dynamodb"), api_env["credit"]["ledger_table_name"]
    ).entries_for(bnpl["plan_id"])
    assert entries and all(v == 0 for v in _net(entries).values())


def test_a_bnpl_payment_is_read_where_card_payments_are_and_a_refund_unwinds_its_plan(
    api: ApiClient, token: str, emulator: Emulator, api_env: dict[str, Any]
) -> None:
    answer = create(api, bnpl_request(token, 12_000, plan="pay_in_4"))
    assert answer.status == 201 and answer.body["status"] == "captured", answer.body
    payment_id, plan_id = answer.body["id"], answer.body["bnpl"]["plan_id"]

    read = api.get(f"/v1/payments/{payment_id}")
    assert read.status == 200, read.body
    assert (read.body["status"], read.body["amount"], read.body["amount_captured"]) == (
        "captured",
        12_000,
        12_000,
    )
    assert read.body["bnpl"]["plan_id"] == plan_id
    assert read.body["bnpl"]["decision_id"] == answer.body["bnpl"]["decision_id"]

    part = api.post(
        f"/v1/payments/{payment_id}/refunds", {"amount": 100}, idempotency_key=uuid.uuid4().hex
    )
    assert part.status == 400 and part.body["error"]["param"] == "amount", part.body
    key = uuid.uuid4().hex
    for _ in range(2):  # a client's retry: the same refund, nothing given back twice
        refunded = api.post(f"/v1/payments/{payment_id}/refunds", {}, idempotency_key=key)
        assert refunded.status == 201, refunded.body
        assert refunded.body["status"] == "refunded"
        assert refunded.body["amount_refunded"] == 12_000
    plan = api.get(f"/v1/bnpl/plans/{plan_id}").body
    assert plan["status"] == "refunded"
    assert [i["status"] for i in plan["instalments"]] == [
        "refunded",
        "canceled",
        "canceled",
        "canceled",
    ]
    entries = DynamoCreditLedgerStore(
        emulator.client("dynamodb"), api_env["credit"]["ledger_table_name"]
    ).entries_for(plan_id)
    assert [e.step for e in entries].count("refund") == 1
    assert all(v == 0 for v in _net(entries).values())
    owed = {
        account.split(":", 1)[0]: v
        for (account, _), v in credit_balances(entries).items()
        if account.startswith(("bnpl_receivable", "acquirer_receivable"))
    }
    assert set(owed.values()) == {0}, owed
    canceled = [
        e
        for e in map(json.loads, emulator.log_messages(api_env["credit"]["event_log_group_name"]))
        if e["detail-type"] == "bnpl.plan_canceled" and e["detail"]["plan_id"] == plan_id
    ]
    assert (
        canceled
        and canceled[0]["detail"]["amount"] == answer.body["bnpl"]["instalments"][0]["amount"]
    )
    # Announced as a card payment is, for webhooks, the fraud stream and the lake.
    deadline = time.monotonic() + 30
    while (announced := published(emulator, api_env, payment_id)) != [
        "payment.captured",
        "payment.refunded",
    ] and time.monotonic() < deadline:
        time.sleep(1)
    assert announced == ["payment.captured", "payment.refunded"]


def _net(entries: list[Any]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for (_, currency), amount in credit_balances(entries).items():
        totals[currency] = totals.get(currency, 0) + amount
    return totals


def test_a_declined_applicant_gets_a_declined_payment_with_reasons(
    api: ApiClient, token: str
) -> None:
    answer = create(api, bnpl_request(token, 20_000, date_of_birth="2012-01-01"))
    assert answer.status == 201, answer.body
    payment = answer.body
    assert payment["status"] == "declined" and payment["decline_code"] == "credit_declined"
    assert payment["bnpl"]["outcome"] == "declined" and payment["bnpl"]["plan_id"] is None
    reasons = payment["bnpl"]["reasons"]
    assert reasons and all(r["code"] and r["would_change"] for r in reasons)


@pytest.mark.parametrize(
    ("drop", "param"),
    [
        (("applicant",), "payment_method.applicant"),
        (
            ("applicant", "finances", "monthly_net_income"),
            "payment_method.applicant.finances.monthly_net_income",
        ),
        (("plan",), "payment_method.plan"),
    ],
)
def test_missing_applicant_data_is_a_400_naming_the_field(
    api: ApiClient, token: str, drop: tuple[str, ...], param: str
) -> None:
    request = bnpl_request(token, 5_000)
    target = request["payment_method"]
    for part in drop[:-1]:
        target = target[part]
    del target[drop[-1]]
    answer = create(api, request)
    assert answer.status == 400, answer.body
    error = answer.body["error"]
    assert error["param"] == param and error["type"] == "invalid_request_error"
    assert error["code"] == "parameter_missing"


def test_collections_charge_the_next_instalment_once_when_run_twice(
    api: ApiClient, token: str, emulator: Emulator, api_env: dict[str, Any]
) -> None:
    answer = create(api, bnpl_request(token, 9_000, plan="pay_in_3"))
    assert answer.status == 201 and answer.body["status"] == "captured", answer.body
    plan_id = answer.body["bnpl"]["plan_id"]
    second = answer.body["bnpl"]["instalments"][1]

    function = api_env["credit"]["bnpl_function_name"]
    lambdas = emulator.client("lambda")
    for _ in range(2):
        collect(lambdas, function, second["due_date"])

    plan = api.get(f"/v1/bnpl/plans/{plan_id}").body
    instalments = plan["instalments"]
    assert [i["status"] for i in instalments] == ["collected", "collected", "due"]
    assert instalments[1]["attempts"] == 1
    entries = DynamoCreditLedgerStore(
        emulator.client("dynamodb"), api_env["credit"]["ledger_table_name"]
    ).entries_for(plan_id)
    assert [e.step for e in entries].count("collect-2") == 1


def test_a_failed_collection_goes_late_with_a_capped_fee_and_is_retried_once(
    api: ApiClient, empty_later_token: str, emulator: Emulator, api_env: dict[str, Any]
) -> None:
    answer = create(api, bnpl_request(empty_later_token, 9_000, plan="pay_in_3"))
    assert answer.status == 201 and answer.body["status"] == "captured", answer.body
    plan_id = answer.body["bnpl"]["plan_id"]
    due = dt.date.fromisoformat(answer.body["bnpl"]["instalments"][1]["due_date"])
    function = api_env["credit"]["bnpl_function_name"]
    lambdas = emulator.client("lambda")
    settings = json.loads(
        lambdas.get_function_configuration(FunctionName=function)["Environment"]["Variables"][
            "BNPL_COLLECTIONS"
        ]
    )
    retry_days, cap = settings["retry_every_days"], settings["late_fees"]["EUR"]["cap"]

    def second() -> dict[str, Any]:
        plan = api.get(f"/v1/bnpl/plans/{plan_id}")
        assert plan.status == 200, plan.body
        instalment: dict[str, Any] = plan.body["instalments"][1]
        return instalment

    collect(lambdas, function, due.isoformat())
    late = second()
    assert (late["status"], late["attempts"], late["decline_code"]) == (
        "late",
        1,
        "insufficient_funds",
    )
    assert 0 < late["late_fee"] <= cap
    # Not again before the retry is due; on its day, one more attempt however often the run.
    collect(lambdas, function, (due + dt.timedelta(days=retry_days - 1)).isoformat())
    assert second()["attempts"] == 1
    for _ in range(2):
        collect(lambdas, function, (due + dt.timedelta(days=retry_days)).isoformat())
    retried = second()
    assert (retried["status"], retried["attempts"]) == ("late", 2)
    assert retried["late_fee"] == late["late_fee"]

    missed = [
        e["detail"]["event_id"]
        for e in map(json.loads, emulator.log_messages(api_env["credit"]["event_log_group_name"]))
        if e["detail-type"] == "bnpl.instalment_missed" and e["detail"]["plan_id"] == plan_id
    ]
    assert sorted(set(missed)) == [
        f"{plan_id}:bnpl.instalment_missed:2:1",
        f"{plan_id}:bnpl.instalment_missed:2:2",
    ]

    # The customer pays what is left themselves (customer-initiated: the card pays), the
    # late fee once with it.
    settled = api.post(f"/v1/bnpl/plans/{plan_id}/settle", {})
    assert settled.status == 200 and settled.body["status"] == "settled_early", settled.body
    entries = DynamoCreditLedgerStore(
        emulator.client("dynamodb"), api_env["credit"]["ledger_table_name"]
    ).entries_for(plan_id)
    steps = [e.step for e in entries]
    assert steps.count("late-fee-2") == 1 and "collect-2" not in steps
    assert "settle-early" in steps
    assert all(v == 0 for v in _net(entries).values())
    receivable = sum(
        v
        for (account, _), v in credit_balances(entries).items()
        if account.startswith("bnpl_receivable")
    )
    assert receivable == 0


def test_every_bnpl_payment_reconciles_with_its_plan_and_the_credit_ledger(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    """Last in the module: the hourly BNPL reconciliation, invoked as its schedule does, over
    every BNPL payment the tests above made (approved, refunded, declined, collected, late and
    settled early)."""
    lambdas = emulator.client("lambda")
    response = lambdas.invoke(
        FunctionName=api_env["credit"]["bnpl_function_name"],
        Payload=json.dumps({"action": "reconcile", "since": STARTED.isoformat()}),
    )
    report = json.loads(response["Payload"].read())
    assert not response.get("FunctionError"), report
    assert report["checked_payments"] >= 4, report
    assert report["mismatch_count"] == 0, report["mismatches"]
    assert report["complete"] is True, report


def test_the_scheduled_bnpl_reconciliation_continues_from_its_checkpoint(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    """The schedule's input, twice: the first run saves where it got to (an item the function's
    role may write), the second starts there."""
    lambdas = emulator.client("lambda")

    def scheduled() -> dict[str, Any]:
        response = lambdas.invoke(
            FunctionName=api_env["credit"]["bnpl_function_name"],
            Payload=json.dumps({"action": "reconcile", "scheduled": True}),
        )
        report: dict[str, Any] = json.loads(response["Payload"].read())
        assert not response.get("FunctionError"), report
        # Mismatches are the test above's to judge: this window holds other modules' payments.
        assert report["complete"] is True, report
        return report

    first, second = scheduled(), scheduled()
    reached = first["reached"]
    assert second["since"] == min(reached["payments"]["at"], reached["operations"]["at"])
    assert second["until"] >= first["until"]
