"""The Payment API's OpenAPI 3.1 document, built from the handlers' own routes and models.

Powertools produces each resolver's paths, parameters and request bodies from the pydantic
models the routes validate with; this module merges the merchant-facing resolvers into one
document and adds what a resolver cannot know: the bearer API key, the ``Idempotency-Key``
header, the success answer of each route (its status and model) and the error shape
``{"error": {type, code, message, param}}`` that every 4xx and 5xx carries, whoever refused the
request (a function or API Gateway). ``merchant_document`` is what ``docs/openapi.json`` holds
and ``GET /v1/openapi.json`` answers; ``full_document`` adds the routes signed with IAM for the
platform's own roles (detokenize, the credit review), which are off the merchant edge and never
published, so API Gateway's request models cover every body (``local/openapi.py``).
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from functions.contracts.credit import DecisionView, PlanRecord
from functions.contracts.steps import PaymentView
from functions.models.tokens import DetokenizeRequest, TokenizeRequest, TokenResponse
from functions.services.payment_commands import IDEMPOTENCY_HEADER

TITLE = "Payment API"
VERSION = "1.0.0"
COMPONENTS = "#/components/schemas/"
SECURITY_SCHEME = "ApiKey"


class ErrorDetail(BaseModel):
    """What went wrong: ``param`` names the field or header at fault, when there is one."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(
        description="invalid_request_error, card_error, authentication_error, "
        "permission_error, rate_limit_error or api_error"
    )
    code: str = Field(description="A stable, machine-readable code.")
    message: str = Field(description="For people; never quotes the request's card data.")
    param: str | None = Field(description="The field (dotted path) or header at fault.")


