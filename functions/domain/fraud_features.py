"""Velocity features for fraud scoring: one code path for the trainer, the stream consumer and
the inline scorer, so what the model was trained on is what it is served.

An authorization attempt (:class:`FraudEvent`: tokens, BIN and countries only, never a card
number) is counted against five subjects: its card (the platform card key, ``card#<card_key>``
as the payments table's ``by_card`` index keys it, so a tester rotating customers still hits
one card), its device, its IP, its merchant and its BIN. Each subject keeps small counters in
time buckets, one series per window it needs (``SERIES``: the BIN only 10m and 1h):

======  ==========  ===========
window  length      bucket size
======  ==========  ===========
10m     10 minutes  1 minute
1h      1 hour      5 minutes
24h     24 hours    1 hour
7d      7 days      1 day
======  ==========  ===========

A bucket holds the count, the EUR amount and the declines of the attempts that fell in it,
plus, in the series a feature reads (``DISTINCT_OF``), bottom-k sketches (:class:`Sketch`) of
distinct values (cards per device, IP and BIN; devices and countries per card). A window at
time ``t`` is the bucket that holds ``t`` and the ones before it: it reaches back between
``length - bucket`` and ``length`` seconds, and includes the whole of the current bucket.
The stream consumer stores one DynamoDB item per subject holding all its series, with TTL; the
hot path reads the (at most five) items of a payment and calls :func:`features`.

Why these shapes: Kinesis delivers at least once and in any order across shards, so the state
must end the same whatever the order and however often an event is delivered.

* Order: every number in a bucket is a sum (a G-counter) and every sketch a set union; both
  are commutative, so buckets merge (:meth:`Bucket.merge`) and any delivery order gives the
  same buckets. Buckets are keyed by the event's time, never by its arrival.
* Duplicates: a sum is not idempotent, so an event is applied once. The in-memory counters
  remember the ids they applied for as long as any bucket could still hold them (the longest
  window plus a bucket). The DynamoDB store cannot afford an item per event (a busy merchant's
  ids would never fit one item either), so it relies on what Kinesis guarantees instead: within
  a shard, records come in sequence-number order, and a redelivery repeats a record with its
  sequence number. Each subject keeps, per shard, the highest sequence number it has applied
  (:class:`StreamPosition`, :func:`already_applied`); a record is applied to a subject only
  above that mark, and the consumer stops a batch at its first failed record, so no mark ever
  passes a record that was not applied. A redelivered record, or a retried batch that
  overlaps what was done, changes nothing; a crash between two subjects' writes is finished
  by the retry, subject by subject. A second *copy* of an event (EventBridge delivers at least
  once) is a new record: the card remembers its recent events' ids for that
  (:meth:`SubjectState.holds_copy_of`), and the copy is counted nowhere.
* Expiry: the store's watermark is the latest event time it has applied. Buckets that no
  window at the watermark can reach are dropped, and an event that arrives older than every
  window is ignored, not remembered; both depend only on the set of events, not their order.
* Sketches: a bottom-k set of 64-bit hashes is exact up to ``k`` distinct values, estimates
  beyond, and merges by union; its size is bounded whatever the attack volume, so an item
  cannot outgrow DynamoDB's 400 KB.

Pure: no boto3, no clock. Times are Unix seconds (UTC).
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class SubjectType(StrEnum):
    CARD = "card"
    DEVICE = "device"
    IP = "ip"
    MERCHANT = "merchant"
    BIN = "bin"


class Distinct(StrEnum):
    """What a subject counts distinct values of."""

    CARDS = "cards"
    DEVICES = "devices"
    COUNTRIES = "countries"


@dataclass(frozen=True, slots=True)
class Window:
    name: str
    seconds: int
    bucket_seconds: int

    def bucket_of(self, at: int) -> int:
        return at - at % self.bucket_seconds

    def first_bucket(self, at: int) -> int:
        """The oldest bucket start the window at ``at`` reaches."""
        return self.bucket_of(at) - self.seconds + self.bucket_seconds


W10M = Window("10m", 600, 60)
W1H = Window("1h", 3_600, 300)
W24H = Window("24h", 86_400, 3_600)
W7D = Window("7d", 604_800, 86_400)
WINDOWS: tuple[Window, ...] = (W10M, W1H, W24H, W7D)
# How long an event can still change any window: the longest window plus its bucket.
HORIZON_SECONDS = max(w.seconds + w.bucket_seconds for w in WINDOWS)

# The window series each subject keeps, and which of them also keep distinct-value sketches:
# only what a feature reads is stored, so a DynamoDB item stays small and a write cheap.
SERIES: Mapping[SubjectType, tuple[Window, ...]] = {
    SubjectType.CARD: (W10M, W1H, W24H, W7D),
    SubjectType.DEVICE: (W10M, W1H, W24H),
    SubjectType.IP: (W10M, W1H, W24H),
    SubjectType.MERCHANT: (W10M, W1H, W24H),
    SubjectType.BIN: (W10M, W1H),
}
DISTINCT_OF: Mapping[SubjectType, Mapping[str, tuple[Distinct, ...]]] = {
    SubjectType.CARD: {
        W24H.name: (Distinct.DEVICES, Distinct.COUNTRIES),
        W7D.name: (Distinct.DEVICES, Distinct.COUNTRIES),
    },
    SubjectType.DEVICE: {W1H.name: (Distinct.CARDS,), W24H.name: (Distinct.CARDS,)},
    SubjectType.IP: {W1H.name: (Distinct.CARDS,), W24H.name: (Distinct.CARDS,)},
    SubjectType.MERCHANT: {},
    SubjectType.BIN: {W10M.name: (Distinct.CARDS,), W1H.name: (Distinct.CARDS,)},
}

SKETCH_SIZE = 16
_HASH_SPACE = float(2**64)


@functools.lru_cache(maxsize=65_536)
def value_hash(value: str) -> int:
    """A stable 64-bit hash (Python's ``hash`` is salted per process)."""
    return int.from_bytes(hashlib.blake2b(value.encode(), digest_size=8).digest(), "big")


@dataclass(frozen=True, slots=True)
class Sketch:
    """The ``SKETCH_SIZE`` smallest hashes of a set of values (a KMV / bottom-k sketch)."""

    hashes: tuple[int, ...] = ()

    def add(self, value_hash: int) -> Sketch:
        if value_hash in self.hashes:
            return self
        if len(self.hashes) >= SKETCH_SIZE and value_hash > self.hashes[-1]:
            return self
        return Sketch(tuple(sorted((*self.hashes, value_hash)))[:SKETCH_SIZE])

    def merge(self, other: Sketch) -> Sketch:
        if not other.hashes or other.hashes == self.hashes:
            return self
        return Sketch(tuple(sorted(set(self.hashes) | set(other.hashes)))[:SKETCH_SIZE])

    def estimate(self) -> float:
        """Exact below ``SKETCH_SIZE`` distinct values; the KMV estimate at and above it."""
        if len(self.hashes) < SKETCH_SIZE:
            return float(len(self.hashes))
        return (SKETCH_SIZE - 1) * _HASH_SPACE / (self.hashes[-1] + 1)

    def contains(self, value_hash: int) -> bool | None:
        """Whether the value was seen; None when the sketch cannot tell (it is full and the
        hash is above everything it kept)."""
        if value_hash in self.hashes:
            return True
        if len(self.hashes) >= SKETCH_SIZE and value_hash > self.hashes[-1]:
            return None
        return False


@dataclass(frozen=True, slots=True)
class Bucket:
    count: int = 0
    amount_eur_minor: int = 0
    declines: int = 0
    distinct: Mapping[Distinct, Sketch] = field(default_factory=dict)

    def merge(self, other: Bucket) -> Bucket:
        """The bucket of both event sets (disjoint: duplicates are removed before this)."""
        if not other.distinct:
            return Bucket(
                self.count + other.count,
                self.amount_eur_minor + other.amount_eur_minor,
                self.declines + other.declines,
                self.distinct,
            )
        distinct = dict(self.distinct)
        for kind, sketch in other.distinct.items():
            distinct[kind] = distinct[kind].merge(sketch) if kind in distinct else sketch
        return Bucket(
            self.count + other.count,
            self.amount_eur_minor + other.amount_eur_minor,
            self.declines + other.declines,
            distinct,
        )


@dataclass(frozen=True, slots=True)
class FraudEvent:
    """One authorization attempt as the fraud features see it (approved or declined)."""

    event_id: str
    occurred_at: int  # Unix seconds
    card: str  # the platform card key (card#<card_key>), or token#<token>: never a card number
    merchant_id: str
    amount_eur_minor: int
    declined: bool = False
    bin: str | None = None
    device_id: str | None = None
    ip: str | None = None
    card_country: str | None = None
    ip_country: str | None = None
    customer_country: str | None = None

    def __post_init__(self) -> None:
        if self.amount_eur_minor < 0:
            raise ValueError("amount_eur_minor must not be negative")

    def subjects(self) -> Iterator[tuple[SubjectType, str]]:
        yield SubjectType.CARD, self.card
        if self.device_id:
            yield SubjectType.DEVICE, self.device_id
        if self.ip:
            yield SubjectType.IP, self.ip
        yield SubjectType.MERCHANT, self.merchant_id
        if self.bin:
            yield SubjectType.BIN, self.bin

    def distinct_value(self, kind: Distinct) -> str | None:
        if kind is Distinct.CARDS:
            return self.card
        if kind is Distinct.DEVICES:
            return self.device_id
        return self.ip_country


def platform_card_key(card_key: str | None, token: str) -> str:
    """The card as every per-card counter names it: ``card#<card_key>`` (the vault's card key,
    one card at every merchant and customer), or ``token#<token>`` for a card tokenized before
    card keys existed. The payments table's ``by_card`` index, the SCA counters, the payment
    events and the feature table all use this one spelling."""
    return f"{_CARD_KEY_PREFIX}{card_key}" if card_key else f"token#{token}"


_CARD_KEY_PREFIX = "card#"


def card_key_of(platform_key: str) -> str | None:
    """The vault's card key a ``platform_card_key`` names; None for a token-named card."""
    if platform_key.startswith(_CARD_KEY_PREFIX):
        return platform_key.removeprefix(_CARD_KEY_PREFIX)
    return None


SubjectKey = tuple[SubjectType, str]
# A subject's buckets: (window name, bucket start) -> bucket.
Buckets = dict[tuple[str, int], Bucket]


def event_buckets(event: FraudEvent, subject: SubjectType) -> Buckets:
    """What one event adds to one subject: a bucket in each of the subject's series."""
    out: Buckets = {}
    kinds_of = DISTINCT_OF[subject]
    for window in SERIES[subject]:
        distinct = {}
        for kind in kinds_of.get(window.name, ()):
            value = event.distinct_value(kind)
            if value:
                distinct[kind] = Sketch((value_hash(value),))
        out[(window.name, window.bucket_of(event.occurred_at))] = Bucket(
            1, event.amount_eur_minor, int(event.declined), distinct
        )
    return out


def merge_buckets(into: Buckets, other: Mapping[tuple[str, int], Bucket]) -> None:
    for key, bucket in other.items():
        into[key] = into[key].merge(bucket) if key in into else bucket


@dataclass(frozen=True, slots=True)
class StreamPosition:
    """Where a record sits on the stream: its shard and its sequence number (Kinesis gives a
    decimal string of up to 129 digits, increasing within a shard)."""

    shard: str
    sequence: int

    def __post_init__(self) -> None:
        if not self.shard:
            raise ValueError("a stream position needs its shard")
        if self.sequence < 0:
            raise ValueError("a sequence number is not negative")


@dataclass(frozen=True, slots=True)
class SubjectState:
    """A subject as the store keeps it: its buckets, per shard the highest sequence number
    applied to it (its marks) and, for a card, the hashes of its recent events' ids by hour
    (``recent``: :data:`COPY_HORIZON_SECONDS` of them, at most :data:`RECENT_IDS_PER_HOUR`
    an hour)."""

    buckets: Buckets = field(default_factory=dict)
    marks: Mapping[str, int] = field(default_factory=dict)
    recent: Mapping[int, frozenset[int]] = field(default_factory=dict)

    def applied(self, position: StreamPosition) -> bool:
        """Whether the record at ``position`` is already counted here: the subject's records
        from one shard are applied in sequence order, so anything at or below the shard's mark
        is."""
        mark = self.marks.get(position.shard)
        return mark is not None and position.sequence <= mark

    def holds_copy_of(self, event: FraudEvent, position: StreamPosition) -> bool:
        """Whether the record at ``position`` is a second copy of an event this card counted
        from another record. EventBridge delivers to a target at least once, so now and then
        one event is put on the stream twice, with two sequence numbers the marks cannot
        relate. Both copies carry the card's partition key, so they sit on one shard in order,
        and the consumer stops at a failure: by the time the second is read, the first was
        counted on every subject, and the second must count on none."""
        if self.applied(position):
            return False
        hour = event.occurred_at - event.occurred_at % ID_BUCKET_SECONDS
        return value_hash(event.event_id) in self.recent.get(hour, frozenset())


# How long a card remembers its events' ids: EventBridge retries a target for up to 24 hours
# by default, and an hour's bucket more covers the hour the event fell in. At most
# RECENT_IDS_PER_HOUR ids an hour are kept (a copy beyond them counts twice), so a card under
# attack cannot grow its item without bound.
ID_BUCKET_SECONDS = 3_600
COPY_HORIZON_SECONDS = 86_400 + ID_BUCKET_SECONDS
RECENT_IDS_PER_HOUR = 32


class FeatureCounters(Protocol):
    """The port the stream consumer writes through and the scorers read (DynamoDB in AWS)."""

    def apply(self, event: FraudEvent) -> bool:
        """Count ``event`` once; False when it was a duplicate or too old to count."""
        ...

    def buckets(self, subject: SubjectKey) -> Mapping[tuple[str, int], Bucket]: ...


class InMemoryFeatureCounters(FeatureCounters):
    """The counters in a dict: for the trainer, the tests and the benchmarks. Expiry keeps
    heaps of when each bucket and each remembered id stops mattering, so a long replay costs
    a heap push per new bucket, not a sweep of every subject."""

    def __init__(self) -> None:
        self._subjects: dict[SubjectKey, Buckets] = {}
        self._seen: dict[str, int] = {}
        self._bucket_expiry: list[tuple[int, SubjectKey, tuple[str, int]]] = []
        self._seen_expiry: list[tuple[int, str]] = []
        self.watermark: int | None = None

    def apply(self, event: FraudEvent) -> bool:
        if event.event_id in self._seen:
            return False
        at = event.occurred_at
        watermark = at if self.watermark is None else max(self.watermark, at)
        if at < watermark - HORIZON_SECONDS:
            return False
        self._seen[event.event_id] = at
        heapq.heappush(self._seen_expiry, (at + HORIZON_SECONDS, event.event_id))
        for subject in event.subjects():
            for key, bucket in event_buckets(event, subject[0]).items():
                window = _WINDOW_BY_NAME[key[0]]
                if key[1] < window.first_bucket(watermark):
                    continue  # late: no window at the watermark reaches this bucket
                buckets = self._subjects.setdefault(subject, {})
                found = buckets.get(key)
                if found is None:
                    buckets[key] = bucket
                    # The bucket leaves its window once the watermark reaches its end plus
                    # the window's length.
                    heapq.heappush(self._bucket_expiry, (key[1] + window.seconds, subject, key))
                else:
                    buckets[key] = found.merge(bucket)
        if watermark != self.watermark:
            self.watermark = watermark
            self._expire(watermark)
        return True

    def buckets(self, subject: SubjectKey) -> Mapping[tuple[str, int], Bucket]:
        return self._subjects.get(subject, {})

    def snapshot(self) -> tuple[dict[SubjectKey, Buckets], dict[str, int]]:
        """The buckets and remembered ids that still matter at the watermark, as plain
        dicts: two stores that applied the same events compare equal however the events
        were delivered."""
        return {k: dict(v) for k, v in self._subjects.items()}, dict(self._seen)

    def _expire(self, watermark: int) -> None:
        expiry = self._bucket_expiry
        while expiry and expiry[0][0] <= watermark:
            _, subject, key = heapq.heappop(expiry)
            buckets = self._subjects.get(subject)
            if buckets is not None:
                buckets.pop(key, None)
                if not buckets:
                    del self._subjects[subject]
        seen = self._seen_expiry
        while seen and seen[0][0] < watermark:  # kept while at >= watermark - HORIZON
            _, event_id = heapq.heappop(seen)
            self._seen.pop(event_id, None)


_WINDOW_BY_NAME = {w.name: w for w in WINDOWS}


def window_ranges(at: int) -> dict[str, tuple[int, int]]:
    """Each window's first and last bucket start at ``at``."""
    return {w.name: (w.first_bucket(at), w.bucket_of(at)) for w in WINDOWS}


def window_totals(
    buckets: Mapping[tuple[str, int], Bucket], ranges: Mapping[str, tuple[int, int]]
) -> dict[str, Bucket]:
    """Each window's merged bucket (counts summed, sketches merged) within ``ranges``
    (:func:`window_ranges`), in one pass over the subject's buckets: a card has a handful, a
    busy merchant at most one per bucket slot."""
    sums = {w.name: [0, 0, 0] for w in WINDOWS}
    hashes: dict[str, dict[Distinct, set[int]]] = {w.name: {} for w in WINDOWS}
    for (name, start), bucket in buckets.items():
        first, last = ranges[name]
        if start < first or start > last:
            continue
        total = sums[name]
        total[0] += bucket.count
        total[1] += bucket.amount_eur_minor
        total[2] += bucket.declines
        if bucket.distinct:
            # A union of the raw hashes, cut to the sketch size once: the same result as
            # merging the sketches pairwise, without a sort per bucket.
            found = hashes[name]
            for kind, sketch in bucket.distinct.items():
                found.setdefault(kind, set()).update(sketch.hashes)
    return {
        name: Bucket(
            total[0],
            total[1],
            total[2],
            {kind: Sketch(tuple(sorted(h)[:SKETCH_SIZE])) for kind, h in hashes[name].items()},
        )
        for name, total in sums.items()
    }


# The features of an attempt, in the order the model artefact lists its weights. Counts and
# amounts are of the attempts *before* this one, as the rules scorer's velocity counts are.
_AMOUNTS = (
    (SubjectType.CARD, (W10M, W1H, W24H)),
    (SubjectType.DEVICE, (W10M, W1H, W24H)),
    (SubjectType.IP, (W10M, W1H, W24H)),
    (SubjectType.MERCHANT, (W10M, W1H, W24H)),
)
_DECLINE_RATIOS = (
    (SubjectType.CARD, W24H),
    (SubjectType.DEVICE, W1H),
    (SubjectType.IP, W1H),
    (SubjectType.MERCHANT, W1H),
    (SubjectType.BIN, W1H),
)
_DISTINCTS = (
    (SubjectType.CARD, Distinct.DEVICES, W24H),
    (SubjectType.CARD, Distinct.COUNTRIES, W24H),
    (SubjectType.DEVICE, Distinct.CARDS, W1H),
    (SubjectType.DEVICE, Distinct.CARDS, W24H),
    (SubjectType.IP, Distinct.CARDS, W1H),
    (SubjectType.IP, Distinct.CARDS, W24H),
    (SubjectType.BIN, Distinct.CARDS, W10M),
    (SubjectType.BIN, Distinct.CARDS, W1H),
)
EVENT_FEATURES = (
    "amount_eur",
    "card_ip_country_mismatch",
    "card_first_seen_7d",
    "card_new_device_7d",
    "card_new_country_7d",
    "amount_vs_card_mean_7d",
)
FEATURE_NAMES: tuple[str, ...] = (
    *EVENT_FEATURES,
    *(f"{s.value}_count_{w.name}" for s in SubjectType for w in SERIES[s]),
    *(f"{s.value}_amount_eur_{w.name}" for s, ws in _AMOUNTS for w in ws),
    *(f"{s.value}_decline_ratio_{w.name}" for s, w in _DECLINE_RATIOS),
    *(f"{s.value}_distinct_{d.value}_{w.name}" for s, d, w in _DISTINCTS),
)


_EMPTY = Bucket()


def _new_value(sketch: Sketch | None, value: str | None) -> float:
    """1 when the card has history and ``value`` is not in it; 0 when seen or unknown."""
    if not value:
        return 0.0
    return 1.0 if (sketch or Sketch()).contains(value_hash(value)) is False else 0.0


def features(
    event: FraudEvent, read: Mapping[SubjectKey, Mapping[tuple[str, int], Bucket]]
) -> dict[str, float]:
    """The features of ``event`` from its subjects' buckets (``read``: each subject's buckets,
    as read before the event was applied), keyed as ``FEATURE_NAMES``. Amounts are in EUR
    (major units); a subject the event lacks (no device, no IP) counts as empty."""
    at = event.occurred_at
    keys: dict[SubjectType, str] = dict(event.subjects())
    empty: dict[str, Bucket] = {}
    per_subject: dict[SubjectType, dict[str, Bucket]] = {}
    ranges = window_ranges(at)
    for subject in SubjectType:
        value = keys.get(subject)
        buckets = read.get((subject, value)) if value is not None else None
        per_subject[subject] = window_totals(buckets, ranges) if buckets else empty

    def total(subject: SubjectType, window: Window) -> Bucket:
        return per_subject[subject].get(window.name, _EMPTY)

    out: dict[str, float] = {}
    amount = event.amount_eur_minor / 100
    card_7d = total(SubjectType.CARD, W7D)
    out["amount_eur"] = amount
    out["card_ip_country_mismatch"] = float(
        event.card_country is not None
        and event.ip_country is not None
        and event.card_country.upper() != event.ip_country.upper()
    )
    known = card_7d.count > 0
    out["card_first_seen_7d"] = 0.0 if known else 1.0
    out["card_new_device_7d"] = (
        _new_value(card_7d.distinct.get(Distinct.DEVICES), event.device_id) if known else 0.0
    )
    out["card_new_country_7d"] = (
        _new_value(card_7d.distinct.get(Distinct.COUNTRIES), event.ip_country) if known else 0.0
    )
    mean = card_7d.amount_eur_minor / card_7d.count / 100 if known else 0.0
    out["amount_vs_card_mean_7d"] = amount / mean if mean > 0 else 0.0
    for subject in SubjectType:
        for window in SERIES[subject]:
            out[f"{subject.value}_count_{window.name}"] = float(total(subject, window).count)
    for subject, windows in _AMOUNTS:
        for window in windows:
            bucket = total(subject, window)
            out[f"{subject.value}_amount_eur_{window.name}"] = bucket.amount_eur_minor / 100
    for subject, window in _DECLINE_RATIOS:
        bucket = total(subject, window)
        ratio = bucket.declines / bucket.count if bucket.count else 0.0
        out[f"{subject.value}_decline_ratio_{window.name}"] = ratio
    for subject, kind, window in _DISTINCTS:
        sketch = total(subject, window).distinct.get(kind)
        estimate = sketch.estimate() if sketch is not None else 0.0
        out[f"{subject.value}_distinct_{kind.value}_{window.name}"] = estimate
    return out


def features_from(event: FraudEvent, counters: FeatureCounters) -> dict[str, float]:
    """:func:`features` with the subjects read from ``counters`` (before ``event`` is
    applied: the inline scorer scores a payment the stream has not seen yet)."""
    read = {subject: counters.buckets(subject) for subject in event.subjects()}
    return features(event, read)


def replay(events: Iterable[FraudEvent]) -> Iterator[tuple[FraudEvent, dict[str, float]]]:
    """Each event in time order with its features as of just before it: what the trainer
    learns from and what the inline scorer would have seen."""
    counters = InMemoryFeatureCounters()
    for event in sorted(events, key=lambda e: (e.occurred_at, e.event_id)):
        yield event, features_from(event, counters)
        counters.apply(event)


def log1p(value: float) -> float:
    """``log(1 + value)``, clamped at 0: the scorer's transform of counts and amounts."""
    return math.log1p(value) if value > 0 else 0.0
