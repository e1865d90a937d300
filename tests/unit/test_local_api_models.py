"""The local API checks a body against its method's request model as API Gateway's validator
does: the model mapped for the request's Content-Type, else ``$default``; an empty body as
``{}``; only when the method's validator checks bodies; a refusal is the BAD_REQUEST_BODY
gateway response. The models are the committed ones (make openapi); the API, route and method
are stand-ins (tests/e2e/test_api_contract.py checks the BAD_REQUEST_BODY answer end to end)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from local import openapi
from local.api_gateway import Route, body_refusal, proxy_response
from local.lambda_runtime import InvocationResult
from tests.adapters.test_payments_api import body as payment_body


@dataclass
class Model:
    schema: str


@dataclass
class Validator:
    validate_request_body: bool = True


@dataclass
class Method:
    request_models: dict[str, str] | None = field(
        default_factory=lambda: {"$default": "PaymentRequest"}
    )
    request_validator_id: str | None = "v1"


def committed(name: str) -> Model:
    return Model((openapi.ROOT / openapi.MODELS / f"{name}.json").read_text())


@dataclass
class Api:
    models: dict[str, Model] = field(
        default_factory=lambda: {n: committed(n) for n in ("PaymentRequest", "CaptureRequest")}
    )
    request_validators: dict[str, Validator] = field(default_factory=lambda: {"v1": Validator()})


JSON = {"Content-Type": "application/json"}


def refusal(
    body: Any,
    method: Method | None = None,
    api: Api | None = None,
    *,
    headers: dict[str, str] | None = None,
) -> Any:
    route = Route(api or Api(), None, method or Method(), {}, "/v1/payments")
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return body_refusal(route.api, route, headers or JSON, raw)


def test_a_body_of_the_model_passes() -> None:
    assert refusal(payment_body()) is None


def test_an_unknown_field_a_wrong_type_or_a_missing_field_is_refused_naming_it() -> None:
    assert "surprise" in refusal(payment_body(surprise=1))
    assert "/amount" in refusal(payment_body(amount="2500"))
    missing = payment_body()
    del missing["currency"]
    assert "currency" in refusal(missing)
    assert refusal(b"{not json") == "[Invalid request body]"


def test_the_default_model_checks_any_content_type() -> None:
    assert refusal(payment_body(surprise=1), headers={"Content-Type": "text/plain"}) is not None
    assert refusal(
        payment_body(surprise=1), headers={"content-type": "application/json; charset=utf-8"}
    )


def test_an_empty_body_is_checked_as_an_empty_object() -> None:
    assert refusal(b"") is not None  # PaymentRequest requires fields
    assert refusal(b"", Method({"$default": "CaptureRequest"})) is None


def test_nothing_is_checked_without_a_body_validator_or_a_model() -> None:
    bad = payment_body(surprise=1)
    assert refusal(bad, Method(request_validator_id=None)) is None
    assert refusal(bad, api=Api(request_validators={"v1": Validator(False)})) is None
    assert refusal(bad, Method(request_models=None)) is None
    assert refusal(bad, Method({"application/xml": "PaymentRequest"})) is None


def test_a_function_s_multi_value_headers_reach_the_client() -> None:
    # Powertools' REST resolver answers multiValueHeaders only; API Gateway merges them.
    answer = {
        "statusCode": 404,
        "headers": {"X-One": "a"},
        "multiValueHeaders": {"Content-Type": ["application/json"], "X-One": ["b", "c"]},
        "body": "{}",
    }
    status, headers, _ = proxy_response(InvocationResult(json.dumps(answer).encode(), None))
    assert status == 404
    assert headers == {"X-One": "a, b, c", "Content-Type": "application/json"}
