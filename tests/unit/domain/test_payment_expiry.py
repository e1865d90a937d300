"""Which payments are stale at a time t (pure): uncaptured authorizations past their validity
are ``expired``, challenges past their ``expires_at`` are ``abandoned``; nothing else is, and a
payment with a pending operation never is. And what a cancel may cancel."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from functions.domain.payments import (
    DEFAULT_AUTHORIZATION_VALIDITY,
    CancellationReason,
    Payment,
    PaymentRuleError,
    PaymentStatus,
    Refund,
    RefundStatus,
    new_payment,
    stale_payments,
)

CREATED = "2026-11-01T09:00:00.000+00:00"
AUTHORIZED = "2026-11-01T09:30:00.000+00:00"
T_AUTHORIZED = dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.UTC)
CHALLENGE_EXPIRES = "2026-11-01T09:10:00+00:00"


def context(payment_id: str) -> dict[str, Any]:
    return {
        "payment_id": payment_id,
        "merchant_id": "m_1",
        "amount": 1_000,
        "currency": "EUR",
        "capture": False,
        "card": {"token": "tok_1", "brand": "visa", "last4": "4242"},
        "received_at": CREATED,
    }


def payment(
    payment_id: str = "pay_1", status: PaymentStatus = PaymentStatus.AUTHORIZING
) -> Payment:
    return new_payment(context(payment_id), status, CREATED)


def authorized(payment_id: str = "pay_1") -> Payment:
    return payment(payment_id).authorized("auth_1", AUTHORIZED)


def waiting(payment_id: str = "pay_w", expires_at: str = CHALLENGE_EXPIRES) -> Payment:
    challenge = {
        "type": "three_ds_challenge",
        "challenge_id": "ch_1",
        "method": "otp",
        "expires_at": expires_at,
    }
    return new_payment(
        context(payment_id), PaymentStatus.REQUIRES_ACTION, CREATED, next_action=challenge
    )


def test_an_authorization_expires_when_its_validity_has_run_out() -> None:
    held = authorized()
    validity = DEFAULT_AUTHORIZATION_VALIDITY
    assert validity == dt.timedelta(days=7)
    just_before = T_AUTHORIZED + validity - dt.timedelta(seconds=1)
    assert held.stale_reason(just_before, validity) is None
    assert held.stale_reason(T_AUTHORIZED + validity, validity) is CancellationReason.EXPIRED
    # Counted from the authorization, not from when the request arrived.
    assert held.authorized_at == AUTHORIZED
    assert held.stale_reason(T_AUTHORIZED + dt.timedelta(days=2), dt.timedelta(days=1)) == (
        CancellationReason.EXPIRED
    )


def test_a_record_without_an_authorization_time_counts_from_its_creation() -> None:
    # Payments recorded before authorized_at existed.
    held = authorized().evolve(AUTHORIZED, authorized_at=None)
    created = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
    assert held.stale_reason(created + dt.timedelta(days=7), DEFAULT_AUTHORIZATION_VALIDITY) == (
        CancellationReason.EXPIRED
    )


def test_a_challenge_is_abandoned_once_it_expired() -> None:
    challenged = waiting()
    expires = dt.datetime(2026, 11, 1, 9, 10, tzinfo=dt.UTC)
    validity = DEFAULT_AUTHORIZATION_VALIDITY
    assert challenged.stale_reason(expires - dt.timedelta(seconds=1), validity) is None
    assert challenged.stale_reason(expires, validity) is CancellationReason.ABANDONED
    # A malformed expiry never makes a payment stale.
    assert waiting(expires_at="x").stale_reason(expires + dt.timedelta(days=30), validity) is None


@pytest.mark.parametrize(
    "status",
    [
        PaymentStatus.AUTHORIZING,
        PaymentStatus.CAPTURED,
        PaymentStatus.DECLINED,
        PaymentStatus.CANCELED,
        PaymentStatus.FAILED,
    ],
)
def test_no_other_status_is_ever_stale(status: PaymentStatus) -> None:
    later = T_AUTHORIZED + dt.timedelta(days=365)
    assert payment(status=status).stale_reason(later, DEFAULT_AUTHORIZATION_VALIDITY) is None


def test_a_payment_with_a_pending_operation_is_never_stale() -> None:
    later = T_AUTHORIZED + dt.timedelta(days=365)
    pending_capture = authorized().capture_reserved(1_000, AUTHORIZED, "k")
    assert pending_capture.stale_reason(later, DEFAULT_AUTHORIZATION_VALIDITY) is None
    pending_refund = authorized().evolve(
        AUTHORIZED, refunds=(Refund("re_1", 100, AUTHORIZED, RefundStatus.PENDING),)
    )
    assert pending_refund.has_pending_operation
    assert pending_refund.stale_reason(later, DEFAULT_AUTHORIZATION_VALIDITY) is None


def test_stale_payments_lists_each_with_its_reason_in_id_order() -> None:
    now = T_AUTHORIZED + dt.timedelta(days=8)
    payments = [
        authorized("pay_b"),
        payment("pay_a").captured(1_000, AUTHORIZED),
        waiting("pay_c"),
        authorized("pay_d").evolve(AUTHORIZED, authorized_at="2026-11-08T09:00:00+00:00"),
    ]
    assert stale_payments(payments, now) == [
        ("pay_b", CancellationReason.EXPIRED),
        ("pay_c", CancellationReason.ABANDONED),
    ]
    assert stale_payments(payments, now, dt.timedelta(days=30)) == [
        ("pay_c", CancellationReason.ABANDONED)
    ]


def test_cancel_takes_an_authorized_or_waiting_payment_and_nothing_else() -> None:
    canceled = authorized().canceled("duplicate", "2026-11-02T10:00:00.000+00:00")
    assert (canceled.status, canceled.cancellation_reason) == (PaymentStatus.CANCELED, "duplicate")
    assert canceled.view()["cancellation_reason"] == "duplicate"
    abandoned = waiting().canceled(None, "2026-11-02T10:00:00.000+00:00")
    assert abandoned.status is PaymentStatus.CANCELED
    assert abandoned.next_action is None and abandoned.cancellation_reason is None
    for refused in (
        payment().captured(1_000, AUTHORIZED),
        payment(status=PaymentStatus.AUTHORIZING),
        payment(status=PaymentStatus.DECLINED),
        authorized().capture_reserved(1_000, AUTHORIZED, "k"),
    ):
        with pytest.raises(PaymentRuleError) as error:
            refused.canceled("requested_by_customer", AUTHORIZED)
        assert (error.value.code, error.value.http_status) == ("payment_unexpected_state", 400)
    with pytest.raises(ValueError, match="because"):
        authorized().canceled("because", AUTHORIZED)
