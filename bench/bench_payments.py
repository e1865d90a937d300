"""One card payment: its domain CPU cost in process, its latency through the local API and the
emulator, and what it uses there (the inputs of a cost model).

- ``payment_domain_cpu_us_p99``: every domain step of one approved-and-captured payment (card
  validation, tokenization with in-memory KMS and store, fraud score, SCA decision, acquirer
  simulator authorize + capture, the payment's state changes, views and events, two ledger
  postings on an in-memory ledger), CPU time per payment.
- ``payment_e2e_local_ms_p50/p99``: ``POST /v1/payments`` (capture) through the local API, the
  Payment API Lambda, the EXPRESS workflow and its step Lambdas, warm, sequentially;
  ``payment_e2e_local_ms_p50_enforcement_on/off``: the same, alternating with the emulator's IAM
  and key-policy enforcement on and off (what enforcement costs).
- ``payment_*`` counts: one approved-and-captured payment on the emulator, read from its meter
  (local/metering.py), on its own path only: the event source mappings are paused while it is
  metered, and any other function its events reach (the lake's transform) is counted apart as
  ``payment_beside_*``; the stream and the lake are priced per record from bench_fraud and
  bench_lake: Lambda invocations, state transitions, DynamoDB capacity units, KMS calls,
  EventBridge entries, CloudWatch Logs bytes ingested (``payment_log_bytes``, split into the
  Lambda and Step Functions shares), Lambda GB-seconds and the Express workflow's billed
  milliseconds (the emulator's durations: indicative, not AWS's).

Uses the emulator of ``make up`` when one runs; otherwise starts one, applies
environments/local, and stops it afterwards.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import re
import statistics
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bench.bench_emulator import enforcement_samples
from bench.bench_vault import _pan
from functions.domain.acquirer import (
    AcquirerSimulator,
    Authentication,
    AuthorizationRequest,
    CardReference,
)
from functions.domain.cards import validate_card
from functions.domain.fraud import FraudRules, FraudSignals, RulesFraudScorer
from functions.domain.fx import EurRates
from functions.domain.geo import IpCountryTable, IssuerCountryTable
from functions.domain.ledger import InMemoryLedgerStore, PaymentLedger, PostingRules
from functions.domain.payments import EventType, PaymentStatus, new_payment
from functions.domain.sca import Exemption, LowValueCounter, ScaPolicy, ScaRequest, decide
from functions.domain.vault import Vault
from local import cli
from local.api_client import ApiClient, onboard
from local.aws import emulator_client, emulator_env
from local.payments_demo import APPROVE, MERCHANT, payment_request
from tests.unit.domain.monitored import MONITORED
from tests.unit.vault.fakes import (
    TOKENIZE_DECRYPT,
    FakeClock,
    FakeKms,
    InMemoryVaultStore,
    ListAuditSink,
    RoleKms,
)

# Meters on the emulator: bench.run starts one for every benchmark that does.
USES_EMULATOR = True

DOMAIN_WARM_UP = 300
DOMAIN_SAMPLES = 3_000
E2E_WARM_UP = 5
E2E_SAMPLES = 60
CONSUMER_SETTLE_S = 2.0
RATES = EurRates.from_json('{"EUR": "1", "USD": "0.92"}')


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class DomainPayment:
    """All domain steps of one payment, wired to in-memory fakes."""

    def __init__(self) -> None:
        clock = FakeClock()
        self.vault = Vault(
            RoleKms(FakeKms(), TOKENIZE_DECRYPT), InMemoryVaultStore(), ListAuditSink(), clock=clock
        )
        self.scorer = RulesFraudScorer(FraudRules())
        self.policy = ScaPolicy(rates=RATES, tra_reference_fraud_rate_bps=13, monitoring=MONITORED)
        self.acquirer = AcquirerSimulator(b"bench-simulator-key-0123", timeout_s=1.0)
        self.ledger = PaymentLedger(InMemoryLedgerStore(), PostingRules())
        self.ips = IpCountryTable.DEFAULT
        self.issuers = IssuerCountryTable.DEFAULT
        self.today = dt.date(2026, 11, 22)

    def run(self, n: int) -> None:
        payment_id = f"pay_bench{n}"
        card = validate_card(APPROVE, 12, 2030, "123", self.today)
        token = self.vault.tokenize("m_bench", APPROVE, customer_id=f"cus_{n % 50}")
        amount = 2_500
        assessment = self.scorer.assess(
            FraudSignals(
                amount_minor=amount,
                currency="EUR",
                amount_eur_minor=RATES.to_eur_minor(amount, "EUR"),
                card_country=self.issuers.country_of(card.first6),
                ip_country=self.ips.country_of("192.0.2.10"),
                customer_country="DE",
                card_payments_last_hour=n % 3,
                device_payments_last_hour=n % 4,
            )
        )
        sca = decide(
            ScaRequest(
                merchant_id="m_bench",
                amount_minor=amount,
                currency="EUR",
                exemption_requested=Exemption.TRANSACTION_RISK_ANALYSIS,
                fraud_decision=assessment.decision.value,
                counter=LowValueCounter(),
            ),
            self.policy,
        )
        context = {
            "payment_id": payment_id,
            "merchant_id": "m_bench",
            "amount": amount,
            "currency": "EUR",
            "capture": True,
            "customer": {"id": "cus", "device_id": "dev"},
            "card": {"token": token.token, "brand": token.brand.value, "last4": token.last4},
            "fraud": {"result": assessment.to_dict()},
            "sca": {
                "result": {
                    "required": sca.required,
                    "exemption": sca.exemption,
                    "reason": sca.reason,
                }
            },
        }
        now = "2026-11-22T10:00:00.000+00:00"
        payment = new_payment(context, PaymentStatus.AUTHORIZING, now)
        result = self.acquirer.authorize(
            AuthorizationRequest(
                payment_id=payment_id,
                merchant_id="m_bench",
                amount=amount,
                currency="EUR",
                card=CardReference(token.token, token.brand.value, token.last4, 12, 2030),
                authentication=Authentication(None, None, str(sca.exemption)),
                idempotency_key=payment.authorize_idempotency_key,
            )
        )
        assert result.authorization_id is not None
        payment = payment.authorized(result.authorization_id, now)
        self.ledger.record_authorization(payment_id, "m_bench", amount, "EUR")
        payment.event(EventType.AUTHORIZED, "bus", amount=amount)
        captured_amount = payment.capture_amount(None)
        self.acquirer.capture(
            result.authorization_id, captured_amount, "EUR", f"{payment_id}:capture:1"
        )
        payment = payment.captured(captured_amount, now)
        self.ledger.record_capture(payment_id, "m_bench", captured_amount, "EUR", 1)
        payment.event(EventType.CAPTURED, "bus", amount=captured_amount)
        payment.view()


def domain_cpu_us() -> list[float]:
    domain = DomainPayment()
    counter = itertools.count()
    for _ in range(DOMAIN_WARM_UP):
        domain.run(next(counter))
    samples = []
    for _ in range(DOMAIN_SAMPLES):
        n = next(counter)
        start = time.process_time_ns()
        domain.run(n)
        samples.append((time.process_time_ns() - start) / 1000)
    return samples


def meter(api_endpoint: str, reset: bool = False) -> dict[str, Any]:
    url = f"{api_endpoint}/_local/meter" + ("/reset" if reset else "")
    request = urllib.request.Request(url, method="POST" if reset else "GET")  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310
        body = reply.read()
    return json.loads(body) if body else {}


def timed_payment(api: ApiClient, n: int) -> float:
    # A new card and device each time: the same card over and over is a velocity block.
    request = payment_request(_pan(7_000_000 + n), 2_500, device=f"dev_bench_{n}")
    start = time.perf_counter()
    answer = api.post("/v1/payments", request, idempotency_key=uuid.uuid4().hex)
    elapsed_ms = (time.perf_counter() - start) * 1000
    if answer.status != 201 or answer.body.get("status") != "captured":
        raise RuntimeError(f"bench payment did not capture: {answer.status} {answer.body}")
    return elapsed_ms


def _calls(counts: dict[str, int], service: str, *actions: str) -> int:
    return sum(counts.get(f"api:{service}:{action}", 0) for action in actions)


def _per_resource(
    counts: dict[str, int], prefix: str, figure: str, unit: str
) -> dict[str, dict[str, float | str]]:
    """The meter's counts named ``<prefix><resource>`` as figures ``<figure><resource>``."""
    return {
        f"{figure}{name.removeprefix(prefix)}": {"value": value, "unit": unit}
        for name, value in sorted(counts.items())
        if name.startswith(prefix)
    }


