"""Lambda: the data lake's Firehose transformation step (modules/data_lake). Each record comes
back ``Ok`` with any card number redacted (``functions.domain.lake_records``); a redaction is
logged with its count, never its value, and the module's metric filter turns those lines into
the CardNumbersRedacted metric and its alarm."""

from __future__ import annotations

import base64
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import (
    KinesisFirehoseDataTransformationRecord,
    KinesisFirehoseDataTransformationResponse,
    KinesisFirehoseEvent,
    event_source,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.domain.lake_records import redact_card_numbers

logger = Logger()


@logger.inject_lambda_context(log_event=False)
@event_source(data_class=KinesisFirehoseEvent)
def handler(event: KinesisFirehoseEvent, context: LambdaContext) -> dict[str, Any]:
    response = KinesisFirehoseDataTransformationResponse()
    for record in event.records:
        redaction = redact_card_numbers(record.data_as_bytes.decode("utf-8", errors="replace"))
        if redaction.redacted:
            logger.warning(
                "card number redacted",
                extra={"lake_redaction": "card_number", "count": redaction.redacted},
            )
        response.add_record(
            KinesisFirehoseDataTransformationRecord(
                record_id=record.record_id,
                result="Ok",
                data=base64.b64encode(redaction.text.encode()).decode(),
            )
        )
    return dict(response.asdict())
