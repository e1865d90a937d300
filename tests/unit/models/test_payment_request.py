"""Bad input to ``POST /v1/payments`` is refused by the request model with a 4xx naming the
field, before anything else reads it.

The reported defect: ``"number": "4242abcd42424242"`` passed the model (a ``SecretStr`` of the
right length) and then broke the idempotency digest, which normalises the number: HTTP 500.
The property below covers the class, not the one value: whatever a field holds, either the
model refuses it (and the error names a field and never echoes the card number) or every later
reader of the request in the API function and the validate step handles it without raising.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from functions.errors import from_validation_error
from functions.models.payments import PaymentRequest
from functions.services.intake import check
from functions.services.payment_commands import request_digest, workflow_request

PAN = "4242424242424242"
TODAY = dt.date(2026, 11, 30)


def valid_body() -> dict[str, Any]:
    return {
        "merchant_id": "m_1",
        "amount": 2_500,
        "currency": "EUR",
        "capture": True,
        "payment_method": {
            "type": "card",
            "card": {"number": PAN, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        },
        "customer": {"id": "c_1", "ip": "192.0.2.10", "country": "DE", "device_id": "dev-1"},
        "sca": {"exemption_requested": None},
    }


def leaf_paths(value: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(value, dict):
        return [p for key, child in value.items() for p in leaf_paths(child, (*prefix, key))]
    return [prefix]


LEAVES = leaf_paths(valid_body())
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.text(alphabet="0123456789 -abcdefABCDEF\u0663\uff14", min_size=10, max_size=26)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)


@st.composite
def near_valid(draw: st.DrawFn, original: Any) -> Any:
    """The field's valid value with one character replaced or inserted: what an integrator's
    typo or a fuzzer produces, and where validation gaps hide."""
    text = str(original)
    at = draw(st.integers(min_value=0, max_value=len(text)))
    char = draw(st.characters(codec="utf-8"))
    replace = draw(st.booleans()) and at < len(text)
    mutated = text[:at] + char + text[at + (1 if replace else 0) :]
    return mutated if isinstance(original, str) else draw(st.sampled_from([mutated, original]))


def value_at(body: dict[str, Any], path: tuple[str, ...]) -> Any:
    target: Any = body
    for key in path:
        target = target[key]
    return target


def set_path(body: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


def refused_or_handled(body: dict[str, Any]) -> None:
    try:
        request = PaymentRequest.model_validate(body)
    except ValidationError as error:
        problem = from_validation_error(error)
        assert problem.param, "a refusal names the field"
        assert 400 <= problem.status < 500
        assert PAN not in json.dumps(problem.to_dict())
        return
    # Accepted: every later reader in the API function and the validate step copes with it.
    normalized = workflow_request(request)
    request_digest(normalized)
    outcome = check({"request": json.loads(json.dumps(normalized))}, TODAY)
    if not outcome["valid"]:
        assert outcome["error"]["param"]
        assert 400 <= outcome["status"] < 500


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("4242abcd42424242", "only digits"),
        ("4242\u0664\u0662\u0664\u066242424242", "only digits"),  # Arabic-Indic digits
        ("4242.4242.4242.4242", "only digits"),
        ("\uff14\uff12" * 8, "only digits"),  # full-width digits
    ],
)
def test_a_card_number_that_is_not_digits_is_400_naming_the_field(
    number: str, message: str
) -> None:
    body = valid_body()
    body["payment_method"]["card"]["number"] = number
    with pytest.raises(ValidationError) as refused:
        PaymentRequest.model_validate(body)
    problem = from_validation_error(refused.value)
    assert (problem.status, problem.code) == (400, "parameter_invalid")
    assert problem.param == "payment_method.card.number"
    assert message in problem.message
    assert number not in problem.message


def test_grouped_card_numbers_are_still_accepted() -> None:
    body = valid_body()
    body["payment_method"]["card"]["number"] = "4242 4242 4242 4242"
    request = PaymentRequest.model_validate(body)
    assert request_digest(workflow_request(request))


def test_a_security_code_that_is_not_digits_is_400_naming_the_field() -> None:
    body = valid_body()
    body["payment_method"]["card"]["cvc"] = "12a"
    with pytest.raises(ValidationError) as refused:
        PaymentRequest.model_validate(body)
    assert from_validation_error(refused.value).param == "payment_method.card.cvc"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), path=st.sampled_from(LEAVES))
def test_any_value_in_any_field_is_refused_with_a_4xx_or_handled(
    data: st.DataObject, path: tuple[str, ...]
) -> None:
    body = copy.deepcopy(valid_body())
    value = data.draw(JSON_VALUES | near_valid(value_at(body, path)))
    set_path(body, path, value)
    refused_or_handled(body)


@settings(max_examples=100, deadline=None)
@given(path=st.sampled_from(LEAVES))
def test_any_field_left_out_is_refused_with_a_4xx_or_handled(path: tuple[str, ...]) -> None:
    body = copy.deepcopy(valid_body())
    target = body
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    refused_or_handled(body)


@pytest.mark.parametrize(
    ("sca", "param"),
    [
        ({"setup_future_usage": "on_session"}, "sca.setup_future_usage"),
        # MOTO would take a payment out of SCA scope; a merchant may not declare it per request.
        ({"channel": "moto"}, "sca.channel"),
    ],
)
def test_sca_preferences_refuse_what_the_service_does_not_offer(
    sca: dict[str, Any], param: str
) -> None:
    body = valid_body()
    body["sca"] = sca
    with pytest.raises(ValidationError) as refused:
        PaymentRequest.model_validate(body)
    assert from_validation_error(refused.value).param == param


def test_an_off_session_agreement_can_be_requested() -> None:
    body = valid_body()
    body["sca"] = {"setup_future_usage": "off_session"}
    request = PaymentRequest.model_validate(body)
    assert workflow_request(request)["sca"]["setup_future_usage"] == "off_session"
