"""The payments table: one item per payment (tokens, brand and last four only), the velocity
indexes the fraud step counts on, and the PSD2 low-value counters the SCA step keeps.

Card velocity is indexed on ``platform_card_key`` (``services.risk.platform_card_key``: the
vault's card key, the same for a card at every customer and merchant, or the token for a card
tokenized before card keys existed), never on the token: tokens are per customer and merchant,
so a card tester who rotated ``customer.id`` got a fresh token, and a zero count, every time
(issue 18, finding 9).

Writes are optimistic: every payment item carries a ``version`` and a write succeeds only over
the version it read, so two concurrent refunds can never both spend the same balance.

Two more indexes serve the reconciliation, which never scans (docs/ledger.md, "Reconciliation
at volume"): ``by_update`` is keyed on ``update_key`` (``upd#<hour of updated_at>#<shard>``)
and ``updated_at``, so a run reads only what changed in its window, and a busy hour spreads
over ``INDEX_SHARDS`` partition keys; ``open_holds`` is sparse, keyed on ``open_key``
(``open#<hold kind>#<shard>``, present only while a payment keeps a hold open) and ``open_at``
(when the hold counts from), so the sweeper finds what is due without reading the rest. The
simulator's operation records share ``by_update`` under ``acq#<hour>#<shard>``.
"""

from __future__ import annotations

import datetime as dt
import heapq
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from functions.domain.acquirer import (
    AcquirerOperation,
    OperationKind,
    OperationLog,
    OperationStatus,
)
from functions.domain.fraud_features import card_key_of
from functions.domain.payment_listing import ListFilter, ListPosition
from functions.domain.payments import (
    Payment,
    PaymentStatus,
    PaymentStore,
    Refund,
    RefundStatus,
    StaleWriteError,
)
from functions.services.credit_reconciliation import BnplCursor
from functions.services.fraud_scoring import CARD_INDEX_ATTRIBUTE
from functions.services.reconciliation import (
    INDEX_SHARDS,
    HoldKind,
    Position,
    instant,
    open_hold,
    shard_of,
)
from functions.services.risk import platform_card_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_T = TypeVar("_T")
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


__all__ = [
    "AcquirerOperationsTable",
    "BnplReconcileCheckpoint",
    "PaymentsTable",
    "ReconcileCheckpoint",
    "StaleWriteError",
]
OPERATION_PREFIX = "acquirer-op#"
CLAIM_PREFIX = "acquirer-auth#"
UPDATE_INDEX = "by_update"
OPEN_INDEX = "open_holds"
MERCHANT_INDEX = "by_merchant"
# BatchGetItem reads at most 100 keys a call; unprocessed keys are asked again, pausing 50,
# 100, 200... ms, up to 6 calls.
_BATCH_KEYS = 100
_BATCH_ATTEMPTS = 6
_BATCH_BACKOFF_S = 0.05
CHECKPOINT_KEY = "reconcile#checkpoint"
BNPL_CHECKPOINT_KEY = "bnpl-reconcile#checkpoint"


def update_key(prefix: str, updated_at: str, payment_id: str) -> str:
    """The by_update partition of an item: its hour (the first 13 characters of an ISO
    timestamp, ``2026-11-22T11``) and its shard."""
    return f"{prefix}#{updated_at[:13]}#{shard_of(payment_id):02d}"


def _hours(start: str, end: str) -> Iterator[str]:
    """Every hour ``[start, end]`` touches, as the 13-character prefix ``update_key`` uses."""
    hour = dt.datetime.fromisoformat(start[:13] + ":00:00+00:00")
    last = end[:13]
    while (label := hour.strftime("%Y-%m-%dT%H")) <= last:
        yield label
        hour += dt.timedelta(hours=1)


