"""bench_credit's metered BNPL figures: a window's units counted on the operation's own
functions only, a collections run's units divided by the instalments it charged, and the
collections per payment taken from the measured plan's schedule."""

from __future__ import annotations

from typing import Any

import pytest

from bench.bench_credit import METERED_UNITS, metered_figures, window_units


def window(**units: float) -> dict[str, Any]:
    return {
        "counts": {
            "api_requests": 1,
            "data:lambda:pay-bnpl": 2,
            "data:lambda:pay-score-fraud": 7,  # a consumer polling beside the operation
            "api:kms:Decrypt": 3,
            "api:kms:GenerateDataKey": 1,
            "events_published": 2,
        },
        "dynamodb_write_units": 10.0,
        "dynamodb_read_units": 4.0,
        "log_bytes": 900.0,
        "step_functions_express_billed_ms": 200.0,
        "lambda_gb_seconds:pay-bnpl": 0.5,
        "lambda_gb_seconds:pay-score-fraud": 9.0,
        **units,
    }


def test_a_window_counts_lambda_on_the_operations_path_only() -> None:
    units = window_units(window(), frozenset({"pay-bnpl"}))
    assert set(units) == set(METERED_UNITS)
    assert (units["lambda_invocations"], units["lambda_gb_seconds"]) == (2, 0.5)
    assert units["kms_calls"] == 4 and units["dynamodb_write_units"] == 10.0


def test_a_collection_is_the_runs_units_per_instalment_charged() -> None:
    checkout = window_units(window(), frozenset({"pay-bnpl"}))
    run = window_units(window(dynamodb_write_units=50.0), frozenset({"pay-bnpl"}))
    figures = metered_figures(checkout, run, collected=5)
    assert figures["bnpl_checkout_dynamodb_write_units"]["value"] == 10.0
    assert figures["bnpl_collection_dynamodb_write_units"]["value"] == 10.0
    assert figures["bnpl_collection_lambda_invocations"]["value"] == pytest.approx(0.4)
    # pay_in_4: the first instalment at checkout, three collected.
    assert figures["bnpl_collections_per_payment"]["value"] == 3
    with pytest.raises(RuntimeError, match="charged nothing"):
        metered_figures(checkout, run, collected=0)
