"""APIs moto 5.2.5 lacks that the real aws provider calls, filled in for the emulator.

Each patch is the smallest faithful stand-in for the missing API; the list of gaps, with
reasons, is in README.md ("How the local emulator differs from AWS").
"""

from __future__ import annotations

import json
import threading
from typing import Any, cast

from local import gaps_events, gaps_readback, gaps_security


def install() -> None:
    _validate_state_machine_definition()
    _list_state_machine_versions()
    _start_sync_execution()
    serialize_dynamodb_writes()
    serialize_kinesis_puts()
    _reuse_interpreter_clients()
    _parse_each_definition_once()
    _describe_trails_by_name()
    _deliver_execution_logs()
    _keep_lambda_logging_config()
    _deliver_rule_targets_to_kinesis()
    gaps_events.install()
    gaps_security.install()
    gaps_readback.install()
    _list_tags_of_untagged_athena_resources()
    _delete_athena_named_queries()


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

    from local import metering

    ended = _execution_ended()

    def start_sync_execution(self: Any) -> ActionResult:
        arn = self._get_param("stateMachineArn")
        name = self._get_param("name") or str(uuid.uuid4())
        execution = self.stepfunction_backend.start_execution(
            arn, name, self._get_param("input", if_none="{}")
        )
        # EXPRESS workflows end within 5 minutes on AWS; the same limit applies here.
        deadline = time.monotonic() + 300
        with ended:
            while execution.status == "RUNNING":
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                # The timeout is a safety net for an execution that ends by a path that does
                # not call terminated.
                ended.wait(min(remaining, 0.05))
        status = execution.status if execution.status in ("SUCCEEDED", "FAILED") else "TIMED_OUT"
        if execution.start_date is not None and execution.stop_date is not None:
            elapsed = execution.stop_date - execution.start_date
            metering.express_execution(elapsed.total_seconds() * 1000)
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


def _execution_ended() -> threading.Condition:
    """A condition notified whenever a Step Functions execution ends. Requests waiting for an
    execution sleep on it instead of polling: a 2 ms poll per waiting request took about a third
    of the emulator's CPU at 16 concurrent payments (make load's profile), on the one
    interpreter that serves every other call too."""
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    existing: threading.Condition | None = getattr(
        BaseExecutionWorkerCommunication, "_payments_ended", None
    )
    if existing is not None:
        return existing
    ended = threading.Condition()
    terminated = BaseExecutionWorkerCommunication.terminated

    def notify_terminated(self: Any) -> None:
        try:
            terminated(self)
        finally:
            with ended:
                ended.notify_all()

    setattr(BaseExecutionWorkerCommunication, "terminated", notify_terminated)  # noqa: B010
    BaseExecutionWorkerCommunication._payments_ended = ended  # type: ignore[attr-defined]
    return ended


# moto's DynamoDB writes, one at a time (serialize_dynamodb_writes); re-entrant, because a
# transaction's writes call put_item and update_item, and local.speedups takes it too.
DYNAMODB_WRITES = threading.RLock()


def serialize_dynamodb_writes() -> None:
    """DynamoDB checks a condition and writes atomically; moto checks and writes in two steps
    without a lock, so two concurrent conditional writes can both pass (two refunds spending
    one balance, two in-progress idempotency records). One lock around moto's writes restores
    the atomicity the payment code relies on. Safe to call more than once."""
    import functools

    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend, "_payments_writes_serialized", False):
        return

    def serialized(write: Any) -> Any:
        @functools.wraps(write)
        def locked(*args: Any, **kwargs: Any) -> Any:
            with DYNAMODB_WRITES:
                return write(*args, **kwargs)

        return locked

    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        setattr(DynamoDBBackend, name, serialized(getattr(DynamoDBBackend, name)))
    DynamoDBBackend._payments_writes_serialized = True  # type: ignore[attr-defined]


def serialize_kinesis_puts() -> None:
    """A Kinesis shard gives each record the next sequence number and adds it atomically; moto
    reads the shard's highest number and then adds the record, without a lock, so two puts at
    once (the payment workflow's events and the fraud consumer's alerts arrive on different
    request threads) take the same number and one record replaces the other, or a record lands
    behind one a reader has already passed. Either way a consumer never sees it. One lock
    around moto's put restores the order every stream reader relies on. Safe to call more than
    once."""
    import functools
    import threading

    from moto.kinesis.models import Shard

    if getattr(Shard, "_payments_puts_serialized", False):
        return
    lock = threading.Lock()
    put = Shard.put_record

    @functools.wraps(put)
    def locked(self: Any, *args: Any, **kwargs: Any) -> str:
        with lock:
            return put(self, *args, **kwargs)

    setattr(Shard, "put_record", locked)  # noqa: B010
    Shard._payments_puts_serialized = True  # type: ignore[attr-defined]


