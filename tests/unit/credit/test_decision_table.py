"""The decision table: one row per rule, each named after the rule or regulation it exists
for, with the outcome and the principal reasons in order. The scorecard is the small one in
conftest (known points), so the rows test the rules, not a retrained model."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from functions.domain.credit.policy import (
    CreditDecider,
    CreditPolicy,
    CreditPolicyError,
    Exposure,
    Outcome,
)
from functions.domain.credit.schedule import Plan, build_schedule
from functions.domain.fx import EurRates
from tests.unit.credit.conftest import LIMITS, TODAY, application


@dataclass(frozen=True)
class Row:
    application: dict[str, Any]
    outcome: Outcome
    reasons: tuple[str, ...] = ()
    customer: Exposure = field(default_factory=Exposure)
    merchant: Exposure = field(default_factory=Exposure)
    approved_amount: int | None = None


TABLE = [
    pytest.param(
        Row({}, Outcome.APPROVED, approved_amount=60_000), id="approved: every rule passes"
    ),
    pytest.param(
        Row({"date_of_birth": dt.date(2008, 12, 2)}, Outcome.DECLINED, ("under_age",)),
        id="legal capacity (18): the day before the 18th birthday is declined",
    ),
    pytest.param(
        Row({"date_of_birth": dt.date(2008, 12, 1)}, Outcome.APPROVED),
        id="legal capacity (18): the 18th birthday itself is admitted",
    ),
    pytest.param(
        Row({"date_of_birth": dt.date(2008, 2, 29)}, Outcome.APPROVED),
        id="legal capacity (18): a 29 February birthday turns 18 on 1 March",
    ),
    pytest.param(
        Row({}, Outcome.DECLINED, ("in_arrears",), customer=Exposure(days_past_due=1)),
        id="CCD 2023/2225 Art. 18 / CONC 5.2A: one day in arrears on this platform declines",
    ),
    pytest.param(
        Row(
            {"date_of_birth": dt.date(2010, 1, 1)},
            Outcome.DECLINED,
            ("under_age", "in_arrears"),
            customer=Exposure(days_past_due=30),
        ),
        id="policy reasons all given, in rule order",
    ),
    pytest.param(
        Row({"currency": "CHF"}, Outcome.DECLINED, ("currency_not_offered",)),
        id="platform policy: a currency without limits is not offered",
    ),
    pytest.param(
        Row({"currency": "USD"}, Outcome.DECLINED, ("currency_not_offered",)),
        id="platform policy: a currency without an EUR rate cannot be scored, fails closed",
    ),
    pytest.param(
        Row({"amount": 999}, Outcome.DECLINED, ("amount_below_minimum",)),
        id="platform policy: below the smallest plan",
    ),
    pytest.param(
        Row(
            {"amount": 250_000, "monthly_income": 2_000_000},
            Outcome.REDUCED,
            ("amount_above_maximum", "customer_limit"),
            approved_amount=LIMITS.max_amount,
        ),
        id="platform policy: above the largest plan is reduced to it (a limit binds too)",
    ),
    pytest.param(
        Row(
            {"monthly_income": 100_000, "monthly_commitments": 30_000},
            Outcome.DECLINED,
            ("not_affordable",),
        ),
        id="CCD 2023/2225 Art. 18 / CONC 5.2A: income less commitments below the buffer",
    ),
    pytest.param(
        Row(
            {"monthly_income": 199_999},
            Outcome.REDUCED,
            ("not_affordable",),
            approved_amount=59_999,
        ),
        id="CCD 2023/2225 Art. 18 / CONC 5.2A: reduced to the largest affordable plan",
    ),
    pytest.param(
        Row(
            {},
            Outcome.REDUCED,
            ("not_affordable",),
            customer=Exposure(monthly_repayments=100_001),
            approved_amount=59_999,
        ),
        id="CONC 5.2A: this platform's own BNPL repayments count against the budget",
    ),
    pytest.param(
        Row(
            {},
            Outcome.REDUCED,
            ("customer_limit",),
            customer=Exposure(outstanding=120_000),
            approved_amount=45_002,
        ),
        id="CONC 5.2A total indebtedness: outstanding plans plus this credit within the limit",
    ),
    pytest.param(
        Row({}, Outcome.DECLINED, ("customer_limit",), customer=Exposure(outstanding=150_000)),
        id="CONC 5.2A total indebtedness: no headroom left declines",
    ),
    pytest.param(
        Row(
            {},
            Outcome.REDUCED,
            ("merchant_limit",),
            merchant=Exposure(outstanding=4_990_000),
            approved_amount=15_002,
        ),
        id="platform policy: the merchant's concentration limit",
    ),
    pytest.param(
        Row(
            {"amount": 250_000, "monthly_income": 2_000_000},
            Outcome.REDUCED,
            ("customer_limit", "amount_above_maximum"),
            customer=Exposure(outstanding=30_000),
            approved_amount=180_002,
        ),
        id="binding limits are ordered tightest first",
    ),
    pytest.param(
        Row(
            {"profile": {"checking_account": "negative", "credit_history": "past_delay"}},
            Outcome.DECLINED,
            ("score_below_cutoff", "score_checking_account", "score_credit_history"),
        ),
        id="CCD 2023/2225 Art. 18: a score below the cutoff explains every feature's shortfall",
    ),
    pytest.param(
        Row(
            {
                "amount": 150_000,
                "monthly_income": 2_000_000,
                "profile": {"checking_account": "low", "credit_history": "critical"},
            },
            Outcome.DECLINED,
            (
                "score_below_cutoff",
                "score_amount_eur_minor",
                "score_checking_account",
                "score_credit_history",
            ),
        ),
        id="CCD 2023/2225 Art. 18: reasons ordered by points lost (30, 20, 5)",
    ),
]


@pytest.mark.parametrize("row", TABLE)
def test_decision_table(decider: CreditDecider, row: Row) -> None:
    decision = decider.decide(application(**row.application), row.customer, row.merchant, TODAY)
    assert decision.outcome is row.outcome
    assert tuple(r.code for r in decision.reasons) == row.reasons
    if row.approved_amount is not None:
        assert decision.approved_amount == row.approved_amount
    if row.outcome is Outcome.DECLINED:
        assert decision.approved_amount == 0
    for reason in decision.reasons:
        assert reason.basis and reason.would_change and reason.message


def test_a_reduced_amount_is_the_largest_that_is_affordable(decider: CreditDecider) -> None:
    a = application(monthly_income=199_999)
    decision = decider.decide(a, Exposure(), Exposure(), TODAY)
    budget = a.monthly_income - a.monthly_commitments - LIMITS.living_costs_buffer
    fits = build_schedule(Plan.PAY_IN_3, decision.approved_amount, "EUR", TODAY)
    over = build_schedule(Plan.PAY_IN_3, decision.approved_amount + 1, "EUR", TODAY)
    assert fits.largest_monthly_repayment() <= budget < over.largest_monthly_repayment()
    assert "EUR 599.99" in decision.reasons[0].would_change


def test_a_score_reason_names_the_change_that_reaches_the_cutoff(decider: CreditDecider) -> None:
    a = application(profile={"checking_account": "negative", "credit_history": "past_delay"})
    decision = decider.decide(a, Exposure(), Exposure(), TODAY)
    # 20 + 10 + 30 = 60 of 100 needed: either lost 40; the tie goes by name, and one is enough.
    assert decision.score == 60
    assert decision.reasons[0].would_change == "checking_account: high"
    low = decider.decide(
        application(
            amount=150_000,
            monthly_income=2_000_000,
            profile={"checking_account": "negative", "credit_history": "past_delay"},
        ),
        Exposure(),
        Exposure(),
        TODAY,
    )
    # 20 + 10 + 0 = 30: 70 missing takes the account (+40) and the history (+40).
    assert low.reasons[0].would_change == (
        "checking_account: high; credit_history: all_paid_here or no_credits or paid_duly"
    )
    assert decision.model_version == "test-sc-1"


def test_a_decision_declined_by_policy_reads_no_score(decider: CreditDecider) -> None:
    decision = decider.decide(application(), Exposure(days_past_due=3), Exposure(), TODAY)
    assert decision.score is None and decision.model_version is None and decision.points == {}


def test_the_policy_reads_its_configuration_and_refuses_a_bad_one() -> None:
    text = json.dumps({"EUR": dataclasses.asdict(LIMITS)})
    policy = CreditPolicy.from_json(text, EurRates({}))
    assert policy.limits["EUR"] == LIMITS
    for bad, message in (
        ("[]", "JSON object"),
        ('{"EURO": {}}', "currency code"),
        ('{"EUR": {"min_amount": 1}}', "EUR"),
        (text.replace('"min_amount": 1000', '"min_amount": 300000'), "at most max_amount"),
        (text.replace('"living_costs_buffer": 80000', '"living_costs_buffer": -1'), "non-negative"),
    ):
        with pytest.raises(CreditPolicyError, match=message):
            CreditPolicy.from_json(bad, EurRates({}))
