from __future__ import annotations

import json

from local.event_sources import failed_item_ids
from local.lambda_runtime import InvocationResult


def ok(payload: object) -> InvocationResult:
    return InvocationResult(json.dumps(payload).encode(), None)


def test_a_function_error_fails_the_whole_batch() -> None:
    assert failed_item_ids(InvocationResult(b"{}", "Sandbox.Timedout"), True) is None


def test_without_report_batch_item_failures_a_response_is_ignored() -> None:
    assert failed_item_ids(ok({"batchItemFailures": [{"itemIdentifier": "1"}]}), False) == []


def test_partial_batch_responses_name_the_failed_items() -> None:
    response = {"batchItemFailures": [{"itemIdentifier": "7"}, {"itemIdentifier": "9"}]}
    assert failed_item_ids(ok(response), True) == ["7", "9"]
    assert failed_item_ids(ok({"batchItemFailures": []}), True) == []
    assert failed_item_ids(ok(None), True) == []


def test_a_malformed_partial_response_fails_the_whole_batch() -> None:
    assert failed_item_ids(ok({"batchItemFailures": [{"itemIdentifier": ""}]}), True) is None
    assert failed_item_ids(ok({"batchItemFailures": ["7"]}), True) is None