def _reuse_interpreter_clients() -> None:
    """Not a missing API but a cost: moto's Step Functions interpreter builds a new boto3 client
    for every Task it runs (tens of milliseconds each, most of a payment's latency here). The
    clients are thread-safe and identical per region, service and role session, so one of each
    is kept."""
    import functools
    import importlib

    from moto.stepfunctions.parser.asl.utils import boto_client

    build = boto_client.boto_client_for

    @functools.cache
    def cached(region: str, service: str) -> Any:
        return build(region, service)

    @functools.lru_cache(maxsize=256)
    def as_session(region: str, service: str, access_key: str, secret: str, token: str) -> Any:
        import boto3

        client = cached(region, service)
        factory: Any = boto3.client  # typed per service literal; ours is a runtime string
        return factory(
            service,
            region_name=region,
            endpoint_url=client.meta.endpoint_url,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret,
            aws_session_token=token,
            config=client.meta.config,
        )

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        # moto signs every task with fixed keys (the emulator's administrator); Step Functions
        # acts as the state machine's role (or the task's Credentials role), so the clients
        # sign with a session of that role and IAM decides what the workflow may call. A
        # renewed session is a new client; the old one is dropped from the cache in time.
        from local import enforcement

        role_arn = getattr(state_credentials, "role_arn", None)
        if not role_arn or ":role/" not in str(role_arn):
            return cached(region, service)
        session = enforcement.SESSIONS.credentials("states.amazonaws.com", str(role_arn), "states")
        return as_session(
            region,
            service,
            session.access_key_id,
            session.secret_access_key,
            session.session_token,
        )

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


def _deliver_execution_logs() -> None:
    """Step Functions execution logs: moto reads a state machine's ``loggingConfiguration`` but
    starts every execution without a logging session (``cloud_watch_logging_session=None``), and
    its session would fail anyway (it hands ``LogEvent`` objects to a backend expecting dicts).
    Here each execution gets the session its state machine's configuration asks for, and each
    history event that the level admits (ALL, ERROR, FATAL, OFF, as AWS defines them) is written
    to the log group as one JSON line, without input and output unless
    ``includeExecutionData`` is true. The bytes written are what the meter counts."""
    import functools
    import logging
    import threading
    from datetime import datetime

    from moto.logs.models import logs_backends
    from moto.stepfunctions.parser.asl.eval.event import logging as sfn_logging
    from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
    from moto.stepfunctions.parser.backend.execution import Execution

    if getattr(Execution, "_payments_logging", False):
        return
    LOG = logging.getLogger("local.gaps")
    lock = threading.Lock()
    original_init = Execution.__init__

    @functools.wraps(original_init)
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        if self._cloud_watch_logging_session is not None:
            return
        machine = self.state_machine
        # includeExecutionData is optional in the API (false when absent).
        configuration = {
            "includeExecutionData": False,
            **(getattr(machine, "loggingConfiguration", None) or {}),
        }
        cloud_watch = sfn_logging.CloudWatchLoggingConfiguration.from_logging_configuration(
            state_machine_arn=machine.arn, logging_configuration=cast(Any, configuration)
        )
        if cloud_watch is not None:
            self._cloud_watch_logging_session = sfn_logging.CloudWatchLoggingSession(
                execution_arn=self.exec_arn, configuration=cloud_watch
            )

    def publish_history_log(self: Any, history_log: Any) -> None:
        stamp = history_log["event_timestamp"]
        when = stamp if isinstance(stamp, datetime) else datetime.now()
        stamp_ms = int(when.timestamp() * 1000)
        record = {**history_log, "event_timestamp": str(stamp_ms)}
        message = to_json_str(record, separators=(",", ":"))
        config = self.configuration
        backend = logs_backends[config.log_account_id][config.log_region]
        if config.log_group_name not in backend.groups:
            return  # AWS drops the delivery too when the group is missing
        group = backend.groups[config.log_group_name]
        with lock:
            if config.log_stream_name not in group.streams:
                backend.create_log_stream(config.log_group_name, config.log_stream_name)
        backend.put_log_events(
            config.log_group_name,
            config.log_stream_name,
            [{"timestamp": stamp_ms, "message": message}],
        )

    def publish_safely(self: Any, history_log: Any) -> None:
        # A log line that cannot be written never fails the execution it describes.
        try:
            publish_history_log(self, history_log)
        except Exception:
            LOG.exception("could not write a Step Functions execution log event")

    Execution.__init__ = init  # type: ignore[method-assign]
    Execution._payments_logging = True  # type: ignore[attr-defined]
    setattr(  # noqa: B010
        sfn_logging.CloudWatchLoggingSession, "publish_history_log", publish_safely
    )


