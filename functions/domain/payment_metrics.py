"""What the payment steps tell operations: the business and service measurements of one step,
and the port that records them.

Pure: the steps' services and handlers say what happened, these rules turn it into
measurements, and an adapter (``functions.adapters.emf_metrics``) writes them as CloudWatch
embedded-metric-format lines. The dashboard and the SLO alarms of ``modules/payment_workflow``
read them by these names, so a name here is a contract with ``dashboard.tf`` and
``slo_alarms.tf``.

Each measurement is a count or a latency of one step, never an amount, a merchant, a card or a
customer: a dimension is a CloudWatch metric of its own (billed per metric) and would carry the
value into a store outside the cardholder-data controls. The one dimension, the decline code,
is bounded to the codes below.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from functions.domain.acquirer import DeclineCode

# Names the dashboard and the alarms read.
PAYMENTS_APPROVED = "PaymentsApproved"
PAYMENTS_DECLINED = "PaymentsDeclined"
PAYMENTS_REQUIRES_ACTION = "PaymentsRequiresAction"
PAYMENTS_FAILED = "PaymentsFailed"
DECLINES = "Declines"
ASSESSED = "PaymentsAssessed"
FRAUD_BLOCKED = "FraudBlocked"
FRAUD_REVIEW = "FraudReview"
SCA_CHALLENGES = "ScaChallenges"
SCA_EXEMPTIONS = "ScaExemptions"
STEP_LATENCY = "StepLatency"

DECLINE_CODE_DIMENSION = "decline_code"
OTHER_DECLINE_CODE = "other"
# The acquirer's codes (any relayed reason is mapped onto them) and the two the workflow gives
# a payment it refuses before the acquirer: a fraud block and a failed challenge.
KNOWN_DECLINE_CODES = frozenset(
    {code.value for code in DeclineCode} | {"fraud_suspected", "authentication_failed"}
)

APPROVED_STATUSES = frozenset({"authorized", "captured"})


class Unit(StrEnum):
    COUNT = "Count"
    MILLISECONDS = "Milliseconds"


@dataclass(frozen=True, slots=True)
class Measurement:
    name: str
    value: float
    unit: Unit = Unit.COUNT
    # (name, value) of the one dimension beside the function's service, or None.
    dimension: tuple[str, str] | None = None


class MetricsRecorder(Protocol):
    """Records one step's measurements (an invocation's worth, written together)."""

    def record(self, measurements: Sequence[Measurement]) -> None: ...


def decline_code_dimension(code: str | None) -> str:
    """A decline code as a dimension value: one of the known codes, else ``other`` (an
    unbounded value would make a new metric per value)."""
    return code if code in KNOWN_DECLINE_CODES else OTHER_DECLINE_CODE


def payment_decided(status: str, decline_code: str | None) -> list[Measurement]:
    """A payment's outcome after a step that decides it (create, resume, decline, void):
    approved (authorized or captured), declined (and by which code), waiting for the
    cardholder, or failed after compensation. Any other status counts nothing."""
    if status in APPROVED_STATUSES:
        return [Measurement(PAYMENTS_APPROVED, 1)]
    if status == "declined":
        by_code = (DECLINE_CODE_DIMENSION, decline_code_dimension(decline_code))
        return [Measurement(PAYMENTS_DECLINED, 1), Measurement(DECLINES, 1, dimension=by_code)]
    if status == "requires_action":
        return [Measurement(PAYMENTS_REQUIRES_ACTION, 1)]
    if status == "failed":
        return [Measurement(PAYMENTS_FAILED, 1)]
    return []


def payment_assessed(
    fraud_decision: str | None, sca_challenged: bool, sca_exemption: str | None
) -> list[Measurement]:
    """One risk assessment: every assessment counts, and so does a fraud block or review, a
    3-D Secure challenge, or an SCA exemption applied (a challenge means none applied). What did
    not happen is left out rather than counted 0: each metric costs log bytes on every payment,
    and the alarms' metric math fills a missing count with 0."""
    measurements = [Measurement(ASSESSED, 1)]
    if fraud_decision == "block":
        measurements.append(Measurement(FRAUD_BLOCKED, 1))
    elif fraud_decision == "review":
        measurements.append(Measurement(FRAUD_REVIEW, 1))
    if sca_challenged:
        measurements.append(Measurement(SCA_CHALLENGES, 1))
    elif sca_exemption:
        measurements.append(Measurement(SCA_EXEMPTIONS, 1))
    return measurements


def step_latency(milliseconds: float) -> Measurement:
    """How long a step's own work took (the function's service is its dimension)."""
    return Measurement(STEP_LATENCY, round(max(0.0, milliseconds), 1), Unit.MILLISECONDS)
