"""API errors in the Stripe-like shape of the Payment API: ``{type, code, message, param}``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError


@dataclass(frozen=True, slots=True)
class ApiError:
    type: str
    code: str
    message: str
    param: str | None = None
    status: int = 400

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "code": self.code, "message": self.message, "param": self.param}


BODY_INVALID = "The body must be a JSON object."


def from_validation_error(error: ValidationError) -> ApiError:
    """The first problem of a pydantic validation error, naming the field and never its value."""
    return from_error_details(error.errors(include_url=False, include_input=False))


def from_request_validation(details: Sequence[Mapping[str, Any]]) -> ApiError:
    """The first problem Powertools' request validation found in a body or the query (``loc``
    starts with ``"body"`` or ``"query"``): a body that is not a JSON object, or is missing,
    is ``body_invalid``; any other problem names its field as ``from_validation_error`` does."""
    first = details[0]
    loc = tuple(first.get("loc", ()))
    if loc[:1] == ("body",) and (len(loc) == 1 or first.get("type") == "json_invalid"):
        return ApiError("invalid_request_error", "body_invalid", BODY_INVALID)
    # A query parameter is named as the client wrote it (limit, created[gte]), not query.limit.
    inside = loc[1:] if loc[:1] in (("body",), ("query",)) else loc
    return from_error_details([{**first, "loc": inside}])


def from_error_details(details: Sequence[Mapping[str, Any]]) -> ApiError:
    first = details[0]
    param = _param(first["loc"]) or None
    kind = first["type"]
    if kind == "missing":
        code, message = "parameter_missing", f"{param} is required."
    elif kind == "extra_forbidden":
        code, message = "parameter_unknown", f"{param} is not a recognised parameter."
    else:
        detail = str(first["msg"]).removeprefix("Value error, ")
        code, message = "parameter_invalid", f"{param}: {detail}."
    return ApiError(type="invalid_request_error", code=code, message=message, param=param)


# Fields that are maps of the client's own keys: an entry is named ``metadata[order_id]``.
_MAP_FIELDS = frozenset({"metadata"})


def _param(loc: Sequence[Any]) -> str:
    parts: list[str] = []
    for part in loc:
        if parts and parts[-1] in _MAP_FIELDS:
            parts[-1] += f"[{part}]"
        else:
            parts.append(str(part))
    return ".".join(parts)


def merchant_not_permitted(param: str) -> ApiError:
    """The signing principal is not bound to the merchant it names (``param``)."""
    return ApiError(
        "permission_error",
        "merchant_not_permitted",
        "The caller may not act for this merchant.",
        param,
        403,
    )
