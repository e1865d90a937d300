"""End to end: the operations side on the applied environments/local. The steps' EMF lines
become CloudWatch metrics (on AWS CloudWatch Logs extracts them; here local/gaps_emf.py), under
the names and dimensions the SLO alarms read, and the dashboard and the alarms are applied."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from local.payments_demo import APPROVE
from tests.conftest import Emulator
from tests.e2e.test_local_environment import create, merchant_api, payment_request

PREFIX = "payments-local"
OWN_CARD = "4000001234567899"
# INSUFFICIENT_FUNDS's rule (its last four, 9995) on a number of this test's own.
OWN_EMPTY_CARD = "4000009803009995"
NAMESPACE = f"{PREFIX}/payments"


def total(emulator: Emulator, name: str, dimensions: dict[str, str], since: dt.datetime) -> float:
    points = emulator.client("cloudwatch").get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName=name,
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        StartTime=since,
        EndTime=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1),
        Period=60,
        Statistics=["Sum"],
    )["Datapoints"]
    return float(sum(p["Sum"] for p in points))


def test_payments_are_counted_by_outcome_and_read_by_the_slo_alarms_and_dashboard(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    process = {"service": "process-payment"}
    assess = {"service": "assess-risk"}
    before = {
        name: total(emulator, name, dims, since)
        for name, dims in (
            ("PaymentsApproved", process),
            ("PaymentsDeclined", process),
            ("PaymentsAssessed", assess),
            ("FraudBlocked", assess),
            ("PaymentsRequiresAction", process),
        )
    }
    api = merchant_api(emulator, api_env)

    # What the risk step decides depends on what the suite paid before (the stream's velocity
    # features, the cards' low-value exemptions): a payment may be challenged instead. Each
    # outcome the API answered must be counted under its own metric.
    approved = create(api, payment_request(OWN_CARD, 2500))
    declined = create(api, payment_request(OWN_EMPTY_CARD, 1500))
    blocked = create(api, payment_request(APPROVE, 600_000, ip="203.0.113.7"))
    outcomes = [p.body["status"] for p in (approved, declined, blocked)]
    assert outcomes[0] in ("captured", "requires_action"), outcomes
    assert outcomes[1] in ("declined", "requires_action"), outcomes
    assert outcomes[2] == "declined" and blocked.body["decline_code"] == "fraud_suspected"
    counted = {
        name: total(emulator, name, dims, since) - before[name]
        for name, dims in {
            "PaymentsApproved": process,
            "PaymentsDeclined": process,
            "PaymentsAssessed": assess,
            "FraudBlocked": assess,
            "PaymentsRequiresAction": process,
        }.items()
    }
    # Other tests' payments may land in the same minutes: at least ours are counted.
    assert counted["PaymentsApproved"] >= outcomes.count("captured"), counted
    assert counted["PaymentsDeclined"] >= outcomes.count("declined"), counted
    assert counted["PaymentsRequiresAction"] >= outcomes.count("requires_action"), counted
    assert counted["PaymentsAssessed"] >= 3 and counted["FraudBlocked"] >= 1, counted
    by_code = {**process, "decline_code": "fraud_suspected"}
    assert total(emulator, "Declines", by_code, since) >= 1
    assert total(emulator, "StepLatency", assess, since) > 0

    cloudwatch = emulator.client("cloudwatch")
    alarms = {
        a["AlarmName"]: a
        for a in cloudwatch.describe_alarms(AlarmNamePrefix=f"{PREFIX}-slo-")["MetricAlarms"]
    }
    assert set(alarms) == {
        f"{PREFIX}-slo-availability",
        f"{PREFIX}-slo-approval-rate",
        f"{PREFIX}-slo-fraud-blocks",
        f"{PREFIX}-slo-latency-p99",
    }
    read = {
        (q["MetricStat"]["Metric"]["Namespace"], q["MetricStat"]["Metric"]["MetricName"])
        for q in alarms[f"{PREFIX}-slo-approval-rate"]["Metrics"]
        if "MetricStat" in q
    }
    assert read == {(NAMESPACE, "PaymentsApproved"), (NAMESPACE, "PaymentsDeclined")}
    body = json.loads(cloudwatch.get_dashboard(DashboardName=f"{PREFIX}-payments")["DashboardBody"])
    assert len(body["widgets"][0]["properties"]["alarms"]) == 4
