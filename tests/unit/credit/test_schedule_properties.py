"""Schedule properties over random plans: the sum is exact, the count is the plan's, every
amount is positive, the dates rise strictly from checkout, no later instalment exceeds an
earlier one. ``make test`` runs a few hundred examples; ``CREDIT_SCHEDULE_EXAMPLES=100000``
runs the issue's 100,000 (and ``bench_credit`` counts the errors over 100,000 seeded plans)."""

from __future__ import annotations

import calendar
import datetime as dt
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.domain.credit.schedule import (
    PLAN_TERMS,
    Plan,
    build_schedule,
    largest_total,
    most_due_in_a_month,
    schedule_errors,
)

EXAMPLES = int(os.environ.get("CREDIT_SCHEDULE_EXAMPLES", "400"))


@st.composite
def plans(draw: st.DrawFn) -> tuple[Plan, int, str, dt.date]:
    plan = draw(st.sampled_from(list(Plan)))
    # Weighted towards the edges: the smallest totals, totals near a multiple of the count.
    count = PLAN_TERMS[plan].count
    total = draw(
        st.one_of(
            st.integers(min_value=count, max_value=count * 3),
            st.integers(min_value=1, max_value=10**6).map(lambda k: k * count + count - 1),
            st.integers(min_value=count, max_value=10**12),
        )
    )
    currency = draw(st.sampled_from(["EUR", "JPY", "KWD", "GBP"]))
    checkout = draw(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31)))
    return plan, total, currency, checkout


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans())
def test_every_schedule_holds_its_properties(case: tuple[Plan, int, str, dt.date]) -> None:
    plan, total, currency, checkout = case
    schedule = build_schedule(plan, total, currency, checkout)
    assert schedule_errors(schedule) == []
    assert schedule.instalments[0].due_date == checkout
    assert (
        max(i.amount for i in schedule.instalments) - min(i.amount for i in schedule.instalments)
        < PLAN_TERMS[plan].count
    )
    # The anchor day is kept wherever the month has it.
    if PLAN_TERMS[plan].cadence == "monthly":
        for instalment in schedule.instalments:
            due = instalment.due_date
            last_day = calendar.monthrange(due.year, due.month)[1]
            assert due.day == min(checkout.day, last_day)


@settings(max_examples=EXAMPLES // 2, deadline=None)
@given(plans(), st.integers(min_value=-5, max_value=10**9))
def test_the_largest_affordable_total_is_exact(
    case: tuple[Plan, int, str, dt.date], budget: int
) -> None:
    """The decision's closed form against the schedules themselves: the largest total fits a
    monthly budget and one minor unit more does not."""
    plan, _, currency, checkout = case
    largest = largest_total(plan, budget // most_due_in_a_month(plan, checkout))
    above = build_schedule(plan, max(largest + 1, PLAN_TERMS[plan].count), currency, checkout)
    assert above.largest_monthly_repayment() > budget
    if largest:
        fits = build_schedule(plan, largest, currency, checkout)
        assert fits.largest_monthly_repayment() <= budget
