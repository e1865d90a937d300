"""The merchant registry's contracts: a merchant's record (settings and limits beside its id),
the answer of issuing a key (the one place the whole key ever appears) and the context the
authorizer hands API Gateway."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from functions.domain.merchant_keys import DEFAULT_TIER, MERCHANT_ID, TIER, MerchantStatus

MerchantId = Annotated[str, Field(pattern=MERCHANT_ID.pattern)]


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MerchantLimits(Contract):
    """Per-merchant limits the edge may enforce; None keeps the platform's."""

    max_amount_minor: Annotated[int, Field(ge=1, le=10**12)] | None = None
    requests_per_second: Annotated[int, Field(ge=1, le=10_000)] | None = None


class MerchantRecord(Contract):
    merchant_id: MerchantId
    # Checked by the authorizer on every cache miss: only an active merchant's keys get in.
    status: MerchantStatus = MerchantStatus.ACTIVE
    created_at: dt.datetime
    status_changed_at: dt.datetime | None = None
    display_name: Annotated[str, Field(max_length=128)] | None = None
    settings: dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=512)]] = (
        Field(default_factory=dict, max_length=32)
    )
    limits: MerchantLimits = Field(default_factory=MerchantLimits)
    # The usage plan (modules/payment_workflow's merchant_usage_plans) by tier, and the API
    # Gateway API key that puts the merchant on it: its id and its value (no secret: see
    # functions.domain.merchant_keys.new_usage_key).
    tier: Annotated[str, Field(pattern=TIER.pattern)] = DEFAULT_TIER
    usage_key_id: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    usage_key: Annotated[str, Field(min_length=20, max_length=128)] | None = None


class IssuedKey(Contract):
    """A key as issued: ``api_key`` is shown here once and never stored."""

    merchant_id: MerchantId
    api_key: str
    key_id: str
    prefix: str
    created_at: dt.datetime

    def credentials(self) -> dict[str, str]:
        """The form ``make merchant`` prints and other tools read: exactly these two fields."""
        return {"merchant_id": self.merchant_id, "api_key": self.api_key}


class KeySummary(Contract):
    """A key as an operator sees it: the prefix, never the key or its hash."""

    key_id: str
    prefix: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


class AuthorizerContext(Contract):
    """What the authorizer passes to the functions (``requestContext.authorizer``): API Gateway
    allows strings, numbers and booleans only."""

    merchant_id: MerchantId
    key_id: str
    key_prefix: str


class AuthorizerRefusal(Contract):
    """The context of a Deny (a working key of a merchant that may not use the API now): the
    ACCESS_DENIED gateway response reads ``refusal_code`` and ``refusal_message`` into the
    error shape, since its template can only substitute variables."""

    merchant_id: MerchantId
    refusal_code: Annotated[str, Field(pattern=r"^[a-z_]{1,64}$")]
    refusal_message: Annotated[str, Field(max_length=200, pattern=r'^[^"\\]*$')]
