"""A workflow step's work, measured: what it decided (``domain.payment_metrics``) and how long
its own work took, recorded once through the ``MetricsRecorder`` port when the work returns.

A step that raises records nothing: the state machine retries or compensates it, and Lambda's
own error metric and the workflow's failed executions count it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from functions.contracts.steps import (
    CreateInput,
    DeclineInput,
    ProcessInput,
    ResumeInput,
    VoidInput,
)
from functions.domain.payment_metrics import (
    Measurement,
    MetricsRecorder,
    payment_decided,
    step_latency,
)
from functions.services.payment_processing import StepOutcome

T = TypeVar("T")


def measured(
    recorder: MetricsRecorder | None,
    work: Callable[[], T],
    measure: Callable[[T], list[Measurement]],
    clock: Callable[[], float] = time.perf_counter,
) -> T:
    """``work()``'s result; with a recorder, its measurements and its latency recorded."""
    if recorder is None:
        return work()
    started = clock()
    result = work()
    elapsed_ms = (clock() - started) * 1000
    recorder.record([*measure(result), step_latency(elapsed_ms)])
    return result


# The steps that decide a payment's outcome; capture, refund, cancel and pending only move an
# approved payment on (their latency is still measured).
_DECIDING_STEPS = (CreateInput, ResumeInput, DeclineInput, VoidInput)


def outcome_measures(step: ProcessInput) -> Callable[[StepOutcome], list[Measurement]]:
    """What ``process_payment``'s step decided, read from the payment it answers."""

    def measure(outcome: StepOutcome) -> list[Measurement]:
        if not isinstance(step, _DECIDING_STEPS):
            return []
        return payment_decided(outcome.payment.status, outcome.payment.decline_code)

    return measure
