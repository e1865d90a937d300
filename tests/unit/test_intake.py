from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest

from functions.services.intake import validate

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
PAN = "4242424242424242"


def request(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "merchant_id": "m_1",
        "amount": 1000,
        "currency": "EUR",
        "payment_method": {
            "type": "card",
            "card": {"number": PAN, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        },
        "customer": {"id": "c_1", "country": "DE"},
    }
    body.update(overrides)
    return body


def test_a_valid_card_answers_brand_and_last_four_only() -> None:
    outcome = validate(request(), NOW)
    assert outcome["valid"] is True
    assert outcome["card"] == {
        "brand": "visa",
        "first6": "424242",
        "last4": "4242",
        "exp_month": 12,
        "exp_year": 2030,
    }
    assert PAN not in json.dumps(outcome)
    assert "123" not in json.dumps(outcome["card"])


@pytest.mark.parametrize(
    ("mutate", "code", "param"),
    [
        (lambda b: b.update(amount=0), "parameter_invalid", "amount"),
        (lambda b: b.update(amount="100"), "parameter_invalid", "amount"),
        (lambda b: b.update(amount=1.5), "parameter_invalid", "amount"),
        (lambda b: b.update(currency="eur"), "parameter_invalid", "currency"),
        (lambda b: b.update(currency="XYZ"), "parameter_invalid", "currency"),
        (lambda b: b.pop("merchant_id"), "parameter_missing", "merchant_id"),
        (lambda b: b.update(surprise=True), "parameter_unknown", "surprise"),
        (
            lambda b: b["payment_method"]["card"].update(track2="x"),
            "parameter_unknown",
            "payment_method.card.track2",
        ),
        (lambda b: b["payment_method"].pop("card"), "parameter_invalid", "payment_method"),
        (
            lambda b: b["payment_method"]["card"].update(number="4242424242424241"),
            "invalid_number",
            "payment_method.card.number",
        ),
        (
            lambda b: b["payment_method"]["card"].update(exp_year=2021),
            "expired_card",
            "payment_method.card.exp_year",
        ),
        (
            lambda b: b["payment_method"]["card"].update(cvc="12"),
            "parameter_invalid",
            "payment_method.card.cvc",
        ),
    ],
)
def test_bad_input_is_an_answer_naming_the_field(mutate: Any, code: str, param: str) -> None:
    body = copy.deepcopy(request())
    mutate(body)
    outcome = validate(body, NOW)
    assert outcome["valid"] is False
    assert outcome["error"]["code"] == code
    assert outcome["error"]["param"] == param
    assert outcome["status"] in (400, 402)
    assert PAN not in json.dumps(outcome)


def test_a_non_object_event_is_refused_not_raised() -> None:
    outcome = validate({"request": ["not", "an", "object"]}, NOW)
    assert outcome["valid"] is False
    assert outcome["error"]["type"] == "invalid_request_error"


def test_every_answer_is_timestamped() -> None:
    assert validate(request(), NOW)["checked_at"] == "2026-11-22T12:00:00.000+00:00"
