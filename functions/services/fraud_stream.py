"""The fraud stream's use case: count one authorization attempt from the payment event stream,
raise the alerts it crosses, and block their subjects for the hot path.

For each record (the detail of a ``payment.authorized`` or ``payment.declined`` event: the
stream's rule takes only authorization attempts, and a sale's ``payment.authorized`` says
``status: captured``, so every record counts, declined when its status is):

1. read its subjects' buckets (one BatchGetItem);
2. score the attempt with the model on the features as of before it (what the hot path would
   have seen), then count it: ``FeatureStore.apply`` is idempotent per ``event_id``;
3. ``fraud_stream.detect`` on the features with the attempt counted; an alert already raised
   (``BlockList.raised``) is skipped, so one burst raises one alert per subject and typology;
4. for a new alert: block its subject (card, device or IP) until ``block_ttl_seconds`` from
   now, publish ``fraud.alert``, then record it as raised. A crash before the record repeats
   these steps on redelivery, with the same alert id: consumers drop repeats by it.

Step 3 runs also when the attempt was already counted (a redelivery after a crash between
counting and publishing), so no alert is lost to at-least-once delivery.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from functions.contracts.events import (
    ALERT_DETAIL_TYPE,
    ALERT_SOURCE,
    FraudAlertDetail,
    PaymentEventDetail,
)
from functions.domain.fraud_features import (
    Buckets,
    FraudEvent,
    SubjectKey,
    event_buckets,
    features,
    merge_buckets,
)
from functions.domain.fraud_model import FraudModel
from functions.domain.fraud_stream import Alert, AlertRules, block_key, detect
from functions.domain.payments import PaymentStatus

CONFLICT_ATTEMPTS = 4


class FeatureStore(Protocol):
    def read(self, event: FraudEvent) -> dict[SubjectKey, Buckets]: ...

    def apply(self, event: FraudEvent, read: Mapping[SubjectKey, Buckets], now: int) -> bool:
        """Count once; False when already counted or too old. Raises a conflict error the
        service retries (``conflict``)."""
        ...


class BlockList(Protocol):
    def block(self, key: str, alert_id: str, typology: str, until: int) -> None: ...

    def raised(self, alert_id: str) -> bool: ...

    def mark_raised(self, alert_id: str, until: int) -> None: ...


class AlertPublisher(Protocol):
    def publish(self, entries: list[dict[str, Any]]) -> int:
        """Answers how many entries were not accepted."""
        ...


class AlertNotPublishedError(Exception):
    """EventBridge refused an alert: the record fails and is retried."""


def fraud_event(detail: PaymentEventDetail) -> FraudEvent:
    """The attempt as the features see it. An amount without a EUR rate counts as 0 EUR: it
    still counts as an attempt (the velocity features), not in the amount sums."""
    return FraudEvent(
        event_id=detail.event_id,
        occurred_at=int(detail.occurred_at.timestamp()),
        card=detail.platform_card_key,
        merchant_id=detail.merchant_id,
        amount_eur_minor=detail.amount_eur_minor or 0,
        declined=detail.status is PaymentStatus.DECLINED,
        bin=detail.bin,
        device_id=detail.device_id,
        ip=detail.ip,
        card_country=detail.card_country,
        ip_country=detail.ip_country,
        customer_country=detail.billing_country,
    )


def _iso(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat()


def alert_entry(alert: Alert, bus_name: str, blocked_until: int | None) -> dict[str, Any]:
    """The PutEvents entry of ``alert``, checked against its contract."""
    detail = FraudAlertDetail.model_validate(
        {
            "alert_id": alert.alert_id,
            "subject_type": alert.subject_type.value,
            "subject": alert.subject,
            "typology": alert.typology.value,
            "score": alert.score,
            "reasons": list(alert.reasons),
            "window": alert.window,
            "first_seen": _iso(alert.first_seen),
            "last_seen": _iso(alert.last_seen),
            "blocked_until": _iso(blocked_until) if blocked_until else None,
        }
    )
    return {
        "EventBusName": bus_name,
        "Source": ALERT_SOURCE,
        "DetailType": ALERT_DETAIL_TYPE,
        "Detail": detail.model_dump(mode="json"),
    }


@dataclass
class FraudStreamService:
    store: FeatureStore
    blocks: BlockList
    publisher: AlertPublisher
    model: FraudModel
    rules: AlertRules
    bus_name: str
    # The store's retryable conflict (DynamoDB: a concurrent transaction on the same item).
    conflict: type[Exception] = Exception

    def handle(self, detail: PaymentEventDetail, now: int) -> list[Alert]:
        """Count one attempt and raise what it crosses; answers the alerts newly raised."""
        event = fraud_event(detail)
        read, applied = self._count(event, now)
        counted: dict[SubjectKey, Buckets] = {k: dict(v) for k, v in read.items()}
        if applied:
            for subject in event.subjects():
                merge_buckets(counted.setdefault(subject, {}), event_buckets(event, subject[0]))
        model = self.model.assess(features(event, read))
        raised = []
        for alert in detect(event, features(event, counted), counted, model, self.rules):
            if self.blocks.raised(alert.alert_id):
                continue
            until = now + self.rules.block_ttl_seconds
            if alert.blocks:
                key = block_key(alert.subject_type, alert.subject)
                self.blocks.block(key, alert.alert_id, alert.typology.value, until)
            entry = alert_entry(alert, self.bus_name, until if alert.blocks else None)
            if self.publisher.publish([entry]):
                raise AlertNotPublishedError(alert.alert_id)
            self.blocks.mark_raised(alert.alert_id, until)
            raised.append(alert)
        return raised

    def _count(self, event: FraudEvent, now: int) -> tuple[dict[SubjectKey, Buckets], bool]:
        """Read the subjects and apply the attempt; a conflict reads and applies again."""
        for attempt in range(CONFLICT_ATTEMPTS):
            read = self.store.read(event)
            try:
                return read, self.store.apply(event, read, now)
            except self.conflict:
                if attempt == CONFLICT_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")
