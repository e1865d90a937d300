"""The steps' measurements as CloudWatch EMF lines (``adapters.emf_metrics``), and the
money-moving step recording what it decided (``handlers.process_payment.process``) over the
payments table on moto."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.adapters.emf_metrics import EmfMetrics
from functions.domain import payment_metrics as pm
from functions.handlers import process_payment
from functions.services.payment_processing import PaymentProcessor
from tests.adapters import test_payment_steps as steps
from tests.unit.services.test_step_metrics import Recorded

table, acquirer, processor = steps.table, steps.acquirer, steps.processor


def emf_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]


def test_a_steps_measurements_are_one_emf_line_plus_one_per_dimension(
    capsys: pytest.CaptureFixture[str],
) -> None:
    EmfMetrics("payments-test/payments", "process-payment").record(
        [*pm.payment_decided("declined", "insufficient_funds"), pm.step_latency(12.34)]
    )

    plain, by_code = emf_lines(capsys.readouterr().out)
    (directive,) = plain["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "payments-test/payments"
    assert directive["Dimensions"] == [["service"]]
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == {
        "PaymentsDeclined": "Count",
        "StepLatency": "Milliseconds",
    }
    assert plain["service"] == "process-payment"
    assert plain["PaymentsDeclined"] in (1, [1])
    assert plain["StepLatency"] in (12.3, [12.3])
    (code_directive,) = by_code["_aws"]["CloudWatchMetrics"]
    assert code_directive["Dimensions"] == [["service", "decline_code"]]
    assert (by_code["service"], by_code["decline_code"]) == (
        "process-payment",
        "insufficient_funds",
    )


def test_the_namespace_and_service_are_the_functions_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "payments-dev/payments")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "assess-risk")

    EmfMetrics().record(pm.payment_assessed("block", False, None))

    (line,) = emf_lines(capsys.readouterr().out)
    assert line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "payments-dev/payments"
    assert line["service"] == "assess-risk"


def test_nothing_to_record_writes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    EmfMetrics("payments-test/payments", "settle").record([])

    assert capsys.readouterr().out == ""


def test_the_money_step_records_each_payments_outcome_and_latency(
    processor: PaymentProcessor,
) -> None:
    recorder = Recorded()

    def create(payment_id: str, last4: str) -> dict[str, Any]:
        payment = {**steps.context(payment_id, last4=last4), "capture": True}
        return process_payment.process(
            {"action": "create", "payment": payment}, processor, metrics=recorder
        )

    approved = create("pay_ok", "4242")
    declined = create("pay_no", "9995")
    process_payment.process(
        {"action": "refund", "payment_id": "pay_ok", "refund": {"refund_id": "re_1"}},
        processor,
        metrics=recorder,
    )

    assert (approved["payment"]["status"], declined["payment"]["status"]) == (
        "captured",
        "declined",
    )
    first, second, refund = ([(m.name, m.dimension) for m in call] for call in recorder.calls)
    assert first == [("PaymentsApproved", None), ("StepLatency", None)]
    assert second == [
        ("PaymentsDeclined", None),
        ("Declines", ("decline_code", "insufficient_funds")),
        ("StepLatency", None),
    ]
    # A refund decides no payment's outcome: its latency only.
    assert refund == [("StepLatency", None)]
