"""The ledger table (DynamoDB) behind the ledger's ``LedgerStore`` port.

Table design (single table, on-demand): hash key ``pk`` (S), range key ``sk`` (S).

* entry: ``pk = "payment#<payment_id>"`` (``settlement#<batch_id>``, ``payout#<merchant>:<day>``
  for the entries of no one payment), ``sk = "entry#<step>"``; payment_id (the subject),
  entry_id, kind, step, effective_at, value_date, reverses (absent unless a reversal),
  references (a settlement batch's acquirer references, absent otherwise), reason_code (a
  chargeback's scheme reason code, absent otherwise), lines (L of M:
  account S, currency S, debit N, credit N, in the entry's order).
* position, one per payment, in the payment's own partition: ``pk = "payment#<payment_id>"``,
  ``sk = "position"``; authorized, captured, voided, refunded, charged_back, capturable,
  refundable (N). A sale (the payment's first movement) is stored *in* its position: the one
  item carries the position and the sale entry's attributes, so a sale is one conditional
  PutItem (one write unit under 1 KB) instead of a transaction of two items (four units), and
  "a sale is only a first movement" stays atomic: the put is conditional on no position
  existing, which any earlier movement would have created. One position per merchant and
  currency for its settled funds: ``pk = "position#funds:<merchant>:<currency>"``, available (N).

Every entry of a payment also carries ``recorded_key`` (``led#<hour it was written>#<shard>``)
and ``recorded_at`` (when this store wrote it), the keys of the sparse ``by_recorded`` index
(KEYS_ONLY): the reconciliation reads the entries written in its window from it and flags
those whose payment does not exist, without a Scan. Settlement and payout entries stay out of
it (their subjects are no payments). A later update of a position leaves its keys as they are,
so it writes nothing to the index.

Every other ``post`` writes an entry and its position in one transaction: two items, four write
units (a settlement batch entry has no position: one item). Reading a payment's entries is one
query of its partition, which returns the position (and a sale stored in it) too. Account
balances are not stored: they are the sums of the entries' lines (``all_balances``,
``balance``), so they cannot drift from the journal, and a posting does not pay two write units
per account it touches (the hot path's write budget, docs/ledger.md). The entry's Put is
conditional on the entry being new, so a replay changes nothing and is recognised by reading
the entry back (idempotency rests on that condition alone, never on ClientRequestToken). The
position's Update is conditional on the caps (``capturable`` or ``refundable`` at least the
amount), so two concurrent refunds cannot both pass: the loser's whole transaction is cancelled
and ``PositionLimitError`` raised.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from functions.domain.ledger import (
    PAYOUT_SUBJECT,
    POSITION_FIELDS,
    SETTLEMENT_SUBJECT,
    ConflictingEntryError,
    EntryKind,
    JournalEntry,
    JournalLine,
    LedgerStore,
    PositionLimitError,
    balances,
    balances_as_of,
    position_change,
    shard_accounts,
)
from functions.services.reconciliation import INDEX_SHARDS, instant, shard_of

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    Item = dict[str, AttributeValueTypeDef]

RECORDED_INDEX = "by_recorded"
ENTRY_PREFIX = "entry#"
POSITION_SK = "position"
FUNDS_KEY_PREFIX = "funds:"
MAX_ATTEMPTS = 4
BASE_DELAY_S = 0.05
MAX_DELAY_S = 1.0
# Reasons a transaction is cancelled that go away on their own: another transaction held an
# item, or the table was throttled.
_RETRYABLE_REASONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
)
_RANDOM = secrets.SystemRandom()


def entry_pk(payment_id: str) -> str:
    """The partition of a subject's entries: a payment's, a settlement batch's or a payout's."""
    for prefix in (SETTLEMENT_SUBJECT, PAYOUT_SUBJECT):
        if payment_id.startswith(prefix):
            return f"{prefix[:-1]}#{payment_id[len(prefix) :]}"
    return f"payment#{payment_id}"


def entry_sk(step: str) -> str:
    return f"{ENTRY_PREFIX}{step}"


def recorded_key(payment_id: str, recorded_at: str) -> str:
    """The ``by_recorded`` partition of a payment's entry: the hour it was written (the first
    13 characters of ``recorded_at``) and the payment's shard, so a busy hour is
    ``INDEX_SHARDS`` partition keys, as the payments' ``by_update`` is."""
    return f"led#{recorded_at[:13]}#{shard_of(payment_id):02d}"


