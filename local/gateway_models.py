"""API Gateway request models from the OpenAPI 3.1 document.

API Gateway validates a REST method's body against a model in JSON Schema draft 4; the OpenAPI
3.1 document speaks JSON Schema 2020-12 (as pydantic writes it). ``request_models`` turns each
route's request body into one self-contained draft-4 schema: the body's component at the root,
the components it uses under ``definitions``, each keyword rewritten into its draft-4 form
(``const`` as a one-value ``enum``, a numeric ``exclusiveMinimum`` as ``minimum`` plus the
boolean, ``prefixItems`` as a list of ``items``).

A model may be looser than the function's own validation, never stricter: keywords draft 4
cannot say and that only annotate or refine what the function checks anyway (``format``,
``writeOnly``, ``propertyNames``...) are left out, so the gateway refuses what is malformed in
shape (an unknown field, a wrong type, a missing field, a value out of range) and the function
still names every finer problem. A keyword neither kept, rewritten nor known to be safe to drop
is an error: a new kind of constraint needs a decision here, not a silent hole.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DRAFT_04 = "http://json-schema.org/draft-04/schema#"
COMPONENTS = "#/components/schemas/"
DEFINITIONS = "#/definitions/"

# Keywords with the same meaning in draft 4 and 2020-12, copied as they are.
SAME = frozenset(
    {
        "type",
        "required",
        "enum",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "pattern",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
        "multipleOf",
        "title",
        "description",
        "default",
    }
)
# Keywords whose values are schemas (one, a list, or a map of names to schemas).
ONE_SCHEMA = frozenset({"items", "additionalProperties", "not"})
SCHEMA_LISTS = frozenset({"anyOf", "allOf", "oneOf"})
SCHEMA_MAPS = frozenset({"properties", "patternProperties"})
# Annotations, or refinements draft 4 cannot state that the function validates itself.
DROPPED = frozenset(
    {
        "format",
        "writeOnly",
        "readOnly",
        "examples",
        "deprecated",
        "discriminator",
        "propertyNames",
        "contentMediaType",
        "contentEncoding",
    }
)


class UnsupportedKeywordError(ValueError):
    """The schema uses a keyword this conversion has made no decision about."""


def component_name(reference: str) -> str:
    if not reference.startswith(COMPONENTS):
        raise UnsupportedKeywordError(f"only component references are converted: {reference}")
    return reference.removeprefix(COMPONENTS)


def convert(schema: Mapping[str, Any]) -> dict[str, Any]:
    """One 2020-12 schema in its draft-4 form, component references as definitions'."""
    out: dict[str, Any] = {}
    for keyword, value in schema.items():
        if keyword == "$ref":
            out["$ref"] = DEFINITIONS + component_name(value)
        elif keyword in SAME:
            out[keyword] = value
        elif keyword == "items" and "prefixItems" in schema:
            continue  # the schema of the items after the prefix: additionalItems, below
        elif keyword in ONE_SCHEMA:
            out[keyword] = value if isinstance(value, bool) else convert(value)
        elif keyword in SCHEMA_LISTS:
            out[keyword] = [convert(item) for item in value]
        elif keyword in SCHEMA_MAPS:
            out[keyword] = {name: convert(item) for name, item in value.items()}
        elif keyword == "const":
            out["enum"] = [value]
        elif keyword == "prefixItems":
            out["items"] = [convert(item) for item in value]
        elif keyword in DROPPED:
            continue
        elif keyword not in ("exclusiveMinimum", "exclusiveMaximum"):
            raise UnsupportedKeywordError(f"no draft-4 form decided for {keyword!r}")
    _exclusive_bound(schema, out, "exclusiveMinimum", "minimum", max)
    _exclusive_bound(schema, out, "exclusiveMaximum", "maximum", min)
    if "prefixItems" in schema:
        # 2020-12's items after prefixItems is the schema of any further item.
        rest = schema.get("items", True)
        out["additionalItems"] = rest if isinstance(rest, bool) else convert(rest)
    return out


def _exclusive_bound(
    schema: Mapping[str, Any], out: dict[str, Any], exclusive: str, inclusive: str, tighter: Any
) -> None:
    """2020-12's numeric ``exclusiveMinimum: n`` is draft 4's ``minimum: n`` with
    ``exclusiveMinimum: true``; where both bounds are given the tighter one is kept."""
    if exclusive not in schema:
        return
    bound = schema[exclusive]
    if inclusive in schema and tighter(schema[inclusive], bound) != bound:
        return  # the inclusive bound is the tighter one
    out[inclusive] = bound
    out[exclusive] = True


def references(schema: object) -> set[str]:
    """The component names a schema refers to directly."""
    if isinstance(schema, dict):
        found = {component_name(schema["$ref"])} if "$ref" in schema else set()
        return found.union(*(references(v) for v in schema.values()))
    if isinstance(schema, list):
        return set().union(*(references(v) for v in schema))
    return set()


def request_model(document: Mapping[str, Any], body_schema: Mapping[str, Any]) -> dict[str, Any]:
    """A body's schema as one self-contained draft-4 model: every component it uses, however
    deep, under ``definitions``."""
    components = document["components"]["schemas"]
    model = convert(body_schema)
    definitions: dict[str, Any] = {}
    pending = references(body_schema)
    while pending:
        name = pending.pop()
        if name in definitions:
            continue
        definitions[name] = convert(components[name])
        pending |= references(components[name])
    return {
        "$schema": DRAFT_04,
        **model,
        **({"definitions": dict(sorted(definitions.items()))} if definitions else {}),
    }


def model_name(body_schema: Mapping[str, Any]) -> str:
    """The model's name: the body's component (an optional body, ``anyOf`` it and null, is
    named after the component too). API Gateway takes letters and digits only."""
    named = sorted(references(body_schema))
    if len(named) != 1 and "$ref" not in body_schema:
        raise UnsupportedKeywordError("a request body is one component, or it and null")
    return component_name(body_schema["$ref"]) if "$ref" in body_schema else named[0]


def request_models(
    document: Mapping[str, Any],
) -> tuple[dict[str, dict[str, Any]], dict[str, str | None]]:
    """Every request body of the document as a draft-4 model, by name; and for each POST,
    PUT and PATCH operation (``"POST /v1/payments"``) the name of its model, or None for a route
    that reads no body."""
    models: dict[str, dict[str, Any]] = {}
    routes: dict[str, str | None] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in ("post", "put", "patch"):
                continue
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            route = f"{method.upper()} {path}"
            if body is None:
                routes[route] = None
                continue
            name = model_name(body["schema"])
            model = request_model(document, body["schema"])
            if models.setdefault(name, model) != model:
                raise UnsupportedKeywordError(f"two bodies named {name} differ")
            routes[route] = name
    return models, dict(sorted(routes.items()))
