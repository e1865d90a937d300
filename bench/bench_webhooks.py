"""Webhooks (docs/decisions/0009): how long a merchant waits for an event, and what signing
costs.

- ``webhook_delivery_latency_ms_p50/p99``: on the emulator, from a payment event's
  ``occurred_at`` (the workflow publishing it) to the local test receiver holding the signed
  request: EventBridge's rule to the events queue, the queue's poller, the dispatch (the
  merchant's endpoints read, the delivery recorded, the attempt queued), the delivery queue's
  poller, the attempt (claim, secret opened, POST). Sequential authorizations (one event each),
  warm functions, one endpoint subscribed to ``payment.*``. The emulator's pollers wait up to
  100 ms between empty polls, twice on this path; SQS long polling on AWS answers as soon as a
  message arrives.
- ``webhook_sign_us_p99``: signing one 1 KB delivery with two secrets (a rotation overlap), in
  process: the CPU a delivery spends on its signature.

Uses the emulator of ``make up`` when one runs; otherwise starts one, applies
environments/local, and stops it afterwards.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
import uuid
from typing import Any

from functions.domain.webhook_signatures import signature_header, verify
from local import cli
from local.api_client import ApiClient, onboard
from local.aws import emulator_env
from local.payments_demo import APPROVE, payment_request
from local.webhook_receiver import Received, WebhookReceiver

# Meters on the emulator: bench.run starts one for every benchmark that does.
USES_EMULATOR = True

MERCHANT = "m_bench_webhooks"
WARM_UP = 3
SAMPLES = 20
WAIT_S = 60.0
SIGN_SAMPLES = 5_000


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def sign_us() -> list[float]:
    body = b"x" * 1024
    secrets = ["whsec_" + "a" * 43, "whsec_" + "b" * 43]
    samples = []
    for _ in range(SIGN_SAMPLES):
        started = time.perf_counter_ns()
        signature_header(secrets, 1_800_000_000, body)
        samples.append((time.perf_counter_ns() - started) / 1000)
    return samples


def _delivered(payment_id: str) -> Any:
    def done(received: list[Received]) -> bool:
        return any(r.event["data"].get("payment_id") == payment_id for r in received)

    return done


def delivery_latencies(endpoints: cli.Endpoints, outputs: dict[str, object]) -> list[float]:
    issued = onboard(endpoints.aws, outputs, MERCHANT)
    api = ApiClient.for_merchant(endpoints.api, issued, str(outputs["api_name"]))
    latencies = []
    with WebhookReceiver() as receiver:
        created = api.post(
            "/v1/webhook_endpoints",
            {"url": f"{receiver.url}/bench", "enabled_events": ["payment.*"]},
        )
        if created.status != 201:
            raise RuntimeError(f"endpoint not registered: {created.status} {created.body}")
        secret = created.body["secret"]
        for n in range(WARM_UP + SAMPLES):
            # Not captured: one event per payment (authorized, or requires_action once the card's
            # low-value exemptions are spent), whose delivery is timed.
            request = payment_request(APPROVE, 1000 + n, merchant=MERCHANT, capture=False)
            paid = api.post("/v1/payments", request, idempotency_key=uuid.uuid4().hex)
            if paid.status != 201:
                raise RuntimeError(f"payment refused: {paid.status} {paid.body}")
            payment_id = paid.body["id"]
            received = receiver.wait_for(_delivered(payment_id), WAIT_S)
            [delivery] = [r for r in received if r.event["data"].get("payment_id") == payment_id]
            verify(delivery.body, delivery.signature, secret, now=delivery.at)
            occurred = dt.datetime.fromisoformat(delivery.event["created"]).timestamp()
            if n >= WARM_UP:
                latencies.append((delivery.at - occurred) * 1000)
        api.request("DELETE", f"/v1/webhook_endpoints/{created.body['id']}")
    return latencies


def run() -> dict[str, dict[str, float | str]]:
    signing = sign_us()
    figures: dict[str, dict[str, float | str]] = {
        "webhook_sign_us_p99": {"value": round(_percentile(signing, 0.99), 1), "unit": "us"},
    }
    endpoints = cli.Endpoints.from_environ()
    started_here = not (cli.running_pid() and cli.healthy(endpoints))
    try:
        outputs = (
            cli.cmd_up(endpoints)
            if started_here
            else cli.terraform_outputs(cli.LOCAL_ENV_DIR, emulator_env(endpoints.aws))
        )
        latencies = delivery_latencies(endpoints, outputs)
    finally:
        if started_here:
            cli.stop_emulator()
    figures["webhook_delivery_latency_ms_p50"] = {
        "value": round(statistics.median(latencies), 1),
        "unit": "ms",
    }
    figures["webhook_delivery_latency_ms_p99"] = {
        "value": round(_percentile(latencies, 0.99), 1),
        "unit": "ms",
    }
    return figures