def recorded_keys(entry: JournalEntry, at: dt.datetime) -> Item:
    """The index attributes of an entry written at ``at``; none for an entry of no payment."""
    if entry.payment_id.startswith((SETTLEMENT_SUBJECT, PAYOUT_SUBJECT)):
        return {}
    recorded_at = instant(at)
    return {
        "recorded_key": _s(recorded_key(entry.payment_id, recorded_at)),
        "recorded_at": _s(recorded_at),
    }


def position_key(key: str) -> Item:
    """A payment's position (in the partition of its entries), or a merchant's funds
    (``funds:<merchant>:<currency>``, a partition of its own)."""
    if key.startswith(FUNDS_KEY_PREFIX):
        return {"pk": _s(f"position#{key}"), "sk": _s(POSITION_SK)}
    return {"pk": _s(entry_pk(key)), "sk": _s(POSITION_SK)}


def _s(value: str) -> AttributeValueTypeDef:
    return {"S": value}


def _n(value: int) -> AttributeValueTypeDef:
    return {"N": str(value)}


def full_jitter(attempt: int) -> float:
    """Seconds to wait before retry ``attempt`` (0-based): uniform in [0, base * 2**attempt]."""
    return _RANDOM.uniform(0.0, min(MAX_DELAY_S, BASE_DELAY_S * 2**attempt))


