"""The merchant authorizer's lines in the cost model (docs/decisions/0008): a payment's API
requests times the stated miss rate, each miss one invocation, its duration and two read units
(the key, then its merchant's status)."""

from __future__ import annotations

import pytest

from bench.cost import model, prices
from bench.cost.usage import REQUIRED, Usage


def test_a_miss_is_an_invocation_its_duration_and_two_registry_reads() -> None:
    book = prices.load("eu-west-2")
    lines = {line.component: line for line in model.authorizer_lines(book, 2.0)}
    misses = 2.0 * (1 - model.AUTHORIZER_CACHE_HIT_RATE)
    assert lines["Merchant authorizer requests"].units == pytest.approx(misses)
    assert lines["Merchant registry reads"].units == pytest.approx(2 * misses)
    assert lines["Merchant authorizer duration"].units == pytest.approx(misses * 0.25 * 0.015)
    per_million_requests = sum(x.usd_per_million for x in model.authorizer_lines(book, 1.0))
    # The ADR's figure: 0.56 USD per million misses, 0.056 per million requests at 90 % hits.
    assert per_million_requests == pytest.approx(0.056, abs=0.0005)


def test_the_hot_path_carries_the_authorizer_lines() -> None:
    book = prices.load("eu-west-2")
    shared = model.shared_lines(book, _usage(), {})
    assert [x.component for x in shared[:3]] == [
        "Merchant authorizer requests",
        "Merchant authorizer duration",
        "Merchant registry reads",
    ]


def _usage() -> Usage:
    return Usage.from_results({name: {"value": 1.0, "unit": "x"} for name in REQUIRED}, "test")
