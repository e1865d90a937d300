"""Asynchronous invocations as Lambda runs them (local.emulator.LambdaBridge.invoke_async): the
event invoke configuration's retries and event age, and the destinations' invocation records.

The emulator waits 0.2 s and 0.4 s between attempts where Lambda waits about one and two
minutes, but ages the event as Lambda would; a fake clock makes each invocation take a second.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

import local.event_sources
from local.emulator import LambdaBridge
from local.lambda_runtime import InvocationResult

FUNCTION_ARN = "arn:aws:lambda:eu-west-2:123456789012:function:f"
SUCCESS_QUEUE = "arn:aws:sqs:eu-west-2:123456789012:successes"
FAILURE_QUEUE = "arn:aws:sqs:eu-west-2:123456789012:failures"
DEAD_LETTERS = "arn:aws:sqs:eu-west-2:123456789012:dead-letters"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += float(seconds)


def run(
    outcomes: list[bool],
    settings: dict[str, Any],
    dead_letter: str | None = None,
    queued_ago_s: float = 0.0,
) -> tuple[int, list[tuple[str, Any]]]:
    """Invoke asynchronously with the given outcomes (True: the attempt fails) an event queued
    ``queued_ago_s`` before; the number of attempts and what reached which destination."""
    clock = Clock()
    bridge = LambdaBridge(runtime=None)  # type: ignore[arg-type]
    bridge.clock = clock
    bridge.sleep = clock.sleep  # type: ignore[assignment]
    attempts: list[int] = []

    def invoke_sync(function: Any, event: Any) -> InvocationResult:
        failed = outcomes[len(attempts)]
        attempts.append(1)
        clock.now += 1.0  # each attempt runs for a second
        if failed:
            return InvocationResult(b'{"errorType": "RuntimeError"}', "RuntimeError")
        return InvocationResult(b'{"ok": true}', None)

    bridge.invoke_sync = invoke_sync  # type: ignore[method-assign]
    delivered: list[tuple[str, Any]] = []
    function = SimpleNamespace(
        function_arn=FUNCTION_ARN,
        event_invoke_config=[SimpleNamespace(config=settings)],
        dead_letter_config={"TargetArn": dead_letter} if dead_letter else None,
    )

    def deliver(arn: str, body: str, function_arn: str = "") -> None:
        delivered.append((arn, json.loads(body)))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(local.event_sources, "deliver_to_destination", deliver)
        bridge.invoke_async(function, {"n": 1}, queued_at=clock() - queued_ago_s)
    return len(attempts), delivered


DESTINATIONS = {
    "DestinationConfig": {
        "OnSuccess": {"Destination": SUCCESS_QUEUE},
        "OnFailure": {"Destination": FAILURE_QUEUE},
    }
}


def test_a_success_sends_lambdas_record_with_the_response_to_the_on_success_destination() -> None:
    attempts, delivered = run([True, False], DESTINATIONS)
    assert attempts == 2
    [(arn, record)] = delivered
    assert arn == SUCCESS_QUEUE
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestPayload"] == {"n": 1}
    assert record["responsePayload"] == {"ok": True}
    assert "functionError" not in record["responseContext"]


def test_a_success_without_an_on_success_destination_sends_nothing() -> None:
    settings = {"DestinationConfig": {"OnFailure": {"Destination": FAILURE_QUEUE}}}
    assert run([False], settings) == (1, [])


@pytest.mark.parametrize(
    ("max_age_s", "attempts", "condition"),
    [
        # Lambda's first retry comes about a minute later: past a 60 s maximum age.
        (60, 1, "EventAgeExceeded"),
        # The first retry (at ~61 s) is within 120 s, the second (at ~182 s) is not.
        (120, 2, "EventAgeExceeded"),
        (180, 2, "EventAgeExceeded"),
        (183, 3, "RetriesExhausted"),
        (None, 3, "RetriesExhausted"),
    ],
)
def test_retries_stop_when_the_event_is_older_than_its_maximum_age(
    max_age_s: int | None, attempts: int, condition: str
) -> None:
    settings: dict[str, Any] = dict(DESTINATIONS)
    if max_age_s is not None:
        settings["MaximumEventAgeInSeconds"] = max_age_s
    made, delivered = run([True, True, True], settings)
    assert made == attempts
    [(arn, record)] = delivered
    assert arn == FAILURE_QUEUE
    assert record["requestContext"]["condition"] == condition
    assert record["requestContext"]["approximateInvokeCount"] == attempts
    assert record["responseContext"]["functionError"] == "Unhandled"


def test_maximum_retry_attempts_bounds_the_attempts() -> None:
    made, [(_, record)] = run([True], {**DESTINATIONS, "MaximumRetryAttempts": 0})
    assert made == 1
    assert record["requestContext"]["condition"] == "RetriesExhausted"


def test_an_event_already_too_old_is_not_run_and_its_record_has_no_response() -> None:
    settings = {**DESTINATIONS, "MaximumEventAgeInSeconds": 60}
    made, [(arn, record)] = run([], settings, queued_ago_s=61)
    assert (made, arn) == (0, FAILURE_QUEUE)
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert "responsePayload" not in record


def test_without_an_on_failure_destination_the_event_goes_to_the_dead_letter_queue() -> None:
    made, delivered = run([True, True, True], {}, dead_letter=DEAD_LETTERS)
    assert made == 3
    assert delivered == [(DEAD_LETTERS, {"n": 1})]
