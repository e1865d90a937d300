"""Builds the credit API's services from the environment modules/credit_decisioning sets, once
per container: ``CREDIT_DECISIONS_TABLE_NAME``, ``BNPL_PLANS_TABLE_NAME``, ``CREDIT_POLICY``
(the limits per currency, JSON), ``EUR_RATES`` and ``CREDIT_REVIEWER_PRINCIPALS``. Merchants
are the authorizer's (their API keys), not configuration."""

from __future__ import annotations

import json
import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field

from functions.adapters import clients
from functions.adapters.acquirer_requests import AcquirerRequestsTable
from functions.adapters.credit_payments import (
    AcquirerCardCharger,
    AcquirerPlanCharges,
    EventBridgeBnplEvents,
)
from functions.adapters.credit_tables import (
    DynamoCreditLedgerStore,
    DynamoDecisionStore,
    DynamoPlanStore,
)
from functions.adapters.payment_events import EventBridgePublisher
from functions.adapters.payments_table import (
    AcquirerOperationsTable,
    BnplReconcileCheckpoint,
    PaymentsTable,
)
from functions.domain.acquirer import AcquirerSimulator
from functions.domain.credit.ledger import BnplLedger, CreditPostingRules
from functions.domain.credit.policy import CreditDecider, CreditPolicy
from functions.domain.credit.scorecard import Scorecard
from functions.domain.fees import FeeSchedule
from functions.domain.fx import EurRates
from functions.services.bnpl_checkout import BnplCheckout
from functions.services.credit_decisions import CreditDecisions
from functions.services.credit_plans import BnplPlans, CollectionPolicy, LateFee, PlanExposures
from functions.services.credit_reconciliation import BnplReconciliation

# The credit-loss allowance booked when a plan opens, in basis points of its total. A stated
# provision rate, not yet one measured from this platform's write-offs.
ALLOWANCE_BPS = 300


class CreditSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    decisions_table: str = Field(min_length=1)
    plans_table: str = Field(min_length=1)
    credit_policy: str = Field(min_length=2)
    eur_rates: str = '{"EUR": "1"}'
    reviewer_principals: str = ""

    @classmethod
    def from_environ(cls) -> CreditSettings:
        env = os.environ
        return cls(
            decisions_table=env.get("CREDIT_DECISIONS_TABLE_NAME", ""),
            plans_table=env.get("BNPL_PLANS_TABLE_NAME", ""),
            credit_policy=env.get("CREDIT_POLICY", ""),
            eur_rates=env.get("EUR_RATES") or '{"EUR": "1"}',
            reviewer_principals=env.get("CREDIT_REVIEWER_PRINCIPALS", ""),
        )


@cache
def settings() -> CreditSettings:
    return CreditSettings.from_environ()


@cache
def plan_store() -> DynamoPlanStore:
    return DynamoPlanStore(clients.dynamodb(), settings().plans_table)


@cache
def credit_decisions() -> CreditDecisions:
    config = settings()
    policy = CreditPolicy.from_json(config.credit_policy, EurRates.from_json(config.eur_rates))
    return CreditDecisions(
        CreditDecider(policy, Scorecard.load()),
        DynamoDecisionStore(clients.dynamodb(), config.decisions_table),
        PlanExposures(plan_store()),
    )


@cache
def reviewers() -> tuple[str, ...]:
    """The principals that may review a decision (``CREDIT_REVIEWER_PRINCIPALS``, a JSON list
    of IAM ARNs, matched as ``functions.domain.principals`` says): the lender's credit staff, who
    sign with IAM; a merchant's API key never reaches the review route."""
    text = settings().reviewer_principals
    entries = json.loads(text) if text.strip() else []
    if not isinstance(entries, list) or not all(
        isinstance(e, str) and e.startswith("arn:") for e in entries
    ):
        raise ValueError("CREDIT_REVIEWER_PRINCIPALS must be a JSON list of ARNs")
    return tuple(entries)


def clear() -> None:
    """Forget what was built (tests only: each test sets its own environment)."""
    for factory in (settings, plan_store, credit_decisions, reviewers):
        factory.cache_clear()
    clear_bnpl()


# ------------------------------------------------------------- BNPL checkout and collections
# Set by modules/credit_decisioning when BNPL is on: CREDIT_LEDGER_TABLE_NAME, EVENT_BUS_NAME,
# ACQUIRER_CONNECTOR and ACQUIRER_TIMEOUT_MS (as for the payment workflow),
# MERCHANT_SERVICE_CHARGE (the payment workflow's fee, JSON or empty), BNPL_COLLECTIONS
# ({retry_every_days, write_off_after_days, late_fees}), PAYMENTS_TABLE_NAME (the payment
# workflow's payments table, where a BNPL payment is recorded).


