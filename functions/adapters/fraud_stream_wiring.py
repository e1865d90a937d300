"""Builds the fraud stream's service from the environment modules/fraud_stream sets, once per
container (``FRAUD_FEATURE_TABLE_NAME``, ``FRAUD_BLOCK_LIST_TABLE_NAME``, ``EVENT_BUS_NAME``,
``FRAUD_ALERTING``)."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field

from functions.adapters import clients
from functions.adapters.fraud_stream_tables import (
    DynamoBlockList,
    DynamoFeatureStore,
    DynamoStreamView,
)
from functions.adapters.payment_events import EventBridgePublisher
from functions.domain.fraud_model import default_model
from functions.domain.fraud_stream import AlertRules
from functions.services.fraud_scoring import ModelMode, StreamReading
from functions.services.fraud_stream import FraudStreamService


class FraudStreamSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    feature_table: str = Field(min_length=1)
    block_list_table: str = Field(min_length=1)
    event_bus_name: str = Field(min_length=1)
    alerting: str = ""

    @classmethod
    def from_environ(cls) -> FraudStreamSettings:
        env = os.environ
        return cls(
            feature_table=env.get("FRAUD_FEATURE_TABLE_NAME", ""),
            block_list_table=env.get("FRAUD_BLOCK_LIST_TABLE_NAME", ""),
            event_bus_name=env.get("EVENT_BUS_NAME", ""),
            alerting=env.get("FRAUD_ALERTING", ""),
        )


@cache
def service() -> FraudStreamService:
    settings = FraudStreamSettings.from_environ()
    return FraudStreamService(
        store=DynamoFeatureStore(clients.dynamodb(), settings.feature_table),
        blocks=DynamoBlockList(clients.dynamodb(), settings.block_list_table),
        publisher=EventBridgePublisher(clients.events()),
        model=default_model(),
        rules=AlertRules.from_json(settings.alerting),
        bus_name=settings.event_bus_name,
    )


@cache
def stream_reading() -> StreamReading | None:
    """For the hot path (assess_risk): None unless the platform has a fraud stream
    (modules/payment_workflow passes the table names when it is given one)."""
    env = os.environ
    features = env.get("FRAUD_FEATURE_TABLE_NAME", "")
    blocks = env.get("FRAUD_BLOCK_LIST_TABLE_NAME", "")
    if not features or not blocks:
        return None
    return StreamReading(
        view=DynamoStreamView(clients.dynamodb(), features, blocks),
        model=default_model(),
        mode=ModelMode(env.get("FRAUD_MODEL_MODE") or ModelMode.SHADOW.value),
    )


def clear() -> None:
    """Forget the cached objects (tests that change the environment)."""
    service.cache_clear()
    stream_reading.cache_clear()
