"""``make load``: a bounded load test of the local payment API at concurrency 1, 4 and 16.

Each level sends a fixed number of sales (fresh Luhn-valid cards, captured at once, each with
its own ``Idempotency-Key``, customer, device and address, so fraud velocity never declines
them) from that many client threads, each thread one payment after another, as a merchant's
checkout servers would. A few payments first warm the level's execution environments, and are
not counted: a level measures the steady state, not cold starts. The client does not retry; a
5xx or no answer is counted, never hidden.

Per level: payments per second (answered payments over the level's wall time), p50 and p99 of
the create's latency, and where the CPU went: the emulator's process (moto's server, the Step
Functions interpreter, the local API and the glue share it and its GIL), the Lambda workers
(one process each, so they may use every core), and this client. On a two-core machine the
split says whether the emulator or the design is the limit (README, "Load").

``python -m local.load`` starts its own emulator and applies environments/local (as ``make
chaos`` does), or uses the one ``make up`` started; figures are merged into
``bench/results.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import threading
import time
import urllib.error
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.api_client import ApiClient
from local.chaos import SETTLED, fresh_card, status_of
from local.payments_demo import payment_request

LEVELS = (1, 4, 16)
DEFAULT_PAYMENTS = 64
RESULTS_PATH = Path(__file__).resolve().parent.parent / "bench" / "results.json"


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (the value at rank ceil(q/100 * n)); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Cpu:
    """CPU seconds so far: the emulator's own process, its Lambda workers (live ones by
    function; ended ones are in ``ended_workers``), and this client process."""

    emulator: float
    workers: dict[str, float]
    ended_workers: float
    client: float

    def minus(self, before: Cpu) -> Cpu:
        return Cpu(
            self.emulator - before.emulator,
            {
                name: seconds - before.workers.get(name, 0.0)
                for name, seconds in self.workers.items()
            },
            self.ended_workers - before.ended_workers,
            self.client - before.client,
        )

    @property
    def all_workers(self) -> float:
        return sum(self.workers.values()) + self.ended_workers


def _stat(pid: int | str) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (which may hold spaces)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def _function_of(pid: str) -> str | None:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return None
    for entry in environ:
        if entry.startswith(b"AWS_LAMBDA_FUNCTION_NAME="):
            return entry.split(b"=", 1)[1].decode()
    return None


def cpu_snapshot(emulator_pid: int) -> Cpu:
    """Reads the kernel's accounting; a worker is a child of the emulator with a function's
    name in its environment (local/lambda_runtime.py starts them so)."""
    tick = os.sysconf("SC_CLK_TCK")
    own = _stat(emulator_pid)
    if own is None:
        raise ProcessLookupError(f"no emulator process {emulator_pid}")
    # After the command name: state, ppid, ... utime (11), stime (12), cutime (13), cstime (14).
    emulator = (int(own[11]) + int(own[12])) / tick
    ended = (int(own[13]) + int(own[14])) / tick
    workers: dict[str, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat(entry)
        if fields is None or fields[1] != str(emulator_pid):
            continue
        name = _function_of(entry)
        if name is not None:
            workers[name] = workers.get(name, 0.0) + sum(int(v) for v in fields[11:15]) / tick
    return Cpu(emulator, workers, ended, time.process_time())


@dataclass
class LevelResult:
    concurrency: int
    seconds: float
    latencies_ms: list[float]
    # HTTP status of each create ("no answer" when none came).
    answers: Counter[str]
    payment_ids: list[str]
    cpu: Cpu | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def payments(self) -> int:
        return len(self.payment_ids)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.answers.items() if not status.startswith(("2", "4")))

    def figures(self) -> dict[str, dict[str, Any]]:
        c = self.concurrency
        out: dict[str, dict[str, Any]] = {
            f"load_payments_per_s_c{c}": {
                "value": round(self.payments / self.seconds, 2) if self.seconds else 0.0,
                "unit": "payments/s",
            },
            f"load_ms_p50_c{c}": {
                "value": round(percentile(self.latencies_ms, 50), 1),
                "unit": "ms",
            },
            f"load_ms_p99_c{c}": {
                "value": round(percentile(self.latencies_ms, 99), 1),
                "unit": "ms",
            },
            f"load_server_errors_c{c}": {"value": self.server_errors, "unit": "requests"},
        }
        if self.cpu is not None and self.payments:
            per_payment = 1000 / self.payments
            out |= {
                f"load_emulator_cpu_ms_per_payment_c{c}": {
                    "value": round(self.cpu.emulator * per_payment, 1),
                    "unit": "ms",
                },
                f"load_workers_cpu_ms_per_payment_c{c}": {
                    "value": round(self.cpu.all_workers * per_payment, 1),
                    "unit": "ms",
                },
                f"load_emulator_cores_c{c}": {
                    "value": round(self.cpu.emulator / self.seconds, 2),
                    "unit": "cores",
                },
                f"load_workers_cores_c{c}": {
                    "value": round(self.cpu.all_workers / self.seconds, 2),
                    "unit": "cores",
                },
            }
        return out

    def print(self) -> None:
        figures = self.figures()
        c = self.concurrency
        print(
            f"  concurrency {c:>2}: {self.payments} payments in {self.seconds:.1f} s = "
            f"{figures[f'load_payments_per_s_c{c}']['value']}/s, "
            f"p50 {figures[f'load_ms_p50_c{c}']['value']} ms, "
            f"p99 {figures[f'load_ms_p99_c{c}']['value']} ms, answers {dict(self.answers)}"
        )
        if self.cpu is not None:
            busiest = sorted(self.cpu.workers.items(), key=lambda kv: -kv[1])[:4]
            print(
                f"    CPU s: emulator {self.cpu.emulator:.1f} "
                f"({self.cpu.emulator / self.seconds:.2f} cores), workers "
                f"{self.cpu.all_workers:.1f} ({self.cpu.all_workers / self.seconds:.2f} cores; "
                + ", ".join(f"{name} {s:.1f}" for name, s in busiest)
                + f"), client {self.cpu.client:.1f}"
            )
        for line in self.errors[:5]:
            print(f"    {line}")


class Checkout:
    """Sends sales, each a new cardholder, for one merchant; safe to share between threads."""

    def __init__(self, api: ApiClient, seed: int) -> None:
        self._api = api
        self._merchant = api.merchant_id or f"m_load_{uuid.uuid4().hex[:8]}"
        self._lock = threading.Lock()
        self._rng = random.Random(seed)  # noqa: S311 (a workload, not a secret)
        self._count = 0

    def _next(self) -> tuple[int, str, int]:
        with self._lock:
            self._count += 1
            return self._count, fresh_card(self._rng), self._rng.randrange(500, 2_900)

    def pay(self) -> tuple[str, float, str | None, str | None]:
        """(answer, milliseconds, payment id, error detail) of one sale."""
        n, card, amount = self._next()
        run = uuid.uuid4().hex[:8]
        request = payment_request(
            card,
            amount,
            merchant=self._merchant,
            ip=f"198.18.{n // 250 % 250}.{n % 250 + 1}",
            device=f"dev_load_{run}_{n}",
        )
        request["customer"]["id"] = f"cus_load_{run}_{n}"
        started = time.perf_counter()
        try:
            answer = self._api.post("/v1/payments", request, idempotency_key=f"load-{run}-{n}")
        except (urllib.error.URLError, TimeoutError, ConnectionError, ValueError) as error:
            return "no answer", (time.perf_counter() - started) * 1000, None, repr(error)
        ms = (time.perf_counter() - started) * 1000
        body = answer.body if isinstance(answer.body, dict) else {}
        payment_id = str(body["id"]) if answer.status == 201 and "id" in body else None
        detail = None if answer.status < 500 else json.dumps(body)[:300]
        return str(answer.status), ms, payment_id, detail


def run_level(
    checkout: Checkout,
    concurrency: int,
    payments: int,
    emulator_pid: int | None = None,
    warm_up: bool = True,
) -> LevelResult:
    """``payments`` sales from ``concurrency`` client threads (after ``concurrency`` uncounted
    ones that start the execution environments the level needs)."""
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        if warm_up:
            list(pool.map(lambda _: checkout.pay(), range(concurrency)))
        before = cpu_snapshot(emulator_pid) if emulator_pid else None
        started = time.perf_counter()
        shares = [
            payments // concurrency + (i < payments % concurrency) for i in range(concurrency)
        ]
        lanes = pool.map(lambda share: [checkout.pay() for _ in range(share)], shares)
        outcomes = [outcome for lane in lanes for outcome in lane]
        seconds = time.perf_counter() - started
    cpu = cpu_snapshot(emulator_pid).minus(before) if emulator_pid and before else None
    return LevelResult(
        concurrency=concurrency,
        seconds=seconds,
        latencies_ms=[ms for answer, ms, _, _ in outcomes if answer != "no answer"],
        answers=Counter(answer for answer, _, _, _ in outcomes),
        payment_ids=[pid for _, _, pid, _ in outcomes if pid is not None],
        cpu=cpu,
        errors=[f"{answer}: {detail}" for answer, _, _, detail in outcomes if detail],
    )


def unsettled(api: ApiClient, payment_ids: list[str]) -> list[str]:
    """Payments not in a state where a payment may rest (local/chaos.py's SETTLED)."""
    found = []
    for payment_id in payment_ids:
        status = status_of(api.get(f"/v1/payments/{payment_id}"))
        if status not in SETTLED:
            found.append(f"{payment_id} {status}")
    return found


def record(results: list[LevelResult], path: Path = RESULTS_PATH) -> None:
    """Merges the levels' figures into ``bench/results.json`` beside the benchmarks'."""
    existing = json.loads(path.read_text()) if path.exists() else {}
    for result in results:
        existing.update(result.figures())
    path.write_text(json.dumps(existing, indent=2, sort_keys=True) + "\n")


def run_load(
    api: ApiClient,
    levels: tuple[int, ...] = LEVELS,
    payments: int = DEFAULT_PAYMENTS,
    emulator_pid: int | None = None,
    seed: int = 17,
) -> list[LevelResult]:
    checkout = Checkout(api, seed)
    results = []
    for concurrency in levels:
        result = run_level(checkout, concurrency, payments, emulator_pid)
        result.print()
        results.append(result)
    return results


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--payments", type=int, default=DEFAULT_PAYMENTS, help="per level")
    parser.add_argument(
        "--levels",
        default=",".join(map(str, LEVELS)),
        help="comma-separated concurrency levels",
    )
    args = parser.parse_args(argv)
    levels = tuple(int(level) for level in args.levels.split(","))

    from local.aws import emulator_env
    from local.cli import (
        LOCAL_ENV_DIR,
        Endpoints,
        cmd_up,
        running_pid,
        stop_emulator,
        terraform_outputs,
    )
    from local.demo import merchant_client

    endpoints = Endpoints.from_environ()
    started_here = running_pid() is None
    try:
        if started_here:
            outputs = cmd_up(endpoints)
        else:
            outputs = terraform_outputs(LOCAL_ENV_DIR, emulator_env(endpoints.aws))
        pid = running_pid()
        api = merchant_client(endpoints.aws, endpoints.api, outputs)
        print(f"\nLoad: {args.payments} payments per level at concurrency {levels}")
        results = run_load(api, levels, args.payments, pid)
        left = unsettled(api, [p for r in results for p in r.payment_ids])
        errors = sum(r.server_errors for r in results)
        record(results)
        print(f"wrote {RESULTS_PATH.name}; {errors} 5xx or unanswered, {len(left)} unsettled")
        return 1 if errors or left else 0
    finally:
        if started_here:
            stop_emulator()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
