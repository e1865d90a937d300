"""Answers an SDK's retry of a call the emulator already carried out with the answer it gave.

Three CI runs failed the same way: the Terraform provider created something (a KMS alias, a
security group rule's revoke), did not get the answer, retried, and the retry answered
``AlreadyExists`` or ``NotFound`` because the first attempt had done the work. The answer is
lost between werkzeug's plain-HTTP listener and the provider's Go client on a loaded machine;
AWS loses answers too, but far more rarely than a two-core CI box running two emulators, and a
``terraform apply`` that fails on such a retry tests nothing of ours.

Every AWS SDK names one call across its attempts: ``amz-sdk-invocation-id`` stays the same and
``amz-sdk-request: attempt=N`` counts up. When an attempt after the first arrives for a call
whose earlier attempt this listener answered with a success, that answer is sent again and
nothing runs twice; while the earlier attempt is still running (the client gave up waiting),
the retry waits for it. An earlier attempt that failed (throttled, a conflict, a 5xx) is run
again, as AWS would. Each replay is logged, so the emulator's log says how often it happens.

Only the plain-HTTP listener (Terraform, the tests' own clients) replays. The Lambda workers'
listener does not: the functions must stay correct when AWS really does carry out a call twice,
and the chaos tests rely on the emulator letting that happen.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

LOG = logging.getLogger("local.retry_replay")

StartResponse = Callable[..., Any]
Answer = tuple[str, list[tuple[str, str]], bytes]

KEEP_S = 300.0
MAX_CALLS = 4096
# Larger answers (S3 objects) come from reads, which are safe to run twice.
MAX_BODY = 1 << 20
WAIT_FOR_FIRST_S = 120.0
_ATTEMPT = re.compile(r"attempt=(\d+)")


@dataclass
class _Call:
    started: float
    done: threading.Event = field(default_factory=threading.Event)
    answer: Answer | None = None


def attempt_of(environ: dict[str, Any]) -> int:
    found = _ATTEMPT.search(environ.get("HTTP_AMZ_SDK_REQUEST", ""))
    return int(found.group(1)) if found else 1


def operation_of(environ: dict[str, Any]) -> str:
    """The JSON protocols' target, else the query protocol's Action (the retry's body is read,
    which nothing needs after a replay), else the path."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return str(target)
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length and "form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        form = parse_qs(environ["wsgi.input"].read(length).decode(errors="replace"))
        if form.get("Action"):
            return str(form["Action"][0])
    return f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"


class RetryReplay:
    """WSGI middleware: see the module's docstring."""

    def __init__(self, application: Any, keep_s: float = KEEP_S, max_calls: int = MAX_CALLS):
        self._application = application
        self._keep_s = keep_s
        self._max_calls = max_calls
        self._calls: OrderedDict[str, _Call] = OrderedDict()
        self._lock = threading.Lock()
        self.replayed = 0

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        invocation = environ.get("HTTP_AMZ_SDK_INVOCATION_ID")
        if not invocation or environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return self._pass(environ, start_response)
        now = time.monotonic()
        with self._lock:
            self._forget_old(now)
            earlier = self._calls.get(invocation)
            if earlier is None:
                call = self._calls[invocation] = _Call(now)
        if earlier is not None and attempt_of(environ) > 1:
            earlier.done.wait(WAIT_FOR_FIRST_S)
            if earlier.answer is not None:
                status, headers, body = earlier.answer
                self.replayed += 1
                LOG.warning(
                    "replayed the answer to %s (attempt %d of SDK call %s, %s): the client "
                    "never received the first",
                    operation_of(environ),
                    attempt_of(environ),
                    invocation,
                    environ.get("HTTP_USER_AGENT", "")[:60],
                )
                start_response(status, headers)
                return [body]
            return self._run_again(invocation, environ, start_response)
        if earlier is not None:
            return self._pass(environ, start_response)
        return self._run(call, environ, start_response)

    def _pass(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        answer: Iterable[bytes] = self._application(environ, start_response)
        return answer

    def _run_again(
        self, invocation: str, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        call = _Call(time.monotonic())
        with self._lock:
            self._calls[invocation] = call
            self._calls.move_to_end(invocation)
        return self._run(call, environ, start_response)

    def _run(
        self, call: _Call, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        seen: dict[str, Any] = {}

        def keep(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"], seen["headers"] = status, list(headers)
            return start_response(status, headers, exc_info)

        try:
            result = self._application(environ, keep)
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            status = seen.get("status", "")
            if status.startswith("2") and len(body) <= MAX_BODY:
                call.answer = (status, seen["headers"], body)
            return [body]
        finally:
            call.done.set()

    def _forget_old(self, now: float) -> None:
        while self._calls:
            oldest = next(iter(self._calls.values()))
            if len(self._calls) <= self._max_calls and now - oldest.started < self._keep_s:
                return
            self._calls.popitem(last=False)
