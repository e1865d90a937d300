"""The local API's usage plans, as API Gateway enforces them: the token bucket (never more than
the burst at once, nor more than the rate over time), the key a method requires (missing,
unknown, disabled or on no plan of the stage: 403), a key over its rate (429 THROTTLED) without
slowing another key, the quota per period, and the THROTTLED gateway response's Retry-After.
No emulator: the backend is a stand-in with moto's attribute names."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from local.api_gateway import gateway_response
from local.usage_plans import TokenBucket, UsagePlans, UsageRefusal, quota_window


@given(
    rate=st.integers(min_value=1, max_value=50),
    burst=st.integers(min_value=1, max_value=100),
    gaps=st.lists(st.floats(min_value=0, max_value=0.5), min_size=1, max_size=300),
)
def test_a_bucket_admits_at_most_the_burst_plus_the_rate_over_the_time(
    rate: int, burst: int, gaps: list[float]
) -> None:
    bucket = TokenBucket(rate, burst, now=0.0)
    now, admitted = 0.0, 0
    for gap in gaps:
        now += gap
        admitted += bucket.take(now)
    assert admitted <= burst + rate * now + 1e-9


def test_a_bucket_admits_its_burst_at_once_then_one_per_refill() -> None:
    bucket = TokenBucket(2, 3, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(0.4) is False  # 0.8 of a token
    assert bucket.take(0.5) is True
    assert bucket.take(0.5) is False


@dataclass
class Key:
    id: str
    value: str
    enabled: bool = True


@dataclass
class Plan:
    id: str
    api_stages: list[dict[str, str]]
    throttle: dict[str, Any] = field(default_factory=dict)
    quota: dict[str, Any] = field(default_factory=dict)


@dataclass
class Backend:
    keys: dict[str, Key] = field(default_factory=dict)
    usage_plans: dict[str, Plan] = field(default_factory=dict)
    usage_plan_keys: dict[str, dict[str, object]] = field(default_factory=dict)


@dataclass
class Api:
    id: str = "api1"
    account_id: str = "123456789012"
    region_name: str = "us-east-1"
    gateway_responses: dict[str, Any] = field(default_factory=dict)


STAGE = [{"apiId": "api1", "stage": "v1"}]
FORBIDDEN = UsageRefusal("INVALID_API_KEY", 403, "Forbidden")
THROTTLED = UsageRefusal("THROTTLED", 429, "Too Many Requests")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def plans_with(backend: Backend, clock: Clock, day: list[dt.datetime] | None = None) -> UsagePlans:
    today = day or [dt.datetime(2026, 12, 2, 9, tzinfo=dt.UTC)]
    return UsagePlans(clock=clock, wall=lambda: today[0], backend=lambda api: backend)


def backend_of_two_merchants() -> Backend:
    return Backend(
        keys={"k1": Key("k1", "a" * 40), "k2": Key("k2", "b" * 40), "k3": Key("k3", "c" * 40)},
        usage_plans={
            "tiny": Plan("tiny", STAGE, {"rateLimit": 1.0, "burstLimit": 2}),
            "standard": Plan("standard", STAGE, {"rateLimit": 500.0, "burstLimit": 1000}),
        },
        usage_plan_keys={"tiny": {"k1": object()}, "standard": {"k2": object()}},
    )


def test_a_key_over_its_plan_is_throttled_and_another_key_is_not() -> None:
    clock = Clock()
    plans = plans_with(backend_of_two_merchants(), clock)
    api = Api()
    assert [plans.admit(api, "v1", "a" * 40) for _ in range(3)] == [None, None, THROTTLED]
    assert all(plans.admit(api, "v1", "b" * 40) is None for _ in range(50))
    clock.now += 1.0  # one token back at one a second
    assert plans.admit(api, "v1", "a" * 40) is None
    assert plans.admit(api, "v1", "a" * 40) == THROTTLED


def test_a_missing_unknown_disabled_or_planless_key_is_403() -> None:
    backend = backend_of_two_merchants()
    backend.keys["k2"].enabled = False
    plans = plans_with(backend, Clock())
    for presented in (None, "", "z" * 40, "b" * 40, "c" * 40):
        assert plans.admit(Api(), "v1", presented) == FORBIDDEN, presented
    # A plan of another stage or API does not count.
    assert plans.admit(Api(id="api2"), "v1", "a" * 40) == FORBIDDEN
    assert plans.admit(Api(), "v2", "a" * 40) == FORBIDDEN


def test_a_quota_counts_per_period_and_starts_again_in_the_next() -> None:
    backend = backend_of_two_merchants()
    backend.usage_plans["tiny"] = Plan("tiny", STAGE, quota={"limit": 2, "period": "DAY"})
    day = [dt.datetime(2026, 12, 2, 23, 59, tzinfo=dt.UTC)]
    plans = plans_with(backend, Clock(), day)
    over = UsageRefusal("QUOTA_EXCEEDED", 429, "Limit Exceeded")
    assert [plans.admit(Api(), "v1", "a" * 40) for _ in range(3)] == [None, None, over]
    day[0] += dt.timedelta(minutes=1)
    assert plans.admit(Api(), "v1", "a" * 40) is None


def test_quota_periods_are_utc_days_iso_weeks_and_months() -> None:
    at = dt.datetime(2026, 12, 31, 12, tzinfo=dt.UTC)
    assert quota_window("DAY", at) == "2026-12-31"
    assert quota_window("WEEK", at) == "2026-W53"
    assert quota_window("MONTH", at) == "2026-12"


def test_a_plan_changed_by_an_apply_takes_its_new_rate() -> None:
    backend = backend_of_two_merchants()
    clock = Clock()
    plans = plans_with(backend, clock)
    assert [plans.admit(Api(), "v1", "a" * 40) for _ in range(3)][-1] == THROTTLED
    backend.usage_plans["tiny"].throttle = {"rateLimit": 10.0, "burstLimit": 20}
    assert all(plans.admit(Api(), "v1", "a" * 40) is None for _ in range(20))


@dataclass
class GatewayResponse:
    status_code: str | None
    response_templates: dict[str, str]
    response_parameters: dict[str, str] = field(default_factory=dict)


def test_the_throttled_response_carries_its_static_retry_after() -> None:
    shaped = json.dumps({"error": {"type": "rate_limit_error", "code": "rate_limited"}})
    api = Api(
        gateway_responses={
            "THROTTLED": GatewayResponse(
                "429",
                {"application/json": shaped},
                {
                    "gatewayresponse.header.Retry-After": "'1'",
                    # A mapped value (not a literal) is API Gateway's to compute: left out here.
                    "gatewayresponse.header.X-Request": "context.requestId",
                },
            )
        }
    )
    status, headers, body = gateway_response(api, "THROTTLED", 429, "Too Many Requests")
    assert (status, headers["Retry-After"], json.loads(body)) == (429, "1", json.loads(shaped))
    assert "X-Request" not in headers