class DynamoLedgerStore(LedgerStore):
    """``last_consumed_write_units`` is what the last ``post`` transaction consumed: as
    DynamoDB reported it, or, when the service reports none (emulators), estimated at 2 write
    units per started KB of each item; 0.0 when the last post wrote nothing (a replay)."""

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        shards: int = 8,
        *,
        max_attempts: int = MAX_ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
        backoff: Callable[[int], float] = full_jitter,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._client = client
        self._table = table_name
        self._shards = shards
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._backoff = backoff
        self._clock = clock
        self.last_consumed_write_units: float = 0.0

    def __repr__(self) -> str:
        return f"DynamoLedgerStore(table={self._table!r}, shards={self._shards})"

    # ------------------------------------------------------------------------------- writes

    def post(self, entry: JournalEntry, *, repair: bool = False) -> bool:
        change = position_change(entry)
        if change.fresh:
            return self._post_first(entry, repair)
        item = {**entry_item(entry), **recorded_keys(entry, self._clock())}
        transact: list[Any] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        ]
        if change.key is None:
            pass  # a settlement batch: cash against receivable, no position to guard
        elif repair and change.key == entry.payment_id:
            transact.append({"Update": self._position_rebuilt(entry)})
        else:
            transact.append({"Update": self._position_update(entry)})
        attempt = 0
        while True:
            try:
                response = self._client.transact_write_items(
                    TransactItems=transact, ReturnConsumedCapacity="TOTAL"
                )
            except ClientError as exc:
                reasons = _cancellation_codes(exc)
                if reasons and reasons[0] == "ConditionalCheckFailed":
                    self.last_consumed_write_units = 0.0
                    return self._replayed(entry)
                if reasons[1:2] == ["ConditionalCheckFailed"]:
                    self.last_consumed_write_units = 0.0
                    raise PositionLimitError(
                        f"{entry.entry_id} exceeds what {entry.payment_id} may still move"
                    ) from exc
                attempt += 1
                if _RETRYABLE_REASONS.isdisjoint(reasons) or attempt >= self._max_attempts:
                    raise
                self._sleep(self._backoff(attempt - 1))
                continue
            reported = sum(
                float(c.get("CapacityUnits", c.get("WriteCapacityUnits", 0.0)))
                for c in response.get("ConsumedCapacity", [])
            )
            written = [item] + [_position_item_estimate(entry.payment_id)] * (len(transact) - 1)
            self.last_consumed_write_units = reported or _estimated_write_units(written)
            return True

    def _position_update(self, entry: JournalEntry) -> dict[str, Any]:
        change = position_change(entry)
        assert change.key is not None
        names = {f"#f{n}": name for n, (name, _) in enumerate(change.deltas)}
        values: dict[str, Any] = {f":v{n}": _n(d) for n, (_, d) in enumerate(change.deltas)}
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": position_key(change.key),
            "UpdateExpression": "ADD " + ", ".join(f"#f{n} :v{n}" for n in range(len(names))),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        deltas = dict(change.deltas)
        # A sale is its payment's first movement: the position must not exist yet.
        conditions = ["attribute_not_exists(pk)"] if change.fresh else []
        for n, name in enumerate(change.guarded):
            names[f"#g{n}"] = name
            values[f":g{n}"] = _n(-deltas[name])
            conditions.append(f"#g{n} >= :g{n}")
        if conditions:
            update["ConditionExpression"] = " AND ".join(conditions)
        return update

    def _rebuilt_totals(self, entry: JournalEntry) -> dict[str, int]:
        """A repair (reconciliation) derives the position from every entry: a hand-edited or
        partly lost history must not block the entry the payment record proves."""
        totals = dict.fromkeys(POSITION_FIELDS, 0)
        for posted in [*self.entries_for(entry.payment_id), entry]:
            for name, delta in position_change(posted).deltas:
                totals[name] += delta
        return totals

    def _position_rebuilt(self, entry: JournalEntry) -> dict[str, Any]:
        # SET, not Put: the position may carry the payment's sale, which must stay.
        totals = self._rebuilt_totals(entry)
        names = {f"#f{n}": name for n, name in enumerate(totals)}
        return {
            "TableName": self._table,
            "Key": position_key(entry.payment_id),
            "UpdateExpression": "SET " + ", ".join(f"#f{n} = :v{n}" for n in range(len(names))),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {
                f":v{n}": _n(value) for n, value in enumerate(totals.values())
            },
        }

    def _post_first(self, entry: JournalEntry, repair: bool) -> bool:
        """A sale: one item, the payment's position carrying the entry, written only where no
        position exists yet (so only as the first movement); a repair may write it over a
        position that carries no sale, with the position derived from every entry."""
        deltas = self._rebuilt_totals(entry) if repair else dict(position_change(entry).deltas)
        item: Item = {
            **entry_item(entry),
            **recorded_keys(entry, self._clock()),
            **position_key(entry.payment_id),
            **{name: _n(value) for name, value in deltas.items()},
        }
        condition = "attribute_not_exists(entry_id)" if repair else "attribute_not_exists(pk)"
        try:
            response = self._client.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression=condition,
                ReturnConsumedCapacity="TOTAL",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            self.last_consumed_write_units = 0.0
            stored = self._position_item(entry.payment_id)
            if stored is None or "entry_id" not in stored:
                raise PositionLimitError(
                    f"{entry.entry_id} must be the first movement of {entry.payment_id}"
                ) from exc
            if _entry(stored) != entry:
                raise ConflictingEntryError(
                    f"{entry.entry_id} is already posted with other lines"
                ) from exc
            return False
        reported = float(response.get("ConsumedCapacity", {}).get("CapacityUnits", 0.0))
        self.last_consumed_write_units = reported or _estimated_write_units(
            [item], transactional=False
        )
        return True

    def _position_item(self, key: str) -> Mapping[str, Any] | None:
        return self._client.get_item(
            TableName=self._table, Key=position_key(key), ConsistentRead=True
        ).get("Item")

    def stored_position(self, payment_id: str) -> dict[str, int]:
        item = self._position_item(payment_id)
        if item is None:
            return {}
        return {k: int(v["N"]) for k, v in item.items() if "N" in v}

    def _replayed(self, entry: JournalEntry) -> bool:
        existing = self._get_entry(entry.payment_id, entry.step)
        if existing is None:
            # The condition failed yet nothing is there: entries are never deleted, so this is
            # a table edited by hand; refuse rather than guess.
            raise ConflictingEntryError(f"{entry.entry_id} failed its condition but is absent")
        if existing != entry:
            raise ConflictingEntryError(f"{entry.entry_id} is already posted with other lines")
        return False

    # -------------------------------------------------------------------------------- reads

    def entries_for(self, payment_id: str) -> list[JournalEntry]:
        pages = self._client.get_paginator("query").paginate(
            TableName=self._table,
            # The whole partition: the entries, and the position (a sale is stored in it).
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": _s(entry_pk(payment_id))},
            ConsistentRead=True,
        )
        return [
            _entry(item) for page in pages for item in page.get("Items", []) if "entry_id" in item
        ]

    def subjects_recorded_between(self, start: str, end: str) -> Iterator[str]:
        """The payment of every entry written in [start, end), from ``by_recorded``: each
        hour's shards, page by page (eventually consistent, as every index read). A payment
        with several entries there is named once per entry."""
        for hour in _hours(start, end):
            for shard in range(INDEX_SHARDS):
                pages = self._client.get_paginator("query").paginate(
                    TableName=self._table,
                    IndexName=RECORDED_INDEX,
                    KeyConditionExpression=(
                        "recorded_key = :key AND recorded_at BETWEEN :from AND :to"
                    ),
                    ExpressionAttributeValues={
                        ":key": _s(f"led#{hour}#{shard:02d}"),
                        ":from": _s(start),
                        ":to": _s(end),
                    },
                )
                for page in pages:
                    for item in page.get("Items", []):
                        if item["recorded_at"]["S"] < end:
                            yield _subject(item["pk"]["S"])

    def scan_entries(self) -> Iterator[JournalEntry]:
        """Every entry in the table (for reconciliation); not strongly consistent."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            # Entry items, and positions that carry a sale.
            "FilterExpression": "attribute_exists(entry_id)",
        }
        while True:
            page = self._client.scan(**kwargs)
            for item in page.get("Items", []):
                yield _entry(item)
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def balances_as_of(
        self, cutoff: str, *, basis: str = "value_date"
    ) -> dict[tuple[str, str], int]:
        """Logical balances at a cut-off day (``ledger.balances_as_of``), from the entries."""
        return balances_as_of(self.scan_entries(), cutoff, basis=basis)

    def all_balances(self) -> dict[tuple[str, str], int]:
        """Balance per (physical account, currency): the sums of every entry's lines."""
        return balances(self.scan_entries())

    def balance(self, account: str, currency: str) -> int:
        """A physical account's balance, or a logical account's (the sum of its shards), from
        the entries. A scan: for reports and the reconciliation, not for the hot path."""
        accounts = set(shard_accounts(account, self._shards))
        return sum(
            value
            for (name, cur), value in self.all_balances().items()
            if cur == currency and name in accounts
        )

    def _get_entry(self, payment_id: str, step: str) -> JournalEntry | None:
        item = self._client.get_item(
            TableName=self._table,
            Key={"pk": _s(entry_pk(payment_id)), "sk": _s(entry_sk(step))},
            ConsistentRead=True,
        ).get("Item")
        return None if item is None else _entry(item)


