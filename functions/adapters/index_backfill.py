"""Backfill of the reconciliation's index keys on tables written before the indexes existed
(docs/ledger.md, "Reconciliation at volume"). An operator runs it once, on AWS or the emulator:

    python -m functions.adapters.index_backfill --payments-table <name> --ledger-table <name> \\
        [--segments 8] [--writes-per-second 200] [--state backfill-state.json]

(``python -m local.cli reconcile-backfill`` runs it on the emulator's tables.) It reads each
table with a parallel Scan (``--segments`` workers, one segment each, boto3's paginator) and
gives every item that lacks them the keys the adapters write today:

* a payment record: ``update_key`` (``by_update``) and, while it keeps a hold open,
  ``open_key``/``open_at`` (``open_holds``), computed as ``payments_table.to_item`` does; the
  write is conditional on the record's ``version`` and on the keys being absent, so a record a
  live write changed meanwhile (and keyed) is left alone;
* a payment's journal entry (an entry item, or a position carrying its sale): ``recorded_key``
  and ``recorded_at`` (``by_recorded``), dated at the entry's ``effective_at``, the moment it
  was posted for the payment's own writes; an entry without a date is counted, not keyed.

Idempotent: every write is conditional on the keys being absent, so a second run, or two runs
at once, write nothing twice. Resumable: after each page it writes where each segment got to
(the page's ``LastEvaluatedKey``) into the ``--state`` file, and a run started with the same
file continues from there (``--restart`` ignores it). Rate-limited: one token bucket for all the
segments' writes (``--writes-per-second``), pages of ``--page-size`` items, and the SDK's
adaptive retry mode backing off when DynamoDB throttles. Left out: the acquirer simulator's
operation records written before they carried their execution time (no time to index them by;
the reconciliation still finds each by its reference from its payment), and items that are no
payment (checkpoint, counters, mandates).

Cost: a Scan reads every item once (half a read unit per 4 KB, eventually consistent) and each
keyed item is one write unit plus one per index entry it enters.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from botocore.paginate import TokenEncoder

from functions.adapters.ledger_table import recorded_key
from functions.adapters.payments_table import from_item, update_key
from functions.services.reconciliation import instant, open_hold, shard_of

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import PaginatorConfigTypeDef

# Items of the payments table that are no payment record.
_NOT_PAYMENTS = ("acquirer-op#", "reconcile#", "sca-counter#", "mandate#", "tra-monitoring#")


@dataclass(frozen=True, slots=True)
class KeyUpdate:
    """The attributes to SET on one item, and the condition that keeps the write safe."""

    values: Mapping[str, str]
    condition: str
    condition_values: Mapping[str, Any]


def payment_update(item: Mapping[str, Any]) -> KeyUpdate | None:
    """The index keys a payment record lacks (None: not a payment, keyed, or undated)."""
    payment_id = item.get("payment_id", {}).get("S", "")
    if payment_id.startswith(_NOT_PAYMENTS) or "update_key" in item or "version" not in item:
        return None
    try:
        payment = from_item(item)
    except (KeyError, ValueError):
        return None  # not a payment record this code can read: left as it is
    if not payment.updated_at:
        return None
    values = {"update_key": update_key("upd", payment.updated_at, payment_id)}
    hold = open_hold(payment)
    if hold is not None:
        values["open_key"] = f"open#{hold[0]}#{shard_of(payment_id):02d}"
        values["open_at"] = hold[1]
    return KeyUpdate(
        values,
        "attribute_not_exists(update_key) AND version = :version",
        {":version": item["version"]},
    )


def entry_update(item: Mapping[str, Any]) -> KeyUpdate | None:
    """The ``by_recorded`` keys a payment's journal entry lacks (None: not an entry of a
    payment, already keyed, or without a date)."""
    pk = item.get("pk", {}).get("S", "")
    if not pk.startswith("payment#") or "entry_id" not in item or "recorded_key" in item:
        return None
    effective_at = item.get("effective_at", {}).get("S", "")
    if not effective_at:
        return None
    at = instant(dt.datetime.fromisoformat(effective_at))
    return KeyUpdate(
        {"recorded_key": recorded_key(pk.removeprefix("payment#"), at), "recorded_at": at},
        "attribute_not_exists(recorded_key)",
        {},
    )


@dataclass
class Counts:
    scanned: int = 0
    keyed: int = 0
    # Written by someone else between the read and the write (keyed by then, or changed).
    raced: int = 0
    # Items that need nothing (keyed already, not a payment's) or cannot be keyed (undated).
    left: int = 0
    pages: int = 0

    def add(self, other: Counts) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)


class RateLimiter:
    """A token bucket shared by the segments' threads: at most ``per_second`` writes a second
    on average, bursts of up to one second's worth."""

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        self._rate = per_second
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = per_second
        self._at = clock()

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self._rate, self._tokens + (now - self._at) * self._rate)
                self._at = now
                # A hair of tolerance: the refill is float arithmetic, and a wait too small
                # to move the clock would never make up the last ulp.
                if self._tokens >= 1 - 1e-9:
                    self._tokens = max(0.0, self._tokens - 1)
                    return
                wait = (1 - self._tokens) / self._rate
            self._sleep(wait)