def _batch_get(
    client: DynamoDBClient,
    table: str,
    keys: Sequence[Mapping[str, Any]],
    *,
    consistent: bool = False,
) -> Iterator[Mapping[str, Any]]:
    """Every BatchGetItem response that reads ``keys`` (distinct) from ``table``: 100 keys a
    request, and the keys a response leaves unprocessed (throttled) asked again after a short,
    growing pause; raises ``RuntimeError`` if some are still unprocessed after the last."""
    for start in range(0, len(keys), _BATCH_KEYS):
        request: dict[str, Any] = {
            table: {"Keys": list(keys[start : start + _BATCH_KEYS]), "ConsistentRead": consistent}
        }
        for attempt in range(_BATCH_ATTEMPTS):
            response = client.batch_get_item(RequestItems=request, ReturnConsumedCapacity="TOTAL")
            yield response
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
            time.sleep(_BATCH_BACKOFF_S * 2**attempt)
        else:
            raise RuntimeError(f"{table}: keys left unprocessed after {_BATCH_ATTEMPTS} reads")


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [_plain(v) for v in value]
    return value


def to_item(payment: Payment) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "payment_id": payment.payment_id,
        "merchant_id": payment.merchant_id,
        "amount": payment.amount,
        "currency": payment.currency,
        "capture_requested": payment.capture_requested,
        "status": str(payment.status),
        "token": payment.token,
        "card_brand": payment.card_brand,
        "card_last4": payment.card_last4,
        "customer_id": payment.customer_id,
        "device_id": payment.device_id,
        "created_at": payment.created_at,
        "updated_at": payment.updated_at,
        "fraud": dict(payment.fraud),
        "sca": dict(payment.sca),
        "amount_captured": payment.amount_captured,
        "amount_refunded": payment.amount_refunded,
        "capture_pending": payment.capture_pending,
        "capture_key": payment.capture_key,
        "capture_sequence": payment.capture_sequence,
        "refunds": [
            {
                "refund_id": r.refund_id,
                "amount": r.amount,
                "created_at": r.created_at,
                "status": str(r.status),
            }
            for r in payment.refunds
        ],
        "authorization_id": payment.authorization_id,
        "decline_code": payment.decline_code,
        "failure_code": payment.failure_code,
        "next_action": dict(payment.next_action) if payment.next_action else None,
        "resume_context": dict(payment.resume_context) if payment.resume_context else None,
        "request_digest": payment.request_digest,
        "authorize_attempt": payment.authorize_attempt,
        "authorized_at": payment.authorized_at,
        "captured_at": payment.captured_at,
        "cancellation_reason": payment.cancellation_reason,
        "version": payment.version,
        # A BNPL payment's decision and plan (Payment.bnpl): absent on a card payment.
        "bnpl": dict(payment.bnpl) if payment.bnpl is not None else None,
        # The merchant's metadata (absent when empty): a map of at most 2 KB (models.payments).
        "metadata": dict(payment.metadata),
        # The card key is stored once, inside the index attribute (``card#<card key>``).
        CARD_INDEX_ATTRIBUTE: platform_card_key(
            {"card_key": payment.card_key, "token": payment.token}
        ),
    }
    if payment.updated_at:
        fields["update_key"] = update_key("upd", payment.updated_at, payment.payment_id)
    else:
        # An index key may not be an empty string: a record without a time (written before
        # records carried one) stays out of the update-time index.
        del fields["updated_at"]
    hold = open_hold(payment)
    if hold is not None:
        fields["open_key"] = f"open#{hold[0]}#{shard_of(payment.payment_id):02d}"
        fields["open_at"] = hold[1]
    # Index keys must be absent rather than null; other absent values are simply not stored,
    # nor are counters still at zero and empty lists, which ``from_item`` reads back as such:
    # the record stays under 1 KB, one write unit per write instead of two.
    return {
        k: _serializer.serialize(v)
        for k, v in fields.items()
        if v is not None and not (k in _DEFAULTED and v in (0, [], {}))
    }


# Read back by ``from_item`` as 0 or empty when absent. ``version`` is not among them: a
# write's condition names it.
_DEFAULTED = frozenset(
    {
        "amount_captured",
        "amount_refunded",
        "capture_pending",
        "capture_sequence",
        "refunds",
        "authorize_attempt",
        "metadata",
    }
)


