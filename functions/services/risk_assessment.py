"""The workflow's risk step as one use case: fraud first, then SCA with the fired fraud reasons
in hand (PSD2 RTS Art. 18(2)(c): a transaction-risk-analysis exemption is never granted to a
payment the fraud rules flagged), in one Lambda invocation instead of two (ADR 0002).

Over ports only (``FraudScorer``, ``VelocitySource``, the country sources, the stream's view,
``ScaService``'s stores), so the unit tests run it on the in-memory fakes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from functions.contracts.steps import (
    AssessAnswer,
    FraudResult,
    FraudStep,
    PaymentContext,
    ScaResult,
    ScaStep,
    VerifyAnswer,
)
from functions.domain.fraud import FraudScorer
from functions.domain.fx import EurRates
from functions.domain.geo import CountrySource
from functions.domain.payment_metrics import Measurement, MetricsRecorder, payment_assessed
from functions.services.fraud_scoring import StreamReading, VelocitySource, assess_payment
from functions.services.risk import PaymentLookup, PaymentRisk, ScaService
from functions.services.step_metrics import measured


@dataclass(frozen=True)
class RiskAssessment:
    scorer: FraudScorer
    velocity: VelocitySource
    rates: EurRates
    ips: CountrySource
    issuers: CountrySource
    stream: StreamReading | None
    sca: ScaService
    payments: PaymentLookup
    # Fraud blocks, reviews, SCA challenges and exemptions, and the step's latency.
    metrics: MetricsRecorder | None = None

    def assess(self, payment: PaymentContext, now: dt.datetime) -> AssessAnswer:
        """The payment context with ``fraud`` and ``sca`` filled; its outcome measured."""
        return measured(self.metrics, lambda: self._assess(payment, now), _assessment_measures)

    def _assess(self, payment: PaymentContext, now: dt.datetime) -> AssessAnswer:
        state = payment.state()
        fraud: FraudResult = assess_payment(
            state,
            self.scorer,
            self.velocity,
            self.rates,
            self.ips,
            self.issuers,
            self.stream,
            now,
        )
        scored = payment.model_copy(update={"fraud": FraudStep(result=fraud)})
        sca: ScaResult = self.sca.decide(PaymentRisk.from_state(scored.state()), now)
        return AssessAnswer(payment=scored.model_copy(update={"sca": ScaStep(result=sca)}))

    def verify(self, payment_id: str, response: str, now: dt.datetime) -> VerifyAnswer:
        """The cardholder's answer to the payment's challenge (``ScaService.verify``)."""
        return self.sca.verify(payment_id, response, self.payments, now)


def _assessment_measures(answer: AssessAnswer) -> list[Measurement]:
    fraud, sca = answer.payment.fraud, answer.payment.sca
    return payment_assessed(
        fraud.result.decision if fraud else None,
        sca_challenged=bool(sca and sca.result.challenge),
        sca_exemption=sca.result.exemption if sca else None,
    )
