"""Token API v1 bodies, the workflow's tokenize input, and the vault functions' settings.

Card numbers and CVCs are ``SecretStr``: no repr, log line or validation message shows them.
API bodies refuse unknown fields (a typo never silently changes what a request does); the
workflow input ignores them, because it is the whole payment state of the state machine.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from functools import cache
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from functions.domain.principals import admits_a_whole_type
from functions.domain.vault import InvalidCardError, VaultError, VaultSettings
from functions.errors import ApiError, from_validation_error

_ID = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"
M = TypeVar("M", bound=BaseModel)


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class TokenizeRequest(StrictModel):
    """``POST /v1/tokens``. The tenant is the caller's merchant (``X-Merchant-Id``)."""

    number: SecretStr = Field(min_length=12, max_length=23, description="PAN, digits only")
    cvc: SecretStr | None = Field(
        default=None, min_length=3, max_length=4, description="checked for form, never stored"
    )
    customer_id: str | None = Field(default=None, pattern=_ID)
    format: Literal["opaque", "format_preserving"] = "opaque"
    single_use: bool = False
    ttl_seconds: int | None = Field(default=None, gt=0, le=10 * 365 * 24 * 3600, strict=True)


class DetokenizeRequest(StrictModel):
    """``POST /v1/tokens/{token}/detokenize``: why the card number is needed (audited)."""

    purpose: str = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_.:-]{0,63}$")


class TokenResponse(BaseModel):
    """201 of ``POST /v1/tokens``: never the card number, and no fingerprint (finding 5: with
    deduplication a fingerprint per call makes tokenize an oracle that confirms guesses)."""

    model_config = ConfigDict(frozen=True)

    token: str
    brand: str
    last4: str


class WorkflowCardOutput(BaseModel):
    """The payment workflow's ``card`` after the tokenize step (what later steps read).

    ``card_key``: the platform-wide card key, ``ck_`` + 43 base64url characters, the same for
    one card number across every merchant and customer, different for every other card. It is
    KMS GenerateMac over the card number under an HMAC key only the tokenize function may use,
    so nothing outside KMS can compute it from a guessed card. Key per-card risk counters on it
    (velocity, PSD2 Art. 16 low-value counters; per merchant: ``<merchant_id>#<card_key>``).
    Never store it in one item with ``first6``: together with last4 they are the hashed and
    truncated forms PCI DSS 3.5.1 forbids correlating. None only for a stored token written
    before card keys existed.
    ``first6``, ``exp_month``, ``exp_year``: only for a card given in full (None for a token).
    No fingerprint: it stays inside the vault.
    """

    model_config = ConfigDict(frozen=True)

    token: str
    brand: str
    last4: str
    card_key: str | None
    first6: str | None
    exp_month: int | None
    exp_year: int | None


# ------------------------------------------------------------- workflow (state machine) input


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)


class WorkflowCard(_Lenient):
    number: SecretStr = Field(min_length=12, max_length=23)
    cvc: SecretStr | None = Field(default=None, min_length=3, max_length=4)
    exp_month: int | None = None
    exp_year: int | None = None


class WorkflowPaymentMethod(_Lenient):
    """A card in full (tokenized here) or a token the vault already holds."""

    type: Literal["card"]
    card: WorkflowCard | None = None
    token: str | None = Field(default=None, min_length=8, max_length=64)


class WorkflowCustomer(_Lenient):
    id: str | None = Field(default=None, pattern=_ID)


class WorkflowTokenizeInput(_Lenient):
    """The payment state: ``{merchant_id, customer: {id}, payment_method: {type, card}}``."""

    merchant_id: str = Field(pattern=_ID)
    customer: WorkflowCustomer | None = None
    payment_method: WorkflowPaymentMethod


# ----------------------------------------------------------------------------- settings


