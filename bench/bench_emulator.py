"""Round trip of a Lambda invoke through the local emulator: cold (first call) and warm.

Each figure is the median over the samples of one run. Cold calls start a worker process and
import the handler; warm calls reuse it, which is what the emulator does between invocations.
"""

from __future__ import annotations

import io
import json
import statistics
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from local import endpoints
from local.aws import emulator_client
from local.cli import spawn_emulator, stop_process_group
from local.enforcement import LAMBDA_TRUST_POLICY, switched

COLD_SAMPLES = 7
WARM_SAMPLES = 60
HANDLER = "def handler(event, context):\n    return {'echo': event.get('n')}\n"


def handler_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("bench_handler.py", HANDLER)
    return buffer.getvalue()


def timed_invoke(client: Any, name: str, n: int) -> float:
    started = time.perf_counter()
    reply = client.invoke(FunctionName=name, Payload=json.dumps({"n": n}))
    elapsed_ms = (time.perf_counter() - started) * 1000
    assert json.loads(reply["Payload"].read()) == {"echo": n}, "unexpected bench result"
    return elapsed_ms


def run() -> dict[str, dict[str, float | str]]:
    with tempfile.TemporaryDirectory() as state:
        process = spawn_emulator(Path(state), Path(state) / "emulator.log", api_port=0)
        try:
            published = endpoints.wait(process, Path(state), 30)
            if published is None:
                raise RuntimeError("the emulator did not start")
            endpoint = published.aws
            lambda_client = emulator_client("lambda", endpoint)
            # The emulator assumes the role for the worker: its trust must admit Lambda.
            role = emulator_client("iam", endpoint).create_role(
                RoleName="bench", AssumeRolePolicyDocument=LAMBDA_TRUST_POLICY
            )["Role"]["Arn"]
            code = handler_zip()
            cold, warm = [], []
            for sample in range(COLD_SAMPLES):
                name = f"bench-{uuid.uuid4().hex[:8]}"
                lambda_client.create_function(
                    FunctionName=name,
                    Runtime="python3.11",
                    Role=role,
                    Handler="bench_handler.handler",
                    Code={"ZipFile": code},
                    Timeout=5,
                )
                cold.append(timed_invoke(lambda_client, name, sample))
            for sample in range(WARM_SAMPLES):
                warm.append(timed_invoke(lambda_client, name, sample))
            by_enforcement = enforcement_samples(
                endpoint, lambda n: timed_invoke(lambda_client, name, n)
            )
        finally:
            stop_process_group(process)
    cold_ms, warm_ms = statistics.median(cold), statistics.median(warm)
    return {
        "emulator_cold_invoke_ms": {"value": round(cold_ms, 2), "unit": "ms"},
        "emulator_warm_invoke_ms": {"value": round(warm_ms, 2), "unit": "ms"},
        "emulator_cold_to_warm_ratio": {"value": round(cold_ms / warm_ms, 1), "unit": "x"},
        **{
            f"emulator_warm_invoke_ms_enforcement_{state}": {
                "value": round(statistics.median(samples), 2),
                "unit": "ms",
            }
            for state, samples in by_enforcement.items()
        },
    }


def enforcement_samples(endpoint: str, sample: Callable[[int], float]) -> dict[str, list[float]]:
    """The same call with IAM and key-policy enforcement on and off, alternating, so that both
    see the same machine (what enforcement costs, issue 20)."""
    samples: dict[str, list[float]] = {"on": [], "off": []}
    for n in range(WARM_SAMPLES):
        state = "on" if n % 2 == 0 else "off"
        with switched(endpoint, on=state == "on"):
            samples[state].append(sample(n))
    return samples
