"""A BNPL payment's record in the payments table: its decision and plan survive the item
round trip, the API answers them, and a card payment's item and answer carry no bnpl key."""

from __future__ import annotations

import dataclasses

from functions.adapters.payments_table import from_item, to_item
from functions.domain.payments import PaymentStatus, new_payment

CONTEXT = {
    "payment_id": "pay_1",
    "merchant_id": "m_1",
    "amount": 12_000,
    "currency": "EUR",
    "card": {"token": "tok_1", "brand": "visa", "last4": "4242"},
}
BNPL = {
    "decision_id": "cd_1",
    "outcome": "approved",
    "approved_amount": 12_000,
    "plan": "pay_in_4",
    "reasons": [],
    "plan_id": "pl_1",
}


def test_a_bnpl_payment_keeps_its_decision_and_plan_through_the_table() -> None:
    card = new_payment(CONTEXT, PaymentStatus.CAPTURED, "2027-01-31T09:00:00.000+00:00")
    bnpl = dataclasses.replace(card, bnpl=BNPL)
    assert from_item(to_item(bnpl)) == bnpl
    assert from_item(to_item(bnpl)).view()["bnpl"] == BNPL
    assert "bnpl" not in to_item(card) and "bnpl" not in card.view()
