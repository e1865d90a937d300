"""Lambda and command: book the acquirer's settlement batches and pay merchants their settled
funds (``functions.services.settlement``).

Scheduled once a day by modules/payment_workflow (``settlement_schedule_expression``); the
event may name the day (``{"through": "2026-12-01"}``, default today in UTC) and switch payouts
off (``{"payouts": false}``). Safe to run again: every entry it posts is idempotent.

Each run then measures the TRA fraud rate (RTS Art. 19) and stores the monitored state the SCA
step reads (``functions.services.fraud_monitoring``; docs/sca-policy.md). A band found above its
reference rate is logged at WARNING with ``tra_alarm = "exceeded"`` and the Art. 20 record
(metric filter and alarm in modules/payment_workflow); a band due a restart with
``tra_alarm = "restart_due"``. The operator restarts it, once the competent authority is
notified (Art. 20(4)), by running the function with ``{"tra_restart_notified": [25000]}``
(band limits in EUR cents).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from functions.adapters import payment_wiring as wiring
from functions.domain.acquirer import SettlementSource
from functions.services.settlement import SettlementService

logger = Logger()
tracer = Tracer()


class SettleInput(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    through: dt.date | None = None
    payouts: bool = True
    tra_restart_notified: frozenset[int] = frozenset()


def settlement_source() -> SettlementSource:
    """The simulator makes the batches of the operations it executed; the http connector
    reads the acquirer's (``GET /settlement-batches``)."""
    source = wiring.acquirer()
    if not isinstance(source, SettlementSource):
        raise RuntimeError("the acquirer connector gives no settlement batches")
    return source


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = SettleInput.model_validate(event or {})
    through = request.through or dt.datetime.now(dt.UTC).date()
    service = SettlementService(wiring.ledger_store(), wiring.posting_rules())
    report = service.run(
        settlement_source(),
        through,
        payouts=request.payouts,
        monitor=wiring.fraud_rate_monitor(),
        notified=request.tra_restart_notified,
    ).to_dict()
    if report["waiting"]:
        # A batch whose lines the ledger lacks: the reconciliation posts them, a later run
        # books the batch. Counted by a metric filter (settlement_alarm).
        logger.warning("settlement batch waiting", extra={"settlement_alarm": "waiting", **report})
    record = report["fraud_rate"]
    for alarm, limits in (
        ("exceeded", record["exceeded_limits_eur_minor"]),
        ("restart_due", record["restart_due_limits_eur_minor"]),
    ):
        if limits:
            # Art. 20(1): report at once to the competent authority; (4): notify a restart.
            logger.warning("tra fraud rate", extra={"tra_alarm": alarm, "art20": record})
    logger.info("settlement finished", extra={"through": through.isoformat(), **report})
    return report
