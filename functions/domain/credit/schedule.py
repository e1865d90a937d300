"""Instalment plans (pure domain): the exact schedule of a Buy Now Pay Later purchase.

Every plan is interest-free and fee-free (deferred payment credit): the instalments add up to
the purchase amount exactly, in the currency's minor units, and the first one is taken at
checkout. The rules, stated once (docs/models/credit.md repeats them for merchants):

* Rounding: each instalment is ``total // count`` and the remainder (``total % count``, fewer
  minor units than the count) is added to the *first* instalment. The first instalment is
  collected at checkout, so the remainder never becomes credit: the amount lent is as small as
  the split allows, and no later instalment is larger than an earlier one.
* Dates: monthly plans fall on the checkout's day of the month, counted from the checkout date
  each time (not from the previous instalment), and on the month's last day when the month is
  shorter: a checkout on 31 January is due 28 (or 29) February, 31 March, 30 April. Counting
  from the anchor keeps a plan from drifting to the 28th for good after one February, and the
  dates stay strictly increasing because each month has its own date. ``pay_in_4`` is due
  every 14 days from checkout.
* A plan needs at least one minor unit per instalment: a total smaller than the count is
  refused (``PlanError``), never an instalment of zero.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
from dataclasses import dataclass
from enum import StrEnum

from functions.domain.currencies import is_currency


class PlanError(ValueError):
    """A plan that cannot be built: an unknown plan, a bad amount or currency."""


# A plan's id is derived_id(PLAN_ID_PREFIX, decision id): ``pl_`` and a digest. The acquirer's
# operations for a plan's charges carry it where a card payment's carry its payment id.
PLAN_ID_PREFIX = "pl"


def is_plan_id(value: str) -> bool:
    return value.startswith(f"{PLAN_ID_PREFIX}_")


class Plan(StrEnum):
    PAY_IN_3 = "pay_in_3"
    PAY_IN_4 = "pay_in_4"
    PAY_MONTHLY_6 = "pay_monthly_6"
    PAY_MONTHLY_12 = "pay_monthly_12"


class Cadence(StrEnum):
    MONTHLY = "monthly"
    FORTNIGHTLY = "fortnightly"


@dataclass(frozen=True, slots=True)
class PlanTerms:
    count: int
    cadence: Cadence


PLAN_TERMS: dict[Plan, PlanTerms] = {
    Plan.PAY_IN_3: PlanTerms(3, Cadence.MONTHLY),
    Plan.PAY_IN_4: PlanTerms(4, Cadence.FORTNIGHTLY),
    Plan.PAY_MONTHLY_6: PlanTerms(6, Cadence.MONTHLY),
    Plan.PAY_MONTHLY_12: PlanTerms(12, Cadence.MONTHLY),
}

FORTNIGHT = dt.timedelta(days=14)


@dataclass(frozen=True, slots=True)
class Instalment:
    number: int  # 1 is taken at checkout
    due_date: dt.date
    amount: int  # minor units


@dataclass(frozen=True, slots=True)
class Schedule:
    plan: Plan
    currency: str
    total: int
    instalments: tuple[Instalment, ...]

    @property
    def at_checkout(self) -> int:
        """What the customer pays at checkout: the first instalment."""
        return self.instalments[0].amount

    @property
    def credit(self) -> int:
        """What is lent: the total less the first instalment."""
        return self.total - self.at_checkout

    @property
    def duration_months(self) -> int:
        """Whole months from checkout to the last due date, rounded up (at least 1)."""
        first, last = self.instalments[0].due_date, self.instalments[-1].due_date
        months = (last.year - first.year) * 12 + last.month - first.month
        return max(1, months + (1 if last.day > first.day else 0))

    def largest_monthly_repayment(self) -> int:
        """The most of the credit that falls due in any one calendar month: what the plan asks
        of the customer's monthly budget (two fortnightly instalments can share a month; the
        first instalment is paid at checkout, out of the purchase itself)."""
        per_month: dict[tuple[int, int], int] = {}
        for instalment in self.instalments[1:]:
            key = (instalment.due_date.year, instalment.due_date.month)
            per_month[key] = per_month.get(key, 0) + instalment.amount
        return max(per_month.values(), default=0)


def add_months(anchor: dt.date, months: int) -> dt.date:
    """``anchor`` moved ``months`` calendar months on, on the anchor's day of the month or the
    month's last day when the month is shorter."""
    index = anchor.month - 1 + months
    year, month = anchor.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(anchor.day, calendar.monthrange(year, month)[1]))


