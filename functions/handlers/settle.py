"""Lambda and command: book the acquirer's settlement batches and pay merchants their settled
funds (``functions.services.settlement``).

Scheduled once a day by modules/payment_workflow (``settlement_schedule_expression``); the
event may name the day (``{"through": "2026-12-01"}``, default today in UTC) and switch payouts
off (``{"payouts": false}``). Safe to run again: every entry it posts is idempotent.
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


def settlement_source() -> SettlementSource:
    """The simulator makes the batches of the operations it executed; a real acquirer's
    connector gives its settlement files as ``SettlementFileRecords``."""
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
    report = service.run(settlement_source(), through, payouts=request.payouts).to_dict()
    if report["waiting"]:
        # A batch whose lines the ledger lacks: the reconciliation posts them, a later run
        # books the batch. Counted by a metric filter (settlement_alarm).
        logger.warning("settlement batch waiting", extra={"settlement_alarm": "waiting", **report})
    logger.info("settlement finished", extra={"through": through.isoformat(), **report})
    return report
