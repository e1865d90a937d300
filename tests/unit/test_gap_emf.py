"""The emulator turns the functions' EMF log lines into CloudWatch metrics, as CloudWatch Logs
does on AWS (local/gaps_emf.py), so the dashboard and the SLO alarms have data locally."""

from __future__ import annotations

import datetime as dt
import io
import json
from contextlib import redirect_stdout

import boto3
import pytest
from moto import mock_aws
from moto.cloudwatch.models import cloudwatch_backends

from functions.adapters.emf_metrics import EmfMetrics
from functions.domain import payment_metrics as pm
from local import gaps_emf

ACCOUNT, REGION = "123456789012", "us-east-1"


def emf_lines() -> list[str]:
    out = io.StringIO()
    with redirect_stdout(out):
        EmfMetrics("pay/payments", "process-payment").record(
            [*pm.payment_decided("declined", "expired_card"), pm.step_latency(41.5)]
        )
    return out.getvalue().splitlines()


def sum_of(name: str, dimensions: list[dict[str, str]]) -> float:
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    now = dt.datetime.now(dt.UTC)
    points = cloudwatch.get_metric_statistics(
        Namespace="pay/payments",
        MetricName=name,
        Dimensions=dimensions,
        StartTime=now - dt.timedelta(minutes=5),
        EndTime=now + dt.timedelta(minutes=5),
        Period=60,
        Statistics=["Sum"],
    )["Datapoints"]
    # The client is untyped (boto3-stubs has no cloudwatch extra here): Sum is a float.
    return float(sum(p["Sum"] for p in points))


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    with mock_aws():
        yield cloudwatch_backends[ACCOUNT][REGION]


def test_a_steps_emf_lines_become_metrics_with_their_dimensions(aws: object) -> None:
    gaps_emf.publish(["START RequestId: 1", *emf_lines(), "not json"], aws)

    service = [{"Name": "service", "Value": "process-payment"}]
    assert sum_of("PaymentsDeclined", service) == 1
    assert sum_of("StepLatency", service) == 41.5
    by_code = [*service, {"Name": "decline_code", "Value": "expired_card"}]
    assert sum_of("Declines", by_code) == 1
    assert sum_of("PaymentsApproved", service) == 0


def test_lines_that_are_not_emf_or_name_a_missing_value_are_skipped() -> None:
    directive = {
        "Timestamp": 1,
        "CloudWatchMetrics": [
            {"Namespace": "n", "Dimensions": [["service"]], "Metrics": [{"Name": "Gone"}]}
        ],
    }
    assert gaps_emf.metric_data(json.dumps({"_aws": directive, "service": "s"})) == []
    assert gaps_emf.metric_data(json.dumps({"_aws": directive, "Gone": 1})) == []
    assert gaps_emf.metric_data('{"_aws": not json') == []
    assert gaps_emf.metric_data('{"level": "INFO", "message": "payment captured"}') == []


def test_a_list_of_values_is_one_datum_with_every_value() -> None:
    line = json.dumps(
        {
            "_aws": {
                "Timestamp": 1_700_000_000_000,
                "CloudWatchMetrics": [
                    {
                        "Namespace": "n",
                        "Dimensions": [[]],
                        "Metrics": [{"Name": "L", "Unit": "Milliseconds"}],
                    }
                ],
            },
            "L": [1, 2.5],
        }
    )
    ((namespace, datum),) = gaps_emf.metric_data(line)
    assert namespace == "n"
    assert datum["Values"] == [1.0, 2.5] and datum["Unit"] == "Milliseconds"
    assert datum["Dimensions"] == []
