"""The fraud stream's tables on DynamoDB (modules/fraud_stream tables.tf).

Feature table: one item per subject and window series,
``pk = <subject type>#<subject>#<window>``. A bucket is a handful of top-level attributes named
by its start (Unix seconds): ``n<start>`` (attempts), ``a<start>`` (EUR cents), ``d<start>``
(declines) and, where the series keeps a distinct-value sketch, a number set per kind (``c``
cards, ``v`` devices, ``k`` countries). Top-level because ``ADD`` works on them (a counter is a
sum, a sketch a set union), so no read has to come before a write for correctness. An attempt
is applied by one ``TransactWriteItems``: the conditional put of ``seen#<event_id>`` and one
update per series; a redelivered event fails the condition and nothing is counted twice, a
crash leaves neither half (``functions/domain/fraud_features.py`` explains why sums and unions
make the order irrelevant).

What the read is still used for: a bucket no window at the item's newest bucket can reach is
removed in the same update (and a late attempt into one is not counted: the domain's rule), and a
hash that cannot enter a bucket's bottom-k sketch is not added, which keeps an item small
whatever the attack volume. Both only ever save space; a stale read just saves less.

Block list: ``subject = <card|device|ip>#<subject>`` until ``expires_at`` (also compared on read:
TTL deletes late), and ``alert#<alert id>`` once an alert is raised, so a burst's later attempts
raise nothing new.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from functions.domain.fraud_features import (
    DISTINCT_OF,
    HORIZON_SECONDS,
    SERIES,
    SKETCH_SIZE,
    Bucket,
    Buckets,
    Distinct,
    FraudEvent,
    Sketch,
    SubjectKey,
    Window,
    value_hash,
)
from functions.domain.fraud_stream import BlockEntry

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_KIND_LETTER = {Distinct.CARDS: "c", Distinct.DEVICES: "v", Distinct.COUNTRIES: "k"}
_LETTER_KIND = {letter: kind for kind, letter in _KIND_LETTER.items()}
_BUCKET_ATTRIBUTE = re.compile(r"^([nadcvk])([0-9]+)$")
_WINDOWS = {w.name: w for ws in SERIES.values() for w in ws}
# BatchGetItem takes 100 keys a call; an attempt has at most 15 series.
_BATCH = 100
SEEN_PREFIX = "seen#"


class FeatureWriteConflictError(Exception):
    """Another consumer changed one of the items in the same instant: read again, apply again."""


def series_key(subject: SubjectKey, window: Window) -> str:
    return f"{subject[0].value}#{subject[1]}#{window.name}"


def event_series(event: FraudEvent) -> list[tuple[SubjectKey, Window]]:
    return [(subject, window) for subject in event.subjects() for window in SERIES[subject[0]]]


def _decode(item: Mapping[str, Any], window: Window) -> Buckets:
    fields: dict[int, dict[str, Any]] = {}
    for name, value in item.items():
        match = _BUCKET_ATTRIBUTE.match(name)
        if match:
            letter, start = match.group(1), int(match.group(2))
            fields.setdefault(start, {})[letter] = value
    buckets: Buckets = {}
    for start, found in fields.items():
        distinct = {
            _LETTER_KIND[letter]: Sketch(
                tuple(sorted(int(h) for h in found[letter]["NS"])[:SKETCH_SIZE])
            )
            for letter in "cvk"
            if letter in found
        }
        buckets[(window.name, start)] = Bucket(
            int(found.get("n", {}).get("N", 0)),
            int(found.get("a", {}).get("N", 0)),
            int(found.get("d", {}).get("N", 0)),
            distinct,
        )
    return buckets


def batch_get(
    client: DynamoDBClient, table: str, keys: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Every item of ``keys`` that exists, following ``UnprocessedKeys``."""
    items: list[dict[str, Any]] = []
    for start in range(0, len(keys), _BATCH):
        request: dict[str, Any] = {table: {"Keys": list(keys[start : start + _BATCH])}}
        while request:
            response = client.batch_get_item(RequestItems=request)
            items.extend(response.get("Responses", {}).get(table, []))
            request = dict(response.get("UnprocessedKeys") or {})
    return items


