from __future__ import annotations

import pytest

from functions.handlers import lake_transform
from tests.unit.lake.lake_fixtures import MemoryPseudonymKeys

# The delivery streams the unit tests' Firehose events name (arn:...:deliverystream/<name>).
DELIVERY_TABLES = {"pay": "payment_events", "pay-alerts": "fraud_alerts"}


@pytest.fixture(autouse=True)
def pseudonym_keys(monkeypatch: pytest.MonkeyPatch) -> MemoryPseudonymKeys:
    """The transformation handler's key store, in memory for every lake unit test."""
    store = MemoryPseudonymKeys()
    monkeypatch.setattr(lake_transform, "keys", lambda: store)
    monkeypatch.setattr(lake_transform, "delivery_tables", lambda: DELIVERY_TABLES)
    return store
