"""The fraud model: in-process scoring latency with the features in hand, the scorer's cold
import, the feature code's cost per payment, and the model's quality beside the rules scorer.

* ``fraud_score_us_p50`` / ``_p99``: ``FraudModel.assess`` on real feature rows (the held-out
  rows of a seeded synthetic sample), the packaged artefact, after a warm-up (target p99 at
  most 1,000 µs).
* ``fraud_scorer_import_ms``: a fresh interpreter importing the scorer and loading the
  artefact, the median of 5 (target at most 300 ms); the interpreter's own start-up is not
  counted.
* ``fraud_features_us_p99``: ``features()`` over the five subjects' buckets, as the inline
  scorer would call it with the items read.
* ``fraud_stream_events_per_s``: the stream consumer on the emulator (environments/local, the
  emulator of ``make up`` or one started here): ``STREAM_EVENTS`` payment events put on the
  Kinesis stream at once, divided by the seconds until the feature table has counted every one
  (the consumer as deployed: BatchProcessor, per event one BatchGetItem of its five subjects and
  one conditional UpdateItem per subject, batches of up to 100, one shard poller).
* ``fraud_stream_*_per_record`` and ``fraud_stream_record_bytes``: what one stream record costs
  the consumer, from the emulator's meter (local/metering.py): ``METERED_PAYMENTS`` payments'
  events (a sale's ``payment.authorized`` and ``payment.captured``, as the measured payment of
  bench_payments publishes them) put one payment at a time, the consumer's batching window
  apart: the low-volume case, where each invocation carries one payment's events, so the
  dearest per record. Lambda invocations and GB-seconds, DynamoDB write and read units, log
  bytes, and the records' mean size on the stream. ``make cost`` prices them
  (bench/cost).
* ``fraud_alert_latency_ms_p50``: a payment event published on the bus (PutEvents) that
  completes a card-testing burst on a device, to its ``fraud.alert`` read from a queue the
  bench subscribes to the bus: rule, Kinesis, poller, consumer and PutEvents of the alert;
  the median of ``ALERT_SAMPLES`` devices.
* Quality: the full ``make train-fraud`` pipeline (seeded, so the figures are those of the
  model card), and the ULB data set (downloaded into ``.cache/`` on first use).
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from functions.domain.fraud_features import InMemoryFeatureCounters, features_from
from functions.domain.fraud_model import ARTEFACT_PATH, default_model
from local import cli
from local.aws import emulator_client, emulator_env
from ml.fraud import train as training
from ml.fraud import ulb
from ml.fraud.generator import GeneratorConfig, generate

# Meters on the emulator: bench.run starts one for every benchmark that does.
USES_EMULATOR = True

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE = GeneratorConfig(seed=3, days=10, cards=1_500)
TIMED = 20_000
WARM_UP = 2_000
IMPORT_RUNS = 5
IMPORT_PROBE = (
    "import time; t = time.perf_counter(); "
    "from functions.domain.fraud_model import default_model; default_model(); "
    "print((time.perf_counter() - t) * 1000)"
)


def _percentile(samples: list[int], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000.0


def _feature_rows() -> tuple[list[dict[str, float]], list[int]]:
    """Feature rows of a replayed sample, and the ns each ``features`` call took."""
    counters = InMemoryFeatureCounters()
    rows, timings = [], []
    for item in generate(SAMPLE):
        start = time.perf_counter_ns()
        row = features_from(item.event, counters)
        timings.append(time.perf_counter_ns() - start)
        rows.append(row)
        counters.apply(item.event)
    return rows, timings


def _import_ms() -> float:
    runs = []
    for _ in range(IMPORT_RUNS):
        done = subprocess.run(
            [sys.executable, "-c", IMPORT_PROBE],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(float(done.stdout.strip()))
    return statistics.median(runs)


STREAM_EVENTS = 500
ALERT_SAMPLES = 5
# environments/local raises card testing at 8 distinct cards on one device in an hour.
BURST_CARDS = 8


def _detail(merchant: str, n: int, device: str, card: str) -> dict[str, Any]:
    """A payment.declined detail as the workflow publishes it (functions/contracts/events.py)."""
    return {
        "event_id": f"pay_bench{merchant[-8:]}{n}:payment.declined",
        "payment_id": f"pay_bench{merchant[-8:]}{n}",
        "merchant_id": merchant,
        "status": "declined",
        "amount": 100,
        "currency": "EUR",
        "amount_captured": 0,
        "amount_refunded": 0,
        "token": f"tok_bench{n}",
        "card": {"brand": "visa", "last4": "0000"},
        "decline_code": "do_not_honor",
        "occurred_at": dt.datetime.now(dt.UTC).isoformat(),
        "platform_card_key": f"card#ck_{card}",
        "bin": "400000",
        "device_id": device,
        "ip": "198.51.100.9",
        "billing_country": "DE",
        "card_country": "DE",
        "ip_country": "DE",
        "amount_eur_minor": 100,
    }


def _counted(ddb: Any, table: str, merchant: str) -> int:
    """The attempts the merchant's item holds in its 24h series (``nd<bucket start>``)."""
    item = ddb.get_item(TableName=table, Key={"pk": {"S": f"merchant#{merchant}"}}).get("Item")
    return sum(int(v["N"]) for k, v in (item or {}).items() if k.startswith("nd"))


