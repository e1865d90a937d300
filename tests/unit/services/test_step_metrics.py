"""A step's work measured once (``services.step_metrics``), and the risk step's outcome
(``RiskAssessment`` with a recorder): what it decided and how long it took."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pytest

from functions.contracts.steps import PaymentContext
from functions.domain import payment_metrics as pm
from functions.domain.fraud import FraudRules, RulesFraudScorer
from functions.domain.payments import PaymentStatus, new_payment
from functions.services.step_metrics import measured
from tests.unit.services.fakes import IndexedPaymentRecords
from tests.unit.services.test_risk_assessment import NOW, RULES, context, risk


class Recorded:
    def __init__(self) -> None:
        self.calls: list[list[pm.Measurement]] = []

    def record(self, measurements: Sequence[pm.Measurement]) -> None:
        self.calls.append(list(measurements))


def test_the_work_is_recorded_once_with_its_latency() -> None:
    recorder = Recorded()
    ticks = iter([10.0, 10.25])

    result = measured(
        recorder,
        lambda: "declined",
        lambda status: pm.payment_decided(status, "do_not_honor"),
        clock=lambda: next(ticks),
    )

    assert result == "declined"
    (call,) = recorder.calls
    assert [m.name for m in call] == [pm.PAYMENTS_DECLINED, pm.DECLINES, pm.STEP_LATENCY]
    assert call[-1].value == 250.0


def test_work_that_raises_records_nothing() -> None:
    recorder = Recorded()

    def fails() -> str:
        raise RuntimeError("acquirer down")

    with pytest.raises(RuntimeError):
        measured(recorder, fails, lambda _: [pm.Measurement("x", 1)])
    assert recorder.calls == []


def test_without_a_recorder_the_work_alone_runs() -> None:
    assert measured(None, lambda: 42, lambda _: pytest.fail("nothing to measure")) == 42


def test_the_risk_step_records_its_assessment() -> None:
    recorder = Recorded()
    assessment = risk(IndexedPaymentRecords())
    step = dataclasses.replace(assessment, metrics=recorder)

    answer = step.assess(PaymentContext.model_validate(context("pay_1", 2_000, "c_1")), NOW)

    (call,) = recorder.calls
    recorded = [m.name for m in call]
    assert recorded[0] == pm.ASSESSED and recorded[-1] == pm.STEP_LATENCY
    sca = answer.payment.sca
    assert sca is not None
    assert (pm.SCA_EXEMPTIONS in recorded) == bool(sca.result.exemption)
    assert pm.FRAUD_BLOCKED not in recorded


def test_a_fraud_review_and_its_challenge_are_counted_by_the_risk_step() -> None:
    # As in test_sca_is_decided_with_the_fraud_outcome_in_hand: card velocity sends the
    # payment to review, and the review steps up to a challenge (no exemption).
    records = IndexedPaymentRecords()
    for n in range(RULES.card_velocity_per_hour):
        earlier = context(f"pay_{n}", 2_000, "c_2", minutes_ago=5)
        records.save(new_payment(earlier, PaymentStatus.DECLINED, ""))
    recorder = Recorded()
    assessment = risk(records)
    step = dataclasses.replace(assessment, metrics=recorder)

    step.assess(PaymentContext.model_validate(context("pay_next", 2_000, "c_2")), NOW)

    (call,) = recorder.calls
    assert [m.name for m in call] == [
        pm.ASSESSED,
        pm.FRAUD_REVIEW,
        pm.SCA_CHALLENGES,
        pm.STEP_LATENCY,
    ]


def test_a_fraud_block_is_counted_by_the_risk_step() -> None:
    records = IndexedPaymentRecords()
    for n in range(RULES.card_velocity_per_hour):
        earlier = context(f"pay_{n}", 2_000, "c_3", minutes_ago=5)
        records.save(new_payment(earlier, PaymentStatus.DECLINED, ""))
    recorder = Recorded()
    # Velocity alone (weight 40) reaches a block threshold of 40.
    strict = dataclasses.replace(
        risk(records),
        scorer=RulesFraudScorer(FraudRules(review_threshold=20, block_threshold=40)),
        metrics=recorder,
    )

    answer = strict.assess(PaymentContext.model_validate(context("pay_x", 2_000, "c_3")), NOW)

    assert answer.payment.fraud is not None and answer.payment.fraud.result.decision == "block"
    (call,) = recorder.calls
    assert pm.FRAUD_BLOCKED in [m.name for m in call]
    assert pm.FRAUD_REVIEW not in [m.name for m in call]