def _required(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise RuntimeError(f"{name} is not set: BNPL is not deployed with this function")
    return value


@cache
def credit_ledger() -> BnplLedger:
    store = DynamoCreditLedgerStore(clients.dynamodb(), _required("CREDIT_LEDGER_TABLE_NAME"))
    return BnplLedger(store, CreditPostingRules(allowance_bps=ALLOWANCE_BPS))


@cache
def card_charger() -> AcquirerCardCharger:
    connector = os.environ.get("ACQUIRER_CONNECTOR", "simulator")
    if connector != "simulator":
        raise RuntimeError(f"unknown ACQUIRER_CONNECTOR {connector!r}")
    environment = os.environ.get("PAYMENTS_ENVIRONMENT", "local")
    timeout_ms = int(os.environ.get("ACQUIRER_TIMEOUT_MS") or 3000)
    # The simulator's key only makes its identifiers deterministic, as for the payment
    # workflow's. What it executes and receives goes to the payment workflow's shared record
    # (the payments table), as a real acquirer keeps one record for both, so that a charge a
    # retried or concurrent collection sends again is refused or answered from that record in
    # every container, and a check can read what moved under a plan's keys; without the table
    # (unit tests) it stays in this container.
    table = os.environ.get("PAYMENTS_TABLE_NAME", "")
    return AcquirerCardCharger(
        AcquirerSimulator(
            f"blueprint-simulator:{environment}".encode(),
            timeout_ms / 1000,
            records=AcquirerOperationsTable(clients.dynamodb(), table) if table else None,
            request_log=AcquirerRequestsTable(clients.dynamodb(), table) if table else None,
        )
    )


@cache
def collection_policy() -> CollectionPolicy:
    raw = json.loads(os.environ.get("BNPL_COLLECTIONS") or "{}")
    return CollectionPolicy(
        retry_every_days=int(raw.get("retry_every_days", 3)),
        write_off_after_days=int(raw.get("write_off_after_days", 90)),
        # Per currency, in its minor units: {"EUR": {"amount": 500, "cap": 1000}}.
        late_fees={
            currency: LateFee(int(fee["amount"]), int(fee["cap"]))
            for currency, fee in (raw.get("late_fees") or {}).items()
        },
    )


@cache
def bnpl_plans() -> BnplPlans:
    return BnplPlans(
        credit_decisions(),
        plan_store(),
        card_charger(),
        credit_ledger(),
        EventBridgeBnplEvents(clients.events(), _required("EVENT_BUS_NAME")),
        FeeSchedule.from_json(os.environ.get("MERCHANT_SERVICE_CHARGE", "")),
        collection_policy(),
    )


@cache
def bnpl_checkout() -> BnplCheckout:
    # The payment workflow's payments table: a BNPL payment is recorded where card payments
    # are, so GET /v1/payments/{id} answers it.
    payments = PaymentsTable(clients.dynamodb(), _required("PAYMENTS_TABLE_NAME"))
    return BnplCheckout(
        credit_decisions(),
        bnpl_plans(),
        plan_store(),
        credit_ledger(),
        card_charger(),
        payments,
        # payment.* on the payment bus, as the card steps publish them (webhooks, the fraud
        # stream and the lake read them); the bnpl.* events stay the plans' own.
        events=EventBridgePublisher(clients.events()),
        bus_name=_required("EVENT_BUS_NAME"),
    )


@cache
def bnpl_reconciliation() -> BnplReconciliation:
    payments = PaymentsTable(clients.dynamodb(), _required("PAYMENTS_TABLE_NAME"))
    ledger = DynamoCreditLedgerStore(clients.dynamodb(), _required("CREDIT_LEDGER_TABLE_NAME"))
    return BnplReconciliation(
        payments,
        plan_store(),
        ledger,
        collection_policy().claim_lease,
        # The acquirer's record is the one the card charger writes to (card_charger).
        charges=AcquirerPlanCharges(
            AcquirerOperationsTable(clients.dynamodb(), _required("PAYMENTS_TABLE_NAME"))
        ),
    )


@cache
def bnpl_checkpoints() -> BnplReconcileCheckpoint:
    return BnplReconcileCheckpoint(clients.dynamodb(), _required("PAYMENTS_TABLE_NAME"))


def clear_bnpl() -> None:
    for factory in (
        credit_ledger,
        card_charger,
        collection_policy,
        bnpl_plans,
        bnpl_checkout,
        bnpl_reconciliation,
        bnpl_checkpoints,
    ):
        factory.cache_clear()