METERED_PAYMENTS = 12
# Records a subject's conditional UpdateItem takes: card, device, IP, merchant and BIN.
SUBJECTS_PER_ATTEMPT = 5


def _sale_events(merchant: str, n: int) -> list[dict[str, Any]]:
    """A sale's two events as the workflow publishes them: payment.authorized (whose status is
    already captured) and payment.captured (no BIN: it is published after the workflow)."""
    declined = _detail(merchant, n, f"dev_meter_{n}", f"meter{uuid.uuid4().hex[:12]}")
    base = {**declined, "status": "captured", "decline_code": None, "amount_captured": 100}
    authorized = {
        **base,
        "event_id": base["payment_id"] + ":payment.authorized",
        "operation_amount": 100,
    }
    captured = {
        **base,
        "event_id": base["payment_id"] + ":payment.captured",
        "operation_amount": 100,
        "bin": None,
    }
    return [authorized, captured]


def _meter(api_endpoint: str, reset: bool = False) -> dict[str, Any]:
    url = f"{api_endpoint}/_local/meter" + ("/reset" if reset else "")
    request = urllib.request.Request(url, method="POST" if reset else "GET")  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310
        body = reply.read()
    return dict(json.loads(body)) if body else {}


def _per_record_units(
    endpoints: cli.Endpoints, stream: dict[str, Any]
) -> dict[str, dict[str, float | str]]:
    """The consumer's metered usage per stream record (see the module's docstring)."""
    kinesis = emulator_client("kinesis", endpoints.aws)
    merchant = f"m_meter_{uuid.uuid4().hex[:8]}"
    payments = [_sale_events(merchant, n) for n in range(METERED_PAYMENTS)]
    bodies = [json.dumps(e).encode() for events in payments for e in events]
    consumer = stream["consumer"]["function_name"]
    feature_table = stream["feature_table_name"]
    window_s = 1.2  # past environments/local's batching window (1 s)
    _meter(endpoints.api, reset=True)
    for events in payments:
        kinesis.put_records(
            StreamName=stream["stream_name"],
            Records=[
                {"Data": json.dumps(e).encode(), "PartitionKey": e["platform_card_key"]}
                for e in events
            ],
        )
        time.sleep(window_s)
    # Wait on the meter, not the table: a read of the table would be metered with the rest.
    # Each attempt is one BatchGetItem and an UpdateItem per subject on the feature table.
    expected_updates = METERED_PAYMENTS * (1 + SUBJECTS_PER_ATTEMPT)
    deadline = time.monotonic() + 120
    while True:
        used = _meter(endpoints.api)
        counts = used["counts"]
        if counts.get(f"data:dynamodb:{feature_table}", 0) >= expected_updates:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"the consumer did not count the metered payments: {counts}")
        time.sleep(0.5)
    time.sleep(window_s)  # the last invocation's log lines
    used = _meter(endpoints.api)
    counts = used["counts"]
    records = len(bodies)
    consumer_logs = sum(
        v for k, v in counts.items() if k.startswith("log_group_bytes:") and k.endswith(consumer)
    )
    return {
        "fraud_stream_record_bytes": {
            "value": round(sum(len(b) for b in bodies) / records, 1),
            "unit": "bytes per record",
        },
        "fraud_stream_lambda_invocations_per_record": {
            "value": round(counts.get(f"data:lambda:{consumer}", 0) / records, 4),
            "unit": "invocations per record",
        },
        "fraud_stream_lambda_gb_seconds_per_record": {
            "value": round(used["lambda_gb_seconds"] / records, 6),
            "unit": "GB-s per record",
        },
        "fraud_stream_dynamodb_write_units_per_record": {
            "value": round(used["dynamodb_write_units"] / records, 3),
            "unit": "WCU per record",
        },
        "fraud_stream_dynamodb_read_units_per_record": {
            "value": round(used["dynamodb_read_units"] / records, 3),
            "unit": "RCU per record",
        },
        "fraud_stream_log_bytes_per_record": {
            "value": round(consumer_logs / records, 1),
            "unit": "bytes per record",
        },
    }


def _events_per_s(endpoint: str, stream: dict[str, Any]) -> float:
    kinesis, ddb = emulator_client("kinesis", endpoint), emulator_client("dynamodb", endpoint)
    merchant = f"m_bench_{uuid.uuid4().hex[:8]}"
    details = [
        _detail(merchant, n, f"dev_rate_{n}", f"rate{uuid.uuid4().hex[:12]}")
        for n in range(STREAM_EVENTS)
    ]
    started = time.perf_counter()
    for first in range(0, len(details), 100):
        kinesis.put_records(
            StreamName=stream["stream_name"],
            Records=[
                {"Data": json.dumps(d).encode(), "PartitionKey": d["platform_card_key"]}
                for d in details[first : first + 100]
            ],
        )
    deadline = started + 600
    while _counted(ddb, stream["feature_table_name"], merchant) < STREAM_EVENTS:
        if time.perf_counter() > deadline:
            raise RuntimeError("the fraud stream consumer did not count the bench events")
        time.sleep(0.05)
    return STREAM_EVENTS / (time.perf_counter() - started)