class DynamoFeatureStore:
    """The windowed counters (``fraud_features``) in the feature table."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def read(self, event: FraudEvent) -> dict[SubjectKey, Buckets]:
        """The buckets of ``event``'s subjects, in one BatchGetItem (at most 15 items)."""
        series = event_series(event)
        by_key = {series_key(subject, window): (subject, window) for subject, window in series}
        items = batch_get(self._client, self._table, [{"pk": {"S": key}} for key in by_key])
        out: dict[SubjectKey, Buckets] = {subject: {} for subject, _ in series}
        for item in items:
            subject, window = by_key[item["pk"]["S"]]
            out[subject].update(_decode(item, window))
        return out

    def apply(self, event: FraudEvent, read: Mapping[SubjectKey, Buckets], now: int) -> bool:
        """Count ``event`` once. False: already counted (its ``seen#`` item exists) or older
        than every window. ``read``: its subjects' buckets as :meth:`read` gave them."""
        at = event.occurred_at
        if at < now - HORIZON_SECONDS:
            return False
        items: list[Any] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {
                        "pk": {"S": SEEN_PREFIX + event.event_id},
                        "expires_at": {"N": str(at + HORIZON_SECONDS)},
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        ]
        for subject, window in event_series(event):
            update = self._update(event, subject, window, read.get(subject, {}), now)
            if update is not None:
                items.append({"Update": update})
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            codes = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
            if codes and codes[0] == "ConditionalCheckFailed":
                return False
            if "TransactionConflict" in codes:
                raise FeatureWriteConflictError(event.event_id) from error
            raise
        return True

    def _update(
        self,
        event: FraudEvent,
        subject: SubjectKey,
        window: Window,
        buckets: Mapping[tuple[str, int], Bucket],
        now: int,
    ) -> dict[str, Any] | None:
        at = event.occurred_at
        start = window.bucket_of(at)
        mine = {s: b for (name, s), b in buckets.items() if name == window.name}
        newest = max([start, *mine])
        first = window.first_bucket(newest)
        if start < first:
            return None  # late: no window at the series' newest bucket reaches it
        names = {"#n": f"n{start}", "#a": f"a{start}", "#d": f"d{start}"}
        values: dict[str, Any] = {
            ":n": {"N": "1"},
            ":a": {"N": str(event.amount_eur_minor)},
            ":d": {"N": str(int(event.declined))},
            ":x": {"N": str(max(now, at) + window.seconds + window.bucket_seconds)},
        }
        adds = ["#n :n", "#a :a", "#d :d"]
        current = mine.get(start)
        for kind in DISTINCT_OF[subject[0]].get(window.name, ()):
            value = event.distinct_value(kind)
            if not value:
                continue
            hashed = value_hash(value)
            sketch = current.distinct.get(kind) if current else None
            if sketch is not None and sketch.contains(hashed) is not False:
                continue  # already in it, or above a full sketch's bottom k: it can never count
            letter = _KIND_LETTER[kind]
            names[f"#{letter}"] = f"{letter}{start}"
            values[f":{letter}"] = {"NS": [str(hashed)]}
            adds.append(f"#{letter} :{letter}")
        stale = [
            f"{letter}{s}"
            for s, bucket in mine.items()
            if s < first
            for letter in ("n", "a", "d", *(_KIND_LETTER[k] for k in bucket.distinct))
        ]
        for index, attribute in enumerate(stale):
            names[f"#r{index}"] = attribute
        expression = f"ADD {', '.join(adds)} SET expires_at = :x"
        if stale:
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(stale)))
        return {
            "TableName": self._table,
            "Key": {"pk": {"S": series_key(subject, window)}},
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }


class DynamoBlockList:
    """The block list (and the record of raised alerts) in the block-list table."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def blocked(self, keys: Iterable[str], now: int) -> list[BlockEntry]:
        """The entries among ``keys`` still in force at ``now`` (one BatchGetItem)."""
        wanted = sorted(set(keys))
        if not wanted:
            return []
        items = batch_get(self._client, self._table, [{"subject": {"S": k}} for k in wanted])
        return _entries(items, now)

    def block(self, key: str, alert_id: str, typology: str, until: int) -> None:
        self._client.put_item(
            TableName=self._table,
            Item={
                "subject": {"S": key},
                "alert_id": {"S": alert_id},
                "typology": {"S": typology},
                "expires_at": {"N": str(until)},
            },
        )

    def raised(self, alert_id: str) -> bool:
        item = self._client.get_item(
            TableName=self._table,
            Key={"subject": {"S": f"alert#{alert_id}"}},
            ConsistentRead=True,
        ).get("Item")
        return item is not None

    def mark_raised(self, alert_id: str, until: int) -> None:
        self._client.put_item(
            TableName=self._table,
            Item={
                "subject": {"S": f"alert#{alert_id}"},
                "alert_id": {"S": alert_id},
                "typology": {"S": "raised"},
                "expires_at": {"N": str(until)},
            },
        )


class DynamoStreamView:
    """What the hot path reads of the stream, in one BatchGetItem over both tables: the
    payment's block-list entries and, unless the model is off, its subjects' feature items."""

    def __init__(self, client: DynamoDBClient, feature_table: str, block_list_table: str) -> None:
        self._client = client
        self._features = feature_table
        self._blocks = block_list_table

    def read(
        self, event: FraudEvent | None, block_keys: Iterable[str], now: int
    ) -> tuple[dict[SubjectKey, Buckets], list[BlockEntry]]:
        series = event_series(event) if event is not None else []
        by_key = {series_key(subject, window): (subject, window) for subject, window in series}
        request: dict[str, Any] = {}
        wanted = sorted(set(block_keys))
        if wanted:
            request[self._blocks] = {"Keys": [{"subject": {"S": k}} for k in wanted]}
        if by_key:
            request[self._features] = {"Keys": [{"pk": {"S": k}} for k in by_key]}
        responses: dict[str, list[dict[str, Any]]] = {self._blocks: [], self._features: []}
        while request:
            response = self._client.batch_get_item(RequestItems=request)
            for table, items in response.get("Responses", {}).items():
                responses[table].extend(items)
            request = dict(response.get("UnprocessedKeys") or {})
        buckets: dict[SubjectKey, Buckets] = {subject: {} for subject, _ in series}
        for item in responses[self._features]:
            subject, window = by_key[item["pk"]["S"]]
            buckets[subject].update(_decode(item, window))
        return buckets, _entries(responses[self._blocks], now)


def _entries(items: Iterable[Mapping[str, Any]], now: int) -> list[BlockEntry]:
    entries = [
        BlockEntry(
            key=item["subject"]["S"],
            alert_id=item["alert_id"]["S"],
            typology=item["typology"]["S"],
            expires_at=int(item["expires_at"]["N"]),
        )
        for item in items
    ]
    return [entry for entry in entries if entry.expires_at > now]
