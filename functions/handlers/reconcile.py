"""Lambda and command: reconcile payments, ledger, published events and the acquirer's record
over a time window (``functions.services.reconciliation``). The schedule's run continues from
its checkpoint and repairs only when the environment says so (``RECONCILE_REPAIR``); a run by
hand says ``{"repair": false}`` or ``true`` and may name its window (``since``, ``until``).
Answers the report as JSON and emits one metric per mismatch kind.

Run on a schedule (modules/payment_workflow) or by hand: ``python -m local.cli reconcile``.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.adapters import clients
from functions.adapters import payment_wiring as wiring
from functions.adapters.payment_event_log import LogGroupEventRecord
from functions.adapters.payments_table import ReconcileCheckpoint
from functions.domain.reconciliation import MismatchKind
from functions.services.payment_processing import PaymentProcessor, now_iso
from functions.services.reconciliation import (
    ReconcileRequest,
    Reconciliation,
    ReconciliationOutcome,
)

logger = Logger()
tracer = Tracer()

# The run stops with this share of the function's time left: enough to save the checkpoint
# and answer, whatever the timeout.
RESERVE_SHARE = 0.2


@cache
def reconciliation() -> Reconciliation:
    settings = wiring.settings()
    bus_name = settings.required("event_bus_name")
    return Reconciliation(
        wiring.payments_table(),
        wiring.ledger_store(),
        LogGroupEventRecord(clients.logs(), settings.required("event_log_group_name")),
        wiring.event_publisher(),
        wiring.posting_rules(),
        bus_name,
        operations=PaymentProcessor(
            wiring.payments_table(), wiring.acquirer(), bus_name, now_iso, ledger=wiring.ledger()
        ),
        acquirer=wiring.acquirer_records(),
        authorization_validity=dt.timedelta(days=settings.authorization_validity_days),
    )


@cache
def checkpoints() -> ReconcileCheckpoint:
    return ReconcileCheckpoint(clients.dynamodb(), wiring.settings().required("payments_table"))


def record_metrics(outcome: ReconciliationOutcome, now: dt.datetime) -> None:
    """One count per mismatch kind (0 when none, so every kind has data to alarm on), the
    total the alarm watches, and how far behind now the run reached. Written as one EMF
    record when the run ends (the namespace is the function's POWERTOOLS_METRICS_NAMESPACE,
    read now: the environment of this invocation)."""
    metrics = Metrics()
    counts = outcome.report.counts()
    for kind in MismatchKind:
        metrics.add_metric(name=kind.value, unit=MetricUnit.Count, value=counts.get(kind, 0))
    metrics.add_metric(name="mismatches", unit=MetricUnit.Count, value=sum(counts.values()))
    metrics.add_metric(
        name="stuck_authorizations", unit=MetricUnit.Count, value=len(outcome.stuck_authorizations)
    )
    # The sweeper's work: each is a workflow that died mid-payment, worth an alarm when it climbs.
    metrics.add_metric(name="swept_payments", unit=MetricUnit.Count, value=len(outcome.swept))
    metrics.add_metric(name="finished_sales", unit=MetricUnit.Count, value=len(outcome.finished))
    metrics.add_metric(
        name="checked_payments", unit=MetricUnit.Count, value=outcome.report.checked_payments
    )
    reached = dt.datetime.fromisoformat(outcome.reached.updated_at)
    metrics.add_metric(
        name="lag_seconds", unit=MetricUnit.Seconds, value=max(0.0, (now - reached).total_seconds())
    )
    metrics.flush_metrics()


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = ReconcileRequest.model_validate(event)
    reserve = context.get_remaining_time_in_millis() * RESERVE_SHARE
    now = dt.datetime.now(dt.UTC)
    outcome = reconciliation().serve(
        request,
        now=now,
        repair_by_default=wiring.settings().reconcile_repair,
        checkpoints=checkpoints(),
        out_of_time=lambda: context.get_remaining_time_in_millis() < reserve,
    )
    record_metrics(outcome, now)
    return outcome.to_dict()
