"""The local AWS emulator: moto in server mode plus the parts it lacks on these machines.

Run as ``python -m local.emulator --port 4566``. On top of moto it:
- turns on Step Functions execution (moto's ASL interpreter really runs state machines);
- runs Lambda invocations in warm local worker processes (``local.lambda_runtime``) instead of
  Docker, writing their output to the function's CloudWatch log group;
- delivers Kinesis and SQS event source mappings in batches (``local.event_sources``);
- runs each worker as its function's execution role and enforces IAM and KMS key policies
  (``local.enforcement``; ``LOCAL_IAM_ENFORCEMENT=off`` switches enforcement off for debugging).
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from local import endpoints, enforcement, faults, gaps_emf, metering, tls
from local.api_gateway import LocalApiGateway
from local.event_sources import EventSourcePollers, report_processing_results
from local.firehose import FirehosePoller
from local.lambda_runtime import FunctionConfig, InvocationResult, LambdaRuntime

LOG = logging.getLogger("local.emulator")
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SDK_DIR = REPO_ROOT / "build" / "lambda" / "local-sdk"
# Lambda returns the last 4 KB of the log to callers that ask for LogType=Tail.
LOG_TAIL_BYTES = 4096


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (for emulators started by tests and benchmarks)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def function_config(function: Any) -> FunctionConfig:
    # Kept by the glue (local/gaps.py); moto itself drops a function's LoggingConfig.
    logging_config = getattr(function, "logging_config", None) or {}
    return FunctionConfig(
        function_arn=function.function_arn,
        function_name=function.function_name,
        handler=function.handler,
        runtime=function.run_time or "python3.12",
        timeout_s=float(function.timeout or 3),
        memory_mb=int(function.memory_size or 128),
        environment={str(k): str(v) for k, v in (function.environment_vars or {}).items()},
        code_sha256=function.code_sha_256,
        region=function.region,
        log_group=logging_config.get("LogGroup") or function.logs_group_name,
        log_format=logging_config.get("LogFormat", "Text"),
        application_log_level=logging_config.get("ApplicationLogLevel", "INFO"),
        system_log_level=logging_config.get("SystemLogLevel", "INFO"),
    )


def write_function_logs(runtime_logs_backend: Any, cloudwatch_backend: Any = None) -> Any:
    def write(log_group: str, stream: str, lines: list[str]) -> None:
        if not lines:
            return
        now_ms = int(time.time() * 1000)
        runtime_logs_backend.ensure_log_group(log_group)
        group = runtime_logs_backend.groups[log_group]
        if stream not in group.streams:
            runtime_logs_backend.create_log_stream(log_group, stream)
        runtime_logs_backend.put_log_events(
            log_group, stream, [{"timestamp": now_ms, "message": line} for line in lines]
        )
        if cloudwatch_backend is not None:
            gaps_emf.publish(lines, cloudwatch_backend)

    return write


class LambdaBridge:
    """Replaces moto's Docker-based invocation with the local runtime."""

    def __init__(self, runtime: LambdaRuntime) -> None:
        self.runtime = runtime
        self.async_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="lambda-async")
        # The event's age and the waits between attempts (replaced in unit tests).
        self.clock = time.monotonic
        self.sleep = time.sleep

    def install(self) -> None:
        from moto.awslambda.models import LambdaBackend, LambdaFunction
        from moto.cloudwatch.models import cloudwatch_backends
        from moto.logs.models import logs_backends

        bridge = self

        def invoke(function: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
            event = json.loads(body) if body else {}
            headers = {str(k).lower(): str(v) for k, v in dict(request_headers or {}).items()}
            invocation_type = headers.get("x-amz-invocation-type", "RequestResponse")
            if invocation_type == "DryRun":
                return b""
            if invocation_type == "Event":
                bridge.async_pool.submit(bridge.invoke_async, function, event, bridge.clock())
                return b""
            result = bridge.invoke_sync(function, event)
            if result.failed:
                response_headers["x-amz-function-error"] = "Unhandled"
            tail = "\n".join(result.logs).encode()[-LOG_TAIL_BYTES:]
            response_headers["x-amz-log-result"] = base64.b64encode(tail).decode()
            return result.payload

        def create_event_source_mapping(backend: Any, spec: dict[str, Any]) -> Any:
            try:
                function = backend._lambdas.get_function_by_name_or_arn_with_qualifier(
                    spec.get("FunctionName") or ""
                )
            except Exception:
                function = None  # moto answers a missing function itself
            if function is not None and spec.get("EventSourceArn"):
                enforcement.require_event_source_access(function, str(spec["EventSourceArn"]))
            esm = original_create_esm(backend, spec)
            # Delivery is the pollers' job: take the mapping out of moto's synchronous push.
            from moto.kinesis.models import kinesis_backends
            from moto.sqs.models import sqs_backends

            for queue in sqs_backends[backend.account_id][backend.region_name].queues.values():
                queue.lambda_event_source_mappings.pop(esm.function_arn, None)
            streams = kinesis_backends[backend.account_id][backend.region_name].streams
            for stream in streams.values():
                stream.lambda_event_source_mappings.pop(esm.event_source_arn, None)
            return esm

        original_create_esm = LambdaBackend.create_event_source_mapping
        setattr(LambdaFunction, "invoke", invoke)  # noqa: B010
        setattr(LambdaBackend, "create_event_source_mapping", create_event_source_mapping)  # noqa: B010
        report_processing_results()
        self._logs_backends = logs_backends
        # The functions' EMF lines become metrics there (local/gaps_emf.py).
        self._cloudwatch_backends = cloudwatch_backends

    def invoke_sync(self, function: Any, event: Any) -> InvocationResult:
        metering.count("lambda_invocations")
        metering.lambda_call(function.function_name)
        config = function_config(function)
        try:
            credentials = enforcement.SESSIONS.for_function(function).environment()
        except enforcement.RoleNotAssumable as error:
            message = json.dumps({"errorType": "AccessDeniedException", "errorMessage": str(error)})
            return InvocationResult(message.encode(), "AccessDeniedException", [str(error)])
        refusal = enforcement.environment_key_refusal(function)
        if refusal:
            text = (
                "Lambda was unable to decrypt the environment variables because KMS access was "
                f"denied. Please check the function's KMS key settings. KMS Exception: {refusal}"
            )
            message = json.dumps({"errorType": "KMSAccessDeniedException", "errorMessage": text})
            return InvocationResult(message.encode(), "KMSAccessDeniedException", [text])
        fault = faults.INJECTOR.draw("lambda", "Invoke", ("kill_worker", "timeout"))
        if fault == "kill_worker" and faults.INJECTOR.coin():
            self.runtime.retire_one(config.function_arn)
            return self._faulted(config, fault)  # the runtime died before the handler ran
        result = self.runtime.invoke(
            config,
            event,
            code_loader=lambda: bytes(function.code_bytes),
            write_logs=write_function_logs(
                self._logs_backends[function.account_id][function.region],
                self._cloudwatch_backends[function.account_id][function.region],
            ),
            credentials=credentials,
            retire=fault is not None,
        )
        metering.lambda_invocation(result.duration_ms, config.memory_mb, function.function_name)
        if fault is not None:
            return self._faulted(config, fault)  # the work is done, its answer is lost
        return result

    def _faulted(self, config: FunctionConfig, fault: str) -> InvocationResult:
        """An injected fault's answer (local/faults.py); its execution environment, and only
        that one, is already gone (the others of the function stay warm, as on Lambda)."""
        error_type, message = {
            "kill_worker": ("Runtime.ExitError", "Runtime exited unexpectedly (injected fault)"),
            "timeout": ("Sandbox.Timedout", f"Task timed out after {config.timeout_s:.2f} seconds"),
        }[fault]
        payload = json.dumps({"errorType": error_type, "errorMessage": message}).encode()
        return InvocationResult(payload, error_type, [f"{message}\n{error_type}"])

    def invoke_async(self, function: Any, event: Any, queued_at: float | None = None) -> None:
        """Asynchronous invocation as Lambda runs it, with the function's event invoke
        configuration: retries (``MaximumRetryAttempts``, at most 2; 2 when unset) while the
        event is younger than ``MaximumEventAgeInSeconds`` (6 hours when unset); then Lambda's
        invocation record to the on-success or on-failure destination, or else a failed event to
        the dead-letter queue. Delivery is the function's role's
        (local.event_sources.deliver_to_destination)."""
        from local.event_sources import deliver_to_destination

        settings: dict[str, Any] = next(
            (c.config for c in getattr(function, "event_invoke_config", []) or []), {}
        )
        retries = int(settings.get("MaximumRetryAttempts", 2))
        max_age_s = float(settings.get("MaximumEventAgeInSeconds", ASYNC_MAX_EVENT_AGE_S))
        queued = self.clock() if queued_at is None else queued_at
        skipped_s = 0.0  # the waits Lambda makes between attempts that the emulator shortens
        attempts, condition = 0, "RetriesExhausted"
        result: InvocationResult | None = None
        request_id = str(uuid.uuid4())
        while True:
            if self.clock() - queued + skipped_s > max_age_s:
                condition = "EventAgeExceeded"
                break
            result = self.invoke_sync(function, event)
            attempts += 1
            if not result.failed:
                on_success = destination(settings, "OnSuccess")
                if on_success:
                    record = invocation_record(
                        function, event, result, request_id, attempts, "Success"
                    )
                    deliver_to_destination(on_success, json.dumps(record), function.function_arn)
                return
            if attempts > retries:
                break
            local_wait, aws_wait = ASYNC_RETRY_WAITS_S[attempts - 1]
            skipped_s += aws_wait - local_wait
            self.sleep(local_wait)
        on_failure = destination(settings, "OnFailure")
        if on_failure:
            record = invocation_record(function, event, result, request_id, attempts, condition)
            deliver_to_destination(on_failure, json.dumps(record), function.function_arn)
            return
        target = (getattr(function, "dead_letter_config", None) or {}).get("TargetArn")
        if target:
            deliver_to_destination(target, json.dumps(event), function.function_arn)


# Lambda keeps an asynchronous event up to 6 hours unless MaximumEventAgeInSeconds says less.
ASYNC_MAX_EVENT_AGE_S = 6 * 3600
# Waits before the first and second retry of an asynchronous invocation: (here, on AWS). Lambda
# waits about one minute, then two ("Error handling and automatic retries in Lambda"); the
# emulator retries sooner but ages the event as if it had waited, so MaximumEventAgeInSeconds
# ends the retries where it would on AWS.
ASYNC_RETRY_WAITS_S = ((0.2, 60.0), (0.4, 120.0))


def destination(settings: dict[str, Any], kind: str) -> str | None:
    found = ((settings.get("DestinationConfig") or {}).get(kind) or {}).get("Destination")
    return str(found) if found else None


def invocation_record(
    function: Any,
    event: Any,
    result: InvocationResult | None,
    request_id: str,
    attempts: int,
    condition: str,
) -> dict[str, Any]:
    """What Lambda sends a destination after an asynchronous invocation: on success the
    function's response, on failure (``RetriesExhausted``, ``EventAgeExceeded``) its error
    ("Capturing records of Lambda asynchronous invocations")."""
    response: Any = None
    if result is not None:
        try:
            response = json.loads(result.payload)
        except ValueError:
            response = result.payload.decode(errors="replace")
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if result is not None and result.failed:
        response_context["functionError"] = "Unhandled"
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "requestContext": {
            "requestId": request_id,
            "functionArn": f"{function.function_arn}:$LATEST",
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
    }
    if result is not None:
        record["responseContext"] = response_context
        record["responsePayload"] = response
    return record


ANY_PORT = "any"


def port_argument(value: str) -> int:
    """A port number, or ``any``: the kernel picks a free one when the listener binds (0)."""
    return 0 if value == ANY_PORT else int(value)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port",
        type=port_argument,
        default=int(os.environ.get("LOCAL_AWS_PORT", 4566)),
        help="port of the AWS endpoint (plain HTTP); `any` for a free one",
    )
    parser.add_argument(
        "--api-port",
        default=os.environ.get("LOCAL_API_PORT", "8080"),
        help="port of the local API (API Gateway's REST proxy); 0 turns it off, `any` picks one",
    )
    parser.add_argument(
        "--tls-port",
        type=port_argument,
        default=os.environ.get("LOCAL_AWS_TLS_PORT", ANY_PORT),
        help="port of the emulator's HTTPS listener (local/tls.py); `any` (default) for a free one",
    )
    parser.add_argument("--state-dir", type=Path, default=REPO_ROOT / ".local")
    parser.add_argument("--sdk-dir", type=Path, default=DEFAULT_SDK_DIR)
    args = parser.parse_args(argv)
    # None: no local API; 0: any free port.
    args.api_port = None if args.api_port == "0" else port_argument(args.api_port)
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.port and port_in_use(args.host, args.port):
        print(
            f"error: port {args.port} on {args.host} is already in use; stop what holds it "
            "or choose another with LOCAL_AWS_PORT",
            file=sys.stderr,
        )
        return 2
    if args.api_port and port_in_use(args.host, args.api_port):
        print(
            f"error: port {args.api_port} on {args.host} is already in use; stop what holds "
            "it or choose another with LOCAL_API_PORT",
            file=sys.stderr,
        )
        return 2
    if not args.sdk_dir.is_dir():
        print(f"error: {args.sdk_dir} is missing; run `make build` first", file=sys.stderr)
        return 2
    # The account's Lambda concurrency quota (1,000 by default on AWS; 10 or 50 rehearse a new
    # account): moto refuses a reservation that leaves less than 100 unreserved, as Lambda does.
    os.environ["MOTO_LAMBDA_CONCURRENCY_QUOTA"] = os.environ.get(
        "LOCAL_LAMBDA_CONCURRENCY_QUOTA", "1000"
    )

    from moto.core.config import default_user_config
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    from local import gaps, speedups
    from local.http_server import Listener
    from local.retry_replay import RetryReplay

    default_user_config["stepfunctions"]["execute_state_machine"] = True
    gaps.install()
    speedups.install()
    enforcement.install(enforcement.enabled_by_environment())
    metering.install()

    faults.install()
    # Faults switched at run time through /_local/faults (local/faults.py); none by default.
    application = faults.middleware(DomainDispatcherApplication(create_backend_app))
    # Terraform's listener answers an SDK retry of a call it already carried out with the answer
    # the client lost (local/retry_replay.py); the workers' listener does not.
    server = make_server(
        args.host,
        args.port,
        RetryReplay(application),
        threaded=True,
        request_handler=MotoRequestHandler,
    )
    endpoint = f"http://{args.host}:{server.server_port}"
    # moto's Step Functions interpreter calls Lambda back through this port.
    os.environ["MOTO_PORT"] = str(server.server_port)
    # The same emulator over TLS: requests that arrive here are aws:SecureTransport (local/tls.py).
    cert, key = tls.self_signed(args.state_dir / "tls", args.host)
    # The workers' listener keeps connections alive (local/http_server.py says why, and why the
    # plain-HTTP one that Terraform uses stays on werkzeug).
    tls_server = Listener(args.host, args.tls_port, application, certificate=(cert, key))
    tls_endpoint = f"https://{args.host}:{tls_server.server_port}"
    # Workers call the emulator over TLS, as the SDK calls AWS from Lambda.
    runtime = LambdaRuntime(tls_endpoint, args.state_dir, args.sdk_dir, ca_bundle=cert)
    bridge = LambdaBridge(runtime)
    bridge.install()
    pollers = EventSourcePollers(bridge.invoke_sync)
    # Firehose streams with a Kinesis source: read, converted to Parquet, partitioned (issue 12).
    lake_delivery = FirehosePoller(bridge.invoke_sync)
    api = (
        LocalApiGateway(args.host, args.api_port, bridge.invoke_sync)
        if args.api_port is not None
        else None
    )
    stopping = threading.Event()

    def request_stop(signum: int, frame: Any) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    serving = threading.Thread(target=server.serve_forever, name="moto-server", daemon=True)
    serving.start()
    tls_server.start("moto-tls")
    pollers.start()
    lake_delivery.start()
    api_endpoint = None
    if api is not None:
        api.start()
        api_endpoint = f"http://{args.host}:{api.port}"
        LOG.info("local API listening on %s", api_endpoint)
    endpoints.publish(
        args.state_dir,
        endpoints.Published(os.getpid(), endpoint, tls_endpoint, str(cert), api_endpoint),
    )
    LOG.info(
        "emulator listening on %s and %s (IAM and key policies %s)",
        endpoint,
        tls_endpoint,
        "enforced" if enforcement.enforcing() else f"NOT enforced: {enforcement.SWITCH}=off",
    )
    stopping.wait()
    LOG.info("emulator stopping")
    pollers.stop()
    lake_delivery.stop()
    if api is not None:
        api.stop()
    server.shutdown()
    tls_server.shutdown()
    runtime.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
