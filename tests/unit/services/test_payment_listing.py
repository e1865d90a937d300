"""The list use case over an in-memory index: the merchant is the caller's, never a parameter;
filters and cursors are checked into 400s naming the parameter; the answer is the payment
objects GET /v1/payments/{id} answers, and a cursor that pages on."""

from __future__ import annotations

import pytest

from functions.domain.payments import PaymentStatus
from functions.models.tokens import ApiProblem
from functions.services.payment_listing import PaymentListing, check_parameters, list_query
from tests.unit.domain.test_payment_listing import InMemoryIndex, payment

PAYMENTS = [
    payment(i, merchant, PaymentStatus.CAPTURED if i % 3 else PaymentStatus.DECLINED, i % 10)
    for i, merchant in enumerate(["m_a"] * 7 + ["m_b"] * 3)
]


def listing() -> PaymentListing:
    return PaymentListing(InMemoryIndex(PAYMENTS))


def refused(call: object) -> tuple[int, str | None]:
    assert isinstance(call, ApiProblem)
    return call.error.status, call.error.param


def test_pages_follow_the_cursor_and_answer_payment_objects() -> None:
    first = listing().list("m_a", list_query(limit=4))
    assert first.has_more and first.next_cursor is not None
    assert [p.merchant_id for p in first.data] == ["m_a"] * 4
    rest = listing().list("m_a", list_query(limit=4, cursor=first.next_cursor))
    assert not rest.has_more and rest.next_cursor is None
    ids = [p.id for p in first.data + rest.data]
    assert sorted(ids) == sorted(p.payment_id for p in PAYMENTS if p.merchant_id == "m_a")
    body = first.json_body()
    assert body["object"] == "list" and body["url"] == "/v1/payments"
    assert "bnpl" not in body["data"][0]  # as GET answers a card payment: unset fields left out


def test_the_status_filter_keeps_only_that_status() -> None:
    page = listing().list("m_a", list_query(status="declined"))
    assert {p.status for p in page.data} == {"declined"} and len(page.data) == 3


def test_a_cursor_from_another_merchant_or_for_other_filters_is_a_400_naming_it() -> None:
    cursor = listing().list("m_b", list_query(limit=1)).next_cursor
    with pytest.raises(ApiProblem) as caught:
        listing().list("m_a", list_query(cursor=cursor))
    assert refused(caught.value) == (400, "cursor")
    cursor = listing().list("m_a", list_query(limit=1)).next_cursor
    with pytest.raises(ApiProblem) as caught:
        listing().list("m_a", list_query(cursor=cursor, status="captured"))
    assert refused(caught.value) == (400, "cursor")


def test_no_authenticated_merchant_lists_nothing() -> None:
    with pytest.raises(ApiProblem) as caught:
        listing().list("", list_query())
    assert refused(caught.value)[0] == 403


def test_a_reversed_time_range_names_created_lte() -> None:
    with pytest.raises(ApiProblem) as caught:
        list_query(created_gte="2026-12-02T00:00:00Z", created_lte="2026-12-01T00:00:00Z")
    assert refused(caught.value) == (400, "created[lte]")


@pytest.mark.parametrize(
    ("params", "param"),
    [({"created_gte": ["x"]}, "created_gte"), ({"status": ["a", "b"]}, "status")],
)
def test_unknown_and_repeated_parameters_are_refused(
    params: dict[str, list[str]], param: str
) -> None:
    with pytest.raises(ApiProblem) as caught:
        check_parameters(params)
    assert refused(caught.value) == (400, param)
    check_parameters({"limit": ["5"], "created[gte]": ["2026-12-01T00:00:00Z"]})
    check_parameters(None)
