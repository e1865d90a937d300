"""``GET /v1/payments``: a merchant's payments, newest first, a page at a time.

Pure: the filter, the position a page ends at, the cursor that carries that position to the
next request, and the port the listing reads through (``PaymentIndex``: the payments table's
``by_merchant`` index, merchant and creation time, keys only).

The cursor is opaque to the client but not secret: base64url of the position (payment id and
creation time) and of the filters it was issued for. It is checked, not trusted: it must be
well formed, name the caller's merchant and the same filters, and its position must lie inside
the requested time range. Every query is keyed on the caller's merchant whatever the cursor
says, so an edited cursor can at most skip ahead in the caller's own payments; it can never
reach another merchant's partition.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from .payments import Payment, PaymentStatus

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
CURSOR_VERSION = 1
# A cursor is about 200 characters; anything much longer is not one this API issued.
CURSOR_MAX_LENGTH = 512
_PAYMENT_ID = re.compile(r"^pay_[0-9a-f]{24}$")


class InvalidCursorError(ValueError):
    """The cursor is not one this API issued to this merchant for these filters."""


def instant(value: dt.datetime) -> str:
    """A time as the payments table stores ``created_at`` (UTC, milliseconds, ``+00:00``), so
    that a filter compares with it as strings do in the index's sort key."""
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True)
class ListFilter:
    """Which payments: one status or any, created within ``[created_from, created_to]`` (both
    inclusive, in the stored form; None for unbounded)."""

    status: PaymentStatus | None = None
    created_from: str | None = None
    created_to: str | None = None

    def admits(self, payment: Payment) -> bool:
        return self.status is None or payment.status is self.status

    def covers(self, created_at: str) -> bool:
        return (self.created_from is None or created_at >= self.created_from) and (
            self.created_to is None or created_at <= self.created_to
        )


@dataclass(frozen=True, slots=True, order=True)
class ListPosition:
    """A payment's place in the merchant's index: its creation time, then its id."""

    created_at: str
    payment_id: str


@dataclass(frozen=True, slots=True)
class Cursor:
    merchant_id: str
    filter: ListFilter
    after: ListPosition

    def encode(self) -> str:
        data = {
            "v": CURSOR_VERSION,
            "m": self.merchant_id,
            "s": None if self.filter.status is None else str(self.filter.status),
            "f": self.filter.created_from,
            "t": self.filter.created_to,
            "c": self.after.created_at,
            "p": self.after.payment_id,
        }
        raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, merchant_id: str, wanted: ListFilter) -> Cursor:
        """The cursor ``text`` if it was issued to ``merchant_id`` for ``wanted``; raises
        ``InvalidCursorError`` otherwise (malformed, edited, another merchant's, other
        filters, or a position outside the time range)."""
        data = _cursor_data(text)
        try:
            status = None if data["s"] is None else PaymentStatus(_string(data["s"]))
            cursor = cls(
                merchant_id=_string(data["m"]),
                filter=ListFilter(status, _optional(data["f"]), _optional(data["t"])),
                after=ListPosition(_string(data["c"]), _string(data["p"])),
            )
        except (KeyError, ValueError, TypeError):
            raise InvalidCursorError from None
        if data.get("v") != CURSOR_VERSION or cursor.merchant_id != merchant_id:
            raise InvalidCursorError
        if cursor.filter != wanted or not wanted.covers(cursor.after.created_at):
            raise InvalidCursorError
        if not _PAYMENT_ID.fullmatch(cursor.after.payment_id) or not _is_instant(
            cursor.after.created_at
        ):
            raise InvalidCursorError
        return cursor


def _cursor_data(text: str) -> Mapping[str, object]:
    if not text or len(text) > CURSOR_MAX_LENGTH or not text.isascii():
        raise InvalidCursorError
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError):
        raise InvalidCursorError from None
    if not isinstance(data, dict):
        raise InvalidCursorError
    return data


def _string(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError
    return value


def _optional(value: object) -> str | None:
    return None if value is None else _string(value)


def _is_instant(value: str) -> bool:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return parsed.tzinfo is not None and instant(parsed) == value


class PaymentIndex(Protocol):
    """The merchant's payments by creation time, newest first (the table's ``by_merchant``
    index). ``positions`` answers at most ``limit`` positions strictly after ``after`` in that
    order, within the filter's time range; ``payments`` reads those payments whole (missing
    ones are left out)."""

    def positions(
        self, merchant_id: str, within: ListFilter, after: ListPosition | None, limit: int
    ) -> list[ListPosition]: ...

    def payments(self, payment_ids: Sequence[str]) -> Mapping[str, Payment]: ...


@dataclass(frozen=True, slots=True)
class Page:
    payments: tuple[Payment, ...]
    # Where the next page starts from, when there may be more.
    next_after: ListPosition | None


def read_page(
    index: PaymentIndex,
    merchant_id: str,
    within: ListFilter,
    after: ListPosition | None,
    limit: int,
    max_examined: int,
) -> Page:
    """Up to ``limit`` of the merchant's payments after ``after``, newest first.

    Without a status filter every indexed payment is listed: one read of ``limit + 1``
    positions tells whether more follow. With one, the payments are read and kept when their
    status matches, in rounds, until the page is full, the index ends, or ``max_examined``
    positions were looked at: then the page may be short and ``next_after`` says where the
    next request goes on (so a rare status never makes one request read a merchant's whole
    history). ``next_after`` is set whenever a position follows the last one examined, so a
    filtered listing may end with an empty page."""
    kept: list[Payment] = []
    examined = 0
    position = after
    while True:
        wanted = min(limit - len(kept), max_examined - examined)
        found = index.positions(merchant_id, within, position, wanted + 1)
        batch, more = found[:wanted], len(found) > wanted
        payments = index.payments([p.payment_id for p in batch])
        for place in batch:
            payment = payments.get(place.payment_id)
            # The index is keyed on the merchant; the record is checked all the same.
            if (
                payment is not None
                and payment.merchant_id == merchant_id
                and within.admits(payment)
            ):
                kept.append(payment)
        examined += len(batch)
        if batch:
            position = batch[-1]
        if not more:
            return Page(tuple(kept), None)
        if len(kept) >= limit or examined >= max_examined:
            return Page(tuple(kept), position)
