"""The fraud stream's use case: count one authorization attempt from the payment event stream,
raise the alerts it crosses, and block their subjects for the hot path.

The stream carries the payment bus's ``payment.authorized``, ``payment.declined``,
``payment.captured`` and ``payment.refunded`` events and its ``fraud.alert`` events (the data
lake reads them all from it); each record is an event's detail. The features count
authorization attempts only: ``payment.authorized`` (a sale's says ``status: captured``) and
``payment.declined``, declined when its status is. Every other record is ignored and counted
as such (:class:`Outcome`), never failed: a record the consumer has no use for must not hold
its shard.

For each attempt (the record at a ``StreamPosition``):

1. read its subjects (one strongly consistent BatchGetItem of at most five items);
2. score the attempt with the model on the features as of before it (what the hot path would
   have seen), then count it on each subject not already past its position
   (``FeatureStore.apply``: one conditional write per subject), unless its card already
   counted it from another record (a second copy EventBridge delivered);
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

from pydantic import TypeAdapter, ValidationError

from functions.contracts.events import (
    ALERT_DETAIL_TYPE,
    ALERT_SOURCE,
    FraudAlertDetail,
    PaymentEventDetail,
)
from functions.domain.fraud_features import (
    Buckets,
    FraudEvent,
    StreamPosition,
    SubjectKey,
    SubjectState,
    SubjectType,
    event_buckets,
    features,
    merge_buckets,
)
from functions.domain.fraud_model import FraudModel
from functions.domain.fraud_stream import Alert, AlertRules, block_key, detect
from functions.domain.payments import EventType, PaymentStatus

# What the features count: authorization attempts.
ATTEMPTS = frozenset({EventType.AUTHORIZED, EventType.DECLINED})


class FeatureStore(Protocol):
    def read(self, event: FraudEvent) -> dict[SubjectKey, SubjectState]: ...

    def apply(
        self,
        event: FraudEvent,
        position: StreamPosition,
        read: Mapping[SubjectKey, SubjectState],
        now: int,
    ) -> set[SubjectKey]:
        """Count the record at ``position`` on each subject not already past it; answers
        the subjects counted now (none when it is older than every window)."""
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


StreamRecord = PaymentEventDetail | FraudAlertDetail
# Each contract forbids the other's fields, so a record is one or the other, or refused whole.
_RECORD: TypeAdapter[StreamRecord] = TypeAdapter(StreamRecord)


class UnreadableRecordError(ValueError):
    """A record that is no event detail the stream carries. Its message names the fields and
    what was wrong with them, never their values: the record fails into Lambda's log, and a
    record refused for holding a card number must not put it there."""


def parse_record(data: bytes) -> StreamRecord:
    """A stream record (an event's detail) checked against its contract; raises
    :class:`UnreadableRecordError` for anything else, a detail holding a card number
    included."""
    try:
        return _RECORD.validate_json(data)
    except ValidationError as error:
        problems = sorted(
            {
                f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}"
                for e in error.errors(include_url=False, include_context=False, include_input=False)
            }
        )
        raise UnreadableRecordError("; ".join(problems)) from None


def record_type(record: StreamRecord) -> str:
    """The record's detail-type: ``fraud.alert``, or the payment event type its deterministic
    id ends with (``<payment id>:<event type>[:<operation key>]``)."""
    if isinstance(record, FraudAlertDetail):
        return ALERT_DETAIL_TYPE
    parts = record.event_id.split(":")
    return parts[1] if len(parts) > 1 else "unknown"


@dataclass(frozen=True)
class Outcome:
    """What the consumer did with one record: its detail-type, whether the features counted
    it (False: a type they do not read), and the alerts it newly raised."""

    record_type: str
    featurised: bool
    alerts: tuple[Alert, ...] = ()


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

    def handle_record(self, record: StreamRecord, position: StreamPosition, now: int) -> Outcome:
        """One stream record: an attempt is counted (:meth:`handle`), anything else ignored."""
        kind = record_type(record)
        if isinstance(record, FraudAlertDetail) or kind not in ATTEMPTS:
            return Outcome(kind, featurised=False)
        return Outcome(kind, featurised=True, alerts=tuple(self.handle(record, position, now)))

    def handle(self, detail: PaymentEventDetail, position: StreamPosition, now: int) -> list[Alert]:
        """Count one attempt and raise what it crosses; answers the alerts newly raised."""
        event = fraud_event(detail)
        states = self.store.read(event)
        card = states.get((SubjectType.CARD, event.card), SubjectState())
        copy = card.holds_copy_of(event, position)
        applied = set() if copy else self.store.apply(event, position, states, now)
        read: dict[SubjectKey, Buckets] = {k: state.buckets for k, state in states.items()}
        counted: dict[SubjectKey, Buckets] = {k: dict(v) for k, v in read.items()}
        for subject in applied:
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
