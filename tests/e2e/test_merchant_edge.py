"""End to end on environments/local: the merchant edge as a client sees it through the local API
(the authorizer, usage plans and gateway responses as API Gateway runs them): a suspended
merchant's working key answers 403 in the error shape and a reactivated merchant is let in
again; a merchant on a tiny usage plan (environments/local's e2e_tiny: one request a second,
two at once) is throttled with 429 in the error shape while another merchant is not."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from local.api_client import ApiClient, ApiResponse, local_registry, onboard
from local.payments_demo import APPROVE
from local.payments_demo import payment_request as demo_payment_request
from tests.conftest import Emulator


def merchant(
    emulator: Emulator, api_env: dict[str, Any], name: str, tier: str | None = None
) -> ApiClient:
    """A merchant of this run alone, with a key no request has used (nothing cached)."""
    merchant_id = f"m_edge_{name}_{uuid.uuid4().hex[:8]}"
    if tier is None:
        issued = onboard(emulator.endpoint, api_env, merchant_id)
    else:
        registry = local_registry(emulator.endpoint, api_env)
        issued = registry.create_merchant(merchant_id, tier=tier)
    return ApiClient.for_merchant(emulator.api_endpoint, issued, api_env["api_name"])


def create(client: ApiClient, amount: int) -> ApiResponse:
    assert client.merchant_id is not None
    body = demo_payment_request(
        APPROVE, amount, merchant=client.merchant_id, device=f"dev_{client.merchant_id}"
    )
    return client.post("/v1/payments", body, idempotency_key=str(uuid.uuid4()))


def error_of(answer: ApiResponse) -> dict[str, Any]:
    error: dict[str, Any] = answer.body["error"]
    assert set(error) == {"type", "code", "message", "param"}, answer.body
    return error


def test_a_suspended_merchant_s_working_key_is_403_until_it_is_reactivated(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    registry = local_registry(emulator.endpoint, api_env)
    held = merchant(emulator, api_env, "held")
    bystander = merchant(emulator, api_env, "bystander")
    assert held.merchant_id is not None
    registry.suspend(held.merchant_id)

    refused = create(held, 1000)
    assert refused.status == 403, refused.body
    error = error_of(refused)
    assert (error["type"], error["code"]) == ("permission_error", "merchant_suspended")
    assert "suspended" in error["message"]
    # Every route, GET as well as POST, and another merchant is not touched.
    assert error_of(held.get("/v1/payments/pay_missing"))["code"] == "merchant_suspended"
    assert create(bystander, 1000).status == 201

    # Reactivated: a key that was never denied works at once; the denied key's cached answer
    # lasts the authorizer's TTL (300 s), as on AWS (ADR 0008).
    registry.reactivate(held.merchant_id)
    fresh = ApiClient.for_merchant(
        emulator.api_endpoint, registry.issue_key(held.merchant_id), api_env["api_name"]
    )
    made = create(fresh, 1000)
    assert made.status == 201, made.body
    assert error_of(create(held, 1000))["code"] == "merchant_suspended"


def test_a_merchant_over_its_usage_plan_gets_429_and_another_merchant_does_not(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    tiny = merchant(emulator, api_env, "tiny", tier="e2e_tiny")
    other = merchant(emulator, api_env, "other")
    # One request each first: the authorizer's answers are cached, so the burst below meets the
    # usage plan at once (and no authorizer concurrency limit).
    assert tiny.get("/v1/payments/pay_missing").status == 404
    assert other.get("/v1/payments/pay_missing").status == 404
    # A burst of five: the tiny plan has at most two tokens and earns one a second.
    with ThreadPoolExecutor(max_workers=5) as pool:
        burst = list(pool.map(lambda _: tiny.get("/v1/payments/pay_missing"), range(5)))
    throttled = [a for a in burst if a.status == 429]
    assert throttled, [a.status for a in burst]
    for answer in throttled:
        error = error_of(answer)
        assert (error["type"], error["code"]) == ("rate_limit_error", "rate_limited")
        assert answer.headers.get("Retry-After") == "1"
    # What was let through reached the function (its 404 for a payment that is not there).
    assert {a.status for a in burst} <= {404, 429}
    # The other merchant, at the same moment, is on its own plan.
    assert [other.get("/v1/payments/pay_missing").status for _ in range(5)] == [404] * 5
