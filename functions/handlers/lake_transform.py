"""Lambda: the data lake's Firehose transformation step (modules/data_lake), shared by the
lake's delivery streams, one per table (``LAKE_DELIVERY_STREAM_TABLES``). Each record of the
caller's kind comes back ``Ok`` as ``functions.domain.lake_records.prepare`` leaves it: card
numbers redacted; a payment event's customer and device ids pseudonymised under the customer's
secret (``LAKE_PSEUDONYM_KEY_TABLE``) and its raw identifiers removed; a fraud alert's device or
IP subject removed. The other kind comes back ``Dropped``. A redaction is logged with its count,
never its value, and the module's metric filter turns those lines into the CardNumbersRedacted
metric and its alarm."""

from __future__ import annotations

import base64
import json
import os
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import (
    KinesisFirehoseDataTransformationRecord,
    KinesisFirehoseDataTransformationResponse,
    KinesisFirehoseEvent,
    event_source,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.adapters import clients
from functions.adapters.lake_pseudonym_keys import DynamoPseudonymKeys
from functions.domain.lake_records import prepare

logger = Logger()


@cache
def keys() -> DynamoPseudonymKeys:
    return DynamoPseudonymKeys(clients.dynamodb(), os.environ["LAKE_PSEUDONYM_KEY_TABLE"])


@cache
def delivery_tables() -> dict[str, str]:
    """The table each delivery stream fills, by stream name (``LAKE_DELIVERY_STREAM_TABLES``)."""
    tables: dict[str, str] = json.loads(os.environ["LAKE_DELIVERY_STREAM_TABLES"])
    return tables


@logger.inject_lambda_context(log_event=False)
@event_source(data_class=KinesisFirehoseEvent)
def handler(event: KinesisFirehoseEvent, context: LambdaContext) -> dict[str, Any]:
    records = list(event.records)
    # A delivery stream this step was not configured for fails the batch (KeyError): Firehose
    # keeps its records under errors/ rather than filling the wrong table.
    table = delivery_tables()[event.delivery_stream_arn.rsplit("/", 1)[-1]]
    texts = [r.data_as_bytes.decode("utf-8", errors="replace") for r in records]
    prepared = prepare(texts, keys(), table)
    response = KinesisFirehoseDataTransformationResponse()
    for record, result in zip(records, prepared, strict=True):
        if result.redacted:
            logger.warning(
                "card number redacted",
                extra={"lake_redaction": "card_number", "count": result.redacted},
            )
        response.add_record(
            KinesisFirehoseDataTransformationRecord(
                record_id=record.record_id,
                result="Dropped" if result.dropped else "Ok",
                data=base64.b64encode(result.text.encode()).decode(),
            )
        )
    return dict(response.asdict())