class ErrorResponse(BaseModel):
    """Every 4xx and 5xx of the API, from a function or from API Gateway itself."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorDetail


@dataclass(frozen=True)
class Operation:
    """What the document says of one route beyond what its resolver knows."""

    status: int
    # The answer's model, or "module:Model" for one imported only once its route exists.
    answer: type[BaseModel] | str | None
    idempotency_key: bool | None = None  # required, optional, or not read at all (None)
    # A body the handler parses itself (after checking the caller may send it: a card number
    # is read only once the merchant is admitted), so Powertools does not see its model.
    parsed_body: type[BaseModel] | None = None
    merchant_header: bool = False
    public: bool = True


# Keyed by (method, path) as the resolvers name them. A route missing here fails the build:
# a new route states its answer before it reaches the contract.
OPERATIONS: dict[tuple[str, str], Operation] = {
    ("post", "/v1/payments"): Operation(201, PaymentView, idempotency_key=True),
    ("get", "/v1/payments"): Operation(200, "functions.services.payment_listing:PaymentList"),
    ("get", "/v1/payments/{payment_id}"): Operation(200, PaymentView),
    ("post", "/v1/payments/{payment_id}/capture"): Operation(200, PaymentView, False),
    ("post", "/v1/payments/{payment_id}/cancel"): Operation(200, PaymentView, False),
    ("post", "/v1/payments/{payment_id}/refunds"): Operation(201, PaymentView, True),
    ("post", "/v1/payments/{payment_id}/resume"): Operation(200, PaymentView, False),
    ("get", "/v1/openapi.json"): Operation(200, None),
    ("post", "/v1/tokens"): Operation(
        201, TokenResponse, parsed_body=TokenizeRequest, merchant_header=True
    ),
    ("post", "/v1/credit/decisions"): Operation(201, DecisionView, idempotency_key=True),
    ("get", "/v1/credit/decisions/{decision_id}"): Operation(200, DecisionView),
    ("get", "/v1/bnpl/plans/{plan_id}"): Operation(200, PlanRecord),
    ("post", "/v1/bnpl/plans/{plan_id}/settle"): Operation(200, PlanRecord),
    # The webhook endpoints' answers are plain JSON objects (docs/webhooks.md).
    ("post", "/v1/webhook_endpoints"): Operation(201, None),
    ("get", "/v1/webhook_endpoints"): Operation(200, None),
    ("delete", "/v1/webhook_endpoints/{endpoint_id}"): Operation(200, None),
    ("post", "/v1/webhook_endpoints/{endpoint_id}/rotate_secret"): Operation(200, None),
    ("get", "/v1/webhook_endpoints/{endpoint_id}/deliveries"): Operation(200, None),
    # Signed with IAM for the platform's own roles: off the merchant edge, never published.
    ("post", "/v1/credit/decisions/{decision_id}/reviews"): Operation(
        201, DecisionView, public=False
    ),
    ("post", "/v1/tokens/{token}/detokenize"): Operation(
        200, None, parsed_body=DetokenizeRequest, merchant_header=True, public=False
    ),
}

UNDECLARED = Operation(200, None)

ERRORS = {
    "400": "The request is malformed: a body field (named in param), a parameter or a header.",
    "401": "No valid secret API key (Authorization: Bearer sk_...).",
    "403": "The key's merchant may not act for the merchant named, or the caller is refused.",
    "404": "No such resource for this merchant, or no such route.",
    "409": "A request with this Idempotency-Key is still being processed.",
    "422": "The Idempotency-Key was used before with another request.",
    "429": "Too many requests: retry later with the same Idempotency-Key.",
    "4XX": "Another client error (402: the card was refused).",
    "5XX": "The request could not be completed: retry with the same Idempotency-Key.",
}

# Powertools' own validation answer (422) is replaced by ours (400, ErrorResponse).
POWERTOOLS_SCHEMAS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


def _resolvers(*, internal: bool) -> list[tuple[str, APIGatewayRestResolver]]:
    # Imported here: payments_api serves this document, so importing it at module level would
    # be circular, and a function that never serves the document never loads the others.
    from functions.handlers import credit_api, payments_api, tokenize, webhooks_api

    resolvers = [("payments", payments_api.app), ("tokens", tokenize.app)]
    resolvers += [("credit", credit_api.app), ("webhooks", webhooks_api.app)]
    if internal:
        from functions.handlers import detokenize

        resolvers.append(("tokens", detokenize.app))
    return resolvers


def _merge_schemas(into: dict[str, Any], schemas: dict[str, Any]) -> None:
    for name, schema in schemas.items():
        if name in into and into[name] != schema:
            raise ValueError(f"two different models are both named {name}: rename one")
        into[name] = schema


def _body(model: type[BaseModel]) -> dict[str, Any]:
    return {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": COMPONENTS + model.__name__}}},
    }


def _parameters(operation: Operation) -> list[dict[str, Any]]:
    parameters = []
    if operation.idempotency_key is not None:
        parameters.append(
            {
                "name": IDEMPOTENCY_HEADER,
                "in": "header",
                "required": operation.idempotency_key,
                "description": "Makes a retry safe: the same key and body answer the first "
                "request's result, another body with the key is refused (422).",
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9_:.-]{1,255}$"},
            }
        )
    if operation.merchant_header:
        parameters.append(
            {
                "name": "X-Merchant-Id",
                "in": "header",
                "required": False,
                "description": "The merchant acted for; it must be the API key's own.",
                "schema": {"type": "string"},
            }
        )
    return parameters


def answer_model(operation: Operation) -> type[BaseModel] | None:
    if isinstance(operation.answer, str):
        module, name = operation.answer.split(":")
        model: type[BaseModel] = getattr(importlib.import_module(module), name)
        return model
    return operation.answer


def _responses(operation: Operation) -> dict[str, Any]:
    answer: dict[str, Any] = {"type": "object"}
    model = answer_model(operation)
    if model is not None:
        answer = {"$ref": COMPONENTS + model.__name__}
    error = {"application/json": {"schema": {"$ref": COMPONENTS + ErrorResponse.__name__}}}
    responses: dict[str, Any] = {
        str(operation.status): {
            "description": "Success.",
            "content": {"application/json": {"schema": answer}},
        }
    }
    for status, description in ERRORS.items():
        responses[status] = {"description": description, "content": error}
    return responses


def build_document(*, internal: bool = False, strict: bool = True) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the merchant routes (with ``internal``, of every route).
    ``strict``: a route missing from ``OPERATIONS`` is an error (``make openapi``, the tests);
    the served document describes it as answering some JSON object instead, so a route added
    without its entry never makes ``GET /v1/openapi.json`` fail."""
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    bodies: list[type[BaseModel]] = [ErrorResponse]
    answers: set[type[BaseModel]] = {ErrorResponse}
    for tag, resolver in _resolvers(internal=internal):
        spec = json.loads(resolver.get_openapi_json_schema())
        _merge_schemas(schemas, spec.get("components", {}).get("schemas", {}))
        for path, methods in spec["paths"].items():
            for method, item in methods.items():
                operation = OPERATIONS.get((method, path))
                if operation is None and strict:
                    raise ValueError(
                        f"{method.upper()} {path} is not in api_contract.OPERATIONS: "
                        "add its answer there"
                    )
                operation = operation or UNDECLARED
                if not operation.public and not internal:
                    continue
                item["tags"] = [tag]
                item["parameters"] = item.get("parameters", []) + _parameters(operation)
                if operation.parsed_body is not None:
                    item["requestBody"] = _body(operation.parsed_body)
                    bodies.append(operation.parsed_body)
                item["responses"] = _responses(operation)
                model = answer_model(operation)
                if model is not None:
                    bodies.append(model)
                    answers.add(model)
                paths.setdefault(path, {})[method] = item
    _, extra = models_json_schema(
        [(model, "serialization" if model in answers else "validation") for model in bodies],
        ref_template=COMPONENTS + "{model}",
    )
    _merge_schemas(schemas, extra.get("$defs", {}))
    for name in POWERTOOLS_SCHEMAS:
        schemas.pop(name, None)
    schemas = _referenced(paths, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": "Card and BNPL payments, card tokens and credit decisions. Amounts "
            "are integers in the currency's minor units. Every error, whoever refused the "
            "request, is {error: {type, code, message, param}}.",
        },
        "servers": [
            {
                "url": "https://{domain}",
                "description": "The API's custom domain (the v1 stage at its root).",
                "variables": {"domain": {"default": "api.example.com"}},
            },
            {"url": "http://127.0.0.1:8080", "description": "The local API (make up)."},
        ],
        "security": [{SECURITY_SCHEME: []}],
        "tags": [
            {"name": "payments", "description": "Card and BNPL payments."},
            {"name": "tokens", "description": "Card tokens from the vault."},
            {"name": "credit", "description": "BNPL credit decisions and plans."},
            {"name": "webhooks", "description": "Webhook endpoints and their deliveries."},
        ],
        "paths": {path: paths[path] for path in sorted(paths)},
        "components": {
            "schemas": {name: schemas[name] for name in sorted(schemas)},
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "sk_...",
                    "description": "A merchant's secret API key (make merchant ID=... locally).",
                }
            },
        },
    }


def _referenced(paths: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """The schemas the paths use, directly or through another schema: a resolver's models of
    routes left out (the IAM routes') are not published either."""
    kept: dict[str, Any] = {}
    pending = _refs(paths)
    while pending:
        name = pending.pop()
        if name not in kept:
            kept[name] = schemas[name]
            pending |= _refs(schemas[name])
    return kept


def _refs(node: object) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].removeprefix(COMPONENTS)} if "$ref" in node else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node))
    return set()


@cache
def merchant_document_json() -> str:
    """The published document, serialised once per container (``GET /v1/openapi.json``)."""
    return render(build_document(strict=False))


def render(document: dict[str, Any]) -> str:
    """The document as committed: stable key order, two-space indents, a final newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
