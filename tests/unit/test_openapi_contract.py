"""The Payment API's OpenAPI document (functions/handlers/api_contract.py): built from the
handlers' models, it is the committed docs/openapi.json (make openapi), it names no route signed
with IAM, every error it declares is the API's error shape, and GET /v1/openapi.json answers it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from functions.handlers import api_contract, payments_api
from local import openapi
from tests.adapters.test_vault_handlers import Context, api_event

IAM_ONLY = {
    ("post", "/v1/tokens/{token}/detokenize"),
    ("post", "/v1/credit/decisions/{decision_id}/reviews"),
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return api_contract.build_document()


def operations(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method, path) for path, item in doc["paths"].items() for method in item}


def test_get_openapi_json_answers_the_published_document(monkeypatch: pytest.MonkeyPatch) -> None:
    event = api_event("GET", "/v1/openapi.json", None, merchant=None, caller=None, authorized="m_1")
    response = payments_api.app.resolve(event, Context())
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == json.loads(api_contract.merchant_document_json())
    assert json.loads(response["body"])["openapi"] == "3.1.0"


def test_the_committed_contract_files_are_what_the_code_builds() -> None:
    # CI's drift check: a route or model changed without `make openapi` fails here.
    assert openapi.differences(openapi.ROOT, openapi.contract_files()) == []


def test_the_drift_check_names_a_changed_a_missing_and_a_stale_file(tmp_path: Path) -> None:
    files = openapi.contract_files()
    openapi.write(tmp_path, files)
    assert openapi.differences(tmp_path, files) == []
    document = tmp_path / openapi.DOCUMENT
    document.write_text(document.read_text().replace('"3.1.0"', '"3.0.0"'))
    (tmp_path / openapi.MODELS / "PaymentRequest.json").unlink()
    (tmp_path / openapi.MODELS / "OldRequest.json").write_text("{}")
    assert openapi.differences(tmp_path, files) == [
        str(openapi.DOCUMENT),
        str(openapi.MODELS / "OldRequest.json") + " (no longer generated)",
        str(openapi.MODELS / "PaymentRequest.json"),
    ]


def test_make_openapi_check_fails_on_drift(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    files = openapi.contract_files()
    openapi.write(tmp_path, files)
    monkeypatch.setattr(openapi, "ROOT", tmp_path)
    assert openapi.main(["--check"]) == 0
    (tmp_path / openapi.ROUTES).write_text("{}\n")
    assert openapi.main(["--check"]) == 1
    assert str(openapi.ROUTES) in capsys.readouterr().err


def test_the_published_document_has_no_route_signed_with_iam(document: dict[str, Any]) -> None:
    assert operations(document) & IAM_ONLY == set()
    assert operations(api_contract.build_document(internal=True)) >= IAM_ONLY
    names = set(document["components"]["schemas"])
    assert {"DetokenizeRequest", "ReviewRequest"} & names == set()


def test_every_merchant_route_is_published(document: dict[str, Any]) -> None:
    merchant_routes = {k for k, op in api_contract.OPERATIONS.items() if op.public}
    assert operations(document) <= merchant_routes
    assert {
        ("post", "/v1/tokens"),
        ("get", "/v1/openapi.json"),
        ("post", "/v1/payments"),
        ("post", "/v1/credit/decisions"),
        ("get", "/v1/bnpl/plans/{plan_id}"),
    } <= operations(document)


def test_every_error_answer_is_the_error_shape(document: dict[str, Any]) -> None:
    error = {"$ref": "#/components/schemas/ErrorResponse"}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            codes = {c for c in operation["responses"] if c[0] in "45"}
            assert {"400", "401", "403", "404", "429", "4XX", "5XX"} <= codes, (method, path)
            for code in codes:
                schema = operation["responses"][code]["content"]["application/json"]["schema"]
                assert schema == error, (method, path, code)
    shape = document["components"]["schemas"]["ErrorDetail"]
    assert set(shape["required"]) == {"type", "code", "message", "param"}
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_the_bearer_key_secures_every_route(document: dict[str, Any]) -> None:
    scheme = document["components"]["securitySchemes"]["ApiKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert document["security"] == [{"ApiKey": []}]
    assert all("security" not in op for item in document["paths"].values() for op in item.values())


@pytest.mark.parametrize(
    ("method", "path", "required"),
    [
        ("post", "/v1/payments", True),
        ("post", "/v1/payments/{payment_id}/refunds", True),
        ("post", "/v1/credit/decisions", True),
        ("post", "/v1/payments/{payment_id}/capture", False),
        ("get", "/v1/payments/{payment_id}", None),
    ],
)
def test_idempotency_key_is_declared_where_the_route_reads_it(
    document: dict[str, Any], method: str, path: str, required: bool | None
) -> None:
    headers = {
        p["name"]: p["required"]
        for p in document["paths"][path][method].get("parameters", [])
        if p["in"] == "header"
    }
    assert headers.get("Idempotency-Key") == required


def test_each_route_answers_its_model_and_status(document: dict[str, Any]) -> None:
    created = document["paths"]["/v1/payments"]["post"]["responses"]["201"]
    assert created["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PaymentView"
    }
    token = document["paths"]["/v1/tokens"]["post"]
    assert token["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TokenizeRequest"
    }
    assert "fingerprint" not in document["components"]["schemas"]["TokenResponse"]["properties"]


def test_a_route_without_its_answer_declared_fails_the_build_not_the_served_document(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    operations = dict(api_contract.OPERATIONS)
    del operations[("post", "/v1/payments/{payment_id}/resume")]
    monkeypatch.setattr(api_contract, "OPERATIONS", operations)
    with pytest.raises(ValueError, match="resume"):
        api_contract.build_document()
    # The served document still answers, describing the route loosely.
    served = api_contract.build_document(strict=False)
    assert "200" in served["paths"]["/v1/payments/{payment_id}/resume"]["post"]["responses"]


def test_two_different_models_of_one_name_are_refused() -> None:
    schemas = {"Plan": {"type": "object"}}
    api_contract._merge_schemas(schemas, {"Plan": {"type": "object"}})
    with pytest.raises(ValueError, match="Plan"):
        api_contract._merge_schemas(schemas, {"Plan": {"type": "string"}})
