"""``GET /v1/payments`` through the API handler on moto's DynamoDB (the by_merchant index as
tables.tf creates it): pages of the caller's payments only, newest first, filters by status and
creation time, and every bad parameter or cursor a 400 naming it, never a 5xx."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.adapters import clients, payment_workflow
from functions.adapters import payment_wiring as wiring
from functions.adapters.payments_table import PaymentsTable
from functions.domain.payment_listing import ListFilter, ListPosition
from functions.domain.payments import Payment, PaymentStatus
from functions.handlers import payments_api
from tests.adapters.payment_tables import (
    PAYMENTS_TABLE,
    REGION,
    create_payments_table,
    fake_aws_environment,
)
from tests.adapters.test_payments_api import Context
from tests.adapters.test_vault_handlers import api_event
from tests.unit.domain.test_payment_listing import payment as listed_payment

SHOP, OTHER = "m_1", "m_2"


def payment(number: int, merchant: str, status: PaymentStatus, minute: int) -> Payment:
    at = f"2026-12-01T10:{minute:02d}:00.000+00:00"
    return dataclasses.replace(
        listed_payment(number, merchant, status, 0),
        created_at=at,
        updated_at=at,
        metadata={"order_id": f"ord_{number}"},
    )


# 12 of the shop's payments (two a minute, alternately captured and declined) and 5 of another
# merchant's, in the same minutes.
SHOPS = [
    payment(i, SHOP, PaymentStatus.CAPTURED if i % 2 else PaymentStatus.DECLINED, i // 2)
    for i in range(12)
]
OTHERS = [payment(100 + i, OTHER, PaymentStatus.CAPTURED, i) for i in range(5)]


def newest_first(payments: list[Payment]) -> list[str]:
    return [
        p.payment_id
        for p in sorted(payments, key=lambda p: (p.created_at, p.payment_id), reverse=True)
    ]


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[PaymentsTable]:
    fake_aws_environment(monkeypatch, PAYMENTS_TABLE_NAME=PAYMENTS_TABLE)
    _reset()
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name=REGION)
        create_payments_table(ddb)
        payments = PaymentsTable(ddb, PAYMENTS_TABLE)
        for p in [*SHOPS, *OTHERS]:
            payments.save(p)
        yield payments
    _reset()


def _reset() -> None:
    clients.clear()
    wiring.clear()
    payment_workflow.payment_listing.cache_clear()


def get(query: dict[str, list[str]] | None, caller: str = SHOP) -> tuple[int, dict[str, Any]]:
    event = api_event("GET", "/v1/payments", None, merchant=None, caller=None, authorized=caller)
    event["multiValueQueryStringParameters"] = query
    event["queryStringParameters"] = {k: v[-1] for k, v in query.items()} if query else None
    response = payments_api.handler(event, Context())
    return response["statusCode"], json.loads(response["body"])


def page_through(query: dict[str, str], caller: str = SHOP) -> tuple[list[str], int]:
    listed: list[str] = []
    cursor: str | None = None
    for pages in range(1, 50):
        params = {k: [v] for k, v in query.items()}
        if cursor:
            params["cursor"] = [cursor]
        status, answer = get(params, caller)
        assert status == 200, answer
        assert answer["object"] == "list" and answer["url"] == "/v1/payments"
        listed.extend(p["id"] for p in answer["data"])
        cursor = answer["next_cursor"]
        assert answer["has_more"] == (cursor is not None)
        if cursor is None:
            return listed, pages
    raise AssertionError("the listing never ended")


def test_the_caller_pages_through_its_own_payments_newest_first(table: PaymentsTable) -> None:
    listed, pages = page_through({"limit": "5"})
    assert listed == newest_first(SHOPS) and pages == 3
    others, _ = page_through({"limit": "100"}, caller=OTHER)
    assert others == newest_first(OTHERS)


def test_a_page_answers_the_payment_objects_with_their_metadata(table: PaymentsTable) -> None:
    status, answer = get({"limit": ["1"]})
    assert status == 200
    [first] = answer["data"]
    newest = max(SHOPS, key=lambda p: (p.created_at, p.payment_id))
    assert first == json.loads(json.dumps(newest.view()))
    assert first["metadata"] == {"order_id": "ord_11"}


def test_the_default_page_is_twenty(table: PaymentsTable) -> None:
    status, answer = get(None)
    assert status == 200 and len(answer["data"]) == 12 and answer["has_more"] is False


def test_status_and_created_filters_select_within_the_callers_payments(
    table: PaymentsTable,
) -> None:
    captured, _ = page_through({"status": "captured", "limit": "2"})
    assert captured == newest_first([p for p in SHOPS if p.status is PaymentStatus.CAPTURED])
    window = {"created[gte]": "2026-12-01T10:01:00Z", "created[lte]": "2026-12-01T11:03:00+01:00"}
    within, _ = page_through(window | {"limit": "3"})
    assert within == newest_first([p for p in SHOPS if "10:01" <= p.created_at[11:16] <= "10:03"])
    # Unix seconds are taken as well: 1796119440 is 2026-12-01T10:04:00Z.
    since, _ = page_through({"created[gte]": "1796119440"})
    assert since == newest_first([p for p in SHOPS if p.created_at[11:16] >= "10:04"])


def test_another_merchants_cursor_is_refused(table: PaymentsTable) -> None:
    _, answer = get({"limit": ["1"]}, caller=OTHER)
    status, refused = get({"cursor": [answer["next_cursor"]]}, caller=SHOP)
    assert status == 400 and refused["error"]["param"] == "cursor"


def test_a_cursor_is_refused_with_other_filters(table: PaymentsTable) -> None:
    _, answer = get({"limit": ["1"], "status": ["captured"]})
    status, refused = get({"cursor": [answer["next_cursor"]], "status": ["declined"]})
    assert status == 400 and refused["error"]["param"] == "cursor"


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ({"limit": ["0"]}, "limit"),
        ({"limit": ["101"]}, "limit"),
        ({"limit": ["ten"]}, "limit"),
        ({"status": ["paid"]}, "status"),
        ({"created[gte]": ["yesterday"]}, "created[gte]"),
        ({"created[lte]": ["2026-12-01T10:00:00"]}, "created[lte]"),  # no offset: ambiguous
        (
            {"created[gte]": ["2026-12-02T00:00:00Z"], "created[lte]": ["2026-12-01T00:00:00Z"]},
            "created[lte]",
        ),
        ({"cursor": ["not-a-cursor"]}, "cursor"),
        ({"cursor": ["x" * 513]}, "cursor"),
        ({"created_gte": ["2026-12-01T00:00:00Z"]}, "created_gte"),
        ({"merchant_id": [OTHER]}, "merchant_id"),
        ({"limit": ["1", "2"]}, "limit"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(
    table: PaymentsTable, query: dict[str, list[str]], param: str
) -> None:
    status, answer = get(query)
    assert status == 400, answer
    assert answer["error"]["param"] == param
    assert answer["error"]["type"] == "invalid_request_error"


def test_without_an_authenticated_merchant_nothing_is_listed(table: PaymentsTable) -> None:
    status, answer = get(None, caller="")
    assert status == 403 and answer["error"]["type"] == "permission_error"


def test_the_index_query_reads_only_the_page_and_one_more(table: PaymentsTable) -> None:
    found = table.positions(SHOP, ListFilter(), None, 4)
    assert [p.payment_id for p in found] == newest_first(SHOPS)[:4]
    after = table.positions(SHOP, ListFilter(), found[-1], 100)
    assert [p.payment_id for p in after] == newest_first(SHOPS)[4:]
    assert table.positions(SHOP, ListFilter(), ListPosition(*_last(found)), 0) == []


def _last(found: list[ListPosition]) -> tuple[str, str]:
    return found[-1].created_at, found[-1].payment_id


def test_batch_reads_answer_every_payment_named(table: PaymentsTable) -> None:
    ids = [p.payment_id for p in SHOPS] + ["pay_" + "f" * 24]
    read = table.payments(ids)
    assert set(read) == {p.payment_id for p in SHOPS}
    assert read[SHOPS[3].payment_id] == SHOPS[3]
