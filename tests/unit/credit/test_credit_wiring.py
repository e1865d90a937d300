"""The bnpl function's wiring as modules/credit_decisioning sets it: the collections settings
(BNPL_COLLECTIONS: the retry, the write-off age and the late fees with their cap), and the card
charger's acquirer simulator on the payment workflow's shared record (PAYMENTS_TABLE_NAME)."""

from __future__ import annotations

import json
from collections import Counter

import boto3
import pytest
from moto import mock_aws

from functions.adapters import clients, credit_wiring
from functions.adapters.acquirer_requests import AcquirerRequestsTable
from functions.adapters.payments_table import AcquirerOperationsTable
from functions.contracts.credit import PlanCard
from functions.domain.acquirer import OperationKind
from functions.services.credit_plans import LateFee
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


def test_the_bnpl_charges_go_to_the_acquirers_shared_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A retried or concurrent collection in another container must meet the first charge in
    the same record, and a check must be able to read what moved under a plan's keys."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_payments_table(client)
        monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
        monkeypatch.setenv("PAYMENTS_TABLE_NAME", PAYMENTS_TABLE)
        monkeypatch.setenv("ACQUIRER_TIMEOUT_MS", "1000")
        monkeypatch.setattr(clients, "dynamodb", lambda: client)
        credit_wiring.clear_bnpl()
        try:
            charger = credit_wiring.card_charger()
            card = PlanCard(brand="visa", last4="4242")
            charged = charger.charge(
                "tok_1", 2_500, "EUR", "pl_1:charge:1:1", card, customer_present=True
            )
            # Another container's charger: the same charge answers from the shared record.
            credit_wiring.clear_bnpl()
            again = credit_wiring.card_charger().charge(
                "tok_1", 2_500, "EUR", "pl_1:charge:1:1", card, customer_present=False
            )
        finally:
            credit_wiring.clear_bnpl()
        recorded = AcquirerOperationsTable(client, PAYMENTS_TABLE).operations()
        received = AcquirerRequestsTable(client, PAYMENTS_TABLE).requests()
    assert charged.succeeded and again.succeeded
    captures = [o for o in recorded if o.kind is OperationKind.CAPTURE]
    assert [(o.payment_id, o.amount) for o in captures] == [("pl_1", 2_500)]
    assert Counter(r.kind for r in received) == {"authorize": 2, "capture": 2}
