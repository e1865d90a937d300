"""The fraud stream's tables on DynamoDB (modules/fraud_stream tables.tf).

Feature table: one item per subject, ``pk = <subject type>#<subject>``, holding every series
the subject keeps (``fraud_features.SERIES``). A bucket is a handful of top-level attributes
named by field, window and start (Unix seconds): ``n`` attempts, ``a`` EUR cents, ``d``
declines and, where the series keeps a distinct-value sketch, a number set per kind (``c``
cards, ``v`` devices, ``k`` countries); the window is one letter (``m`` 10m, ``h`` 1h, ``d``
24h, ``w`` 7d), so ``nh1764590400`` is the count of the 1h series' bucket starting then.
Top-level because ``ADD`` works on them (a counter is a sum, a sketch a set union): writers on
other shards never conflict and no read has to come before a write for correctness.

Idempotency without an item per event: the item keeps ``s:<shard id>``, the highest sequence
number of that shard applied to it (``fraud_features.SubjectState``). An attempt is applied
by one ``UpdateItem`` per subject (at most five), each conditional on the record being above
the subject's mark and moving the mark to it, so a redelivered record fails the condition on
every subject it was already counted on and is counted on the rest. Marks are strings that
sort as the numbers they hold (three digits of length, then the digits: Kinesis sequence
numbers have up to 129 digits, past DynamoDB's 38-digit numbers). A card's item also keeps
``e<hour start>``, a number set of its recent events' id hashes, so a second copy of an event
(another record) is recognised on the card before anything is counted.

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
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from functions.domain.fraud_features import (
    COPY_HORIZON_SECONDS,
    DISTINCT_OF,
    HORIZON_SECONDS,
    ID_BUCKET_SECONDS,
    RECENT_IDS_PER_HOUR,
    SERIES,
    SKETCH_SIZE,
    W1H,
    W7D,
    W10M,
    W24H,
    Bucket,
    Buckets,
    Distinct,
    FraudEvent,
    Sketch,
    StreamPosition,
    SubjectKey,
    SubjectState,
    SubjectType,
    value_hash,
)
from functions.domain.fraud_stream import BlockEntry

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_KIND_LETTER = {Distinct.CARDS: "c", Distinct.DEVICES: "v", Distinct.COUNTRIES: "k"}
_LETTER_KIND = {letter: kind for kind, letter in _KIND_LETTER.items()}
_WINDOW_LETTER = {W10M.name: "m", W1H.name: "h", W24H.name: "d", W7D.name: "w"}
_LETTER_WINDOW = {letter: name for name, letter in _WINDOW_LETTER.items()}
_BUCKET_ATTRIBUTE = re.compile(r"^([nadcvk])([mhdw])([0-9]+)$")
# A card's recent event ids, hashed, per hour (fraud_features.SubjectState.recent).
_RECENT_ATTRIBUTE = re.compile(r"^e([0-9]+)$")
MARK_PREFIX = "s:"
# BatchGetItem takes 100 keys a call; an attempt has at most five subjects.
_BATCH = 100
# One thread per subject an attempt can have (boto3 clients are thread-safe).
_WRITERS = ThreadPoolExecutor(max_workers=len(SubjectType), thread_name_prefix="feature-write")


def subject_key(subject: SubjectKey) -> str:
    return f"{subject[0].value}#{subject[1]}"


def mark_value(sequence: int) -> str:
    """A sequence number as a string that sorts as the number: its length, then its digits."""
    digits = str(sequence)
    return f"{len(digits):03d}{digits}"


def _mark_sequence(value: str) -> int:
    return int(value[3:])


def _decode(item: Mapping[str, Any]) -> SubjectState:
    fields: dict[tuple[str, int], dict[str, Any]] = {}
    marks: dict[str, int] = {}
    recent: dict[int, frozenset[int]] = {}
    for name, value in item.items():
        if name.startswith(MARK_PREFIX):
            marks[name[len(MARK_PREFIX) :]] = _mark_sequence(value["S"])
            continue
        found_recent = _RECENT_ATTRIBUTE.match(name)
        if found_recent:
            recent[int(found_recent.group(1))] = frozenset(int(h) for h in value["NS"])
            continue
        match = _BUCKET_ATTRIBUTE.match(name)
        if match:
            letter, window, start = match.group(1), match.group(2), int(match.group(3))
            fields.setdefault((_LETTER_WINDOW[window], start), {})[letter] = value
    buckets: Buckets = {}
    for key, found in fields.items():
        distinct = {
            _LETTER_KIND[letter]: Sketch(
                tuple(sorted(int(h) for h in found[letter]["NS"])[:SKETCH_SIZE])
            )
            for letter in "cvk"
            if letter in found
        }
        buckets[key] = Bucket(
            int(found.get("n", {}).get("N", 0)),
            int(found.get("a", {}).get("N", 0)),
            int(found.get("d", {}).get("N", 0)),
            distinct,
        )
    return SubjectState(buckets, marks, recent)


def batch_get(
    client: DynamoDBClient,
    table: str,
    keys: Sequence[Mapping[str, Any]],
    consistent: bool = False,
) -> list[dict[str, Any]]:
    """Every item of ``keys`` that exists, following ``UnprocessedKeys``."""
    items: list[dict[str, Any]] = []
    for start in range(0, len(keys), _BATCH):
        request: dict[str, Any] = {
            table: {"Keys": list(keys[start : start + _BATCH]), "ConsistentRead": consistent}
        }
        while request:
            response = client.batch_get_item(RequestItems=request)
            items.extend(response.get("Responses", {}).get(table, []))
            request = dict(response.get("UnprocessedKeys") or {})
    return items


def _states(
    event: FraudEvent, items: Iterable[Mapping[str, Any]]
) -> dict[SubjectKey, SubjectState]:
    by_key = {subject_key(subject): subject for subject in event.subjects()}
    out = {subject: SubjectState() for subject in event.subjects()}
    for item in items:
        out[by_key[item["pk"]["S"]]] = _decode(item)
    return out


class DynamoFeatureStore:
    """The windowed counters (``fraud_features``) in the feature table."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def read(self, event: FraudEvent) -> dict[SubjectKey, SubjectState]:
        """``event``'s subjects as stored, in one strongly consistent BatchGetItem (at most five
        items): the alerts are judged on them, so they must include the record just before."""
        keys = [{"pk": {"S": subject_key(subject)}} for subject in event.subjects()]
        return _states(event, batch_get(self._client, self._table, keys, consistent=True))

    def apply(
        self,
        event: FraudEvent,
        position: StreamPosition,
        read: Mapping[SubjectKey, SubjectState],
        now: int,
    ) -> set[SubjectKey]:
        """Count ``event`` (the record at ``position``) on each of its subjects not yet past
        it; answers the subjects it was counted on now. None when it is older than every
        window. ``read``: its subjects as :meth:`read` gave them."""
        if event.occurred_at < now - HORIZON_SECONDS:
            return set()
        pending = [
            (subject, self._update(event, position, subject, state, now))
            for subject in event.subjects()
            if not (state := read.get(subject, SubjectState())).applied(position)
        ]
        # The subjects' writes are independent (each its own mark), so they go out together: a
        # record costs one round trip of writes, not five. A failure fails the record after the
        # others finished; its retry writes only the subjects still below the record.
        results = list(_WRITERS.map(lambda item: self._write(*item), pending))
        return {subject for subject in results if subject is not None}

    def _write(self, subject: SubjectKey, update: Any) -> SubjectKey | None:
        try:
            self._client.update_item(**update)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return None  # counted since the read (the same record, delivered twice at once)
        return subject

    def _update(
        self,
        event: FraudEvent,
        position: StreamPosition,
        subject: SubjectKey,
        state: SubjectState,
        now: int,
    ) -> Any:
        at = event.occurred_at
        buckets = state.buckets
        names = {"#q": MARK_PREFIX + position.shard}
        values: dict[str, Any] = {
            ":q": {"S": mark_value(position.sequence)},
            ":n": {"N": "1"},
            ":a": {"N": str(event.amount_eur_minor)},
            ":d": {"N": str(int(event.declined))},
        }
        adds: list[str] = []
        stale: list[str] = []
        windows = SERIES[subject[0]]
        for window in windows:
            w = _WINDOW_LETTER[window.name]
            start = window.bucket_of(at)
            mine = {s: b for (name, s), b in buckets.items() if name == window.name}
            first = window.first_bucket(max([start, *mine]))
            stale += [
                f"{letter}{w}{s}"
                for s, bucket in mine.items()
                if s < first
                for letter in ("n", "a", "d", *(_KIND_LETTER[k] for k in bucket.distinct))
            ]
            if start < first:
                continue  # late: no window at the series' newest bucket reaches it
            for letter in "nad":
                names[f"#{letter}{w}"] = f"{letter}{w}{start}"
                adds.append(f"#{letter}{w} :{letter}")
            current = mine.get(start)
            for kind in DISTINCT_OF[subject[0]].get(window.name, ()):
                value = event.distinct_value(kind)
                if not value:
                    continue
                hashed = value_hash(value)
                sketch = current.distinct.get(kind) if current else None
                if sketch is not None and sketch.contains(hashed) is not False:
                    continue  # in it, or above a full sketch's bottom k: it can never count
                letter = _KIND_LETTER[kind]
                names[f"#{letter}{w}"] = f"{letter}{w}{start}"
                values[f":{letter}{w}"] = {"NS": [str(hashed)]}
                adds.append(f"#{letter}{w} :{letter}{w}")
        if subject[0] is SubjectType.CARD:
            hour = at - at % ID_BUCKET_SECONDS
            newest = max([hour, *state.recent])
            stale += [f"e{h}" for h in state.recent if h < newest - COPY_HORIZON_SECONDS]
            if len(state.recent.get(hour, ())) < RECENT_IDS_PER_HOUR:
                names["#e"] = f"e{hour}"
                values[":e"] = {"NS": [str(value_hash(event.event_id))]}
                adds.append("#e :e")
        longest = max(window.seconds + window.bucket_seconds for window in windows)
        values[":x"] = {"N": str(max(now, at) + longest)}
        expression = "SET #q = :q, expires_at = :x"
        if adds:
            expression += f" ADD {', '.join(adds)}"
        if stale:
            for index, attribute in enumerate(stale):
                names[f"#r{index}"] = attribute
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(stale)))
        # Late in every series, nothing counts but the mark still moves (the record is done);
        # DynamoDB refuses a value the expression does not use.
        values = {k: v for k, v in values.items() if re.search(f"{k}\\b", expression)}
        return {
            "TableName": self._table,
            "Key": {"pk": {"S": subject_key(subject)}},
            "UpdateExpression": expression,
            # Above the subject's mark for this shard, or the shard's first record here.
            "ConditionExpression": "attribute_not_exists(#q) OR #q < :q",
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
    payment's block-list entries and, unless the model is off, its subjects' feature items (one
    per subject, at most five)."""

    def __init__(self, client: DynamoDBClient, feature_table: str, block_list_table: str) -> None:
        self._client = client
        self._features = feature_table
        self._blocks = block_list_table

    def read(
        self, event: FraudEvent | None, block_keys: Iterable[str], now: int
    ) -> tuple[dict[SubjectKey, Buckets], list[BlockEntry]]:
        request: dict[str, Any] = {}
        wanted = sorted(set(block_keys))
        if wanted:
            request[self._blocks] = {"Keys": [{"subject": {"S": k}} for k in wanted]}
        if event is not None:
            keys = [{"pk": {"S": subject_key(subject)}} for subject in event.subjects()]
            request[self._features] = {"Keys": keys}
        responses: dict[str, list[dict[str, Any]]] = {self._blocks: [], self._features: []}
        while request:
            response = self._client.batch_get_item(RequestItems=request)
            for table, items in response.get("Responses", {}).items():
                responses[table].extend(items)
            request = dict(response.get("UnprocessedKeys") or {})
        if event is None:
            return {}, _entries(responses[self._blocks], now)
        states = _states(event, responses[self._features])
        buckets = {subject: state.buckets for subject, state in states.items()}
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
