"""TRA at runtime (issue 19 item 4; RTS Art. 18-21): the daily settle run measures the fraud
rate from the ledger and stores the monitored state, and the SCA step grants TRA only in a band
that state offers. Before this, domain.fraud_rate existed but nothing ran it: TRA rested on the
configured rate alone, whatever fraud the ledger held."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from functions.domain.acquirer import SettlementBatch
from functions.domain.fx import EurRates
from functions.domain.geo import IssuerCountryTable
from functions.domain.ledger import Dispute, PaymentLedger, PostingRules
from functions.domain.sca import Exemption, ScaPolicy
from functions.domain.three_ds import SimulatedAcs
from functions.services.fraud_monitoring import FraudRateMonitor, InMemoryTraMonitoring
from functions.services.risk import (
    InMemoryMitAgreements,
    InMemoryRiskStore,
    PaymentRisk,
    ScaService,
)
from functions.services.settlement import SettlementService
from tests.unit.services.fakes import LedgerRecords

RUN_AT = "2026-11-30T06:30:00+00:00"
NOW = dt.datetime.fromisoformat(RUN_AT)
SOLD_AT = "2026-11-20T10:00:00+00:00"
RULES = PostingRules(clock=lambda: RUN_AT)
RATES = EurRates(rates={})


class NoBatches:
    def batches(self, through: dt.date, settled: frozenset[str]) -> list[SettlementBatch]:
        return []


class World:
    def __init__(self) -> None:
        self.store = LedgerRecords()
        self.ledger = PaymentLedger(self.store, RULES)
        self.monitoring = InMemoryTraMonitoring()
        self.sca = ScaService(
            counters=InMemoryRiskStore(),
            mandates=InMemoryRiskStore(),
            agreements=InMemoryMitAgreements(),
            issuers=IssuerCountryTable.TEST,
            acs=SimulatedAcs(b"test-acs-key-0123456789"),
            policy=lambda: ScaPolicy(rates=RATES, tra_fraud_rate_percent=Decimal("0.13")),
            monitoring=self.monitoring,
        )

    def sales(self, count: int, amount: int = 10_000) -> None:
        for n in range(count):
            self.ledger.record_sale(f"pay_{n}", "m_1", amount, "EUR", SOLD_AT)

    def fraud_chargeback(self, payment_id: str, amount: int, reason: str = "10.4") -> None:
        dispute = Dispute(payment_id, "m_1", "EUR", f"dp_{payment_id}", RUN_AT, None, reason)
        self.store.post(RULES.chargeback(dispute, merchant_part=amount, recoverable_part=0))

    def settle(self, payouts: bool = False) -> dict[str, object]:
        service = SettlementService(self.store, RULES, clock=lambda: RUN_AT)
        monitor = FraudRateMonitor(self.monitoring, RATES)
        return service.run(NoBatches(), NOW.date(), payouts=payouts, monitor=monitor).to_dict()

    def tra(self, payment_id: str = "pay_new", amount: int = 9_000) -> tuple[bool, str | None]:
        risk = PaymentRisk(
            payment_id=payment_id,
            merchant_id="m_1",
            amount=amount,
            currency="EUR",
            card={"token": f"tok_{payment_id}", "card_key": f"ck_{payment_id}"},
            fraud_decision="allow",
            exemption_requested=Exemption.TRANSACTION_RISK_ANALYSIS,
        )
        answer = self.sca.decide(risk, NOW + dt.timedelta(hours=1))
        return answer.required, answer.reason


@pytest.fixture
def world() -> World:
    return World()


def test_absent_measurement_means_no_tra(world: World) -> None:
    assert world.tra() == (True, "tra_fraud_rate_not_monitored")


def test_the_settle_run_measures_and_the_risk_step_grants_tra(world: World) -> None:
    world.sales(10)
    report = world.settle()
    fraud_rate = report["fraud_rate"]
    assert isinstance(fraud_rate, dict)
    assert fraud_rate["monitoring"]["report"]["overall"] == {
        "fraud_eur_minor": 0,
        "total_eur_minor": 100_000,
        "rate_percent": "0.000000",
    }
    assert world.monitoring.saves == 1
    assert world.tra() == (False, "tra_within_band")


def test_tra_is_refused_once_the_measured_rate_exceeds_the_reference(world: World) -> None:
    # EUR 1,000 of sales; EUR 1.30 of fraud is 0.13 % (at the reference), EUR 1.31 above it.
    world.sales(10)
    world.fraud_chargeback("pay_0", 130)
    world.settle()
    assert world.tra() == (False, "tra_within_band")
    world.fraud_chargeback("pay_1", 1)
    record = world.settle()["fraud_rate"]
    assert isinstance(record, dict)
    assert record["exceeded_limits_eur_minor"] == [10_000, 25_000, 50_000]
    assert world.tra() == (True, "tra_suspended_fraud_rate_exceeded")


def test_a_commercial_chargeback_is_not_fraud(world: World) -> None:
    world.sales(10)
    world.fraud_chargeback("pay_0", 10_000, reason="13.1")  # goods not received
    world.settle()
    assert world.tra() == (False, "tra_within_band")


def test_a_stale_measurement_offers_no_tra(world: World) -> None:
    world.sales(10)
    world.settle()
    later = NOW + dt.timedelta(hours=49)
    risk = PaymentRisk(
        "pay_late",
        "m_1",
        9_000,
        "EUR",
        {"token": "tok_late"},
        "allow",
        (),
        Exemption.TRANSACTION_RISK_ANALYSIS,
    )
    assert world.sca.decide(risk, later).reason == "tra_fraud_rate_not_monitored"


def test_the_monitoring_read_is_skipped_when_tra_is_off(world: World) -> None:
    class Refusing(InMemoryTraMonitoring):
        def latest(self) -> None:
            raise AssertionError("read although TRA is off")

    world.sca.monitoring = Refusing()
    world.sca.policy = lambda: ScaPolicy(rates=RATES)
    assert world.tra() == (True, "tra_not_offered")
