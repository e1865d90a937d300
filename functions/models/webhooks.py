"""The webhook endpoint routes' bodies and answers (docs/webhooks.md)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, field_validator

from functions.domain.cards import contains_card_number
from functions.domain.webhooks import EVENT_SELECTORS, MAX_URL_LENGTH, Delivery, Endpoint

MAX_OVERLAP_SECONDS = 7 * 24 * 3600


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CreateEndpointRequest(Request):
    url: str = Field(
        min_length=1,
        max_length=MAX_URL_LENGTH,
        description="Where deliveries are POSTed: https, a public host.",
    )
    enabled_events: list[str] = Field(
        min_length=1,
        max_length=len(EVENT_SELECTORS),
        description="Event types (payment.captured), families (payment.*) or every event (*).",
    )
    description: str | None = Field(default=None, max_length=256)

    @field_validator("enabled_events")
    @classmethod
    def known_events(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - EVENT_SELECTORS)
        if unknown:
            raise ValueError(f"unknown event type {unknown[0]!r}")
        return sorted(set(value))

    @field_validator("description")
    @classmethod
    def no_card_number(cls, value: str | None) -> str | None:
        if value is not None and contains_card_number(value):
            raise ValueError("must not contain a card number")
        return value


class RotateSecretRequest(Request):
    overlap_seconds: int = Field(
        default=24 * 3600,
        ge=0,
        le=MAX_OVERLAP_SECONDS,
        description="How long the replaced secret still signs deliveries beside the new one.",
    )


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def endpoint_view(endpoint: Endpoint, secret: str | None = None) -> dict[str, object]:
    """An endpoint as the API answers it; the secret only when it was just made."""
    view: dict[str, object] = {
        "id": endpoint.id,
        "object": "webhook_endpoint",
        "url": endpoint.url,
        "enabled_events": list(endpoint.enabled_events),
        "description": endpoint.description,
        "created_at": endpoint.created_at.isoformat(),
        "secret_rotation_ends_at": _iso(
            max((s.expires_at for s in endpoint.secrets[1:] if s.expires_at), default=None)
        ),
    }
    if secret is not None:
        view["secret"] = secret
    return view


def delivery_view(delivery: Delivery) -> dict[str, object]:
    return {
        "id": delivery.id,
        "object": "webhook_delivery",
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "status": delivery.status.value,
        "created_at": delivery.created_at.isoformat(),
        "next_attempt_at": _iso(delivery.next_attempt_at),
        "attempts": [
            {
                "number": a.number,
                "at": a.at.isoformat(),
                "status_code": a.status_code,
                "latency_ms": a.latency_ms,
                "error": a.error,
            }
            for a in delivery.attempts
        ],
    }
