"""Instalment schedules: the documented rounding and date rules at their edges."""

from __future__ import annotations

import datetime as dt

import pytest

from functions.domain.credit.schedule import (
    Plan,
    PlanError,
    add_months,
    build_schedule,
    schedule_errors,
)


def _dates(schedule: object) -> list[str]:
    return [i.due_date.isoformat() for i in schedule.instalments]  # type: ignore[attr-defined]


def test_the_remainder_goes_on_the_first_instalment_taken_at_checkout() -> None:
    schedule = build_schedule(Plan.PAY_IN_3, 10_000, "EUR", dt.date(2026, 12, 1))
    assert [i.amount for i in schedule.instalments] == [3_334, 3_333, 3_333]
    assert schedule.at_checkout == 3_334
    assert schedule.credit == 6_666
    assert schedule.instalments[0].due_date == dt.date(2026, 12, 1)


def test_a_twelve_month_plan_of_a_yen_amount_sums_exactly() -> None:
    schedule = build_schedule(Plan.PAY_MONTHLY_12, 100_007, "JPY", dt.date(2026, 3, 15))
    amounts = [i.amount for i in schedule.instalments]
    # 100,007 = 12 x 8,333 + 11: the eleven left over go on the first.
    assert amounts == [8_344] + [8_333] * 11
    assert sum(amounts) == 100_007


def test_month_ends_fall_on_the_last_day_and_return_to_the_anchor_day() -> None:
    schedule = build_schedule(Plan.PAY_MONTHLY_6, 600, "EUR", dt.date(2027, 1, 31))
    assert _dates(schedule) == [
        "2027-01-31",
        "2027-02-28",
        "2027-03-31",
        "2027-04-30",
        "2027-05-31",
        "2027-06-30",
    ]


def test_a_leap_year_february_takes_the_29th() -> None:
    assert add_months(dt.date(2027, 11, 30), 3) == dt.date(2028, 2, 29)
    assert add_months(dt.date(2028, 2, 29), 12) == dt.date(2029, 2, 28)
    assert add_months(dt.date(2026, 12, 31), 1) == dt.date(2027, 1, 31)


def test_pay_in_4_is_due_every_fourteen_days_across_the_year_end() -> None:
    schedule = build_schedule(Plan.PAY_IN_4, 1_000, "EUR", dt.date(2026, 12, 20))
    assert _dates(schedule) == ["2026-12-20", "2027-01-03", "2027-01-17", "2027-01-31"]
    # Three of the instalments fall in January: the monthly budget must carry them all.
    assert schedule.largest_monthly_repayment() == 750


def test_the_smallest_plan_is_one_minor_unit_per_instalment() -> None:
    assert [
        i.amount for i in build_schedule("pay_in_4", 4, "EUR", dt.date(2026, 1, 1)).instalments
    ] == [1, 1, 1, 1]
    with pytest.raises(PlanError, match="at least 4"):
        build_schedule(Plan.PAY_IN_4, 3, "EUR", dt.date(2026, 1, 1))


@pytest.mark.parametrize(
    ("plan", "total", "currency", "message"),
    [
        ("pay_in_5", 1_000, "EUR", "unknown plan"),
        (Plan.PAY_IN_3, 1_000, "XXX1", "unknown currency"),
        (Plan.PAY_IN_3, 1_000.0, "EUR", "integer total"),
        (Plan.PAY_IN_3, True, "EUR", "integer total"),
        (Plan.PAY_IN_3, -3, "EUR", "integer total"),
    ],
)
def test_bad_plans_are_refused(plan: str, total: object, currency: str, message: str) -> None:
    with pytest.raises(PlanError, match=message):
        build_schedule(plan, total, currency, dt.date(2026, 1, 1))  # type: ignore[arg-type]


def test_the_error_check_sees_each_broken_property() -> None:
    good = build_schedule(Plan.PAY_IN_3, 900, "EUR", dt.date(2026, 1, 31))
    assert schedule_errors(good) == []
    first, second, third = good.instalments
    broken = type(good)(
        good.plan,
        good.currency,
        good.total,
        (first, type(second)(2, first.due_date, second.amount + 1), third),
    )
    assert schedule_errors(broken) == ["sum", "dates", "rounding"]
