"""local/retry_replay.py: an SDK retry of a call already carried out gets the first answer."""

from __future__ import annotations

import threading
from typing import Any

from local.retry_replay import RetryReplay


class CountingApp:
    """A create that answers AlreadyExists the second time, as moto does."""

    def __init__(self, statuses: list[str] | None = None, gate: threading.Event | None = None):
        self.runs = 0
        self._statuses = statuses
        self._gate = gate

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.runs += 1
        if self._gate is not None:
            self._gate.wait(5)
        if self._statuses is not None:
            status = self._statuses[self.runs - 1]
        else:
            status = "200 OK" if self.runs == 1 else "400 Bad Request"
        start_response(status, [("Content-Type", "application/json")])
        return [f'{{"run": {self.runs}}}'.encode()]


def call(app: Any, invocation: str | None, attempt: int, method: str = "POST") -> tuple[str, bytes]:
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": "/"}
    if invocation is not None:
        environ["HTTP_AMZ_SDK_INVOCATION_ID"] = invocation
        environ["HTTP_AMZ_SDK_REQUEST"] = f"attempt={attempt}; max=25"
    seen: dict[str, str] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen["status"] = status

    body = b"".join(app(environ, start_response))
    return seen["status"], body


def test_a_retry_of_a_call_that_succeeded_gets_the_same_answer_and_runs_nothing() -> None:
    inner = CountingApp()
    app = RetryReplay(inner)
    first = call(app, "inv-1", 1)
    again = call(app, "inv-1", 2)
    assert first == again == ("200 OK", b'{"run": 1}')
    assert inner.runs == 1 and app.replayed == 1


def test_a_retry_of_a_call_that_failed_runs_again() -> None:
    inner = CountingApp(statuses=["500 Internal Server Error", "200 OK"])
    app = RetryReplay(inner)
    assert call(app, "inv-2", 1)[0].startswith("500")
    assert call(app, "inv-2", 2) == ("200 OK", b'{"run": 2}')
    assert inner.runs == 2 and app.replayed == 0


def test_separate_calls_reads_and_unnamed_calls_always_run() -> None:
    inner = CountingApp(statuses=["200 OK"] * 5)
    app = RetryReplay(inner)
    call(app, "inv-a", 1)
    call(app, "inv-b", 1)  # another call: not a retry
    call(app, None, 2)
    call(app, "inv-c", 1, method="GET")
    call(app, "inv-c", 2, method="GET")  # a read is safe to run twice
    assert inner.runs == 5 and app.replayed == 0


def test_a_retry_while_the_first_attempt_runs_waits_for_it_and_gets_its_answer() -> None:
    gate = threading.Event()
    inner = CountingApp(gate=gate)
    app = RetryReplay(inner)
    answers: list[tuple[str, bytes]] = []
    first = threading.Thread(target=lambda: answers.append(call(app, "inv-3", 1)))
    first.start()
    retry = threading.Thread(target=lambda: answers.append(call(app, "inv-3", 2)))
    retry.start()
    gate.set()
    first.join(5)
    retry.join(5)
    assert answers == [("200 OK", b'{"run": 1}')] * 2
    assert inner.runs == 1


def test_old_calls_are_forgotten() -> None:
    inner = CountingApp(statuses=["200 OK"] * 4)
    app = RetryReplay(inner, max_calls=1)
    call(app, "inv-x", 1)
    call(app, "inv-y", 1)  # pushes inv-x out
    call(app, "inv-x", 2)
    assert inner.runs == 3 and app.replayed == 0