class VaultFunctionSettings(BaseModel):
    """What the vault functions read from their environment, validated once per container.

    ``VAULT_*`` bounds of the domain (``VaultSettings.from_env``) plus the wiring names that the
    ``tokenization_vault`` Terraform module sets. A misconfigured function fails at its first
    invocation with a settings error, never half-way through a request.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    table_name: str = Field(min_length=3)
    key_table_name: str | None = None
    kms_key_id: str = Field(min_length=1)
    fingerprint_key_id: str = Field(min_length=1)
    card_key_mac_key_id: str | None = None
    decrypt_key_ids: frozenset[str] = frozenset()
    audit_log_group: str | None = None
    audit_event_bus: str | None = None
    detokenize_allowed_principals: tuple[str, ...] = ()
    function_name: str = "vault"
    vault: VaultSettings = Field(default_factory=VaultSettings)

    @field_validator("detokenize_allowed_principals")
    @classmethod
    def _no_whole_type(cls, entries: tuple[str, ...]) -> tuple[str, ...]:
        """The module refuses these too (variable validation); a function configured some
        other way must not start with one either (finding 11: it admits every role session)."""
        for entry in entries:
            if admits_a_whole_type(entry):
                raise ValueError(
                    "DETOKENIZE_ALLOWED_PRINCIPALS must not hold a bare type prefix such as "
                    "arn:aws:sts::<account>:assumed-role/ (it admits every role session)"
                )
        return entries

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> VaultFunctionSettings:
        def listed(name: str) -> list[str]:
            return [v.strip() for v in env.get(name, "").split(",") if v.strip()]

        return cls(
            table_name=env.get("VAULT_TABLE_NAME", ""),
            key_table_name=env.get("VAULT_KEY_TABLE_NAME") or None,
            kms_key_id=env.get("VAULT_KMS_KEY_ID", ""),
            fingerprint_key_id=env.get("VAULT_FINGERPRINT_KEY_ID", ""),
            card_key_mac_key_id=env.get("VAULT_CARD_KEY_MAC_KEY_ID") or None,
            decrypt_key_ids=frozenset(listed("VAULT_DECRYPT_KEY_IDS")),
            audit_log_group=env.get("VAULT_AUDIT_LOG_GROUP") or None,
            audit_event_bus=env.get("VAULT_AUDIT_EVENT_BUS") or None,
            detokenize_allowed_principals=tuple(listed("DETOKENIZE_ALLOWED_PRINCIPALS")),
            function_name=env.get("AWS_LAMBDA_FUNCTION_NAME", "vault"),
            vault=VaultSettings.from_env(env),
        )


@cache
def vault_function_settings() -> VaultFunctionSettings:
    """The settings of this container (read once)."""
    return VaultFunctionSettings.from_env(os.environ)


# ------------------------------------------------------------------ request parsing helpers


class ApiProblem(Exception):
    """A request the API refuses: carries the ``ApiError`` to answer with (4xx)."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(error.code)
        self.error = error


def parse_body(raw: str | None, model: type[M]) -> M:
    """A JSON object body validated against ``model``; the first problem names its field."""
    try:
        data = json.loads(raw or "")
    except ValueError:
        raise ApiProblem(
            ApiError("invalid_request_error", "body_invalid", "The body must be a JSON object.")
        ) from None
    if not isinstance(data, dict):
        raise ApiProblem(
            ApiError("invalid_request_error", "body_invalid", "The body must be a JSON object.")
        )
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ApiProblem(from_validation_error(error)) from None


MERCHANT_HEADER = "X-Merchant-Id"


def merchant_id(headers: Mapping[str, str] | None) -> str:
    """The tenant named by ``X-Merchant-Id`` (case-insensitive), required (detokenize: the
    platform's own roles name the tenant whose token they reveal)."""
    value = named_merchant_id(headers)
    if value is None:
        raise ApiProblem(
            ApiError(
                "invalid_request_error",
                "parameter_missing",
                f"The {MERCHANT_HEADER} header is required.",
                MERCHANT_HEADER,
            )
        )
    return value


def named_merchant_id(headers: Mapping[str, str] | None) -> str | None:
    """The tenant ``X-Merchant-Id`` names (case-insensitive), or None without one. A merchant
    need not send it (its API key names it); one that does must name itself (the handler
    checks)."""
    value = next(
        (v for k, v in (headers or {}).items() if k.lower() == MERCHANT_HEADER.lower()), None
    )
    if value is None or not value.strip():
        return None
    value = value.strip()
    if re.fullmatch(_ID, value) is None:
        raise ApiProblem(
            ApiError(
                "invalid_request_error",
                "parameter_invalid",
                f"{MERCHANT_HEADER} must be 1 to 128 characters of letters, digits and . _ : @ -",
                MERCHANT_HEADER,
            )
        )
    return value


def vault_api_error(exc: VaultError, *, card_param: str | None = None) -> ApiError:
    """The public face of a vault error: ``public_code``, its HTTP status, a fixed message.

    ``card_param`` renames the domain's card field (``payment_method.card.number``) to the
    field of the request at hand (``number`` in the token API).
    """
    if isinstance(exc, InvalidCardError):
        param = exc.param
        if card_param is not None and param is not None:
            param = card_param + param.rsplit(".", 1)[-1]
        return ApiError("card_error", exc.public_code, exc.message, param, exc.http_status)
    kind = (
        "api_error"
        if exc.http_status >= 500
        else "rate_limit_error"
        if exc.http_status == 429
        else "invalid_request_error"
    )
    # Messages are fixed strings (never card data); the not-found variants (another tenant's
    # token, an erased customer) share TokenNotFoundError's message and public code.
    return ApiError(kind, exc.public_code, exc.message, exc.param, exc.http_status)
