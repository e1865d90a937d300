"""API errors in the Stripe-like shape of the Payment API: ``{type, code, message, param}``."""

from __future__ import annotations

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


def from_validation_error(error: ValidationError) -> ApiError:
    """The first problem of a pydantic validation error, naming the field and never its value."""
    first = error.errors(include_url=False, include_input=False)[0]
    param = ".".join(str(part) for part in first["loc"]) or None
    kind = first["type"]
    if kind == "missing":
        code, message = "parameter_missing", f"{param} is required."
    elif kind == "extra_forbidden":
        code, message = "parameter_unknown", f"{param} is not a recognised parameter."
    else:
        detail = str(first["msg"]).removeprefix("Value error, ")
        code, message = "parameter_invalid", f"{param}: {detail}."
    return ApiError(type="invalid_request_error", code=code, message=message, param=param)


def merchant_not_permitted(param: str) -> ApiError:
    """The signing principal is not bound to the merchant it names (``param``)."""
    return ApiError(
        "permission_error",
        "merchant_not_permitted",
        "The caller may not act for this merchant.",
        param,
        403,
    )
