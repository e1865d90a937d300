"""StartSyncExecution on the emulator waits for its execution's end on a condition that every
ending execution notifies (local/gaps.py), instead of polling every 2 ms per waiting request."""

from __future__ import annotations

import threading
from types import SimpleNamespace

from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

from local import gaps


def test_an_ending_execution_wakes_the_requests_waiting_for_it() -> None:
    ended = gaps._execution_ended()
    reflected: list[bool] = []
    ready = threading.Event()
    woken: list[bool] = []

    def waiter() -> None:
        with ended:
            ready.set()
            woken.append(ended.wait(timeout=10))

    thread = threading.Thread(target=waiter)
    thread.start()
    assert ready.wait(timeout=10)
    # The waiter holds the lock until it waits, so this notification cannot come too early.
    communication = SimpleNamespace(_reflect_execution_status=lambda: reflected.append(True))
    BaseExecutionWorkerCommunication.terminated(communication)  # type: ignore[arg-type]
    thread.join(timeout=10)
    assert reflected == [True]  # moto's own bookkeeping still runs first
    assert woken == [True]  # notified, not timed out


def test_the_condition_is_installed_once() -> None:
    first = gaps._execution_ended()
    terminated = BaseExecutionWorkerCommunication.terminated
    assert gaps._execution_ended() is first
    assert BaseExecutionWorkerCommunication.terminated is terminated
