"""Runs deployed Lambda functions in warm local worker processes for the emulator.

moto would run each invocation in a Docker container, which these machines cannot do. Here
every function gets execution environments of its own: a ``lambda_worker.py`` process with the
deployed zip extracted as its task root, the function's environment variables, and the AWS SDK
pointed at the emulator. A worker stays warm between invocations; one that overruns its timeout
or its memory size is killed and replaced on the next call, as Lambda does.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LOG = logging.getLogger("local.lambda")
WORKER_SCRIPT = Path(__file__).resolve().parent / "lambda_worker.py"
# Output beyond this per invocation is cut, as CloudWatch would reject oversized batches.
MAX_LOG_LINES_PER_INVOCATION = 5_000
# Time allowed for a worker to import the handler before its first invocation counts.
INIT_TIMEOUT_S = 10.0

LogWriter = Callable[[str, str, list[str]], None]
# Without an execution-role session (a runtime used on its own, in tests) a worker signs with
# these, which the emulator treats as its own administrator credentials.
PLACEHOLDER_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "ASIALOCALEMULATOR0001",
    "AWS_SECRET_ACCESS_KEY": "local-emulator-secret",
    "AWS_SESSION_TOKEN": "local-emulator-session",
}
# Lambda's log levels, most detailed first (system levels are DEBUG, INFO and WARN).
LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")


@dataclass(frozen=True)
class FunctionConfig:
    """The parts of a function's configuration that shape its execution environment."""

    function_arn: str
    function_name: str
    handler: str
    runtime: str
    timeout_s: float
    memory_mb: int
    environment: dict[str, str]
    code_sha256: str
    region: str
    log_group: str
    # LoggingConfig: Lambda's default is Text, where log levels do not apply.
    log_format: str = "Text"
    application_log_level: str = "INFO"
    system_log_level: str = "INFO"

    @property
    def fingerprint(self) -> str:
        material = json.dumps(
            [
                self.handler,
                self.runtime,
                self.timeout_s,
                self.memory_mb,
                self.environment,
                self.code_sha256,
                self.log_group,
                self.log_format,
                self.application_log_level,
                self.system_log_level,
            ],
            sort_keys=True,
        )
        return hashlib.sha256(material.encode()).hexdigest()

    def writes_system_logs(self, level: str) -> bool:
        """Whether Lambda writes its platform records of ``level`` (always in the Text format)."""
        if self.log_format != "JSON":
            return True
        return LOG_LEVELS.index(level) >= LOG_LEVELS.index(self.system_log_level)

    def platform_line(self, text: str, event_type: str, record: Any) -> str:
        """A platform log line: ``text`` in the Text format, else a JSON record as Lambda writes
        it (``{"time", "type", "record"}``, compact)."""
        if self.log_format != "JSON":
            return text
        return json.dumps(
            {"time": iso_now(), "type": event_type, "record": record}, separators=(",", ":")
        )


@dataclass
class InvocationResult:
    payload: bytes
    error_type: str | None
    logs: list[str] = field(default_factory=list)
    duration_ms: float = 0.0
    init_ms: float | None = None
    max_memory_mb: int = 0

    @property
    def failed(self) -> bool:
        return self.error_type is not None


