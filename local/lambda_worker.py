"""A Lambda execution environment for one function, run as its own process by the emulator.

Started as ``python -I -S lambda_worker.py`` so that nothing but the standard library, the
function's deployment package and the runtime's own SDK directory is importable: a dependency
missing from the zip fails here as it would on AWS. Standard library only.

Protocol (JSON lines): the emulator writes one invocation per line to stdin; the worker answers
on its original stdout with ``{"log": ...}`` lines while the handler runs and ends with exactly
one ``{"result": ...}`` or ``{"error": ...}`` line. Everything the handler prints goes through
the log lines, so the emulator can write it to CloudWatch Logs even if the handler is killed.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import time
import traceback
from typing import Any, TextIO


class ProtocolWriter:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        line = json.dumps(message, separators=(",", ":"), default=str)
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()


class LogStream:
    """A text stream that forwards each complete line to the emulator as a log message."""

    def __init__(self, writer: ProtocolWriter) -> None:
        self._writer = writer
        self._buffer = ""
        self.encoding = "utf-8"

    def write(self, text: str) -> int:
        self._buffer += text
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            self._writer.send({"log": line})
        return len(text)

    def flush(self) -> None:
        if self._buffer:
            self._writer.send({"log": self._buffer})
            self._buffer = ""

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True


class LambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    def __init__(self, invocation: dict[str, Any]) -> None:
        self.aws_request_id: str = invocation["request_id"]
        self.function_name: str = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version: str = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn: str = invocation["function_arn"]
        self.memory_limit_in_mb: int = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        self.log_group_name: str = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name: str = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline_ms: int = invocation["deadline_ms"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def error_payload(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def log_unhandled(error: dict[str, Any], request_id: str) -> None:
    """Log a handler's exception as the Python runtime does: with the JSON log format one ERROR
    record (so application log filtering keeps it), else the traceback as text."""
    if os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() != "JSON":
        traceback.print_exc()
        return
    record = {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "log_level": "ERROR",
        "errorMessage": error["errorMessage"],
        "errorType": error["errorType"],
        "requestId": request_id,
        "stackTrace": error["stackTrace"],
    }
    print(json.dumps(record, default=str))


def load_handler(handler_spec: str) -> Any:
    module_name, _, function_name = handler_spec.rpartition(".")
    if not module_name:
        raise ValueError(f"Bad handler '{handler_spec}': expected module.function")
    module = importlib.import_module(module_name.replace("/", "."))
    return getattr(module, function_name)


def exit_with_emulator(poll_s: float = 0.5) -> None:
    """End this environment when the emulator that started it is gone, even mid-invocation."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main() -> int:
    code_dir, runtime_dir, handler_spec = sys.argv[1:4]
    exit_with_emulator()
    sys.path[:0] = [code_dir, runtime_dir]
    os.chdir(code_dir)

    protocol = ProtocolWriter(os.fdopen(os.dup(1), "w", encoding="utf-8"))
    os.dup2(2, 1)  # output written below Python's sys.stdout still leaves the protocol intact
    log_stream = LogStream(protocol)
    sys.stdout = log_stream
    sys.stderr = log_stream

    init_started = time.monotonic()
    handler: Any = None
    init_error: dict[str, Any] | None = None
    try:
        handler = load_handler(handler_spec)
    except ImportError as exc:
        init_error = error_payload(exc, "Runtime.ImportModuleError")
        init_error["errorMessage"] = f"Unable to import module '{handler_spec}': {exc}"
    except AttributeError as exc:
        init_error = error_payload(exc, "Runtime.HandlerNotFound")
    except Exception as exc:
        init_error = error_payload(
            exc, "Runtime.UserCodeSyntaxError" if isinstance(exc, SyntaxError) else None
        )
    log_stream.flush()
    protocol.send({"ready": True, "init_ms": (time.monotonic() - init_started) * 1000})

    for line in sys.stdin:
        invocation = json.loads(line)
        os.environ["_X_AMZN_TRACE_ID"] = invocation.get("trace_id", "")
        # A renewed execution-role session: the SDK reads it from here before the old one ends.
        os.environ.update(invocation.get("credentials") or {})
        if init_error is not None:
            log_stream.flush()
            protocol.send({"error": init_error})
            continue
        try:
            result = handler(invocation["event"], LambdaContext(invocation))
            payload = json.dumps(result, default=str)
        except Exception as exc:
            error = error_payload(exc)
            log_unhandled(error, invocation["request_id"])
            log_stream.flush()
            protocol.send({"error": error})
            continue
        log_stream.flush()
        protocol.send({"result": payload})
    return 0


if __name__ == "__main__":
    sys.exit(main())
