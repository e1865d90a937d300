"""API Gateway's request models (local/gateway_models.py): each OpenAPI 3.1 body in draft 4,
self-contained, each keyword in its draft-4 form; the committed models accept the bodies the
functions accept and refuse, as Powertools does, a body with an unknown field, a wrong type or
a missing field."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.handlers import payments_api
from local import gateway_models, openapi
from local.gateway_models import UnsupportedKeywordError, convert, request_model
from tests.adapters.test_payments_api import body as payment_body
from tests.adapters.test_vault_handlers import Context, api_event
from tests.unit.credit.test_credit_decisions import body as decision_body

MODELS = openapi.ROOT / openapi.MODELS


def committed(name: str) -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(json.loads((MODELS / f"{name}.json").read_text()))


def gateway_refuses(name: str, body: Any) -> bool:
    return not committed(name).is_valid(body)


def powertools_answer(body: Any) -> tuple[int, dict[str, Any]]:
    event = api_event("POST", "/v1/payments", body, merchant=None, caller=None, authorized="m_1")
    event["headers"]["Idempotency-Key"] = "key-1"
    response = payments_api.app.resolve(event, Context())
    return response["statusCode"], json.loads(response["body"])


def test_keywords_take_their_draft_4_form() -> None:
    assert convert({"const": "card"}) == {"enum": ["card"]}
    assert convert({"type": "integer", "exclusiveMinimum": 0}) == {
        "type": "integer",
        "minimum": 0,
        "exclusiveMinimum": True,
    }
    # An inclusive bound tighter than the exclusive one is kept as it is.
    assert convert({"minimum": 5, "exclusiveMinimum": 0}) == {"minimum": 5}
    assert convert({"exclusiveMaximum": 10, "maximum": 20}) == {
        "maximum": 10,
        "exclusiveMaximum": True,
    }
    assert convert({"type": "array", "prefixItems": [{"type": "string"}], "items": False}) == {
        "type": "array",
        "items": [{"type": "string"}],
        "additionalItems": False,
    }
    assert convert({"type": "string", "format": "password", "writeOnly": True}) == {
        "type": "string"
    }
    assert convert({"properties": {"format": {"$ref": "#/components/schemas/F"}}}) == {
        "properties": {"format": {"$ref": "#/definitions/F"}}
    }


def test_a_keyword_without_a_decided_draft_4_form_is_refused() -> None:
    with pytest.raises(UnsupportedKeywordError, match="dependentRequired"):
        convert({"type": "object", "dependentRequired": {"a": ["b"]}})
    with pytest.raises(UnsupportedKeywordError, match="only component references"):
        convert({"$ref": "https://example.com/schema"})


def test_a_model_holds_every_component_it_uses_however_deep() -> None:
    document = {
        "components": {
            "schemas": {
                "A": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}},
                "B": {"type": "object", "properties": {"c": {"$ref": "#/components/schemas/C"}}},
                "C": {"const": 1},
                "Unused": {"type": "string"},
            }
        }
    }
    model = request_model(document, {"$ref": "#/components/schemas/A"})
    assert model["$ref"] == "#/definitions/A"
    assert set(model["definitions"]) == {"A", "B", "C"}
    assert jsonschema.Draft4Validator(model).is_valid({"b": {"c": 1}})
    assert not jsonschema.Draft4Validator(model).is_valid({"b": {"c": 2}})


def test_every_committed_model_is_a_draft_4_schema() -> None:
    routes = json.loads((openapi.ROOT / openapi.ROUTES).read_text())["request_models"]
    names = {name for name in routes.values() if name}
    assert names == {p.stem for p in MODELS.glob("*.json")} - {"routes"}
    for name in names:
        schema = json.loads((MODELS / f"{name}.json").read_text())
        assert schema["$schema"] == gateway_models.DRAFT_04
        jsonschema.Draft4Validator.check_schema(schema)


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("PaymentRequest", payment_body()),
        ("PaymentRequest", payment_body(payment_method={"type": "card", "token": "tok_abc-123_x"})),
        ("CreditDecisionRequest", decision_body()),
        ("TokenizeRequest", {"number": "4242424242424242", "cvc": "123"}),
        ("CaptureRequest", {}),
        ("CaptureRequest", None),
        ("RefundRequest", {"amount": 100, "reason": "duplicate"}),
        ("DetokenizeRequest", {"purpose": "chargeback.evidence"}),
    ],
)
def test_the_gateway_admits_what_the_functions_accept(name: str, body: Any) -> None:
    assert not gateway_refuses(name, body)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (payment_body(surprise=1), "surprise"),
        (payment_body(amount="2500"), "amount"),
        (payment_body(amount=0), "amount"),
        (payment_body(currency=None), "currency"),
        ({k: v for k, v in payment_body().items() if k != "merchant_id"}, "merchant_id"),
        (payment_body(customer={"id": "c_1", "shoe_size": 9}), "customer.shoe_size"),
        (payment_body(payment_method={"type": "cash"}), "payment_method.type"),
    ],
)
def test_a_malformed_body_is_refused_by_the_gateway_and_by_powertools_alike(
    body: Any, param: str | None
) -> None:
    assert gateway_refuses("PaymentRequest", body)
    status, answer = powertools_answer(body)
    assert status == 400
    assert answer["error"]["param"] == param


@pytest.mark.parametrize(
    "body",
    [
        # pydantic's lax mode reads "yes" as true; the contract says a JSON boolean.
        payment_body(capture="yes"),
        # Powertools takes a JSON array's first item for a model body; the contract says an
        # object, and the gateway refuses the array before the function sees it.
        [payment_body()],
        "a string",
    ],
)
def test_the_gateway_holds_a_body_to_the_published_types(body: Any) -> None:
    assert gateway_refuses("PaymentRequest", body)


@given(st.text(min_size=1, max_size=20).filter(lambda k: k not in payment_body()))
def test_any_unknown_top_level_field_is_refused_by_both(field: str) -> None:
    body = {**payment_body(), field: "x"}
    schema = committed("PaymentRequest").schema
    assert isinstance(schema, Mapping)  # a JSON schema may be a bool; the committed one is not
    if field in schema["definitions"]["PaymentRequest"]["properties"]:
        return  # an optional field of the model, not an unknown one
    assert gateway_refuses("PaymentRequest", body)
    assert powertools_answer(body)[0] == 400
