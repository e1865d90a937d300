"""Run a payment through the EXPRESS state machine on the emulator and wait for its answer.

On AWS the API calls ``StartSyncExecution``; moto does not implement it, so locally the same
execution is started with ``StartExecution`` and polled with ``DescribeExecution``.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

POLL_INTERVAL_S = 0.02
DEFAULT_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class ExecutionOutcome:
    name: str
    status: str
    output: dict[str, Any] | None
    error: str | None
    cause: str | None


def new_payment_id() -> str:
    return f"pay_{uuid.uuid4().hex}"


def run_execution(
    sfn: Any,
    state_machine_arn: str,
    payload: dict[str, Any],
    name: str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> ExecutionOutcome:
    name = name or new_payment_id()
    started = sfn.start_execution(
        stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload)
    )
    deadline = time.monotonic() + timeout_s
    while True:
        described = sfn.describe_execution(executionArn=started["executionArn"])
        if described["status"] != "RUNNING":
            output = described.get("output")
            return ExecutionOutcome(
                name=name,
                status=described["status"],
                output=json.loads(output) if output else None,
                error=described.get("error"),
                cause=described.get("cause"),
            )
        if time.monotonic() > deadline:
            raise TimeoutError(f"execution {name} still running after {timeout_s:.0f}s")
        time.sleep(POLL_INTERVAL_S)