def _alert_latencies_ms(endpoint: str, bus: str) -> list[float]:
    events, sqs = emulator_client("events", endpoint), emulator_client("sqs", endpoint)
    queue = sqs.create_queue(QueueName=f"bench-alerts-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    rule = f"bench-alerts-{uuid.uuid4().hex[:8]}"
    events.put_rule(Name=rule, EventBusName=bus, EventPattern='{"source": ["blueprint.fraud"]}')
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "q", "Arn": queue_arn}])
    merchant = f"m_bench_{uuid.uuid4().hex[:8]}"
    latencies = []
    for sample in range(ALERT_SAMPLES):
        device = f"dev_alert_{uuid.uuid4().hex[:8]}"
        details = [
            _detail(merchant, sample * 100 + n, device, f"alert{uuid.uuid4().hex[:12]}")
            for n in range(BURST_CARDS)
        ]
        entries = [
            {
                "EventBusName": bus,
                "Source": "blueprint.payments",
                "DetailType": "payment.declined",
                "Detail": json.dumps(d),
            }
            for d in details
        ]
        events.put_events(Entries=entries[:-1])
        time.sleep(2)  # let the burst's first attempts be counted: only the last one is timed
        started = time.perf_counter()
        events.put_events(Entries=entries[-1:])
        alert = None
        while alert is None and time.perf_counter() - started < 60:
            for message in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get(
                "Messages", []
            ):
                if json.loads(message["Body"])["detail"]["subject"] == device:
                    alert = message
        if alert is None:
            raise RuntimeError("no fraud.alert for the bench burst within 60 s")
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def stream_figures() -> dict[str, dict[str, float | str]]:
    endpoints = cli.Endpoints.from_environ()
    started_here = not (cli.running_pid() and cli.healthy(endpoints))
    try:
        outputs = (
            cli.cmd_up(endpoints)
            if started_here
            else cli.terraform_outputs(cli.LOCAL_ENV_DIR, emulator_env(endpoints.aws))
        )
        stream = dict(outputs["fraud_stream"])  # type: ignore[call-overload]
        rate = _events_per_s(endpoints.aws, stream)
        latencies = _alert_latencies_ms(endpoints.aws, str(outputs["event_bus_name"]))
        units = _per_record_units(endpoints, stream)
    finally:
        if started_here:
            cli.stop_emulator()
    return {
        "fraud_stream_events_per_s": {"value": round(rate, 1), "unit": "events/s"},
        "fraud_alert_latency_ms_p50": {
            "value": round(statistics.median(latencies), 1),
            "unit": "ms",
        },
        **units,
    }


def run() -> dict[str, dict[str, float | str]]:
    model = default_model()
    rows, feature_ns = _feature_rows()
    for i in range(WARM_UP):
        model.assess(rows[i % len(rows)])
    score_ns = []
    for i in range(TIMED):
        row = rows[(i * 7919) % len(rows)]
        start = time.perf_counter_ns()
        model.assess(row)
        score_ns.append(time.perf_counter_ns() - start)

    synthetic = training.train().evaluation
    real = ulb.evaluate(ulb.load(), with_trees=False)
    return {
        "fraud_score_us_p50": {"value": round(_percentile(score_ns, 0.50), 1), "unit": "us"},
        "fraud_score_us_p99": {"value": round(_percentile(score_ns, 0.99), 1), "unit": "us"},
        "fraud_features_us_p99": {"value": round(_percentile(feature_ns, 0.99), 1), "unit": "us"},
        "fraud_scorer_import_ms": {"value": round(_import_ms(), 1), "unit": "ms"},
        "fraud_model_artefact_bytes": {"value": ARTEFACT_PATH.stat().st_size, "unit": "bytes"},
        "fraud_model_pr_auc": {"value": synthetic.model.pr_auc, "unit": "ratio"},
        "fraud_model_recall_at_1pct_fpr": {
            "value": synthetic.model.recall_at_1pct_fpr,
            "unit": "ratio",
        },
        "fraud_model_recall_at_01pct_fpr": {
            "value": synthetic.model.recall_at_01pct_fpr,
            "unit": "ratio",
        },
        "fraud_rules_pr_auc": {"value": synthetic.rules.pr_auc, "unit": "ratio"},
        "fraud_rules_recall_at_1pct_fpr": {
            "value": synthetic.rules.recall_at_1pct_fpr,
            "unit": "ratio",
        },
        "fraud_ulb_pr_auc": {"value": real.logistic.pr_auc, "unit": "ratio"},
        **stream_figures(),
    }