@contextlib.contextmanager
def _consumers_paused(endpoints: cli.Endpoints) -> Iterator[None]:
    """Event source mappings disabled while the payment is metered: their consumers (the fraud
    stream's) read and write on their own, and their reads cannot be told from the risk step's
    on the same table. The records wait on the stream and are consumed once re-enabled."""
    client = emulator_client("lambda", endpoints.aws)
    mappings = [
        m["UUID"]
        for page in client.get_paginator("list_event_source_mappings").paginate()
        for m in page["EventSourceMappings"]
        if m.get("State") == "Enabled"
    ]
    for uuid_ in mappings:
        client.update_event_source_mapping(UUID=uuid_, Enabled=False)
    time.sleep(CONSUMER_SETTLE_S)  # a batch already handed to a consumer finishes
    try:
        yield
    finally:
        for uuid_ in mappings:
            client.update_event_source_mapping(UUID=uuid_, Enabled=True)


@dataclass(frozen=True)
class Beside:
    """What a payment invoked on its own path (``path``) and what runs beside it: the
    functions that consume its events (event source mappings, Firehose processors) and the
    tables only they write."""

    path: frozenset[str]
    functions: frozenset[str]
    tables: frozenset[str]


def _beside_the_payment(
    endpoints: cli.Endpoints, outputs: dict[str, object], counts: dict[str, int]
) -> Beside:
    sfn = emulator_client("stepfunctions", endpoints.aws)
    definition = sfn.describe_state_machine(
        stateMachineArn=str(outputs["payment_state_machine_arn"])
    )["definition"]
    return split(definition, outputs, counts)


