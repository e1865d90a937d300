"""bench_payments counts a payment's own path: the API function and the workflow's tasks. What
its events drive beside it (the fraud stream's consumer, the lake's transform) is measured in
the same window but priced per stream record elsewhere, so it must not inflate the payment's
invocations, write units, log bytes or GB-seconds."""

from __future__ import annotations

import json
from typing import Any

from bench.bench_payments import Beside, figures, split

API = "payments-local-payments-api"
TASKS = ("payments-local-assess-risk", "payments-local-process-payment")
CONSUMER = "payments-local-fraud-consumer"
DEFINITION = json.dumps(
    {
        "States": {
            name: {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {
                    "FunctionName": f"arn:aws:lambda:eu-west-2:123456789012:function:{name}"
                },
            }
            for name in TASKS
        }
    }
)
OUTPUTS: dict[str, object] = {
    "payments_api_function_name": API,
    "fraud_stream": {"feature_table_name": "features", "block_list_table_name": "blocks"},
}


def window() -> dict[str, Any]:
    counts = {
        f"data:lambda:{API}": 1,
        f"data:lambda:{TASKS[0]}": 1,
        f"data:lambda:{TASKS[1]}": 2,
        f"data:lambda:{CONSUMER}": 3,
        "wcu:dynamodb:payments": 9,
        "wcu:dynamodb:features": 5,
        "wcu:dynamodb:blocks": 1,
        f"log_group_bytes:/aws/lambda/{TASKS[1]}": 200,
        f"log_group_bytes:/aws/lambda/{CONSUMER}": 700,
        "state_transitions": 5,
    }
    return {
        "counts": counts,
        "dynamodb_write_units": 15,
        "dynamodb_read_units": 10,
        "log_bytes": 900,
        "step_functions_express_billed_ms": 300,
        f"lambda_gb_seconds:{API}": 0.1,
        f"lambda_gb_seconds:{TASKS[1]}": 0.2,
        f"lambda_gb_seconds:{CONSUMER}": 0.5,
    }


def test_the_path_is_the_api_function_and_the_definitions_tasks() -> None:
    side = split(DEFINITION, OUTPUTS, window()["counts"])
    assert side == Beside(
        path=frozenset({API, *TASKS}),
        functions=frozenset({CONSUMER}),
        tables=frozenset({"features", "blocks"}),
    )


def test_what_ran_beside_is_left_out_of_the_payments_own_figures() -> None:
    used = window()
    found = figures(used, split(DEFINITION, OUTPUTS, used["counts"]), [100.0, 200.0], {})
    assert found["payment_lambda_invocations"]["value"] == 4
    assert found["payment_beside_lambda_invocations"]["value"] == 3
    assert found["payment_dynamodb_write_units"]["value"] == 9
    assert found["payment_beside_dynamodb_write_units"]["value"] == 6
    assert found["payment_log_bytes"]["value"] == 200
    assert found["payment_lambda_gb_seconds"]["value"] == 0.3
    assert "payment_dynamodb_write_units:features" not in found
    assert found["payment_dynamodb_write_units:payments"]["value"] == 9


def test_without_a_stream_every_table_is_the_payments() -> None:
    used = window()
    side = split(DEFINITION, {"payments_api_function_name": API}, used["counts"])
    assert side.tables == frozenset()
    assert figures(used, side, [1.0], {})["payment_dynamodb_write_units"]["value"] == 15