class LambdaRuntime:
    """Execution environments for every function the emulator knows, keyed by function ARN."""

    def __init__(
        self,
        endpoint_url: str,
        state_dir: Path,
        sdk_dir: Path,
        python: str = sys.executable,
        ca_bundle: Path | None = None,
    ) -> None:
        self.endpoint_url = endpoint_url
        # The certificate of the emulator's TLS listener, when the workers use it (as the SDK
        # uses HTTPS on Lambda, so aws:SecureTransport holds for their calls).
        self.ca_bundle = ca_bundle
        self.code_root = state_dir / "lambda-code"
        self.sdk_dir = sdk_dir
        self.python = python
        self._idle: dict[str, list[Worker]] = {}
        self._lock = threading.Lock()

    def invoke(
        self,
        config: FunctionConfig,
        event: Any,
        code_loader: Callable[[], bytes],
        write_logs: LogWriter | None = None,
        credentials: dict[str, str] | None = None,
        retire: bool = False,
    ) -> InvocationResult:
        """Run one invocation; ``credentials`` (environment variables of the execution role's
        session) reach a new worker at start and a warm one with the invocation when renewed.
        ``retire``: the execution environment ends after this invocation (an injected fault)."""
        credentials = credentials or PLACEHOLDER_CREDENTIALS
        worker = self._acquire(config, code_loader, credentials)
        result = worker.invoke(event, credentials)
        if retire:
            worker.stop()
        if write_logs is not None:
            try:
                write_logs(config.log_group, worker.log_stream_name, result.logs)
            except Exception:  # the invocation's answer matters more than its log lines
                LOG.exception("could not write logs of %s", config.function_name)
        if worker.alive:
            with self._lock:
                self._idle.setdefault(config.function_arn, []).append(worker)
        return result

    def _acquire(
        self,
        config: FunctionConfig,
        code_loader: Callable[[], bytes],
        credentials: dict[str, str],
    ) -> Worker:
        stale: list[Worker] = []
        chosen: Worker | None = None
        with self._lock:
            idle = self._idle.get(config.function_arn, [])
            while idle:
                candidate = idle.pop()
                if candidate.alive and candidate.config.fingerprint == config.fingerprint:
                    chosen = candidate
                    break
                stale.append(candidate)
        for worker in stale:
            worker.stop()
        if chosen is not None:
            return chosen
        code_dir = self._extract(config.code_sha256, code_loader)
        return Worker(config, code_dir, self, credentials)

    def _extract(self, code_sha256: str, code_loader: Callable[[], bytes]) -> Path:
        target = self.code_root / code_sha256.replace("/", "_")
        if target.is_dir():
            return target
        staging = self.code_root / f".{uuid.uuid4().hex}"
        staging.mkdir(parents=True)
        with zipfile.ZipFile(io.BytesIO(code_loader())) as archive:
            archive.extractall(staging)
        try:
            staging.rename(target)
        except OSError:  # another thread extracted the same code first
            shutil.rmtree(staging, ignore_errors=True)
        return target

    def retire_one(self, function_arn: str) -> None:
        """Ends one idle execution environment of the function, the one that would have served
        the next invocation: on Lambda a runtime that dies takes only its own environment."""
        with self._lock:
            idle = self._idle.get(function_arn, [])
            worker = idle.pop() if idle else None
        if worker is not None:
            worker.stop()

    def discard(self, function_arn: str) -> None:
        """Ends the function's idle execution environments: the next invocation starts anew."""
        with self._lock:
            workers = self._idle.pop(function_arn, [])
        for worker in workers:
            worker.stop()

    def shutdown(self) -> None:
        with self._lock:
            workers = [w for pool in self._idle.values() for w in pool]
            self._idle.clear()
        for worker in workers:
            worker.stop()


