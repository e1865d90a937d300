"""Lambda and command: reconcile payments, ledger, published events and the acquirer's record
(``functions.services.reconciliation``), repairing what is safe unless the event says
``{"repair": false}``. Answers the report as JSON.

Run on a schedule (modules/payment_workflow) or by hand: ``python -m local.cli reconcile``.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.adapters import clients
from functions.adapters import payment_wiring as wiring
from functions.adapters.payment_event_log import LogGroupEventRecord
from functions.services.payment_processing import PaymentProcessor, now_iso
from functions.services.reconciliation import ReconcileRequest, Reconciliation

logger = Logger()
tracer = Tracer()


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


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = ReconcileRequest.model_validate(event)
    outcome = reconciliation().run(repair=request.repair, now=dt.datetime.now(dt.UTC))
    return outcome.to_dict()
