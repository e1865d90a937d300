"""What an applicant declares about their finances, in the categories the credit scorecard was
trained on (the German Credit data set; docs/models/credit.md), and nothing else.

``ScoringProfile`` is the only input the scorecard reads. It has no field for sex, marital or
family status, nationality or residence, or age: the EU Consumer Credit Directive 2023/2225
forbids discrimination on those grounds (Art. 6) and keeps special categories of personal data
out of the creditworthiness assessment (Art. 18); the data set's own fields for them
(``personal_status_and_sex``, ``foreign_worker``, ``age_in_years``) and the ones that stand in
for them (``job`` mixes skill with residence; the number of dependants is family status) are
never features. Age is still declared, for the legal-capacity rule (``policy``), which reads
it and nothing else does.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum
from typing import get_type_hints


class CheckingAccount(StrEnum):
    NONE = "none"
    NEGATIVE = "negative"  # overdrawn
    LOW = "low"  # 0 to 200 DM in the data (about 100 EUR)
    HIGH = "high"  # 200 DM or more, or a salary paid in for a year


class CreditHistory(StrEnum):
    NO_CREDITS = "no_credits"  # none taken, or all paid back duly
    ALL_PAID_HERE = "all_paid_here"
    PAID_DULY = "paid_duly"  # existing credits paid back duly until now
    PAST_DELAY = "past_delay"
    CRITICAL = "critical"  # other credits elsewhere, or a critical account


class Purpose(StrEnum):
    CAR_NEW = "car_new"
    CAR_USED = "car_used"
    FURNITURE = "furniture"
    ELECTRONICS = "electronics"  # radio / television in the data
    APPLIANCES = "appliances"
    REPAIRS = "repairs"
    EDUCATION = "education"
    RETRAINING = "retraining"
    BUSINESS = "business"
    OTHER = "other"


class Savings(StrEnum):
    NONE_KNOWN = "none_known"
    UNDER_100 = "under_100"
    FROM_100 = "from_100"  # 100 to 500 DM
    FROM_500 = "from_500"  # 500 to 1,000 DM
    FROM_1000 = "from_1000"


class Employment(StrEnum):
    UNEMPLOYED = "unemployed"
    UNDER_1Y = "under_1y"
    FROM_1Y = "from_1y"  # 1 to 4 years
    FROM_4Y = "from_4y"  # 4 to 7 years
    FROM_7Y = "from_7y"


class OtherDebtors(StrEnum):
    NONE = "none"
    CO_APPLICANT = "co_applicant"
    GUARANTOR = "guarantor"


class Property(StrEnum):
    REAL_ESTATE = "real_estate"
    SAVINGS_OR_INSURANCE = "savings_or_insurance"
    CAR_OR_OTHER = "car_or_other"
    NONE_KNOWN = "none_known"


class OtherInstalmentPlans(StrEnum):
    NONE = "none"
    BANK = "bank"
    STORES = "stores"


class Housing(StrEnum):
    RENT = "rent"
    OWN = "own"
    FREE = "free"


@dataclass(frozen=True, slots=True)
class DeclaredProfile:
    """The part of the scoring profile the applicant declares; the plan and the amount
    complete it (``complete``)."""

    checking_account: CheckingAccount
    credit_history: CreditHistory
    purpose: Purpose
    savings: Savings
    employment: Employment
    other_debtors: OtherDebtors
    property: Property
    other_instalment_plans: OtherInstalmentPlans
    housing: Housing

    def __post_init__(self) -> None:
        for name, kind in _ENUM_FIELDS.items():
            object.__setattr__(self, name, kind(getattr(self, name)))

    def complete(self, duration_months: int, amount_eur_minor: int) -> ScoringProfile:
        declared = {f.name: getattr(self, f.name) for f in fields(DeclaredProfile)}
        return ScoringProfile(
            **declared, duration_months=duration_months, amount_eur_minor=amount_eur_minor
        )


@dataclass(frozen=True, slots=True)
class ScoringProfile(DeclaredProfile):
    """The scorecard's whole input: the declared profile, ``duration_months`` from the plan and
    ``amount_eur_minor`` from the purchase."""

    duration_months: int
    amount_eur_minor: int

    def __post_init__(self) -> None:
        super(ScoringProfile, self).__post_init__()
        for name in ("duration_months", "amount_eur_minor"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer")


_ENUM_FIELDS: dict[str, type[StrEnum]] = {
    name: kind
    for name, kind in get_type_hints(DeclaredProfile).items()
    if isinstance(kind, type) and issubclass(kind, StrEnum)
}
SCORING_FIELDS = tuple(f.name for f in fields(ScoringProfile))
# The data set's protected fields and their stand-ins: never a scoring feature (module doc).
PROTECTED_SOURCE_FIELDS = frozenset(
    {
        "personal_status_and_sex",
        "foreign_worker",
        "age_in_years",
        "job",
        "number_of_people_being_liable_to_provide_maintenance_for",
    }
)
