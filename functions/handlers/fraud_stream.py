"""Lambda: the fraud stream consumer (modules/fraud_stream), on a Kinesis event source mapping
with ``ReportBatchItemFailures``. Powertools' ``BatchProcessor`` runs each record and answers
the failed ones, so only those are retried (and, once retries are exhausted, described in the
on-failure queue); the rest of the batch is counted once. Each record is the ``detail`` of a
payment event (``PaymentEventDetail``): a record that does not parse fails alone."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import (
    KinesisStreamRecord,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.adapters import fraud_stream_wiring as wiring
from functions.contracts.events import PaymentEventDetail

logger = Logger()
tracer = Tracer()
processor = BatchProcessor(event_type=EventType.KinesisDataStreams)


def record_handler(record: KinesisStreamRecord) -> None:
    detail = PaymentEventDetail.model_validate_json(record.kinesis.data_as_bytes())
    for alert in wiring.service().handle(detail, int(time.time())):
        # The alert-rate alarm counts these lines; the subject stays out of the log.
        logger.warning(
            "fraud alert raised",
            extra={
                "fraud_alert": "raised",
                "alert_id": alert.alert_id,
                "typology": alert.typology.value,
                "subject_type": alert.subject_type.value,
            },
        )


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)
