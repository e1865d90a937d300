"""The Payment API v1 request body, validated field by field.

Card numbers and CVCs are ``SecretStr`` so that no repr, log line or error message shows them.
Unknown fields are refused, so a typo never silently changes what a payment does.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    SerializerFunctionWrapHandler,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from functions.contracts.credit import BnplApplicant
from functions.domain.cards import CardValidationError, contains_card_number, normalize_pan
from functions.domain.credit.schedule import Plan
from functions.domain.currencies import is_currency
from functions.domain.limits import LARGEST_AMOUNT_MINOR

# The structural bound of an amount in minor units (exact in any JSON client). It is not the
# business limit, which depends on the currency: a payment's cap is ``domain.limits.AmountCaps``
# (one cap in EUR, converted per currency), checked once the currency is known. One number of
# minor units for every currency here would refuse IDR 1,000,001 (about EUR 58).
MAX_AMOUNT_MINOR = LARGEST_AMOUNT_MINOR


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def no_card_number(value: str | None) -> str | None:
    """Card data belongs in ``payment_method.card`` only: any other field holding something
    that looks like a card number is refused (and never stored, logged or echoed)."""
    if value is not None and contains_card_number(value):
        raise ValueError("must not contain a card number")
    return value


def _digits_grouped(value: SecretStr) -> SecretStr:
    """The card number's form (digits, with spaces or dashes between groups) is checked here,
    so that no later reader of the request (the idempotency digest, the tokenize step) meets a
    value it cannot handle: a malformed number is a 400 naming the field, never a 5xx. Luhn,
    network and length per network stay with card validation (402 ``card_error``)."""
    try:
        normalize_pan(value.get_secret_value())
    except CardValidationError as error:
        raise ValueError(error.message.rstrip(".")) from None
    return value


def _digits_only(value: SecretStr) -> SecretStr:
    secret = value.get_secret_value()
    if not (secret.isascii() and secret.isdigit()):
        raise ValueError("must contain only digits")
    return value


CardNumber = Annotated[
    SecretStr,
    Field(min_length=12, max_length=23, description="PAN: digits, spaces or dashes between"),
    AfterValidator(_digits_grouped),
]
CardSecurityCode = Annotated[
    SecretStr, Field(min_length=3, max_length=4), AfterValidator(_digits_only)
]


class CardDetails(StrictModel):
    number: CardNumber
    exp_month: int = Field(ge=1, le=12)
    exp_year: int = Field(ge=2000, le=2100)
    cvc: CardSecurityCode | None = None


class PaymentMethod(StrictModel):
    """A card given in full (tokenized on the way in) or a card token; or BNPL: the plan, the
    customer's card token (it pays the instalments) and the applicant data the credit decision
    needs. Every BNPL field missing is named (``payment_method.applicant`` and so on)."""

    type: Literal["card", "bnpl"]
    card: CardDetails | None = None
    token: str | None = Field(
        default=None,
        min_length=8,
        max_length=64,
        pattern=r"^[A-Za-z0-9_\-]+$",
        validate_default=True,
    )
    plan: Plan | None = Field(default=None, validate_default=True)
    applicant: BnplApplicant | None = Field(default=None, validate_default=True)

    @field_validator("token", "plan", "applicant")
    @classmethod
    def bnpl_fields(cls, value: object, info: ValidationInfo) -> object:
        # A field validator, not a model validator: the error's location is the field, so the
        # 400 names payment_method.applicant rather than payment_method.
        bnpl = info.data.get("type") == "bnpl"
        if bnpl and value is None:
            raise PydanticCustomError("missing", "Field required")
        if not bnpl and value is not None and info.field_name != "token":
            raise ValueError("only for payment_method.type bnpl")
        return value

    @model_validator(mode="after")
    def one_instrument(self) -> PaymentMethod:
        if self.type == "bnpl":
            if self.card is not None:
                raise ValueError(
                    "a bnpl payment is paid with the customer's card token, not a card"
                )
        elif (self.card is None) == (self.token is None):
            raise ValueError("a card payment takes exactly one of card or token")
        return self

    @model_serializer(mode="wrap")
    def _card_fields_only(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        # A card payment serialises as before BNPL existed: its request digest (kept on the
        # payment to refuse a late retry with another body) must not change.
        data: dict[str, object] = handler(self)
        if self.type == "card":
            data.pop("plan", None)
            data.pop("applicant", None)
        return data


class Customer(StrictModel):
    id: str = Field(min_length=1, max_length=64)
    ip: str | None = Field(default=None, max_length=45)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    device_id: str | None = Field(default=None, max_length=128)

    _no_card_number = field_validator("id", "device_id", "ip")(no_card_number)


class ScaPreferences(StrictModel):
    exemption_requested: (
        Literal["low_value", "transaction_risk_analysis", "recurring", "merchant_initiated"] | None
    ) = None
    # "off_session": the customer agrees here to later merchant-initiated payments. The agreement
    # is opened only when this payment passes an SCA challenge and is usable once the acquirer
    # confirms it with a network reference (EBA Q&A 2018_4031). The mail/telephone-order channel
    # is deliberately not a request field: self-declared, it would switch SCA off for anyone.
    setup_future_usage: Literal["off_session"] | None = None


# ``metadata``: the merchant's own key-value pairs (an order number, a cart id), stored on the
# payment and answered with it. Bounded so that a payment with metadata stays a few write units
# (docs/decisions/0003): at most 20 pairs, keys of 1-40 letters, digits, "_" or "-", string
# values of at most 500 characters, 2 KB in all (UTF-8 bytes of keys and values).
METADATA_MAX_KEYS = 20
METADATA_KEY_MAX_LENGTH = 40
METADATA_VALUE_MAX_LENGTH = 500
METADATA_MAX_BYTES = 2048
_METADATA_KEY = re.compile(rf"^[A-Za-z0-9_\-]{{1,{METADATA_KEY_MAX_LENGTH}}}$")

MetadataValue = Annotated[
    StrictStr,
    Field(max_length=METADATA_VALUE_MAX_LENGTH),
    AfterValidator(no_card_number),
]


def _metadata_keys(value: Any) -> Any:
    """The checks on the map as a whole (keys, their number, the total size), before its values
    are validated one by one. They name ``metadata`` and never quote a key: a key could hold a
    card number. A value's own problem names ``metadata[<key>]`` (its key is checked by then)."""
    if not isinstance(value, dict):
        return value  # pydantic's own type error
    if len(value) > METADATA_MAX_KEYS:
        raise ValueError(f"at most {METADATA_MAX_KEYS} keys")
    for key in value:
        if not isinstance(key, str) or not _METADATA_KEY.fullmatch(key):
            raise ValueError(
                f"keys must be 1-{METADATA_KEY_MAX_LENGTH} letters, digits, '_' or '-'"
            )
        if contains_card_number(key):
            raise ValueError("a key must not contain a card number")
    size = sum(len(k.encode()) + len(v.encode()) for k, v in value.items() if isinstance(v, str))
    if size > METADATA_MAX_BYTES:
        raise ValueError(f"keys and values must total at most {METADATA_MAX_BYTES} bytes")
    return value