# ------------------------------------------------------------------------------ items


def _hours(start: str, end: str) -> Iterator[str]:
    """Every hour [start, end] touches, as the 13-character prefix ``recorded_key`` uses."""
    hour = dt.datetime.fromisoformat(start[:13] + ":00:00+00:00")
    while (label := hour.strftime("%Y-%m-%dT%H")) <= end[:13]:
        yield label
        hour += dt.timedelta(hours=1)


def _subject(pk: str) -> str:
    """The payment of an entry partition (``payment#<id>``)."""
    return pk.removeprefix("payment#")


def _cancellation_codes(exc: ClientError) -> list[str]:
    """The cancellation reason codes of a cancelled transaction, in item order; else []."""
    if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return []
    reasons: list[Mapping[str, Any]] = exc.response.get("CancellationReasons", [])  # type: ignore[assignment]
    return [str(reason.get("Code", "None")) for reason in reasons]


def entry_item(entry: JournalEntry) -> Item:
    """The entry's item, as ``post`` writes it."""
    item: Item = {
        "pk": _s(entry_pk(entry.payment_id)),
        "sk": _s(entry_sk(entry.step)),
        "payment_id": _s(entry.payment_id),
        "entry_id": _s(entry.entry_id),
        "kind": _s(entry.kind.value),
        "step": _s(entry.step),
        "effective_at": _s(entry.effective_at),
        "value_date": _s(entry.value_date),
        "lines": {
            "L": [
                {
                    "M": {
                        "account": _s(line.account),
                        "currency": _s(line.currency),
                        "debit": _n(line.debit),
                        "credit": _n(line.credit),
                    }
                }
                for line in entry.lines
            ]
        },
    }
    if entry.reverses is not None:
        item["reverses"] = _s(entry.reverses)
    if entry.references:
        item["references"] = {"L": [_s(reference) for reference in entry.references]}
    if entry.reason_code:
        item["reason_code"] = _s(entry.reason_code)
    return item


