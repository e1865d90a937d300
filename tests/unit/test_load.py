"""local/load.py without an emulator: its percentiles, what a level counts (a 5xx and silence
are counted, never retried), the figures' names, the merge into bench/results.json, and the
CPU accounting of an emulator's workers read from /proc."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from functions.domain.acquirer import TEST_CARDS
from functions.domain.cards import luhn_valid
from local import load
from local.api_client import ApiResponse


def test_percentiles_are_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert load.percentile(values, 50) == 50.0
    assert load.percentile(values, 99) == 99.0
    assert load.percentile([7.0, 1.0, 3.0], 50) == 3.0
    assert load.percentile([5.0], 99) == 5.0
    assert load.percentile([], 99) == 0.0


class FakeApi:
    """Answers creates from a script, whatever the order the threads ask in."""

    merchant_id = "m_load_test"

    def __init__(self, answers: list[ApiResponse | Exception]) -> None:
        self._answers = answers
        self._lock = threading.Lock()
        self.requests: list[tuple[dict[str, Any], str | None]] = []

    def post(self, path: str, body: Any, *, idempotency_key: str | None = None) -> ApiResponse:
        with self._lock:
            self.requests.append((body, idempotency_key))
            answer = self._answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def created(n: int) -> ApiResponse:
    return ApiResponse(201, {"id": f"pay_{n}", "status": "captured"})


def test_a_level_counts_every_answer_and_retries_nothing() -> None:
    answers: list[ApiResponse | Exception] = [created(n) for n in range(4)]  # the warm-up
    answers += [created(10), ApiResponse(502, {"error": {"code": "api_error"}})]
    answers += [TimeoutError("no answer"), created(11), ApiResponse(402, {"status": "declined"})]
    answers += [created(12)]
    api = FakeApi(answers)
    level = load.run_level(load.Checkout(api, seed=1), concurrency=4, payments=6)  # type: ignore[arg-type]
    assert level.answers == Counter({"201": 3, "502": 1, "no answer": 1, "402": 1})
    assert sorted(level.payment_ids) == ["pay_10", "pay_11", "pay_12"]
    assert level.server_errors == 2
    assert len(level.latencies_ms) == 5  # the unanswered one has no latency
    assert len(api.requests) == 10  # four to warm up, six counted, none sent again
    keys = [key for _, key in api.requests]
    assert len(set(keys)) == len(keys)
    cards = [body["payment_method"]["card"]["number"] for body, _ in api.requests]
    assert len(set(cards)) == len(cards)
    assert all(luhn_valid(card) and card[-4:] not in TEST_CARDS for card in cards)
    assert {body["merchant_id"] for body, _ in api.requests} == {"m_load_test"}
    devices = [body["customer"]["device_id"] for body, _ in api.requests]
    assert len(set(devices)) == len(devices)


def test_a_level_names_its_figures_by_concurrency_and_merges_them(tmp_path: Path) -> None:
    level = load.LevelResult(
        concurrency=16,
        seconds=2.0,
        latencies_ms=[100.0] * 98 + [400.0, 900.0],
        answers=Counter({"201": 100}),
        payment_ids=[f"pay_{n}" for n in range(100)],
        cpu=load.Cpu(emulator=1.5, workers={"f": 2.0}, ended_workers=0.5, client=0.1),
    )
    figures = level.figures()
    assert figures["load_payments_per_s_c16"] == {"value": 50.0, "unit": "payments/s"}
    assert figures["load_ms_p50_c16"] == {"value": 100.0, "unit": "ms"}
    assert figures["load_ms_p99_c16"] == {"value": 400.0, "unit": "ms"}
    assert figures["load_emulator_cores_c16"]["value"] == 0.75
    assert figures["load_workers_cpu_ms_per_payment_c16"]["value"] == 25.0
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"payment_ms_p50": {"value": 1, "unit": "ms"}}))
    load.record([level], results)
    merged = json.loads(results.read_text())
    assert merged["payment_ms_p50"] == {"value": 1, "unit": "ms"}
    assert merged["load_ms_p99_c16"] == {"value": 400.0, "unit": "ms"}


def test_the_cpu_of_a_busy_worker_is_its_functions() -> None:
    """This test process plays the emulator: a child with a function's name in its environment
    is that function's worker, and its CPU time is counted for it."""
    burn = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"
    burn += "time.sleep(30)\n"
    before = load.cpu_snapshot(os.getpid())
    worker = subprocess.Popen(
        [sys.executable, "-c", burn],
        env={**os.environ, "AWS_LAMBDA_FUNCTION_NAME": "payments-local-process-payment"},
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            spent = load.cpu_snapshot(os.getpid()).minus(before)
            if spent.workers.get("payments-local-process-payment", 0) >= 0.2:
                break
            time.sleep(0.05)
        assert spent.workers.get("payments-local-process-payment", 0) >= 0.2
    finally:
        worker.kill()
        worker.wait()