def _keep_lambda_logging_config() -> None:
    """A Lambda function's ``LoggingConfig``: moto drops it from ``CreateFunction`` and
    ``UpdateFunctionConfiguration`` and never returns it, so the aws provider would plan its
    ``logging_config`` again after every apply and the local runtime could not honour it. Here it
    is kept and completed as Lambda does (``Text`` into ``/aws/lambda/<name>`` by default, both
    levels ``INFO`` by default with ``JSON``, levels refused with ``Text``) and returned with the
    function's configuration; ``local.emulator.function_config`` hands it to the runtime."""
    from moto.awslambda.exceptions import InvalidParameterValueException
    from moto.awslambda.models import LambdaFunction

    if getattr(LambdaFunction, "_payments_logging_config", False):
        return
    formats = ("JSON", "Text")
    levels = {
        "ApplicationLogLevel": ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"),
        "SystemLogLevel": ("DEBUG", "INFO", "WARN"),
    }

    def completed(
        function_name: str, requested: dict[str, Any], current: dict[str, Any]
    ) -> dict[str, Any]:
        config = {**current, **requested}
        log_format = config.get("LogFormat") or "Text"
        if log_format not in formats:
            raise InvalidParameterValueException(f"LogFormat must be one of {', '.join(formats)}")
        config["LogFormat"] = log_format
        config["LogGroup"] = config.get("LogGroup") or f"/aws/lambda/{function_name}"
        for key, allowed in levels.items():
            if log_format == "Text":
                if requested.get(key):
                    raise InvalidParameterValueException(
                        f'{key} is not supported when LogFormat is set to "Text". Remove '
                        f'{key} from your request or change the LogFormat to "JSON".'
                    )
                config.pop(key, None)
                continue
            config[key] = config.get(key) or "INFO"
            if config[key] not in allowed:
                raise InvalidParameterValueException(f"{key} must be one of {', '.join(allowed)}")
        return config

    original_init = LambdaFunction.__init__
    original_get_configuration = LambdaFunction.get_configuration
    original_update_configuration = LambdaFunction.update_configuration

    def init(self: Any, account_id: str, spec: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        logging_config = completed(spec["FunctionName"], spec.get("LoggingConfig") or {}, {})
        original_init(self, account_id, spec, *args, **kwargs)
        self.logging_config = logging_config

    def get_configuration(self: Any, on_create: bool = False) -> dict[str, Any]:
        configuration = original_get_configuration(self, on_create)
        configuration["LoggingConfig"] = dict(getattr(self, "logging_config", None) or {})
        return configuration

    def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "LoggingConfig" in config_updates:
            current = getattr(self, "logging_config", None) or {}
            self.logging_config = completed(
                self.function_name, config_updates["LoggingConfig"] or {}, current
            )
        return original_update_configuration(self, config_updates)

    setattr(LambdaFunction, "__init__", init)  # noqa: B010
    setattr(LambdaFunction, "get_configuration", get_configuration)  # noqa: B010
    setattr(LambdaFunction, "update_configuration", update_configuration)  # noqa: B010
    LambdaFunction._payments_logging_config = True  # type: ignore[attr-defined]


def _deliver_rule_targets_to_kinesis() -> None:
    """EventBridge rule targets that are Kinesis streams: moto delivers rule targets only to
    SQS, CloudWatch Logs, event buses and API destinations, and raises NotImplementedError for
    any other (so ``PutEvents`` on a bus with a Kinesis target fails). Here a Kinesis target
    gets a record as on AWS: the target's input (``InputPath``, ``InputTransformer``, a
    constant ``Input``, or the whole event), partitioned by ``KinesisParameters.
    PartitionKeyPath`` on the event (the event id without one), base64 as Kinesis keeps it.
    The other targets go through moto as before. The target's role is not evaluated: the
    record is put as the emulator."""
    import base64
    import copy

    import jsonpath_ng.ext
    from moto.events.models import Rule
    from moto.events.utils import EventTemplateParser
    from moto.kinesis.models import kinesis_backends

    original = Rule.send_to_targets
    if getattr(original, "_kinesis_targets", False):
        return

    def first_match(path: str, event: Any) -> Any:
        # Looked up at the call: local.speedups replaces it with a cached parser.
        matches = getattr(jsonpath_ng.ext, "parse")(path).find(event)  # noqa: B009
        return matches[0].value if matches else None

    def target_input(target: dict[str, Any], event: Any) -> Any:
        if "InputPath" in target:
            return first_match(target["InputPath"], event)
        if "InputTransformer" in target:
            transformer = target["InputTransformer"]
            return EventTemplateParser.parse(
                input_template=transformer.get("InputTemplate"),
                input_paths_map=transformer.get("InputPathsMap", {}),
                event=event,
            )
        if "Input" in target:
            return json.loads(target["Input"])
        return event

    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        kinesis = [t for t in self.targets if t["Arn"].split(":")[2] == "kinesis"]
        if not kinesis:
            original(self, original_event, transform_input)
            return
        if not self.event_pattern.matches_event(original_event):
            return
        others = [t for t in self.targets if t not in kinesis]
        if others:
            rule = copy.copy(self)
            rule.targets = others
            original(rule, original_event, transform_input)
        for target in kinesis:
            arn = target["Arn"]
            _, _, _, region, account, resource = arn.split(":", 5)
            key_path = (target.get("KinesisParameters") or {}).get("PartitionKeyPath")
            key = first_match(key_path, original_event) if key_path else None
            payload = json.dumps(target_input(target, original_event), default=str)
            kinesis_backends[account][region].put_record(
                stream_arn=arn,
                stream_name=resource.split("/", 1)[1],
                partition_key=str(key or original_event.get("id") or "none"),
                explicit_hash_key="",
                data=base64.b64encode(payload.encode()).decode(),
            )

    send_to_targets._kinesis_targets = True  # type: ignore[attr-defined]
    setattr(Rule, "send_to_targets", send_to_targets)  # noqa: B010


def _list_tags_of_untagged_athena_resources() -> None:
    """Athena ``ListTagsForResource`` on a workgroup, data catalog or capacity reservation that
    has no tags: AWS answers an empty list, moto answers ``InvalidRequestException`` ("Does Not
    Exist"), so the aws provider's read after creating an untagged workgroup fails and the apply
    stops. Here a resource that exists answers its tags, none included; a missing one still gets
    moto's error."""
    from moto.athena.responses import AthenaResponse

    original = AthenaResponse.list_tags_for_resource
    if getattr(original, "_untagged_answer", False):
        return

    def list_tags_for_resource(self: Any) -> Any:
        arn = self._get_param("ResourceARN")
        backend = self.athena_backend
        known = (
            *backend.work_groups.values(),
            *backend.data_catalogs.values(),
            *backend.capacity_reservations.values(),
        )
        if any(getattr(resource, "arn", None) == arn for resource in known):
            return json.dumps({"Tags": backend.tagger.list_tags_for_resource(arn)["Tags"]})
        return original(self)

    list_tags_for_resource._untagged_answer = True  # type: ignore[attr-defined]
    setattr(AthenaResponse, "list_tags_for_resource", list_tags_for_resource)  # noqa: B010


def _delete_athena_named_queries() -> None:
    """Athena ``DeleteNamedQuery``: moto lacks it and answers NotImplementedError, a 500 the
    aws provider retries for many minutes, so destroying modules/data_lake's named queries hung
    every teardown of environments/local. Here the query is removed; an unknown ID is
    ``InvalidRequestException``, as Athena answers it."""
    from moto.athena.responses import AthenaResponse
    from moto.core.exceptions import JsonRESTError

    def delete_named_query(self: Any) -> str:
        query_id = str(self._get_param("NamedQueryId") or "")
        if self.athena_backend.named_queries.pop(query_id, None) is None:
            raise JsonRESTError("InvalidRequestException", f"NamedQuery {query_id} not found")
        return "{}"

    setattr(AthenaResponse, "delete_named_query", delete_named_query)  # noqa: B010
