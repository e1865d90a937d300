"""The credit API handler and the DynamoDB stores on moto (in process): a decision answered
201 with its reasons and schedule and recorded whole, replayed by its key, 4xx naming the
field for bad input, other merchants' decisions and plans not found; the plan store's
conditional writes and the indexes the exposure figures and collection runs query."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.adapters import clients, credit_wiring
from functions.adapters.credit_tables import (
    DynamoCreditLedgerStore,
    DynamoDecisionStore,
    DynamoPlanStore,
)
from functions.domain.credit.ledger import (
    BnplLedger,
    BnplPlan,
    CreditPostingRules,
    InMemoryCreditLedgerStore,
    credit_balances,
)
from functions.domain.credit.schedule import build_schedule
from functions.domain.fees import FeeSchedule
from functions.domain.ledger import ConflictingEntryError
from functions.handlers import credit_api
from functions.services.credit_plans import BnplPlans, CollectionPolicy
from tests.adapters.payment_tables import REGION, fake_aws_environment
from tests.adapters.test_vault_handlers import Context, api_event
from tests.unit.credit.conftest import LIMITS
from tests.unit.credit.fakes import FakeAcquirer, ListEvents
from tests.unit.credit.test_credit_decisions import body

# Merchants as their API keys authenticate them; reviewers sign with IAM (an ARN).
SHOP = "m_1"
STRANGER = "m_2"
REVIEWER = "arn:aws:sts::123456789012:assumed-role/credit-reviewers/analyst_7"
DECISIONS, PLANS = "test-credit-decisions", "test-bnpl-plans"


def create_tables(ddb: Any) -> None:
    """As modules/credit_decisioning declares them."""
    ddb.create_table(
        TableName=DECISIONS,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )
    ddb.create_table(
        TableName=PLANS,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"}
            for name in ("id", "customer_id", "merchant_id", "collectable", "next_due")
        ],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": name,
                "KeySchema": keys,
                "Projection": {"ProjectionType": "ALL"},
            }
            for name, keys in (
                ("customer", [{"AttributeName": "customer_id", "KeyType": "HASH"}]),
                ("merchant", [{"AttributeName": "merchant_id", "KeyType": "HASH"}]),
                (
                    "due",
                    [
                        {"AttributeName": "collectable", "KeyType": "HASH"},
                        {"AttributeName": "next_due", "KeyType": "RANGE"},
                    ],
                ),
            )
        ],
    )


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    fake_aws_environment(
        monkeypatch,
        CREDIT_DECISIONS_TABLE_NAME=DECISIONS,
        BNPL_PLANS_TABLE_NAME=PLANS,
        CREDIT_POLICY=json.dumps({"EUR": dataclasses.asdict(LIMITS)}),
        CREDIT_REVIEWER_PRINCIPALS=json.dumps(["arn:aws:iam::123456789012:role/credit-reviewers"]),
    )
    clients.clear()
    credit_wiring.clear()
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name=REGION)
        create_tables(ddb)
        yield ddb
    clients.clear()
    credit_wiring.clear()


def call(
    method: str, path: str, payload: Any = None, key: str | None = "key-1", caller: str = SHOP
) -> tuple[int, dict[str, Any]]:
    signed = caller.startswith("arn:")
    event = api_event(
        method,
        path,
        payload,
        merchant=None,
        caller=caller if signed else None,
        authorized=None if signed else caller,
    )
    if key is not None:
        event["headers"]["Idempotency-Key"] = key
    response = credit_api.handler(event, Context())
    return response["statusCode"], json.loads(response["body"])


def test_a_decision_is_answered_with_reasons_and_schedule_and_recorded(aws: Any) -> None:
    status, answer = call("POST", "/v1/credit/decisions", body(amount=60_000))
    assert status == 201
    assert answer["outcome"] == "approved"
    assert [i["amount"] for i in answer["schedule"]] == [20_000, 20_000, 20_000]
    assert answer["model_version"].startswith("credit-sc-")
    stored = DynamoDecisionStore(aws, DECISIONS).get(answer["id"])
    assert stored is not None and stored.request.customer.id == "cus_1"
    assert stored.score is not None and stored.points
    assert call("POST", "/v1/credit/decisions", body(amount=60_000)) == (status, answer)
    refused, error = call("POST", "/v1/credit/decisions", body(amount=70_000))
    assert (refused, error["error"]["code"]) == (422, "idempotency_key_reused")
    assert call("GET", f"/v1/credit/decisions/{answer['id']}", key=None) == (200, answer)
    missing, _ = call("GET", f"/v1/credit/decisions/{answer['id']}", key=None, caller=STRANGER)
    assert missing == 404


def test_a_declined_decision_names_its_reasons_in_order(aws: Any) -> None:
    status, answer = call(
        "POST",
        "/v1/credit/decisions",
        body(**{"customer.date_of_birth": "2010-02-01", "finances.monthly_net_income": 0}),
    )
    assert status == 201 and answer["outcome"] == "declined"
    assert answer["reasons"][0]["code"] == "under_age"
    assert answer["schedule"] == [] and answer["approved_amount"] == 0


@pytest.mark.parametrize(
    ("payload", "key", "caller", "status", "param"),
    [
        (body(**{"customer.date_of_birth": None}), "k", SHOP, 400, "customer.date_of_birth"),
        (body(**{"profile.savings": "lots"}), "k", SHOP, 400, "profile.savings"),
        (body(amount="600"), "k", SHOP, 400, "amount"),
        (body(), None, SHOP, 400, "Idempotency-Key"),
        (body(), "k", STRANGER, 403, "merchant_id"),
        ("not json", "k", SHOP, 400, None),
    ],
)
def test_bad_requests_are_4xx_naming_the_field(
    aws: Any, payload: Any, key: str | None, caller: str, status: int, param: str | None
) -> None:
    answered, error = call("POST", "/v1/credit/decisions", payload, key=key, caller=caller)
    assert answered == status
    assert error["error"]["param"] == param
    assert aws.scan(TableName=DECISIONS)["Count"] == 0


def test_a_plan_is_stored_read_by_its_merchant_and_found_by_the_indexes(aws: Any) -> None:
    _, decision = call("POST", "/v1/credit/decisions", body(amount=60_000))
    store = DynamoPlanStore(aws, PLANS)
    # The decision was made on the real clock (the API's): the plan opens right after it.
    day = dt.datetime.now(dt.UTC)
    acquirer = FakeAcquirer()
    plans = BnplPlans(
        credit_wiring.credit_decisions(),
        store,
        acquirer,
        BnplLedger(InMemoryCreditLedgerStore(), CreditPostingRules(300)),
        ListEvents(),
        FeeSchedule.from_config({}),
        CollectionPolicy(),
        lambda: day,
    )
    plan = plans.open(decision["id"], "m_1", "tok_live_1")
    assert store.create(plan) == plan  # a second create answers the stored plan
    status, read = call("GET", f"/v1/bnpl/plans/{plan.id}", key=None)
    assert status == 200 and read["token"] == "tok_live_1"
    assert "version" not in read and "claim" not in read
    assert call("GET", f"/v1/bnpl/plans/{plan.id}", key=None, caller=STRANGER)[0] == 404
    assert [p.id for p in store.of_customer("cus_1")] == [plan.id]
    assert [p.id for p in store.of_merchant("m_1")] == [plan.id]
    second_due = plan.instalments[1].due_date
    assert store.due(second_due - dt.timedelta(days=1)) == []
    assert [p.id for p in store.due(second_due)] == [plan.id]
    assert not store.replace(plan, expected_version=5)
    collected = plans.collect_plan(plan.id, second_due)
    # Two writes: the claim before the charge, its release with the outcome.
    assert store.get(plan.id) == collected and collected.version == 2
    assert collected.claim is None
    # The customer's exposure now comes from the stored plan: a second purchase sees it.
    _, second = call("POST", "/v1/credit/decisions", body(amount=200_000), key="key-2")
    stored = DynamoDecisionStore(aws, DECISIONS).get(second["id"])
    assert stored is not None and stored.customer_exposure.outstanding == 20_000


def test_a_reviewer_changes_a_decision_and_is_recorded_as_the_signer(aws: Any) -> None:
    _, decision = call(
        "POST",
        "/v1/credit/decisions",
        body(**{"finances.monthly_net_income": 150_000}),
    )
    assert decision["outcome"] == "declined"
    review = {
        "reason": "Payslips show a net income of EUR 3,000.00, not 1,500.00.",
        "outcome": "approved",
    }
    path = f"/v1/credit/decisions/{decision['id']}/reviews"
    # A merchant cannot review its own customers' decisions, and a body cannot name a reviewer.
    assert call("POST", path, review, key=None)[0] == 403
    refused, error = call(
        "POST", path, {**review, "reviewer": "someone"}, key=None, caller=REVIEWER
    )
    assert (refused, error["error"]["param"]) == (400, "reviewer")
    status, reviewed = call("POST", path, review, key=None, caller=REVIEWER)
    assert status == 201 and reviewed["outcome"] == "approved" and reviewed["reviewed"]
    assert reviewed["reviews"][0]["reviewer"] == REVIEWER
    assert sum(i["amount"] for i in reviewed["schedule"]) == 60_000
    stored = DynamoDecisionStore(aws, DECISIONS).get(decision["id"])
    assert stored is not None and stored.outcome == "declined"
    assert stored.effective_outcome == "approved"
    # The merchant reads the reviewed decision; the reviewer may read any.
    assert (
        call("GET", f"/v1/credit/decisions/{decision['id']}", key=None)[1]["outcome"] == "approved"
    )
    assert (
        call("GET", f"/v1/credit/decisions/{decision['id']}", key=None, caller=REVIEWER)[0] == 200
    )


LEDGER = "test-credit-ledger"


def test_the_credit_ledger_on_dynamodb_posts_once_and_refuses_other_lines(aws: Any) -> None:
    aws.create_table(
        TableName=LEDGER,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "plan_id", "AttributeType": "S"},
            {"AttributeName": "step", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "plan_id", "KeyType": "HASH"},
            {"AttributeName": "step", "KeyType": "RANGE"},
        ],
    )
    store = DynamoCreditLedgerStore(aws, LEDGER)
    rules = CreditPostingRules(300)
    ledger = BnplLedger(store, rules)
    plan = BnplPlan(
        "pl_1", "cus_1", "m_1", build_schedule("pay_in_4", 10_001, "EUR", dt.date(2026, 12, 1))
    )
    at = "2026-12-01T10:00:00.000+00:00"
    opened = ledger.open_plan(plan, fee=300, at=at)
    ledger.collect(plan, 1, at)
    ledger.charge_late_fee(plan, 2, 500, at)
    ledger.collect(plan, 2, at)
    ledger.collect(plan, 2, at)  # a replay: nothing more
    assert set(opened) <= set(store.entries_for("pl_1"))
    assert {e.step for e in store.entries_for("pl_1")} == {
        "plan",
        "allowance",
        "collect-1",
        "late-fee-2",
        "collect-2",
    }
    position = ledger.position("pl_1")
    assert position.owed == 10_001 + 500 - 2_501 - 2_500 - 500
    assert position.late_fees == {2: 500}
    with pytest.raises(ConflictingEntryError):
        store.post(rules.plan(plan, 301, at))
    totals = credit_balances(store.entries_for("pl_1"))
    assert sum(totals.values()) == 0


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [(b"\xef\xbf\xbdQ\x00", False), (b"\xff\xfeQ", True), (b"{not json", False), (b"[]", False)],
)
def test_a_body_that_is_not_a_json_object_is_400_body_invalid(
    aws: Any, raw: bytes, encoded: bool
) -> None:
    """Found by schemathesis once API Gateway stopped checking bodies first (ADR 0011): bytes
    that are not UTF-8 JSON answered 500."""
    event = api_event("POST", "/v1/credit/decisions", None, merchant=None, authorized=SHOP)
    event["headers"]["Idempotency-Key"] = "key-raw"
    event["body"] = base64.b64encode(raw).decode() if encoded else raw.decode("utf-8", "replace")
    event["isBase64Encoded"] = encoded
    response = credit_api.handler(event, Context())
    answer = json.loads(response["body"])
    assert (response["statusCode"], answer["error"]["code"]) == (400, "body_invalid"), answer
