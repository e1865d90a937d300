"""The Payment API against its own contract, docs/openapi.json, through the local API on the
shared apply: GET /v1/openapi.json answers the committed document; a body of the wrong shape is
refused naming the field (by the function: API Gateway's check of bodies against their models
is opt-in, ADR 0011, and tests/unit/test_local_api_models.py covers it); and schemathesis
generates requests for every operation from the document, bounded in examples, and finds no
5xx and no answer outside the document (status, content type, schema)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok

from local import openapi
from local.api_client import ApiClient
from tests.conftest import Emulator
from tests.e2e.test_local_environment import merchant_api

# Examples per operation and mode: 13 operations x (positive + negative) x 8 is about 200
# requests, most refused at the gateway or by validation; about a minute on this machine.
EXAMPLES = 8
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def headers(api: ApiClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.api_key}", "X-Api-Name": str(api.api_name)}


def test_get_openapi_json_answers_the_committed_document(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    api = merchant_api(emulator, api_env)
    answer = api.get("/v1/openapi.json")
    assert answer.status == 200, answer.body
    committed = json.loads((openapi.ROOT / openapi.DOCUMENT).read_text())
    assert answer.body == committed
    # Behind the key, as every merchant route.
    anonymous = dataclasses.replace(api, api_key=None).get("/v1/openapi.json")
    assert anonymous.status == 401
    assert anonymous.body["error"]["param"] == "Authorization"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"surprise": 1}, "surprise"),
        ({"amount": "2500"}, "amount"),
        ({"capture": "maybe"}, "capture"),
    ],
)
def test_a_body_outside_its_model_is_refused_naming_the_field(
    emulator: Emulator, api_env: dict[str, Any], body: dict[str, Any], param: str
) -> None:
    """With request_body_validation at its default (ADR 0011) the function refuses the body and
    names the field; API Gateway's own BAD_REQUEST_BODY, which cannot name it, never answers."""
    api = merchant_api(emulator, api_env)
    request = {
        "merchant_id": api.merchant_id,
        "amount": 2500,
        "currency": "EUR",
        "capture": True,
        "payment_method": {"type": "card", "token": "tok_never_issued"},
        "customer": {"id": "c_1"},
        **body,
    }
    answer = requests.post(
        f"{emulator.api_endpoint}/v1/payments",
        json=request,
        headers={**headers(api), "Idempotency-Key": "contract-e2e-1"},
        timeout=30,
    )
    assert answer.status_code == 400
    assert answer.headers.get("x-amzn-ErrorType") != "BAD_REQUEST_BODY"
    error = answer.json()["error"]
    assert (error["type"], error["param"]) == ("invalid_request_error", param), error


@pytest.mark.timeout(240)
def test_generated_requests_find_no_5xx_and_no_answer_outside_the_document(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    api = merchant_api(emulator, api_env)
    schema = schemathesis.openapi.from_path(str(openapi.ROOT / openapi.DOCUMENT))
    sent = headers(api)
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"an operation schemathesis cannot read: {result.err()}"
        operations.append(result.ok())
    assert len(operations) >= 12
    failures: list[str] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def call(case: schemathesis.Case[Any]) -> None:
                case.call_and_validate(base_url=emulator.api_endpoint, headers=sent, checks=CHECKS)

            try:
                call()
            except Exception as failure:  # every operation is tried: one report of them all
                failures.append(f"{operation.label} ({mode.value}): {failure}")
    assert not failures, "\n\n".join(failures)
