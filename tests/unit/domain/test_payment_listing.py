"""``GET /v1/payments`` over an in-memory index: paging with any page size and any filter gives
exactly the merchant's matching payments, newest first, each once; a cursor works only for the
merchant and the filters it was issued for, and an edited one is refused."""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Mapping, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.domain.payment_listing import (
    Cursor,
    InvalidCursorError,
    ListFilter,
    ListPosition,
    read_page,
)
from functions.domain.payments import Payment, PaymentStatus

MERCHANTS = ("m_a", "m_b")
STATUSES = (PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURED, PaymentStatus.DECLINED)


def payment(number: int, merchant: str, status: PaymentStatus, second: int) -> Payment:
    return Payment(
        payment_id=f"pay_{number:024x}",
        merchant_id=merchant,
        amount=100,
        currency="EUR",
        capture_requested=True,
        status=status,
        token="tok_1",
        card_brand="visa",
        card_last4="4242",
        customer_id="c_1",
        device_id=None,
        # Several payments share a second: the payment id orders them.
        created_at=f"2026-12-01T10:00:{second:02d}.000+00:00",
        updated_at=f"2026-12-01T10:00:{second:02d}.000+00:00",
    )


class InMemoryIndex:
    """The by_merchant index and the table behind it, with every read counted."""

    def __init__(self, payments: Sequence[Payment]) -> None:
        self._payments = {p.payment_id: p for p in payments}
        self.positions_read = 0

    def positions(
        self, merchant_id: str, within: ListFilter, after: ListPosition | None, limit: int
    ) -> list[ListPosition]:
        found = sorted(
            (
                ListPosition(p.created_at, p.payment_id)
                for p in self._payments.values()
                if p.merchant_id == merchant_id and within.covers(p.created_at)
            ),
            reverse=True,
        )
        found = [p for p in found if after is None or p < after][:limit]
        self.positions_read += len(found)
        return found

    def payments(self, payment_ids: Sequence[str]) -> Mapping[str, Payment]:
        return {i: self._payments[i] for i in payment_ids if i in self._payments}


def everything(index: InMemoryIndex, merchant: str, within: ListFilter, limit: int) -> list[str]:
    """Pages through with the cursor as a client would, checking each page's size."""
    listed: list[str] = []
    after = None
    for _ in range(500):
        page = read_page(index, merchant, within, after, limit, max_examined=7)
        assert len(page.payments) <= limit
        listed.extend(p.payment_id for p in page.payments)
        if page.next_after is None:
            return listed
        cursor = Cursor(merchant, within, page.next_after).encode()
        after = Cursor.decode(cursor, merchant, within).after
    raise AssertionError("the listing never ended")


payments_strategy = st.lists(
    st.tuples(st.sampled_from(MERCHANTS), st.sampled_from(STATUSES), st.integers(0, 9)),
    max_size=40,
).map(lambda rows: [payment(i, m, s, sec) for i, (m, s, sec) in enumerate(rows)])


@settings(max_examples=150, deadline=None)
@given(
    payments_strategy,
    st.integers(1, 6),
    st.none() | st.sampled_from(STATUSES),
    st.none() | st.integers(0, 9),
    st.none() | st.integers(0, 9),
)
def test_paging_lists_exactly_the_merchants_matching_payments_newest_first(
    payments: list[Payment],
    limit: int,
    status: PaymentStatus | None,
    start: int | None,
    end: int | None,
) -> None:
    def at(second: int | None) -> str | None:
        return None if second is None else f"2026-12-01T10:00:{second:02d}.000+00:00"

    within = ListFilter(status, at(start), at(end))
    listed = everything(InMemoryIndex(payments), "m_a", within, limit)
    expected = [
        p.payment_id
        for p in sorted(payments, key=lambda p: (p.created_at, p.payment_id), reverse=True)
        if p.merchant_id == "m_a" and within.admits(p) and within.covers(p.created_at)
    ]
    assert listed == expected


def test_a_full_page_without_a_filter_says_whether_more_follow() -> None:
    payments = [payment(i, "m_a", PaymentStatus.CAPTURED, i) for i in range(4)]
    index = InMemoryIndex(payments)
    first = read_page(index, "m_a", ListFilter(), None, 2, max_examined=100)
    assert [p.payment_id for p in first.payments] == [
        payments[3].payment_id,
        payments[2].payment_id,
    ]
    assert first.next_after == ListPosition(payments[2].created_at, payments[2].payment_id)
    last = read_page(index, "m_a", ListFilter(), first.next_after, 2, max_examined=100)
    assert len(last.payments) == 2 and last.next_after is None


def test_a_rare_status_reads_a_bounded_number_of_positions_per_request() -> None:
    payments = [payment(i, "m_a", PaymentStatus.CAPTURED, i % 10) for i in range(50)]
    index = InMemoryIndex(payments)
    page = read_page(index, "m_a", ListFilter(PaymentStatus.DECLINED), None, 10, max_examined=20)
    assert page.payments == () and page.next_after is not None
    # 20 examined in two rounds of 10, each round reading one more to see whether more follow.
    assert index.positions_read == 22


def a_cursor() -> tuple[Cursor, str]:
    within = ListFilter(PaymentStatus.CAPTURED, "2026-12-01T00:00:00.000+00:00", None)
    position = ListPosition("2026-12-01T10:00:05.000+00:00", "pay_" + "a" * 24)
    cursor = Cursor("m_a", within, position)
    return cursor, cursor.encode()


def edited(text: str, **changes: object) -> str:
    data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    raw = json.dumps(data | changes).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_a_cursor_reads_back_for_its_merchant_and_filters() -> None:
    cursor, text = a_cursor()
    assert Cursor.decode(text, "m_a", cursor.filter) == cursor


@pytest.mark.parametrize(
    "changes",
    [
        {"m": "m_b"},
        {"s": "declined"},
        {"s": None},
        {"f": None},
        {"t": "2026-12-02T00:00:00.000+00:00"},
        {"v": 2},
        {"p": "pay_other"},
        {"p": 7},
        {"c": "2026-12-01T10:00:05"},
        {"c": "2025-01-01T00:00:00.000+00:00"},  # before created[gte]: outside the range
        {"s": "not_a_status"},
    ],
)
def test_an_edited_cursor_is_refused(changes: dict[str, object]) -> None:
    cursor, text = a_cursor()
    with pytest.raises(InvalidCursorError):
        Cursor.decode(edited(text, **changes), "m_a", cursor.filter)


def test_a_cursor_is_refused_for_another_merchant_or_other_filters() -> None:
    cursor, text = a_cursor()
    with pytest.raises(InvalidCursorError):
        Cursor.decode(text, "m_b", cursor.filter)
    with pytest.raises(InvalidCursorError):
        Cursor.decode(text, "m_a", dataclasses.replace(cursor.filter, status=None))


@pytest.mark.parametrize(
    "text", ["", "!!!", "e30", "W10", "x" * 600, "bm90IGpzb24", "é", "eyJ2IjoxfQ"]
)
def test_what_is_not_a_cursor_is_refused(text: str) -> None:
    with pytest.raises(InvalidCursorError):
        Cursor.decode(text, "m_a", ListFilter())
