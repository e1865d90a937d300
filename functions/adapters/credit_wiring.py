"""Builds the credit API's services from the environment modules/credit_decisioning sets, once
per container: ``CREDIT_DECISIONS_TABLE_NAME``, ``BNPL_PLANS_TABLE_NAME``, ``CREDIT_POLICY``
(the limits per currency, JSON), ``EUR_RATES`` and ``MERCHANT_PRINCIPALS`` (as for the
Payment API), ``CREDIT_REVIEWER_PRINCIPALS``."""

from __future__ import annotations

import json
import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field

from functions.adapters import clients
from functions.adapters.credit_tables import DynamoDecisionStore, DynamoPlanStore
from functions.domain.credit.policy import CreditDecider, CreditPolicy
from functions.domain.credit.scorecard import Scorecard
from functions.domain.fx import EurRates
from functions.domain.principals import MerchantAccess
from functions.services.credit_decisions import CreditDecisions
from functions.services.credit_plans import PlanExposures


class CreditSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    decisions_table: str = Field(min_length=1)
    plans_table: str = Field(min_length=1)
    credit_policy: str = Field(min_length=2)
    eur_rates: str = '{"EUR": "1"}'
    merchant_principals: str = ""
    reviewer_principals: str = ""

    @classmethod
    def from_environ(cls) -> CreditSettings:
        env = os.environ
        return cls(
            decisions_table=env.get("CREDIT_DECISIONS_TABLE_NAME", ""),
            plans_table=env.get("BNPL_PLANS_TABLE_NAME", ""),
            credit_policy=env.get("CREDIT_POLICY", ""),
            eur_rates=env.get("EUR_RATES") or '{"EUR": "1"}',
            merchant_principals=env.get("MERCHANT_PRINCIPALS", ""),
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
def merchant_access() -> MerchantAccess:
    return MerchantAccess.from_json(settings().merchant_principals)


@cache
def reviewers() -> tuple[str, ...]:
    """The principals that may review a decision (``CREDIT_REVIEWER_PRINCIPALS``, a JSON list
    of ARNs, as ``MERCHANT_PRINCIPALS`` entries): the lender's credit staff, never a merchant."""
    text = settings().reviewer_principals
    entries = json.loads(text) if text.strip() else []
    if not isinstance(entries, list) or not all(
        isinstance(e, str) and e.startswith("arn:") for e in entries
    ):
        raise ValueError("CREDIT_REVIEWER_PRINCIPALS must be a JSON list of ARNs")
    return tuple(entries)


def clear() -> None:
    """Forget what was built (tests only: each test sets its own environment)."""
    for factory in (settings, plan_store, credit_decisions, merchant_access, reviewers):
        factory.cache_clear()