def split(definition: str, outputs: dict[str, object], counts: dict[str, int]) -> Beside:
    """The payment's synchronous path is the API function and the workflow's tasks (the
    functions its definition names); every other function invoked in the window consumed its
    events asynchronously, and the fraud stream's tables are written only by those."""
    on_path = {str(outputs["payments_api_function_name"])} | {
        arn.rsplit(":", 1)[-1] for arn in re.findall(r"arn:aws:lambda:[^\"]+", definition)
    }
    invoked = {n.removeprefix("data:lambda:") for n in counts if n.startswith("data:lambda:")}
    stream = outputs.get("fraud_stream")
    tables = (
        {str(stream[k]) for k in ("feature_table_name", "block_list_table_name") if k in stream}
        if isinstance(stream, dict)
        else set()
    )
    return Beside(frozenset(invoked & on_path), frozenset(invoked - on_path), frozenset(tables))


def emulator_figures(
    endpoints: cli.Endpoints, outputs: dict[str, object]
) -> dict[str, dict[str, float | str]]:
    # The merchant payment_request names, with a secret API key from the registry.
    issued = onboard(endpoints.aws, outputs, MERCHANT)
    api = ApiClient.for_merchant(endpoints.api, issued, str(outputs["api_name"]))
    base = int(time.time()) % 1_000_000 * 100
    for n in range(E2E_WARM_UP):
        timed_payment(api, base + n)
    with _consumers_paused(endpoints):
        meter(endpoints.api, reset=True)
        timed_payment(api, base + E2E_WARM_UP)
        used = meter(endpoints.api)
    latencies = [timed_payment(api, base + E2E_WARM_UP + 1 + n) for n in range(E2E_SAMPLES)]
    by_enforcement = enforcement_samples(
        endpoints.aws, lambda n: timed_payment(api, base + E2E_WARM_UP + 1 + E2E_SAMPLES + n)
    )
    side = _beside_the_payment(endpoints, outputs, used["counts"])
    return figures(used, side, latencies, by_enforcement)


