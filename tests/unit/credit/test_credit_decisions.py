"""The credit decision service: every decision recorded whole, idempotent per key, reviewed by
a person with the reviewer and reason kept, and bad input a 4xx naming its field."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from pydantic import ValidationError

from functions.contracts.credit import CreditDecisionRequest, ReviewRequest
from functions.domain.credit.policy import CreditDecider, Exposure
from functions.errors import from_validation_error
from functions.models.tokens import ApiProblem
from functions.services.credit_decisions import CreditDecisions
from tests.unit.credit.conftest import POLICY, SMALL_SCORECARD
from tests.unit.credit.fakes import FixedExposures, InMemoryDecisionStore

NOW = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
ANALYST = "arn:aws:sts::123456789012:assumed-role/credit-reviewers/analyst_7"
OTHER_ANALYST = "arn:aws:sts::123456789012:assumed-role/credit-reviewers/analyst_9"


def body(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "merchant_id": "m_1",
        "amount": 60_000,
        "currency": "EUR",
        "plan": "pay_in_3",
        "customer": {"id": "cus_1", "date_of_birth": "1990-05-17"},
        "finances": {"monthly_net_income": 300_000, "monthly_commitments": 100_000},
        "profile": {
            "checking_account": "high",
            "credit_history": "paid_duly",
            "purpose": "electronics",
            "savings": "from_500",
            "employment": "from_4y",
            "other_debtors": "none",
            "property": "real_estate",
            "other_instalment_plans": "none",
            "housing": "own",
        },
    }
    for path, value in changes.items():
        target = data
        *parents, last = path.split(".")
        for part in parents:
            target = target[part]
        if value is None:
            del target[last]
        else:
            target[last] = value
    return data


def service(
    exposures: FixedExposures | None = None,
) -> tuple[CreditDecisions, InMemoryDecisionStore]:
    store = InMemoryDecisionStore()
    return (
        CreditDecisions(
            CreditDecider(POLICY, SMALL_SCORECARD),
            store,
            exposures or FixedExposures(),
            lambda: NOW,
        ),
        store,
    )


def test_a_decision_is_recorded_with_what_it_was_made_on() -> None:
    decisions, store = service(FixedExposures(customers={"cus_1": Exposure(outstanding=120_000)}))
    record = decisions.decide(CreditDecisionRequest.model_validate(body()), "key-1")
    stored = store.records[record.id]
    assert stored == record
    assert stored.outcome == "reduced" and stored.approved_amount == 45_002
    assert stored.customer_exposure.outstanding == 120_000
    assert stored.limits["customer_limit"] == 150_000
    assert stored.model_version == "test-sc-1" and stored.score == 140
    assert stored.points == {"checking_account": 60, "credit_history": 50, "amount_eur_minor": 30}
    assert [r.code for r in stored.reasons] == ["customer_limit"]
    view = CreditDecisions.view(stored)
    assert [i.amount for i in view.schedule] == [15_002, 15_000, 15_000]
    assert view.schedule[0].due_date == dt.date(2026, 12, 1)


def test_a_retried_key_answers_the_first_decision_and_another_body_is_refused() -> None:
    exposures = FixedExposures()
    decisions, store = service(exposures)
    first = decisions.decide(CreditDecisionRequest.model_validate(body()), "key-1")
    exposures.customers["cus_1"] = Exposure(days_past_due=10)  # the figures moved since
    assert decisions.decide(CreditDecisionRequest.model_validate(body()), "key-1") == first
    assert len(store.records) == 1
    with pytest.raises(ApiProblem) as refused:
        decisions.decide(CreditDecisionRequest.model_validate(body(amount=70_000)), "key-1")
    assert (refused.value.error.status, refused.value.error.code) == (422, "idempotency_key_reused")


def test_another_merchants_decision_is_not_found() -> None:
    decisions, _ = service()
    record = decisions.decide(CreditDecisionRequest.model_validate(body()), "key-1")
    assert decisions.get(record.id, "m_1".__eq__) == record
    with pytest.raises(ApiProblem) as missing:
        decisions.get(record.id, "m_2".__eq__)
    assert missing.value.error.status == 404


def test_a_review_changes_the_decision_and_keeps_the_original() -> None:
    decisions, _ = service(FixedExposures(customers={"cus_1": Exposure(days_past_due=4)}))
    record = decisions.decide(CreditDecisionRequest.model_validate(body()), "key-1")
    assert record.outcome == "declined"
    reviewed = decisions.review(
        record.id,
        ReviewRequest(
            reason="The arrears were a failed card charge, paid the same day (ticket 4411).",
            outcome="reduced",
            approved_amount=30_000,
        ),
        ANALYST,
    )
    assert reviewed.outcome == "declined" and reviewed.reasons == record.reasons
    assert reviewed.effective_outcome == "reduced" and reviewed.effective_amount == 30_000
    (review,) = reviewed.reviews
    assert (review.reviewer, review.previous_outcome, review.previous_amount) == (
        ANALYST,
        "declined",
        0,
    )
    assert review.at == NOW.isoformat(timespec="milliseconds")
    view = CreditDecisions.view(reviewed)
    assert (
        view.reviewed
        and view.outcome == "reduced"
        and sum(i.amount for i in view.schedule) == 30_000
    )


def test_a_review_cannot_lend_to_a_minor() -> None:
    decisions, _ = service()
    record = decisions.decide(
        CreditDecisionRequest.model_validate(body(**{"customer.date_of_birth": "2010-01-01"})), "k"
    )
    with pytest.raises(ApiProblem) as refused:
        decisions.review(
            record.id,
            ReviewRequest(reason="customer called, looks fine", outcome="approved"),
            ANALYST,
        )
    assert (refused.value.error.code, refused.value.error.param) == (
        "review_not_permitted",
        "outcome",
    )


@pytest.mark.parametrize(
    ("outcome", "amount"),
    [
        ("approved", 59_999),
        ("reduced", 60_000),
        ("reduced", 2),
        ("declined", 100),
        ("approved", 60_001),
    ],
)
def test_a_review_amount_must_match_its_outcome(outcome: str, amount: int) -> None:
    decisions, _ = service()
    record = decisions.decide(CreditDecisionRequest.model_validate(body()), "key-1")
    with pytest.raises(ApiProblem) as refused:
        decisions.review(
            record.id,
            ReviewRequest.model_validate(
                {"reason": "checked by phone", "outcome": outcome, "approved_amount": amount}
            ),
            ANALYST,
        )
    assert refused.value.error.param == "approved_amount"


def test_two_reviews_decided_on_the_same_read_record_one() -> None:
    decisions, store = service()
    record = decisions.decide(CreditDecisionRequest.model_validate(body()), "key-1")
    review = ReviewRequest(reason="documents did not match", outcome="declined")
    real_append = store.append_review

    def racing(decision_id: str, item: Any, expected: int) -> bool:
        real_append(decision_id, item.model_copy(update={"reviewer": OTHER_ANALYST}), expected)
        return real_append(decision_id, item, expected)

    store.append_review = racing  # type: ignore[method-assign,assignment]
    with pytest.raises(ApiProblem) as conflict:
        decisions.review(record.id, review, ANALYST)
    assert conflict.value.error.status == 409
    assert [r.reviewer for r in store.records[record.id].reviews] == [OTHER_ANALYST]


@pytest.mark.parametrize(
    ("changes", "param", "code"),
    [
        ({"customer.date_of_birth": None}, "customer.date_of_birth", "parameter_missing"),
        ({"customer.date_of_birth": 946684800}, "customer.date_of_birth", "parameter_invalid"),
        (
            {"finances.monthly_net_income": "3000"},
            "finances.monthly_net_income",
            "parameter_invalid",
        ),
        ({"finances.monthly_commitments": -1}, "finances.monthly_commitments", "parameter_invalid"),
        ({"finances": None}, "finances", "parameter_missing"),
        ({"profile.housing": "castle"}, "profile.housing", "parameter_invalid"),
        ({"profile.sex": "female"}, "profile.sex", "parameter_unknown"),
        ({"plan": "pay_in_5"}, "plan", "parameter_invalid"),
        ({"currency": "EURO"}, "currency", "parameter_invalid"),
        ({"amount": 10.5}, "amount", "parameter_invalid"),
        ({"amount": 0}, "amount", "parameter_invalid"),
        ({"merchant_id": "m#1"}, "merchant_id", "parameter_invalid"),
    ],
)
def test_bad_input_names_its_field(changes: dict[str, Any], param: str, code: str) -> None:
    with pytest.raises(ValidationError) as invalid:
        CreditDecisionRequest.model_validate_json(json.dumps(body(**changes)))
    error = from_validation_error(invalid.value)
    assert (error.param, error.code, error.status) == (param, code, 400)