def _card_key(data: Mapping[str, Any]) -> str | None:
    """The vault's card key: in the index attribute, or (records written before 2026-12-01)
    in its own attribute too."""
    if data.get("card_key"):
        return str(data["card_key"])
    return card_key_of(str(data.get(CARD_INDEX_ATTRIBUTE, "")))


def from_item(item: Mapping[str, Any]) -> Payment:
    data = {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}
    return Payment(
        payment_id=data["payment_id"],
        merchant_id=data["merchant_id"],
        amount=data["amount"],
        currency=data["currency"],
        capture_requested=data["capture_requested"],
        status=PaymentStatus(data["status"]),
        token=data["token"],
        card_brand=data["card_brand"],
        card_last4=data["card_last4"],
        customer_id=data.get("customer_id", ""),
        device_id=data.get("device_id"),
        created_at=data["created_at"],
        updated_at=data.get("updated_at", ""),
        fraud=data.get("fraud", {}),
        sca=data.get("sca", {}),
        amount_captured=data.get("amount_captured", 0),
        amount_refunded=data.get("amount_refunded", 0),
        capture_pending=data.get("capture_pending", 0),
        capture_key=data.get("capture_key"),
        capture_sequence=data.get("capture_sequence", 0),
        refunds=tuple(
            Refund(
                r["refund_id"],
                r["amount"],
                r["created_at"],
                RefundStatus(r.get("status", RefundStatus.SUCCEEDED)),
            )
            for r in data.get("refunds", [])
        ),
        authorization_id=data.get("authorization_id"),
        decline_code=data.get("decline_code"),
        failure_code=data.get("failure_code"),
        next_action=data.get("next_action"),
        resume_context=data.get("resume_context"),
        request_digest=data.get("request_digest"),
        authorize_attempt=data.get("authorize_attempt", 0),
        authorized_at=data.get("authorized_at"),
        captured_at=data.get("captured_at"),
        cancellation_reason=data.get("cancellation_reason"),
        version=data.get("version", 0),
        card_key=_card_key(data),
        bnpl=data.get("bnpl"),
        metadata=data.get("metadata", {}),
    )