class PaymentRequest(StrictModel):
    merchant_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    amount: Annotated[int, Field(gt=0, le=MAX_AMOUNT_MINOR, strict=True)]
    currency: str = Field(min_length=3, max_length=3)
    capture: bool = True
    payment_method: PaymentMethod
    customer: Customer
    sca: ScaPreferences = ScaPreferences()
    metadata: dict[str, MetadataValue] | None = None

    _no_card_number = field_validator("merchant_id")(no_card_number)
    _metadata_keys = field_validator("metadata", mode="before")(_metadata_keys)

    @field_validator("currency")
    @classmethod
    def iso_4217(cls, value: str) -> str:
        if not is_currency(value):
            raise ValueError("must be an ISO 4217 currency code in upper case, such as EUR")
        return value


class CaptureRequest(StrictModel):
    """``POST /v1/payments/{id}/capture``: all of the authorized amount unless ``amount`` says
    less (the remainder is released)."""

    amount: Annotated[int, Field(gt=0, le=MAX_AMOUNT_MINOR, strict=True)] | None = None


class RefundRequest(StrictModel):
    """``POST /v1/payments/{id}/refunds``: what is still refundable unless ``amount`` says less."""

    amount: Annotated[int, Field(gt=0, le=MAX_AMOUNT_MINOR, strict=True)] | None = None
    reason: Literal["requested_by_customer", "duplicate", "fraudulent"] | None = None


class CancelRequest(StrictModel):
    """``POST /v1/payments/{id}/cancel``: why (optional). ``expired`` is the scheduled
    expiry's own reason, not one a caller may give."""

    cancellation_reason: (
        Literal["requested_by_customer", "duplicate", "fraudulent", "abandoned"] | None
    ) = None


class ResumeRequest(StrictModel):
    """``POST /v1/payments/{id}/resume``: the cardholder's answer to the 3-D Secure challenge."""

    challenge_response: str = Field(min_length=1, max_length=64)


# GET /v1/payments's query parameters, each a type the route declares (so the OpenAPI document
# states its constraints) and ``ListPaymentsQuery`` checks together.
ListLimit = Annotated[
    int, Field(ge=1, le=100, description="Payments per page: 1-100, 20 by default.")
]
ListStatus = Literal[
    "requires_action",
    "authorizing",
    "authorized",
    "capture_pending",
    "captured",
    "partially_refunded",
    "refunded",
    "declined",
    "canceled",
    "failed",
]
CreatedBound = Annotated[
    AwareDatetime,
    Field(description="ISO 8601 with an offset (2026-12-01T00:00:00Z) or Unix seconds; inclusive."),
]
ListCursor = Annotated[
    str,
    Field(min_length=1, max_length=512, description="The previous page's next_cursor."),
]
LIST_PARAMETERS = ("limit", "status", "created[gte]", "created[lte]", "cursor")


class ListPaymentsQuery(StrictModel):
    """``GET /v1/payments``'s query: newest first, ``limit`` per page, one ``status`` or any,
    created within ``created[gte]``..``created[lte]`` (both inclusive), from ``cursor`` on.
    Aliases are the parameters' names, so that an error names the parameter as sent."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    limit: ListLimit = 20
    status: ListStatus | None = None
    created_gte: CreatedBound | None = Field(default=None, alias="created[gte]")
    created_lte: CreatedBound | None = Field(default=None, alias="created[lte]")
    cursor: ListCursor | None = None

    @field_validator("created_lte")
    @classmethod
    def range_in_order(cls, value: AwareDatetime | None, info: ValidationInfo) -> object:
        start = info.data.get("created_gte")
        if value is not None and start is not None and value < start:
            raise ValueError("must not be before created[gte]")
        return value