class Worker:
    """One execution environment: a process that imported the handler and serves invocations."""

    def __init__(
        self,
        config: FunctionConfig,
        code_dir: Path,
        runtime: LambdaRuntime,
        credentials: dict[str, str] | None = None,
    ) -> None:
        self.config = config
        self.credentials = dict(credentials or PLACEHOLDER_CREDENTIALS)
        self.log_stream_name = (
            time.strftime("%Y/%m/%d", time.gmtime()) + f"/[$LATEST]{secrets.token_hex(16)}"
        )
        env = {
            # The function's own variables first: the runtime's reserved ones win, as on AWS.
            **config.environment,
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "LAMBDA_TASK_ROOT": str(code_dir),
            "LAMBDA_RUNTIME_DIR": str(runtime.sdk_dir),
            "_HANDLER": config.handler,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{config.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": config.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(int(config.timeout_s)),
            "AWS_LAMBDA_LOG_GROUP_NAME": config.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": self.log_stream_name,
            "AWS_REGION": config.region,
            "AWS_DEFAULT_REGION": config.region,
            **self.credentials,
            "AWS_ENDPOINT_URL": runtime.endpoint_url,
            **({"AWS_CA_BUNDLE": str(runtime.ca_bundle)} if runtime.ca_bundle else {}),
            "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
        }
        if config.log_format == "JSON":
            # Lambda tells the runtime the format and the application log level; the runtime and
            # Powertools (which obeys AWS_LAMBDA_LOG_LEVEL first) filter by it.
            env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
            env["AWS_LAMBDA_LOG_LEVEL"] = config.application_log_level
        started = time.monotonic()
        self.process = subprocess.Popen(
            [
                runtime.python,
                "-I",
                "-S",
                str(WORKER_SCRIPT),
                str(code_dir),
                str(runtime.sdk_dir),
                config.handler,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            cwd=code_dir,
            start_new_session=True,
        )
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self._stdin = self.process.stdin
        self._stdout_fd = self.process.stdout.fileno()
        os.set_blocking(self._stdout_fd, False)
        self._buffer = b""
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._stdout_fd, selectors.EVENT_READ)
        self._pending_init_logs: list[str] = []
        self.init_ms: float | None = None
        ready = self._read_until(time.monotonic() + INIT_TIMEOUT_S, self._pending_init_logs)
        if ready is None or not ready.get("ready"):
            self.stop()
            self.init_ms = None
        else:
            self.init_ms = (time.monotonic() - started) * 1000

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def invoke(self, event: Any, credentials: dict[str, str] | None = None) -> InvocationResult:
        config = self.config
        request_id = str(uuid.uuid4())
        logs: list[str] = []
        # Platform records are INFO (start, report) or DEBUG (runtimeDone, the Text format's END);
        # Lambda writes them only when the system log level admits them. Its errors (a timeout,
        # a runtime that exited) are written at every level.
        if config.writes_system_logs("INFO"):
            logs.append(
                config.platform_line(
                    f"START RequestId: {request_id} Version: $LATEST",
                    "platform.start",
                    {"requestId": request_id, "version": "$LATEST"},
                )
            )
        logs += self._pending_init_logs
        self._pending_init_logs = []
        init_ms, self.init_ms = self.init_ms, None
        started = time.monotonic()
        deadline = started + config.timeout_s
        message = {
            "request_id": request_id,
            "event": event,
            "function_arn": config.function_arn,
            "deadline_ms": int(time.time() * 1000 + config.timeout_s * 1000),
            "trace_id": new_trace_id(),
        }
        if credentials and credentials != self.credentials:
            message["credentials"] = credentials
            self.credentials = dict(credentials)
        reply: dict[str, Any] | None = None
        if self.alive:
            try:
                self._stdin.write((json.dumps(message) + "\n").encode())
                self._stdin.flush()
                reply = self._read_until(deadline, logs)
            except (BrokenPipeError, OSError):
                reply = None
        duration_ms = (time.monotonic() - started) * 1000
        max_memory_mb = self._peak_memory_mb()

        status = "success"
        if reply is None and self.alive:
            self.stop()
            error_type, status = "Sandbox.Timedout", "timeout"
            message_text = (
                f"RequestId: {request_id} Error: Task timed out after "
                f"{config.timeout_s:.2f} seconds"
            )
            logs.append(
                config.platform_line(
                    f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime())}Z {request_id} "
                    f"Task timed out after {config.timeout_s:.2f} seconds",
                    "platform.fault",
                    message_text,
                )
            )
            payload = json.dumps({"errorType": error_type, "errorMessage": message_text}).encode()
        elif reply is None or max_memory_mb > config.memory_mb:
            self.stop()
            status = "failure"
            if reply is None:
                error_type = "Runtime.ExitError"
                message_text = f"RequestId: {request_id} Error: Runtime exited unexpectedly"
            else:
                error_type = "Runtime.OutOfMemory"
                message_text = (
                    f"RequestId: {request_id} Error: Runtime exited with error: signal: killed "
                    f"(memory {max_memory_mb} MB > {config.memory_mb} MB)"
                )
            logs.append(
                config.platform_line(
                    f"{message_text}\n{error_type}", "platform.fault", message_text
                )
            )
            payload = json.dumps({"errorType": error_type, "errorMessage": message_text}).encode()
        elif "error" in reply:
            error_type, status = str(reply["error"].get("errorType", "Unhandled")), "error"
            payload = json.dumps(reply["error"]).encode()
        else:
            error_type = None
            payload = str(reply["result"]).encode()

        if config.writes_system_logs("DEBUG"):
            logs.append(
                config.platform_line(
                    f"END RequestId: {request_id}",
                    "platform.runtimeDone",
                    {
                        "requestId": request_id,
                        "status": status,
                        "metrics": {
                            "durationMs": round(duration_ms, 3),
                            "producedBytes": len(payload),
                        },
                    },
                )
            )
        if config.writes_system_logs("INFO"):
            logs.append(
                self._report(request_id, status, error_type, duration_ms, max_memory_mb, init_ms)
            )
        return InvocationResult(payload, error_type, logs, duration_ms, init_ms, max_memory_mb)

    def _report(
        self,
        request_id: str,
        status: str,
        error_type: str | None,
        duration_ms: float,
        max_memory_mb: int,
        init_ms: float | None,
    ) -> str:
        """The invocation's REPORT line (Text) or ``platform.report`` record (JSON)."""
        config = self.config
        billed_ms = max(1, int(duration_ms + 0.999))
        text = (
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {billed_ms} ms\t"
            f"Memory Size: {config.memory_mb} MB\tMax Memory Used: {max_memory_mb} MB"
        )
        metrics: dict[str, Any] = {
            "durationMs": round(duration_ms, 3),
            "billedDurationMs": billed_ms,
            "memorySizeMB": config.memory_mb,
            "maxMemoryUsedMB": max_memory_mb,
        }
        if init_ms is not None:
            text += f"\tInit Duration: {init_ms:.2f} ms"
            metrics["initDurationMs"] = round(init_ms, 3)
        record: dict[str, Any] = {"requestId": request_id, "metrics": metrics, "status": status}
        if error_type is not None:
            record["errorType"] = error_type
        return config.platform_line(text, "platform.report", record)

    def _read_until(self, deadline: float, logs: list[str]) -> dict[str, Any] | None:
        """Collect log lines until the worker's answer arrives; None on timeout or exit."""
        while True:
            while b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                message = json.loads(line)
                if "log" in message:
                    if len(logs) < MAX_LOG_LINES_PER_INVOCATION:
                        logs.append(str(message["log"]))
                    continue
                return dict(message)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if not self._selector.select(timeout=remaining):
                continue
            chunk = os.read(self._stdout_fd, 65536)
            if not chunk:
                return None
            self._buffer += chunk

    def _peak_memory_mb(self) -> int:
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return 0
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
        return 0

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._selector.close()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


def iso_now() -> str:
    """The current UTC time as Lambda stamps its JSON records (milliseconds, ``Z``)."""
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"


def new_trace_id() -> str:
    return (
        f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};"
        f"Parent={secrets.token_hex(8)};Sampled=1"
    )