def due_dates(plan: Plan, checkout: dt.date) -> tuple[dt.date, ...]:
    terms = PLAN_TERMS[Plan(plan)]
    if terms.cadence is Cadence.FORTNIGHTLY:
        return tuple(checkout + FORTNIGHT * k for k in range(terms.count))
    return tuple(add_months(checkout, k) for k in range(terms.count))


def split(total: int, count: int) -> tuple[int, ...]:
    """``total`` in ``count`` integer parts, the remainder on the first part."""
    base, remainder = divmod(total, count)
    return (base + remainder, *([base] * (count - 1)))


def build_schedule(plan: Plan | str, total: int, currency: str, checkout: dt.date) -> Schedule:
    """The schedule of ``total`` minor units of ``currency`` bought on ``checkout``."""
    try:
        plan = Plan(plan)
    except ValueError:
        raise PlanError(f"unknown plan {plan!r}") from None
    if not isinstance(currency, str) or not is_currency(currency):
        raise PlanError(f"unknown currency {currency!r}")
    terms = PLAN_TERMS[plan]
    if isinstance(total, bool) or not isinstance(total, int) or total < terms.count:
        raise PlanError(f"a {plan} plan needs an integer total of at least {terms.count}")
    dates = due_dates(plan, checkout)
    amounts = split(total, terms.count)
    instalments = tuple(
        Instalment(n, date, amount)
        for n, (date, amount) in enumerate(zip(dates, amounts, strict=True), start=1)
    )
    return Schedule(plan, currency, total, instalments)


def most_due_in_a_month(plan: Plan, checkout: dt.date) -> int:
    """How many instalments after the first can fall due in one calendar month (1 for a
    monthly plan; 2 or 3 for ``pay_in_4``, by where checkout falls in the month)."""
    months: dict[tuple[int, int], int] = {}
    for date in due_dates(plan, checkout)[1:]:
        months[(date.year, date.month)] = months.get((date.year, date.month), 0) + 1
    return max(months.values())


def largest_total(plan: Plan, instalment_cap: int) -> int:
    """The largest total whose later instalments are each at most ``instalment_cap`` (0 when
    the cap is below one minor unit): every later instalment is ``total // count``, so any total
    up to ``count * cap + count - 1`` qualifies, its remainder going on the first."""
    count = PLAN_TERMS[Plan(plan)].count
    return count * instalment_cap + count - 1 if instalment_cap >= 1 else 0


def schedule_errors(schedule: Schedule) -> list[str]:
    """What is wrong with a schedule, by the properties every plan must hold (empty when
    none): the sum is exact, the count is the plan's, every amount is positive, the dates rise
    strictly and the first is at checkout. The bench counts these over random plans."""
    errors = []
    instalments = schedule.instalments
    if sum(i.amount for i in instalments) != schedule.total:
        errors.append("sum")
    if len(instalments) != PLAN_TERMS[schedule.plan].count:
        errors.append("count")
    if any(i.amount <= 0 for i in instalments):
        errors.append("amount")
    if any(b.due_date <= a.due_date for a, b in itertools.pairwise(instalments)):
        errors.append("dates")
    if [i.number for i in instalments] != list(range(1, len(instalments) + 1)):
        errors.append("numbers")
    if any(b.amount > a.amount for a, b in itertools.pairwise(instalments)):
        errors.append("rounding")
    return errors
