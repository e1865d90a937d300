"""A small scorecard with known points, so decision rows do not move when the trained
artefact is retrained, and applications built from one good profile."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from functions.domain.credit.policy import (
    Application,
    CreditDecider,
    CreditPolicy,
    CurrencyLimits,
)
from functions.domain.credit.profile import DeclaredProfile
from functions.domain.credit.schedule import Plan
from functions.domain.credit.scorecard import Scorecard
from functions.domain.fx import EurRates

TODAY = dt.date(2026, 12, 1)
SMALL_SCORECARD = Scorecard.from_json(
    json.dumps(
        {
            "version": "test-sc-1",
            "cutoff": 100,
            "features": [
                {
                    "name": "checking_account",
                    "bins": [
                        {"values": ["high"], "points": 60},
                        {"values": ["none"], "points": 50},
                        {"values": ["low"], "points": 40},
                        {"values": ["negative"], "points": 20},
                    ],
                },
                {
                    "name": "credit_history",
                    "bins": [
                        {"values": ["paid_duly", "all_paid_here", "no_credits"], "points": 50},
                        {"values": ["critical"], "points": 45},
                        {"values": ["past_delay"], "points": 10},
                    ],
                },
                {
                    "name": "amount_eur_minor",
                    "scale": 0.01,
                    "bins": [
                        {"upper": 1000, "points": 30},
                        {"lower": 1000, "points": 0},
                    ],
                },
            ],
        }
    )
)
LIMITS = CurrencyLimits(
    min_amount=1_000,
    max_amount=200_000,
    customer_limit=150_000,
    merchant_limit=5_000_000,
    living_costs_buffer=80_000,
)
POLICY = CreditPolicy(
    {"EUR": LIMITS, "GBP": LIMITS, "USD": LIMITS}, EurRates({"GBP": Decimal("1.17")})
)
GOOD_PROFILE = DeclaredProfile(
    checking_account="high",  # type: ignore[arg-type]
    credit_history="paid_duly",  # type: ignore[arg-type]
    purpose="electronics",  # type: ignore[arg-type]
    savings="from_500",  # type: ignore[arg-type]
    employment="from_4y",  # type: ignore[arg-type]
    other_debtors="none",  # type: ignore[arg-type]
    property="real_estate",  # type: ignore[arg-type]
    other_instalment_plans="none",  # type: ignore[arg-type]
    housing="own",  # type: ignore[arg-type]
)


def application(**changes: Any) -> Application:
    profile_changes = changes.pop("profile", {})
    base = Application(
        customer_id="cus_1",
        merchant_id="m_1",
        date_of_birth=dt.date(1990, 5, 17),
        amount=60_000,
        currency="EUR",
        plan=Plan.PAY_IN_3,
        monthly_income=300_000,
        monthly_commitments=100_000,
        profile=dataclasses.replace(GOOD_PROFILE, **profile_changes),
    )
    return dataclasses.replace(base, **changes)


@pytest.fixture
def decider() -> CreditDecider:
    return CreditDecider(POLICY, SMALL_SCORECARD)
