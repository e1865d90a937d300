"""The BNPL card charger over the acquirer simulator: a charge is an authorization captured at
once, the same key answers the same charge without capturing again, a declined card is a
declined charge, and a refund gives back what its charge took."""

from __future__ import annotations

import pytest

from functions.adapters.credit_payments import AcquirerCardCharger
from functions.contracts.credit import PlanCard
from functions.domain.acquirer import AcquirerSimulator, OperationKind

VISA = PlanCard(brand="visa", last4="4242")


def charger() -> tuple[AcquirerCardCharger, AcquirerSimulator]:
    acquirer = AcquirerSimulator(b"blueprint-simulator:test", timeout_s=0.01)
    return AcquirerCardCharger(acquirer), acquirer


def kinds(acquirer: AcquirerSimulator) -> list[OperationKind]:
    return [o.kind for o in acquirer.records.operations()]


def test_a_charge_repeated_under_its_key_captures_once() -> None:
    cards, acquirer = charger()
    first = cards.charge("tok_1", 2_500, "EUR", "pl_1:2:1", VISA, customer_present=False)
    again = cards.charge("tok_1", 2_500, "EUR", "pl_1:2:1", VISA, customer_present=False)
    assert first.succeeded and again == first
    assert kinds(acquirer) == [OperationKind.CAPTURE]


def test_a_declined_card_is_a_declined_charge_and_nothing_to_refund() -> None:
    cards, acquirer = charger()
    declined = PlanCard(brand="visa", last4="9995")
    result = cards.charge("tok_1", 2_500, "EUR", "pl_1:2:1", declined, customer_present=True)
    assert not result.succeeded and result.decline_code == "insufficient_funds"
    assert not cards.refund("tok_1", 2_500, "EUR", "pl_1:2:1", declined, customer_present=True)
    assert kinds(acquirer) == []


def test_a_refund_gives_back_the_charge_once() -> None:
    cards, acquirer = charger()
    cards.charge("tok_1", 2_500, "EUR", "pl_1:1:tok_1", VISA, customer_present=True)
    assert cards.refund("tok_1", 2_500, "EUR", "pl_1:1:tok_1", VISA, customer_present=True)
    assert cards.refund("tok_1", 2_500, "EUR", "pl_1:1:tok_1", VISA, customer_present=True)
    assert kinds(acquirer) == [OperationKind.CAPTURE, OperationKind.REFUND]


def test_collections_are_merchant_initiated_and_checkout_is_not() -> None:
    """The simulator's 5100 card has funds while its holder pays, none when the lender
    charges it alone: what a collection meets and a checkout does not."""
    cards, acquirer = charger()
    empty = PlanCard(brand="visa", last4="5100")
    checkout = cards.charge("tok_1", 2_500, "EUR", "pl_1:1:tok_1", empty, customer_present=True)
    collection = cards.charge("tok_1", 2_500, "EUR", "pl_1:2:1", empty, customer_present=False)
    assert checkout.succeeded
    assert (collection.succeeded, collection.decline_code) == (False, "insufficient_funds")
    assert kinds(acquirer) == [OperationKind.CAPTURE]


def test_a_token_without_its_card_details_is_refused_before_the_acquirer() -> None:
    cards, acquirer = charger()
    with pytest.raises(ValueError, match="brand and last four"):
        cards.charge("tok_1", 2_500, "EUR", "pl_1:2:1", customer_present=False)
    assert kinds(acquirer) == []
