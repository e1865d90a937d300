"""API Gateway usage plans on the local API: the API key a method requires, and each key's
throttle (a token bucket per key and plan: ``rateLimit`` tokens a second up to ``burstLimit``)
and quota (requests per DAY, WEEK or MONTH, UTC), read from the plans and keys Terraform and the
merchant registry created on the emulator. moto stores usage plans and keys and enforces
neither (README's emulator table).

What a client can observe is API Gateway's: a missing, unknown or disabled key, or a key on no
plan of the stage, is 403 ``INVALID_API_KEY``; a key over its rate is 429 ``THROTTLED``; over
its quota 429 ``QUOTA_EXCEEDED``. Each then takes the API's gateway response.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class UsageRefusal:
    response_type: str
    status: int
    text: str


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` held; a request takes one. API Gateway's
    model of a usage plan's throttle (and the stage's)."""

    def __init__(self, rate: float, burst: int, now: float) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a bucket needs a positive rate and a burst of at least 1")
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._updated = now

    def take(self, now: float) -> bool:
        """One request at ``now``: True if a token was there (and is taken)."""
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
        self._updated = max(self._updated, now)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


def quota_window(period: str, at: dt.datetime) -> str:
    """The quota period ``at`` falls in (UTC): a day, an ISO week or a calendar month."""
    if period == "DAY":
        return at.strftime("%Y-%m-%d")
    if period == "WEEK":
        year, week, _ = at.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "MONTH":
        return at.strftime("%Y-%m")
    raise ValueError(f"unknown quota period {period}")


def _backend(api: Any) -> Any:
    from moto.apigateway.models import apigateway_backends

    return apigateway_backends[api.account_id][api.region_name]


class UsagePlans:
    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        backend: Callable[[Any], Any] = _backend,
    ) -> None:
        self._clock = clock
        self._wall = wall
        self._backend = backend
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._used: dict[tuple[str, str, str], int] = {}

    def admit(self, api: Any, stage: str, key_value: str | None) -> UsageRefusal | None:
        """None when the request may go on; else API Gateway's refusal."""
        backend = self._backend(api)
        key = next(
            (k for k in list(backend.keys.values()) if key_value and k.value == key_value), None
        )
        if key is None or not key.enabled:
            return UsageRefusal("INVALID_API_KEY", 403, "Forbidden")
        plans = [
            plan
            for plan in self._plans_of(backend, key.id)
            if {"apiId": api.id, "stage": stage} in list(plan.api_stages or [])
        ]
        if not plans:
            return UsageRefusal("INVALID_API_KEY", 403, "Forbidden")
        # A key belongs to at most one plan per stage on AWS (a second is refused).
        plan = plans[0]
        with self._lock:
            throttle = plan.throttle or {}
            if throttle.get("rateLimit") and throttle.get("burstLimit"):
                bucket = self._buckets.get((plan.id, key.id))
                if bucket is None or (bucket.rate, bucket.burst) != (
                    float(throttle["rateLimit"]),
                    int(throttle["burstLimit"]),
                ):
                    bucket = TokenBucket(
                        float(throttle["rateLimit"]), int(throttle["burstLimit"]), self._clock()
                    )
                    self._buckets[(plan.id, key.id)] = bucket
                if not bucket.take(self._clock()):
                    return UsageRefusal("THROTTLED", 429, "Too Many Requests")
            quota = plan.quota or {}
            if quota.get("limit") and quota.get("period"):
                window = quota_window(str(quota["period"]), self._wall())
                counted = (plan.id, key.id, window)
                if self._used.get(counted, 0) >= int(quota["limit"]):
                    return UsageRefusal("QUOTA_EXCEEDED", 429, "Limit Exceeded")
                self._used[counted] = self._used.get(counted, 0) + 1
        return None

    @staticmethod
    def _plans_of(backend: Any, key_id: str) -> Iterable[Any]:
        return [
            plan
            for plan_id, plan in list(backend.usage_plans.items())
            if key_id in (backend.usage_plan_keys.get(plan_id) or {})
        ]