class ScanState:
    """Where each segment of each table's scan got to, in a JSON file rewritten after every
    page (atomically: a crash leaves the old or the new state, never half of one)."""

    def __init__(self, path: Path, *, restart: bool = False) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._data: dict[str, dict[str, Any]] = {}
        if path.exists() and not restart:
            self._data = json.loads(path.read_text())

    def position(self, table: str, segments: int, segment: int) -> tuple[bool, Any]:
        """(done, the LastEvaluatedKey to continue after, or None to start)."""
        saved = self._data.get(f"{table}/{segment}/{segments}", {})
        return bool(saved.get("done")), saved.get("after")

    def save(self, table: str, segments: int, segment: int, after: Any) -> None:
        with self._lock:
            self._data[f"{table}/{segment}/{segments}"] = {"done": after is None, "after": after}
            self._path.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(dir=self._path.parent, prefix=".backfill-")
            with os.fdopen(handle, "w") as out:
                json.dump(self._data, out, indent=1, sort_keys=True)
            os.replace(name, self._path)


class IndexBackfill:
    def __init__(
        self,
        client: DynamoDBClient,
        state: ScanState,
        *,
        segments: int = 4,
        page_size: int = 100,
        limiter: RateLimiter | None = None,
        stop_after_pages: int | None = None,
    ) -> None:
        if segments < 1 or page_size < 1:
            raise ValueError("segments and page_size must be at least 1")
        self._client = client
        self._state = state
        self._segments = segments
        self._page_size = page_size
        self._limiter = limiter or RateLimiter(100.0)
        # Tests stop a run part way, as a crash or Ctrl-C would.
        self._stop_after = stop_after_pages
        self._pages = 0
        self._pages_lock = threading.Lock()

    def run(self, payments_table: str, ledger_table: str) -> dict[str, Counts]:
        return {
            payments_table: self.table(payments_table, payment_update),
            ledger_table: self.table(ledger_table, entry_update),
        }

    def table(
        self, table: str, update_of: Callable[[Mapping[str, Any]], KeyUpdate | None]
    ) -> Counts:
        total = Counts()
        with ThreadPoolExecutor(self._segments) as pool:
            for counts in pool.map(
                lambda segment: self._segment(table, segment, update_of), range(self._segments)
            ):
                total.add(counts)
        return total

    def _segment(
        self, table: str, segment: int, update_of: Callable[[Mapping[str, Any]], KeyUpdate | None]
    ) -> Counts:
        counts = Counts()
        done, after = self._state.position(table, self._segments, segment)
        if done:
            return counts
        config: PaginatorConfigTypeDef = {"PageSize": self._page_size}
        if after is not None:
            config["StartingToken"] = TokenEncoder().encode({"ExclusiveStartKey": after})
        pages = self._client.get_paginator("scan").paginate(
            TableName=table,
            Segment=segment,
            TotalSegments=self._segments,
            PaginationConfig=config,
        )
        for page in pages:
            for item in page.get("Items", []):
                counts.scanned += 1
                update = update_of(item)
                if update is None:
                    counts.left += 1
                elif self._write(table, item, update):
                    counts.keyed += 1
                else:
                    counts.raced += 1
            counts.pages += 1
            # Saved only once the page's writes are done: a resumed run may redo a page (its
            # writes are conditional), never skip one.
            self._state.save(table, self._segments, segment, page.get("LastEvaluatedKey"))
            with self._pages_lock:
                self._pages += 1
                if self._stop_after is not None and self._pages >= self._stop_after:
                    raise Interrupted
        return counts

    def _write(self, table: str, item: Mapping[str, Any], update: KeyUpdate) -> bool:
        key = (
            {"pk": item["pk"], "sk": item["sk"]}
            if "pk" in item
            else {"payment_id": item["payment_id"]}
        )
        names = {f"#a{n}": name for n, name in enumerate(update.values)}
        values: dict[str, Any] = {f":a{n}": {"S": v} for n, v in enumerate(update.values.values())}
        self._limiter.acquire()
        try:
            self._client.update_item(
                TableName=table,
                Key=key,
                UpdateExpression="SET " + ", ".join(f"#a{n} = :a{n}" for n in range(len(names))),
                ConditionExpression=update.condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={**values, **update.condition_values},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return False
        return True


class Interrupted(Exception):
    """A run stopped part way (``stop_after_pages``)."""


def report(counts: Mapping[str, Counts]) -> str:
    return json.dumps({table: asdict(c) for table, c in counts.items()}, indent=2)


def main(argv: list[str] | None = None, client: DynamoDBClient | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m functions.adapters.index_backfill",
        description="Give items written before the reconciliation's indexes their index keys.",
    )
    parser.add_argument("--payments-table", required=True)
    parser.add_argument("--ledger-table", required=True)
    parser.add_argument("--segments", type=int, default=4, help="parallel scan segments")
    parser.add_argument("--page-size", type=int, default=100, help="items per scan page")
    parser.add_argument(
        "--writes-per-second", type=float, default=100.0, help="all segments together"
    )
    parser.add_argument("--state", type=Path, default=Path("reconcile-backfill-state.json"))
    parser.add_argument("--restart", action="store_true", help="ignore the saved state")
    parser.add_argument("--region", default=None)
    args = parser.parse_args(argv)
    if client is None:
        import boto3
        from botocore.config import Config

        client = boto3.client(
            "dynamodb",
            region_name=args.region,
            config=Config(retries={"mode": "adaptive", "max_attempts": 10}),
        )
    backfill = IndexBackfill(
        client,
        ScanState(args.state, restart=args.restart),
        segments=args.segments,
        page_size=args.page_size,
        limiter=RateLimiter(args.writes_per_second),
    )
    print(report(backfill.run(args.payments_table, args.ledger_table)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
