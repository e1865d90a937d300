"""The webhooks' lines in the cost model (docs/decisions/0009): each payment event delivered to
one endpoint, each delivery two invocations, six SQS requests, three writes and three reads."""

from __future__ import annotations

import pytest

from bench.cost import model, prices
from bench.cost.usage import REQUIRED, Usage


def test_a_delivery_costs_what_the_adr_says() -> None:
    book = prices.load("eu-west-2")
    lines = {line.component: line for line in model.webhook_lines(book, 1.0)}
    assert lines["Webhook Lambda requests"].units == pytest.approx(2.0)
    assert lines["Webhook SQS requests"].units == pytest.approx(6.0)
    assert lines["Webhook delivery log writes"].units == pytest.approx(3.0)
    assert lines["Webhook endpoint and log reads"].units == pytest.approx(3.0)
    assert lines["Webhook Lambda duration"].units == pytest.approx(0.09)
    per_million_deliveries = sum(x.usd_per_million for x in lines.values())
    # ADR 0009's table: about 7.0 USD per million deliveries.
    assert per_million_deliveries == pytest.approx(7.0, abs=0.05)


def test_deliveries_follow_the_events_a_payment_publishes() -> None:
    book = prices.load("eu-west-2")
    one = sum(x.usd_per_payment for x in model.webhook_lines(book, 1.0))
    assert sum(x.usd_per_payment for x in model.webhook_lines(book, 2.0)) == pytest.approx(2 * one)


def test_the_hot_path_carries_the_webhook_lines() -> None:
    book = prices.load("eu-west-2")
    usage = Usage.from_results({name: {"value": 2.0, "unit": "x"} for name in REQUIRED}, "test")
    components = [x.component for x in model.shared_lines(book, usage, {})]
    assert "Webhook SQS requests" in components
    webhooks = [x for x in model.shared_lines(book, usage, {}) if x.component.startswith("Webhook")]
    assert sum(x.usd_per_payment for x in webhooks) == pytest.approx(
        sum(x.usd_per_payment for x in model.webhook_lines(book, 2.0))
    )
