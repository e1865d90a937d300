"""The endpoint use cases: the secret shown once and stored sealed, a merchant sees and changes
its own endpoints only, rotation keeps the replaced secret for its overlap, bad input names its
field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from pydantic import ValidationError

from functions.domain.webhooks import MAX_ENDPOINTS_PER_MERCHANT, UrlPolicy
from functions.models.webhooks import CreateEndpointRequest, RotateSecretRequest
from functions.services.webhook_endpoints import WebhookEndpoints, WebhookProblem
from tests.unit.webhooks.memory import ClearSealer, MemoryWebhookStore

T0 = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
URL = "https://hooks.example.com/in"


def service() -> tuple[WebhookEndpoints, MemoryWebhookStore]:
    store = MemoryWebhookStore()
    return WebhookEndpoints(store, store, ClearSealer(), UrlPolicy()), store


def create(svc: WebhookEndpoints, merchant: str = "m_1", url: str = URL) -> dict[str, object]:
    return svc.create(merchant, CreateEndpointRequest(url=url, enabled_events=["*"]), T0)


def test_the_secret_is_shown_once_and_stored_only_sealed() -> None:
    svc, store = service()
    created = create(svc)
    secret = str(created["secret"])
    assert secret.startswith("whsec_") and len(secret) > 40
    [stored] = store.endpoints("m_1")
    assert all(secret != s.ciphertext for s in stored.secrets)
    listed = svc.list("m_1")["data"]
    assert isinstance(listed, list) and "secret" not in listed[0]


def test_another_merchants_endpoint_is_missing() -> None:
    svc, _ = service()
    endpoint_id = str(create(svc)["id"])
    calls: list[Callable[[], object]] = [
        lambda: svc.delete("m_2", endpoint_id),
        lambda: svc.rotate_secret("m_2", endpoint_id, RotateSecretRequest(), T0),
        lambda: svc.deliveries("m_2", endpoint_id, 10),
    ]
    for call in calls:
        with pytest.raises(WebhookProblem) as refused:
            call()
        assert refused.value.error.status == 404
        assert refused.value.error.param == "webhook_endpoint_id"
    assert svc.list("m_2")["data"] == []


def test_rotation_returns_a_new_secret_and_keeps_the_old_for_the_overlap() -> None:
    svc, store = service()
    created = create(svc)
    rotated = svc.rotate_secret(
        "m_1", str(created["id"]), RotateSecretRequest(overlap_seconds=3600), T0
    )
    assert rotated["secret"] != created["secret"]
    assert rotated["secret_rotation_ends_at"] == (T0 + dt.timedelta(hours=1)).isoformat()
    [endpoint] = store.endpoints("m_1")
    assert len(endpoint.live_secrets(T0)) == 2
    assert len(endpoint.live_secrets(T0 + dt.timedelta(hours=1))) == 1


def test_a_second_rotation_ends_the_first_overlap_at_once() -> None:
    svc, store = service()
    endpoint_id = str(create(svc)["id"])
    svc.rotate_secret("m_1", endpoint_id, RotateSecretRequest(), T0)
    svc.rotate_secret("m_1", endpoint_id, RotateSecretRequest(), T0 + dt.timedelta(minutes=1))
    [endpoint] = store.endpoints("m_1")
    assert len(endpoint.secrets) == 2


def test_an_unsafe_url_is_a_400_naming_url() -> None:
    svc, _ = service()
    with pytest.raises(WebhookProblem) as refused:
        create(svc, url="https://169.254.169.254/latest")
    assert (refused.value.error.status, refused.value.error.param) == (400, "url")


def test_a_merchant_has_a_bounded_number_of_endpoints() -> None:
    svc, _ = service()
    for _ in range(MAX_ENDPOINTS_PER_MERCHANT):
        create(svc)
    with pytest.raises(WebhookProblem) as refused:
        create(svc)
    assert refused.value.error.code == "limit_exceeded"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": URL, "enabled_events": ["payment.exploded"]}, "enabled_events"),
        ({"url": URL, "enabled_events": []}, "enabled_events"),
        ({"url": URL}, "enabled_events"),
        ({"enabled_events": ["*"]}, "url"),
        ({"url": URL, "enabled_events": ["*"], "colour": "red"}, "colour"),
        (
            {"url": URL, "enabled_events": ["*"], "description": "4242 4242 4242 4242"},
            "description",
        ),
    ],
)
def test_bad_bodies_name_their_field(body: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        CreateEndpointRequest.model_validate(body)
    assert refused.value.errors()[0]["loc"][0] == field


def test_the_overlap_is_bounded() -> None:
    with pytest.raises(ValidationError):
        RotateSecretRequest(overlap_seconds=8 * 24 * 3600)