def _entry(item: Mapping[str, Any]) -> JournalEntry:
    lines = tuple(
        JournalLine(
            account=value["M"]["account"]["S"],
            currency=value["M"]["currency"]["S"],
            debit=int(value["M"]["debit"]["N"]),
            credit=int(value["M"]["credit"]["N"]),
        )
        for value in item["lines"]["L"]
    )
    return JournalEntry(
        entry_id=item["entry_id"]["S"],
        payment_id=item["payment_id"]["S"],
        kind=EntryKind(item["kind"]["S"]),
        step=item["step"]["S"],
        lines=lines,
        reverses=item["reverses"]["S"] if "reverses" in item else None,
        # Entries stored before entries carried dates have none.
        effective_at=item.get("effective_at", {}).get("S", ""),
        value_date=item.get("value_date", {}).get("S", ""),
        references=tuple(v["S"] for v in item.get("references", {}).get("L", [])),
        reason_code=item.get("reason_code", {}).get("S", ""),
    )


def _position_item_estimate(payment_id: str) -> Item:
    big = _n(10**20)
    names = ("a", "c", "v", "r", "cb", "ca", "re")
    return {**position_key(payment_id), **{name: big for name in names}}


def _size(value: Any) -> int:
    """Approximate DynamoDB size in bytes of an attribute value (the documented rules)."""
    if "S" in value:
        return len(value["S"].encode())
    if "N" in value:
        return len(value["N"].lstrip("-")) // 2 + 2
    if "L" in value:
        return 3 + sum(1 + _size(v) for v in value["L"])
    if "M" in value:
        return 3 + sum(len(k.encode()) + 1 + _size(v) for k, v in value["M"].items())
    return 1


def _estimated_write_units(items: list[Item], transactional: bool = True) -> float:
    """A write costs a unit per started KB of each item, two in a transaction."""
    return float(
        sum(
            (2 if transactional else 1)
            * math.ceil(sum(len(name) + _size(value) for name, value in item.items()) / 1024)
            for item in items
        )
    )
