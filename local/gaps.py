"""APIs moto 5.2.5 lacks that the real aws provider calls, filled in for the emulator.

Each patch is the smallest faithful stand-in for the missing API; the list of gaps, with
reasons, is in README.md ("How the local emulator differs from AWS").
"""

from __future__ import annotations

import json
from typing import Any


def install() -> None:
    _validate_state_machine_definition()
    _list_state_machine_versions()
    _start_sync_execution()
    serialize_dynamodb_writes()
    _reuse_interpreter_clients()
    _parse_each_definition_once()
    _describe_trails_by_name()


def _validate_state_machine_definition() -> None:
    """``ValidateStateMachineDefinition``: the aws provider calls it before creating a state
    machine. moto raises NotImplementedError (a 500 the SDK retries for minutes); here the
    definition goes through moto's own ASL parser, which is what executions use."""
    from moto.core.responses import ActionResult
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.responses import StepFunctionResponse

    def validate_state_machine_definition(self: Any) -> ActionResult:
        definition = self._get_param("definition")
        try:
            AmazonStateLanguageParser.parse(definition)
        except Exception as error:
            return ActionResult(
                {
                    "result": "FAIL",
                    "diagnostics": [
                        {
                            "severity": "ERROR",
                            "code": "SCHEMA_VALIDATION_FAILED",
                            "message": f"{type(error).__name__}: {error}"[:1000],
                        }
                    ],
                    "truncated": False,
                }
            )
        return ActionResult({"result": "OK", "diagnostics": [], "truncated": False})

    setattr(  # noqa: B010
        StepFunctionResponse, "validate_state_machine_definition", validate_state_machine_definition
    )


def _list_state_machine_versions() -> None:
    """``ListStateMachineVersions``: the aws provider reads it after creating a state machine
    (to set ``state_machine_version_arn``); moto keeps versions but has no API to list them."""
    from moto.core.responses import ActionResult
    from moto.stepfunctions.responses import StepFunctionResponse

    def list_state_machine_versions(self: Any) -> ActionResult:
        arn = self._get_param("stateMachineArn")
        machine = self.stepfunction_backend.describe_state_machine(arn)
        versions = [
            {"stateMachineVersionArn": version.arn, "creationDate": version.creation_date}
            for _, version in sorted(machine.versions.items(), reverse=True)
        ]
        return ActionResult({"stateMachineVersions": versions})

    setattr(StepFunctionResponse, "list_state_machine_versions", list_state_machine_versions)  # noqa: B010


def _start_sync_execution() -> None:
    """``StartSyncExecution``: the payment API runs the EXPRESS workflow synchronously. moto
    only has ``StartExecution``; here the execution starts the same way and the request waits
    for it to end, answering in the shape of AWS's synchronous call (status SUCCEEDED, FAILED
    or TIMED_OUT, with output or error and cause)."""
    import time
    import uuid

    from moto.core.responses import ActionResult
    from moto.stepfunctions.responses import StepFunctionResponse

    poll_interval_s = 0.002

    def start_sync_execution(self: Any) -> ActionResult:
        arn = self._get_param("stateMachineArn")
        name = self._get_param("name") or str(uuid.uuid4())
        execution = self.stepfunction_backend.start_execution(
            arn, name, self._get_param("input", if_none="{}")
        )
        # EXPRESS workflows end within 5 minutes on AWS; the same limit applies here.
        deadline = time.monotonic() + 300
        while execution.status == "RUNNING" and time.monotonic() < deadline:
            time.sleep(poll_interval_s)
        status = execution.status if execution.status in ("SUCCEEDED", "FAILED") else "TIMED_OUT"
        answer: dict[str, Any] = {
            "executionArn": execution.execution_arn,
            "stateMachineArn": arn,
            "name": execution.name,
            "status": status,
            "startDate": execution.start_date,
            "stopDate": execution.stop_date,
        }
        if status == "SUCCEEDED":
            answer["output"] = json.dumps(execution.output, separators=(",", ":"))
        for field in ("error", "cause"):
            if getattr(execution, field, None) is not None:
                answer[field] = getattr(execution, field)
        return ActionResult(answer)

    setattr(StepFunctionResponse, "start_sync_execution", start_sync_execution)  # noqa: B010


def serialize_dynamodb_writes() -> None:
    """DynamoDB checks a condition and writes atomically; moto checks and writes in two steps
    without a lock, so two concurrent conditional writes can both pass (two refunds spending
    one balance, two in-progress idempotency records). One lock around moto's writes restores
    the atomicity the payment code relies on. Safe to call more than once."""
    import functools
    import threading

    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend, "_payments_writes_serialized", False):
        return
    lock = threading.RLock()

    def serialized(write: Any) -> Any:
        @functools.wraps(write)
        def locked(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return write(*args, **kwargs)

        return locked

    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        setattr(DynamoDBBackend, name, serialized(getattr(DynamoDBBackend, name)))
    DynamoDBBackend._payments_writes_serialized = True  # type: ignore[attr-defined]


def _reuse_interpreter_clients() -> None:
    """Not a missing API but a cost: moto's Step Functions interpreter builds a new boto3 client
    for every Task it runs (tens of milliseconds each, most of a payment's latency here). The
    clients are thread-safe and identical per region and service, so one of each is kept."""
    import functools
    import importlib

    from moto.stepfunctions.parser.asl.utils import boto_client

    build = boto_client.boto_client_for

    @functools.cache
    def cached(region: str, service: str) -> Any:
        return build(region, service)

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        # moto signs every interpreter call with fixed test keys; the credentials don't matter.
        return cached(region, service)

    state_task = "moto.stepfunctions.parser.asl.component.state.exec.state_task"
    users = [
        f"{state_task}.lambda_eval_utils",
        *(
            f"{state_task}.service.state_task_service_{name}"
            for name in ("events", "dynamodb", "sqs", "sfn", "unsupported", "glue", "ecs")
        ),
    ]
    for name in users:
        module = importlib.import_module(name)
        module.boto_client_for = boto_client_for  # type: ignore[attr-defined]


def _parse_each_definition_once() -> None:
    """Also a cost, not a gap: moto parses a state machine's definition again for every
    execution (about 100 ms for the payment workflow). The parsed program keeps no execution
    state (that lives in each execution's environment), so one parse per definition serves
    every execution, as on AWS."""
    import functools

    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    @functools.lru_cache(maxsize=64)
    def parsed(definition: str) -> Any:
        return AmazonStateLanguageParser.parse(definition)[0]

    def entrypoint(self: Any) -> Any:
        return parsed(self._evaluation_details.state_machine_details.definition)

    setattr(ExecutionWorker, "_get_evaluation_entrypoint", entrypoint)  # noqa: B010


def _describe_trails_by_name() -> None:
    """``DescribeTrails`` with ``trailNameList``: moto ignores the list and returns every trail,
    so the aws provider's read of one trail fails ("too many results") once two exist."""

    from moto.cloudtrail.responses import CloudTrailResponse

    def describe_trails(self: Any) -> str:
        include_shadow_trails = self._get_bool_param("includeShadowTrails", True)
        wanted = set(self._get_param("trailNameList") or [])
        trails = [
            trail
            for trail in self.cloudtrail_backend.describe_trails(include_shadow_trails)
            if not wanted or trail.trail_name in wanted or trail.arn in wanted
        ]
        return json.dumps({"trailList": [t.description(include_region=True) for t in trails]})

    setattr(CloudTrailResponse, "describe_trails", describe_trails)  # noqa: B010