class PaymentsTable(PaymentStore):
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name
        self.consumed_read_units = 0.0
        self.consumed_write_units = 0.0

    def _count(self, response: Mapping[str, Any], write: bool) -> None:
        units = float(response.get("ConsumedCapacity", {}).get("CapacityUnits", 0.0))
        if write:
            self.consumed_write_units += units
        else:
            self.consumed_read_units += units

    def get(self, payment_id: str) -> Payment | None:
        response = self._client.get_item(
            TableName=self._table,
            Key={"payment_id": {"S": payment_id}},
            ConsistentRead=True,
            ReturnConsumedCapacity="TOTAL",
        )
        self._count(response, write=False)
        item = response.get("Item")
        return from_item(item) if item and "status" in item else None

    def save(self, payment: Payment) -> None:
        """Writes ``payment`` over the version it was derived from (``version - 1``), or as a
        new item when its version is 0."""
        if payment.version == 0:
            self._conditional_put(to_item(payment), "attribute_not_exists(payment_id)", {})
        else:
            read = {":read": {"N": str(payment.version - 1)}}
            self._conditional_put(to_item(payment), "version = :read", read)

    def _conditional_put(
        self, item: dict[str, Any], condition: str, values: dict[str, Any]
    ) -> None:
        request: dict[str, Any] = {
            "TableName": self._table,
            "Item": item,
            "ConditionExpression": condition,
            "ReturnConsumedCapacity": "TOTAL",
        }
        if values:
            request["ExpressionAttributeValues"] = values
        try:
            response = self._client.put_item(**request)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise StaleWriteError(item["payment_id"]["S"]) from error
            raise
        self._count(response, write=True)

    def count_since(self, index: str, key: str, value: str, since: str) -> int:
        """Payments on ``index`` whose ``key`` is ``value``, created at or after ``since``."""
        response = self._client.query(
            TableName=self._table,
            IndexName=index,
            KeyConditionExpression="#k = :v AND created_at >= :since",
            ExpressionAttributeNames={"#k": key},
            ExpressionAttributeValues={":v": {"S": value}, ":since": {"S": since}},
            Select="COUNT",
            ReturnConsumedCapacity="TOTAL",
        )
        self._count(response, write=False)
        return int(response.get("Count", 0))

    def updated_between(
        self, start: str, end: str, after: Position, *, bnpl: bool = False
    ) -> Iterator[Payment]:
        """Payments whose last update is in [start, end) and after ``after``, in
        (updated_at, payment_id) order: each hour's shards queried and merged, page by page.
        Card payments, or with ``bnpl`` BNPL ones: each reconciliation reads its own."""
        lower = max(start, after.updated_at)
        for hour in _hours(lower, end):
            shards = [
                _tie_sorted(
                    self._index_items(
                        UPDATE_INDEX,
                        "update_key",
                        f"upd#{hour}#{shard:02d}",
                        "updated_at BETWEEN :from AND :to",
                        {":from": lower, ":to": end},
                        bnpl=bnpl,
                    ),
                    _position,
                )
                for shard in range(INDEX_SHARDS)
            ]
            for payment in heapq.merge(*shards, key=_position):
                if payment.updated_at < end and _position(payment) > after:
                    yield payment

    def holds_due(self, kind: HoldKind, before: str) -> Iterator[Payment]:
        """Payments whose open hold is ``kind`` and counts from before ``before``."""
        for shard in range(INDEX_SHARDS):
            yield from self._index_items(
                OPEN_INDEX,
                "open_key",
                f"open#{kind}#{shard:02d}",
                "open_at < :before",
                {":before": before},
            )

    def _index_items(
        self,
        index: str,
        key: str,
        value: str,
        condition: str,
        values: Mapping[str, str],
        *,
        bnpl: bool = False,
    ) -> Iterator[Payment]:
        pages = self._client.get_paginator("query").paginate(
            TableName=self._table,
            IndexName=index,
            KeyConditionExpression=f"{key} = :key AND {condition}",
            # BNPL payments are booked in the credit ledger, which the card reconciliation
            # does not read (it would miss card entries that must not exist): the BNPL
            # reconciliation (services.credit_reconciliation) reads them. Filtered by DynamoDB
            # (read units are the same; the answer carries only the kind asked for, so every
            # item of a page is one).
            FilterExpression="attribute_exists(bnpl)" if bnpl else "attribute_not_exists(bnpl)",
            ExpressionAttributeValues={
                ":key": {"S": value},
                **{name: {"S": v} for name, v in values.items()},
            },
            ReturnConsumedCapacity="TOTAL",
        )
        for page in pages:
            self._count(page, write=False)
            yield from (from_item(item) for item in page.get("Items", []))

    # ------------------------------------------------------- GET /v1/payments (by_merchant)

    def positions(
        self, merchant_id: str, within: ListFilter, after: ListPosition | None, limit: int
    ) -> list[ListPosition]:
        """The merchant's payments newest first from the keys-only ``by_merchant`` index
        (merchant_id, created_at): one Query, the time range in its key condition, so a page
        reads only what it answers (and the one position after it)."""
        if limit <= 0:
            return []
        condition, values = "merchant_id = :m", {":m": {"S": merchant_id}}
        if within.created_from is not None and within.created_to is not None:
            condition += " AND created_at BETWEEN :from AND :to"
        elif within.created_from is not None:
            condition += " AND created_at >= :from"
        elif within.created_to is not None:
            condition += " AND created_at <= :to"
        if within.created_from is not None:
            values[":from"] = {"S": within.created_from}
        if within.created_to is not None:
            values[":to"] = {"S": within.created_to}
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": MERCHANT_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "ReturnConsumedCapacity": "TOTAL",
        }
        if after is not None:
            request["ExclusiveStartKey"] = {
                "payment_id": {"S": after.payment_id},
                "merchant_id": {"S": merchant_id},
                "created_at": {"S": after.created_at},
            }
        found: list[ListPosition] = []
        # Query's Limit counts items read, so one call may stop short of ``limit`` only at
        # its 1 MB page; the paginator goes on from there.
        pages = self._client.get_paginator("query").paginate(
            **request, PaginationConfig={"MaxItems": limit, "PageSize": limit}
        )
        for page in pages:
            self._count(page, write=False)
            found.extend(
                ListPosition(item["created_at"]["S"], item["payment_id"]["S"])
                for item in page.get("Items", [])
            )
        return found[:limit]

    def payments(self, payment_ids: Sequence[str]) -> Mapping[str, Payment]:
        """The payments named, read whole with BatchGetItem (eventually consistent, half a
        read unit each: a listing is as fresh as the index it came from)."""
        found: dict[str, Payment] = {}
        for response in _batch_get(
            self._client,
            self._table,
            [{"payment_id": {"S": i}} for i in dict.fromkeys(payment_ids)],
        ):
            for used in response.get("ConsumedCapacity", []):
                self.consumed_read_units += float(used.get("CapacityUnits", 0.0))
            for item in response.get("Responses", {}).get(self._table, []):
                if "status" in item:
                    payment = from_item(item)
                    found[payment.payment_id] = payment
        return found

    # --------------------------------------------------------- PSD2 low-value counters

    @staticmethod
    def _counter_key(card_key: str) -> dict[str, Any]:
        return {"payment_id": {"S": f"sca-counter#{card_key}"}}

    def read_counter(self, card_key: str) -> tuple[int, int, int]:
        """(consecutive, cumulative_eur_minor, version) of exempted payments since the last SCA."""
        response = self._client.get_item(
            TableName=self._table,
            Key=self._counter_key(card_key),
            ConsistentRead=True,
            ReturnConsumedCapacity="TOTAL",
        )
        self._count(response, write=False)
        item = response.get("Item")
        if not item:
            return 0, 0, 0
        return (
            int(item["consecutive"]["N"]),
            int(item["cumulative_eur_minor"]["N"]),
            int(item["version"]["N"]),
        )

    def write_counter(
        self, card_key: str, consecutive: int, cumulative: int, read_version: int
    ) -> None:
        condition = "attribute_not_exists(payment_id)" if read_version == 0 else "version = :read"
        values = {":read": {"N": str(read_version)}} if read_version else {}
        item = {
            **self._counter_key(card_key),
            "consecutive": {"N": str(consecutive)},
            "cumulative_eur_minor": {"N": str(cumulative)},
            "version": {"N": str(read_version + 1)},
        }
        self._conditional_put(item, condition, values)

    # ------------------------------------------------- recurring mandates (PSD2 Art. 14)

    def read_mandate(self, merchant_id: str, card_key: str) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self._table,
            Key={"payment_id": {"S": f"mandate#{merchant_id}#{card_key}"}},
            ConsistentRead=True,
            ReturnConsumedCapacity="TOTAL",
        )
        self._count(response, write=False)
        item = response.get("Item")
        if not item:
            return None
        return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}

    def write_mandate(self, merchant_id: str, card_key: str, amount: int, currency: str) -> None:
        """The series a first, strongly authenticated recurring payment set up."""
        response = self._client.put_item(
            TableName=self._table,
            Item={
                "payment_id": {"S": f"mandate#{merchant_id}#{card_key}"},
                "amount": {"N": str(amount)},
                "currency": {"S": currency},
                "merchant_id": {"S": merchant_id},
                "authenticated": {"BOOL": True},
            },
            ReturnConsumedCapacity="TOTAL",
        )
        self._count(response, write=True)


