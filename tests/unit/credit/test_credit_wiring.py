"""The bnpl function's wiring as modules/credit_decisioning sets it: the collections settings
(BNPL_COLLECTIONS: the retry, the write-off age and the late fees with their cap), and the card
charger's acquirer simulator on the payment workflow's shared record (PAYMENTS_TABLE_NAME)."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.adapters import clients, credit_wiring
from functions.adapters.acquirer_requests import AcquirerRequestsTable
from functions.adapters.payments_table import AcquirerOperationsTable
from functions.contracts.credit import PlanCard
from functions.domain.acquirer import OperationKind
from functions.domain.credit.reconciliation import CardMoves
from functions.services.credit_plans import LateFee
from functions.services.reconciliation import Position, instant
from tests.adapters.payment_tables import PAYMENTS_TABLE, REGION, create_payments_table


def test_the_late_fees_and_their_cap_reach_the_collections(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = {
        "retry_every_days": 3,
        "write_off_after_days": 90,
        "late_fees": {"EUR": {"amount": 500, "cap": 1000}},
    }
    monkeypatch.setenv("BNPL_COLLECTIONS", json.dumps(settings))
    credit_wiring.clear_bnpl()
    try:
        policy = credit_wiring.collection_policy()
    finally:
        credit_wiring.clear_bnpl()
    assert policy.late_fees == {"EUR": LateFee(500, 1000)}
    assert (policy.retry_every_days, policy.write_off_after_days) == (3, 90)


CARD = PlanCard(brand="visa", last4="4242")


@pytest.fixture
def shared_record(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The BNPL functions' wiring over a payments table on moto (the acquirer's shared record)."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_payments_table(client)
        for name, value in {
            "AWS_DEFAULT_REGION": REGION,
            "PAYMENTS_TABLE_NAME": PAYMENTS_TABLE,
            "ACQUIRER_TIMEOUT_MS": "1000",
            "CREDIT_LEDGER_TABLE_NAME": "credit-ledger",
            "BNPL_PLANS_TABLE_NAME": "plans",
            "CREDIT_DECISIONS_TABLE_NAME": "decisions",
            "CREDIT_POLICY": "{}",
        }.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(clients, "dynamodb", lambda: client)
        credit_wiring.clear_bnpl()
        try:
            yield client
        finally:
            credit_wiring.clear_bnpl()


def test_the_bnpl_charges_go_to_the_acquirers_shared_record(shared_record: Any) -> None:
    """A retried or concurrent collection in another container must meet the first charge in
    the same record, and a check must be able to read what moved under a plan's keys."""
    charger = credit_wiring.card_charger()
    charged = charger.charge("tok_1", 2_500, "EUR", "pl_1:charge:1:1", CARD, customer_present=True)
    # Another container's charger: the same charge answers from the shared record.
    credit_wiring.clear_bnpl()
    again = credit_wiring.card_charger().charge(
        "tok_1", 2_500, "EUR", "pl_1:charge:1:1", CARD, customer_present=False
    )
    recorded = AcquirerOperationsTable(shared_record, PAYMENTS_TABLE).operations()
    received = AcquirerRequestsTable(shared_record, PAYMENTS_TABLE).requests()
    assert charged.succeeded and again.succeeded
    captures = [o for o in recorded if o.kind is OperationKind.CAPTURE]
    assert [(o.payment_id, o.amount) for o in captures] == [("pl_1", 2_500)]
    assert Counter(r.kind for r in received) == {"authorize": 2, "capture": 2}


def test_the_bnpl_reconciliation_reads_what_moved_under_a_plan_from_that_record(
    shared_record: Any,
) -> None:
    """The reconciliation's view of the shared record: a plan's charges and refunds by their
    keys (another plan's are not its own, keys never used move nothing), and which plans the
    acquirer moved money for in a window (card payments left out)."""
    charger = credit_wiring.card_charger()
    start = instant(dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    for key, amount in (("pl_1:1:t", 2_500), ("pl_1:2:1", 2_400), ("pl_2:1:t", 900)):
        assert charger.charge("tok_1", amount, "EUR", key, CARD, customer_present=True)
    assert charger.refund("tok_1", 2_400, "EUR", "pl_1:2:1", CARD, customer_present=False)
    # A card payment's capture in the same record.
    assert charger.charge("tok_3", 700, "EUR", "pay_9", CARD, customer_present=True)
    end = instant(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))
    charges = credit_wiring.bnpl_reconciliation()._charges
    assert charges is not None
    moved = charges.moved(["pl_1:1:t", "pl_1:2:1", "pl_1:3:1", "pl_1:settle"])
    assert moved == CardMoves(captured=4_900, refunded=2_400)
    charged = list(charges.plans_charged_between(start, end, Position(start)))
    assert [place for place, _plan in charged] == sorted(place for place, _plan in charged)
    assert sorted({plan for _place, plan in charged}) == ["pl_1", "pl_2"]
    # From any place in that order, the operations after it and no other.
    middle = charged[len(charged) // 2][0]
    assert list(charges.plans_charged_between(start, end, middle)) == [
        pair for pair in charged if pair[0] > middle
    ]