def figures(
    used: dict[str, Any],
    side: Beside,
    latencies: list[float],
    by_enforcement: dict[str, list[float]],
) -> dict[str, dict[str, float | str]]:
    """The payment's figures from the meter's window: what ran beside it (``side``) is left
    out of its own invocations, write units, log bytes and GB-seconds, and shown apart."""
    counts = used["counts"]
    kms_calls = sum(v for k, v in counts.items() if k.startswith("api:kms:"))
    hot_functions = side.path
    side_wcu = sum(counts.get(f"wcu:dynamodb:{t}", 0) for t in side.tables)
    side_log_bytes = sum(counts.get(f"log_group_bytes:/aws/lambda/{f}", 0) for f in side.functions)
    # Data-plane calls per resource (data:<service>:<name>): what CloudTrail data events cost
    # depends on which of these resources the trail selects (bench/cost prices that).
    return {
        **_per_resource(counts, "data:", "payment_data_calls:", "calls"),
        **{
            name: figure
            for name, figure in _per_resource(
                counts, "wcu:dynamodb:", "payment_dynamodb_write_units:", "WCU"
            ).items()
            if name.removeprefix("payment_dynamodb_write_units:") not in side.tables
        },
        # What ran beside the payment in the same window (the fraud stream's consumer and the
        # lake's transform, fed by its events): priced per stream record by bench_fraud and
        # bench_lake, so left out of the payment's own figures and shown here.
        "payment_beside_lambda_invocations": {
            "value": sum(counts.get(f"data:lambda:{f}", 0) for f in side.functions),
            "unit": "count",
        },
        "payment_beside_dynamodb_write_units": {"value": side_wcu, "unit": "WCU"},
        **_per_resource(counts, "log_group_bytes:", "payment_log_bytes:", "bytes"),
        "payment_api_requests": {"value": counts.get("api_requests", 0), "unit": "count"},
        "payment_step_functions_express_executions": {
            "value": counts.get("step_functions_express_executions", 0),
            "unit": "count",
        },
        "payment_kinesis_put_calls": {
            "value": _calls(counts, "kinesis", "PutRecord", "PutRecords"),
            "unit": "count",
        },
        "payment_firehose_put_calls": {
            "value": _calls(counts, "firehose", "PutRecord", "PutRecordBatch"),
            "unit": "count",
        },
        "payment_s3_put_calls": {"value": _calls(counts, "s3", "PutObject"), "unit": "count"},
        "payment_athena_queries": {
            "value": _calls(counts, "athena", "StartQueryExecution"),
            "unit": "count",
        },
        "payment_e2e_local_ms_p50": {"value": round(statistics.median(latencies), 1), "unit": "ms"},
        "payment_e2e_local_ms_p99": {"value": round(_percentile(latencies, 0.99), 1), "unit": "ms"},
        **{
            f"payment_e2e_local_ms_p50_enforcement_{state}": {
                "value": round(statistics.median(samples), 1),
                "unit": "ms",
            }
            for state, samples in by_enforcement.items()
        },
        "payment_lambda_invocations": {
            "value": sum(counts.get(f"data:lambda:{f}", 0) for f in hot_functions),
            "unit": "count",
        },
        "payment_state_transitions": {"value": counts.get("state_transitions", 0), "unit": "count"},
        "payment_dynamodb_write_units": {
            "value": used["dynamodb_write_units"] - side_wcu,
            "unit": "WCU",
        },
        "payment_dynamodb_read_units": {"value": used["dynamodb_read_units"], "unit": "RCU"},
        "payment_kms_calls": {"value": kms_calls, "unit": "count"},
        "payment_events_published": {"value": counts.get("events_published", 0), "unit": "count"},
        "payment_log_bytes": {"value": int(used["log_bytes"]) - side_log_bytes, "unit": "bytes"},
        "payment_log_bytes_lambda": {"value": counts.get("log_bytes:lambda", 0), "unit": "bytes"},
        "payment_log_bytes_states": {"value": counts.get("log_bytes:states", 0), "unit": "bytes"},
        "payment_lambda_gb_seconds": {
            "value": round(sum(used.get(f"lambda_gb_seconds:{f}", 0.0) for f in hot_functions), 4),
            "unit": "GB-s",
        },
        "payment_step_functions_express_billed_ms": {
            "value": used["step_functions_express_billed_ms"],
            "unit": "ms",
        },
    }


def run() -> dict[str, dict[str, float | str]]:
    cpu = domain_cpu_us()
    figures: dict[str, dict[str, float | str]] = {
        "payment_domain_cpu_us_p50": {"value": round(statistics.median(cpu), 1), "unit": "us"},
        "payment_domain_cpu_us_p99": {"value": round(_percentile(cpu, 0.99), 1), "unit": "us"},
    }
    endpoints = cli.Endpoints.from_environ()
    started_here = not (cli.running_pid() and cli.healthy(endpoints))
    try:
        outputs = (
            cli.cmd_up(endpoints)
            if started_here
            else cli.terraform_outputs(cli.LOCAL_ENV_DIR, emulator_env(endpoints.aws))
        )
        figures.update(emulator_figures(endpoints, outputs))
    finally:
        if started_here:
            cli.stop_emulator()
    return figures