class AcquirerOperationsTable(OperationLog):
    """The acquirer simulator's record of what it did, in the payments table (one item per
    idempotency key, ``acquirer-op#<key>``), so that every container and the reconciliation see
    the same acquirer. Never used for a real acquirer: that one keeps its own record.

    An authorization's claim (``claim``: the first operation that reached it) is one more item,
    ``acquirer-auth#<core>``, with neither an index key nor a ``version``, so no index, window
    or backfill reads it as a payment."""

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._client = client
        self._table = table_name
        self._clock = clock

    def record(self, operation: AcquirerOperation) -> AcquirerOperation:
        return self._first(self.item(operation, self._clock())) or operation

    def claim(self, authorization: str, operation: AcquirerOperation) -> AcquirerOperation:
        # Read first: every later operation on the authorization finds the claim without a
        # conditional write that fails (a failed write is billed as one that succeeds).
        key = CLAIM_PREFIX + authorization
        claimed = self._read(key)
        if claimed is not None:
            return claimed
        indexed = ("payment_id", "updated_at", "update_key")
        fields = {k: v for k, v in self.item(operation, self._clock()).items() if k not in indexed}
        return self._first({"payment_id": {"S": key}, **fields}) or operation

    def _first(self, item: dict[str, Any]) -> AcquirerOperation | None:
        """Writes ``item`` unless its key exists: None when written, else the stored one."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(payment_id)",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            existing = self._read(item["payment_id"]["S"])
            assert existing is not None  # the condition failed because it exists
            return existing
        return None

    def _read(self, key: str) -> AcquirerOperation | None:
        item = self._client.get_item(
            TableName=self._table, Key={"payment_id": {"S": key}}, ConsistentRead=True
        ).get("Item")
        return None if item is None else _operation(item)

    @staticmethod
    def item(operation: AcquirerOperation, executed: dt.datetime) -> dict[str, Any]:
        """The operation's item. When it was executed is indexed (by_update), so the
        reconciliation reads an hour's operations, as it would a real acquirer's file,
        without scanning."""
        executed_at = instant(executed)
        return {
            "payment_id": {"S": OPERATION_PREFIX + operation.reference},
            "updated_at": {"S": executed_at},
            "update_key": {"S": update_key("acq", executed_at, operation.payment_id)},
            "kind": {"S": str(operation.kind)},
            "reference": {"S": operation.reference},
            "authorization_id": {"S": operation.authorization_id},
            "amount": {"N": str(operation.amount)},
            "currency": {"S": operation.currency},
            "operation_status": {"S": str(operation.status)},
        }

    def find(self, reference: str) -> AcquirerOperation | None:
        return self._read(OPERATION_PREFIX + reference)

    def find_all(self, references: Sequence[str]) -> dict[str, AcquirerOperation]:
        """The operations recorded under ``references`` (those not found left out), read with
        BatchGetItem, strongly consistent as ``find``: one request per 100 references instead
        of one each (a BNPL plan's charges are a dozen and more references)."""
        found: dict[str, AcquirerOperation] = {}
        keys = [{"payment_id": {"S": OPERATION_PREFIX + r}} for r in dict.fromkeys(references)]
        for response in _batch_get(self._client, self._table, keys, consistent=True):
            for item in response.get("Responses", {}).get(self._table, []):
                operation = _operation(item)
                found[operation.reference] = operation
        return found

    def operations(self) -> list[AcquirerOperation]:
        pages = self._client.get_paginator("scan").paginate(
            TableName=self._table,
            ConsistentRead=True,
            FilterExpression="begins_with(payment_id, :prefix)",
            ExpressionAttributeValues={":prefix": {"S": OPERATION_PREFIX}},
        )
        return [_operation(item) for page in pages for item in page.get("Items", [])]

    def operations_between(self, start: str, end: str) -> Iterator[AcquirerOperation]:
        """The operations executed in [start, end), from the by_update index."""
        for _position, operation in self.positioned_between(start, end, Position(start)):
            yield operation

    def positioned_between(
        self, start: str, end: str, after: Position, *, references: str = ""
    ) -> Iterator[tuple[Position, AcquirerOperation]]:
        """The operations executed in [start, end) and after ``after`` (whose reference starts
        with ``references``), each with its place in (executed at, reference) order, in that
        order: each hour's shards queried and merged, so a run that stops part-way can
        continue from the last place it reached."""
        lower = max(start, after.updated_at)
        for hour in _hours(lower, end):
            shards = [
                self._shard_between(hour, shard, lower, end, references)
                for shard in range(INDEX_SHARDS)
            ]
            for place, operation in heapq.merge(*shards, key=lambda pair: pair[0]):
                if place.updated_at < end and place > after:
                    yield place, operation

    def _shard_between(
        self, hour: str, shard: int, start: str, end: str, references: str
    ) -> Iterator[tuple[Position, AcquirerOperation]]:
        values = {
            ":key": {"S": f"acq#{hour}#{shard:02d}"},
            ":from": {"S": start},
            ":to": {"S": end},
        }
        filtered: dict[str, Any] = {}
        if references:
            # REFERENCE is one of DynamoDB's reserved words: named through a placeholder.
            filtered["FilterExpression"] = "begins_with(#reference, :references)"
            filtered["ExpressionAttributeNames"] = {"#reference": "reference"}
            values[":references"] = {"S": references}
        pages = self._client.get_paginator("query").paginate(
            TableName=self._table,
            IndexName=UPDATE_INDEX,
            KeyConditionExpression="update_key = :key AND updated_at BETWEEN :from AND :to",
            ExpressionAttributeValues=values,
            **filtered,
        )
        placed = (
            (Position(item["updated_at"]["S"], item["reference"]["S"]), _operation(item))
            for page in pages
            for item in page.get("Items", [])
        )
        yield from _tie_sorted(placed, lambda pair: pair[0])


class ReconcileCheckpoint:
    """Where the scheduled reconciliation got to (``Position``): one item of the payments
    table, written at the end of each run and read at the start of the next."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def load(self) -> Position | None:
        item = self._client.get_item(
            TableName=self._table, Key={"payment_id": {"S": CHECKPOINT_KEY}}, ConsistentRead=True
        ).get("Item")
        if item is None:
            return None
        return Position(item["reached_at"]["S"], item.get("reached_payment", {}).get("S", ""))

    def save(self, position: Position) -> None:
        item: dict[str, Any] = {
            "payment_id": {"S": CHECKPOINT_KEY},
            "reached_at": {"S": position.updated_at},
        }
        if position.payment_id:
            item["reached_payment"] = {"S": position.payment_id}
        self._client.put_item(TableName=self._table, Item=item)


class BnplReconcileCheckpoint:
    """Where the scheduled BNPL reconciliation got to (``BnplCursor``): one item of the
    payments table, beside the card reconciliation's, written at the end of each run."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def load(self) -> BnplCursor | None:
        item = self._client.get_item(
            TableName=self._table,
            Key={"payment_id": {"S": BNPL_CHECKPOINT_KEY}},
            ConsistentRead=True,
        ).get("Item")
        if item is None:
            return None
        return BnplCursor(
            Position(item["payments_at"]["S"], item["payments_id"]["S"]),
            Position(item["operations_at"]["S"], item["operations_ref"]["S"]),
        )

    def save(self, cursor: BnplCursor) -> None:
        self._client.put_item(
            TableName=self._table,
            Item={
                "payment_id": {"S": BNPL_CHECKPOINT_KEY},
                "payments_at": {"S": cursor.payments.updated_at},
                "payments_id": {"S": cursor.payments.payment_id},
                "operations_at": {"S": cursor.operations.updated_at},
                "operations_ref": {"S": cursor.operations.payment_id},
            },
        )


def _position(payment: Payment) -> Position:
    return Position(payment.updated_at, payment.payment_id)


def _tie_sorted(items: Iterable[_T], place: Callable[[_T], Position]) -> Iterator[_T]:
    """One index partition's items in ``place`` order. The index sorts them by its sort key
    (``updated_at``) alone: items that share a key come in no set order, and a run of them may
    straddle two pages. Each run is held until the key changes and sorted by the whole place,
    the order the merge of the shards and a resume from a place rely on (a run that stopped
    after (t, b) would otherwise never read an (t, a) that came later). Holds one run."""
    held: list[_T] = []
    for item in items:
        if held and place(held[0]).updated_at != place(item).updated_at:
            yield from sorted(held, key=place)
            held = []
        held.append(item)
    yield from sorted(held, key=place)


def _operation(item: Mapping[str, Any]) -> AcquirerOperation:
    return AcquirerOperation(
        kind=OperationKind(item["kind"]["S"]),
        reference=item["reference"]["S"],
        authorization_id=item["authorization_id"]["S"],
        amount=int(item["amount"]["N"]),
        currency=item["currency"]["S"],
        status=OperationStatus(item["operation_status"]["S"]),
    )
