"""Webhook endpoints, as a merchant manages them through the API: register (the signing secret
shown once), list, delete, rotate the secret with an overlap, and read an endpoint's delivery
log. Every use case acts for the merchant the API key authenticated: another merchant's endpoint
is a 404, as if it did not exist."""

from __future__ import annotations

import datetime as dt
import secrets as random_secrets
from dataclasses import dataclass

from functions.domain.webhooks import (
    ENDPOINT_PREFIX,
    MAX_ENDPOINTS_PER_MERCHANT,
    SECRET_PREFIX,
    DeliveryLog,
    Endpoint,
    EndpointStore,
    SealedSecret,
    SecretSealer,
    UrlPolicy,
    url_problem,
)
from functions.errors import ApiError
from functions.models.webhooks import (
    CreateEndpointRequest,
    RotateSecretRequest,
    delivery_view,
    endpoint_view,
)

ENDPOINT_ID_PARAM = "webhook_endpoint_id"
MAX_DELIVERIES_PAGE = 100


class WebhookProblem(Exception):
    """A request the webhook routes refuse, with the answer to give."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(error.code)
        self.error = error


def _missing() -> WebhookProblem:
    return WebhookProblem(
        ApiError(
            "invalid_request_error",
            "resource_missing",
            "No such webhook endpoint.",
            ENDPOINT_ID_PARAM,
            404,
        )
    )


def new_secret() -> str:
    """``whsec_`` and 32 random bytes, URL-safe base64."""
    return SECRET_PREFIX + random_secrets.token_urlsafe(32)


@dataclass
class WebhookEndpoints:
    store: EndpointStore
    log: DeliveryLog
    sealer: SecretSealer
    url_policy: UrlPolicy

    def create(
        self, merchant_id: str, request: CreateEndpointRequest, now: dt.datetime
    ) -> dict[str, object]:
        problem = url_problem(request.url, self.url_policy)
        if problem:
            raise WebhookProblem(
                ApiError(
                    "invalid_request_error", "parameter_invalid", f"url: {problem}.", "url", 400
                )
            )
        if len(self.store.endpoints(merchant_id)) >= MAX_ENDPOINTS_PER_MERCHANT:
            raise WebhookProblem(
                ApiError(
                    "invalid_request_error",
                    "limit_exceeded",
                    f"A merchant may register at most {MAX_ENDPOINTS_PER_MERCHANT} endpoints.",
                    "url",
                    400,
                )
            )
        endpoint_id = ENDPOINT_PREFIX + random_secrets.token_hex(12)
        secret = new_secret()
        sealed = SealedSecret(self.sealer.seal(secret, merchant_id, endpoint_id), now)
        endpoint = Endpoint(
            endpoint_id,
            merchant_id,
            request.url,
            tuple(request.enabled_events),
            request.description,
            now,
            (sealed,),
        )
        self.store.put_endpoint(endpoint)
        return endpoint_view(endpoint, secret)

    def list(self, merchant_id: str) -> dict[str, object]:
        endpoints = sorted(self.store.endpoints(merchant_id), key=lambda e: e.created_at)
        return {"object": "list", "data": [endpoint_view(e) for e in endpoints]}

    def delete(self, merchant_id: str, endpoint_id: str) -> dict[str, object]:
        if not self.store.delete_endpoint(merchant_id, endpoint_id):
            raise _missing()
        return {"id": endpoint_id, "object": "webhook_endpoint", "deleted": True}

    def rotate_secret(
        self, merchant_id: str, endpoint_id: str, request: RotateSecretRequest, now: dt.datetime
    ) -> dict[str, object]:
        current = self.store.get_endpoint(merchant_id, endpoint_id)
        if current is None:
            raise _missing()
        secret = new_secret()
        sealed = SealedSecret(self.sealer.seal(secret, merchant_id, endpoint_id), now)
        rotated = current.rotated(sealed, now + dt.timedelta(seconds=request.overlap_seconds))
        if not self.store.replace_secrets(rotated, current):
            raise WebhookProblem(
                ApiError(
                    "invalid_request_error",
                    "rotation_in_progress",
                    "The secret changed while rotating; try again.",
                    ENDPOINT_ID_PARAM,
                    409,
                )
            )
        return endpoint_view(rotated, secret)

    def deliveries(self, merchant_id: str, endpoint_id: str, limit: int) -> dict[str, object]:
        if self.store.get_endpoint(merchant_id, endpoint_id) is None:
            raise _missing()
        page = self.log.deliveries(endpoint_id, min(max(limit, 1), MAX_DELIVERIES_PAGE))
        return {"object": "list", "data": [delivery_view(d) for d in page]}
