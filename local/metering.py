"""What a workload costs on the emulator, counted the way AWS bills it.

The emulator counts, per process: every API call by service and action, Lambda invocations,
Step Functions state transitions (each state entered), EventBridge entries published, and
DynamoDB capacity units computed from item sizes with DynamoDB's rules (write: 1 WCU per
started KB of the larger of the old and the new item, doubled in a transaction, plus the
writes to each global secondary index the item enters, leaves or changes in, which DynamoDB
bills to the table: one per started KB of the index entry, two when the entry's key changes;
read: 1 RCU per started 4 KB when strongly consistent,
half that when eventually consistent or on a global secondary index; a query is charged on
the summed size of what it read), Lambda billed milliseconds and GB-seconds, Express workflow
billed milliseconds (per execution, in 100 ms steps), and CloudWatch Logs ingestion: every
event put into a log group, whoever writes it (PutLogEvents callers, the Lambda runtime's
function logs, Step Functions execution logs), as its UTF-8 message size plus the 26 bytes per
event that CloudWatch Logs adds to a PutLogEvents batch (``log_bytes``, with
``log_bytes:<source>`` and ``log_events:<source>`` in ``counts``; the source is ``lambda``,
``states`` or ``other`` from the log group's name; ``log_group_bytes:<group>`` per group).
Data-plane calls are also counted per resource (``data:dynamodb:<table>``,
``data:lambda:<function>``): CloudTrail bills a data event per such call on the resources its
selectors name, so the cost model can price any selector against the same run. The local API
serves the totals at ``GET /_local/meter`` and resets them with ``POST /_local/meter/reset``
(benchmarks read them around one payment).
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import threading
from collections import Counter
from typing import Any

_lock = threading.Lock()
_counts: Counter[str] = Counter()
_units: dict[str, float] = {
    "dynamodb_write_units": 0.0,
    "dynamodb_read_units": 0.0,
    "log_bytes": 0.0,
    "lambda_billed_ms": 0.0,
    "lambda_gb_seconds": 0.0,
    "step_functions_express_billed_ms": 0.0,
}
# CloudWatch Logs counts each event of a PutLogEvents batch as its message plus 26 bytes.
LOG_EVENT_OVERHEAD_BYTES = 26


def count(name: str, amount: int = 1) -> None:
    with _lock:
        _counts[name] += amount


def _add_units(kind: str, units: float) -> None:
    with _lock:
        _units[kind] = _units.get(kind, 0.0) + units


def snapshot() -> dict[str, Any]:
    with _lock:
        return {"counts": dict(_counts), **dict(_units)}


def reset() -> None:
    with _lock:
        _counts.clear()
        for key in list(_units):
            if ":" in key:
                del _units[key]  # per-resource units come back when next used
            else:
                _units[key] = 0.0


def write_units(size_bytes: int, transactional: bool = False) -> float:
    return max(1, math.ceil(size_bytes / 1024)) * (2 if transactional else 1)


def read_units(size_bytes: int, consistent: bool) -> float:
    units = max(1, math.ceil(size_bytes / 4096))
    return float(units) if consistent else units / 2


def lambda_invocation(duration_ms: float, memory_mb: int, function_name: str = "") -> None:
    """One Lambda invocation's billed duration (rounded up to the millisecond, as Lambda bills)
    and its GB-seconds (billed duration x configured memory), in all and per function
    (``lambda_gb_seconds:<function>``: a benchmark tells the payment's synchronous path from
    the stream consumers that run beside it)."""
    billed_ms = max(1, math.ceil(duration_ms))
    gb_seconds = billed_ms / 1000 * memory_mb / 1024
    _add_units("lambda_billed_ms", billed_ms)
    _add_units("lambda_gb_seconds", gb_seconds)
    if function_name:
        _add_units(f"lambda_gb_seconds:{function_name}", gb_seconds)


def lambda_call(function_name: str) -> None:
    """One invocation of a named function (a Lambda data event when a trail selects it)."""
    count(f"data:lambda:{function_name}")


def express_execution(duration_ms: float) -> None:
    """One Express workflow execution's billed duration: rounded up to the next 100 ms."""
    count("step_functions_express_executions")
    _add_units("step_functions_express_billed_ms", max(1, math.ceil(duration_ms / 100)) * 100)


def log_event_bytes(message: str) -> int:
    return len(message.encode("utf-8")) + LOG_EVENT_OVERHEAD_BYTES


def log_source(log_group_name: str) -> str:
    """Who wrote into a log group, from the names AWS (and our modules) give them."""
    if log_group_name.startswith("/aws/lambda/"):
        return "lambda"
    if log_group_name.startswith(("/aws/vendedlogs/states/", "/aws/states/")):
        return "states"
    return "other"


def _wrap(cls: Any, name: str, after: Any) -> None:
    original = getattr(cls, name)

    @functools.wraps(original)
    def metered(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        # Metering never breaks the call it measures.
        with contextlib.suppress(Exception):
            after(result, *args, **kwargs)
        return result

    setattr(cls, name, metered)


def _byte_run(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return "b" * len(value)
    raise TypeError(type(value).__name__)


def _size(item: Any) -> int:
    return int(item.size()) if item is not None and hasattr(item, "size") else 0


# Threads flagged while moto runs a call whose inner backend calls the meter must not count:
# - a TransactWriteItems applies its items through the same put/update methods a plain write
#   uses (they would count twice; the transaction is counted once, by its own hook);
# - UpdateItem (and PutItem/DeleteItem asked for old values) reads the item through the
#   backend's get_item before writing: the write's own read, not a GetItem the caller pays
#   for or CloudTrail logs;
# - BatchGetItem reads each key through get_item: each item is billed (eventually consistent),
#   but the call is one data event per table, not one per key.
_in_transaction = threading.local()
_in_write = threading.local()
_in_batch = threading.local()


def _flag_while(cls: Any, name: str, flag: threading.local, before: Any = None) -> None:
    """Wraps ``cls.name`` so that ``flag.active`` is set on the thread while it runs;
    ``before`` (metering, so it never breaks the call) sees the call's arguments first."""
    original = getattr(cls, name)

    @functools.wraps(original)
    def flagged(*args: Any, **kwargs: Any) -> Any:
        if before is not None:
            with contextlib.suppress(Exception):
                before(*args)
        flag.active = True
        try:
            return original(*args, **kwargs)
        finally:
            flag.active = False

    setattr(cls, name, flagged)


def _index_entries(table: Any, item: Any) -> dict[str, tuple[str, str, int]]:
    """The entries an item has in its table's global secondary indexes: per index, its key
    values, its projected attributes (both as text to compare) and its size."""
    entries: dict[str, tuple[str, str, int]] = {}
    if item is None:
        return entries
    for index in table.global_indexes:
        if not all(attr in item.attrs for attr in index.schema_key_attrs):
            continue  # a sparse index: no entry for this item
        projected = index.project(item)
        keys = json.dumps([item.attrs[a].to_json() for a in index.schema_key_attrs])
        values = json.dumps({k: v.to_json() for k, v in sorted(projected.attrs.items())})
        entries[index.name] = (keys, values, _size(projected))
    return entries


def _index_write_units(
    before: dict[str, tuple[str, str, int]], after: dict[str, tuple[str, str, int]]
) -> float:
    """Index writes for one item write: a new entry is a put, a removed one a delete, a key
    change both, a change of projected attributes alone one put; an unchanged entry costs
    nothing (DynamoDB's rules for global secondary index writes)."""
    units = 0.0
    for name in before.keys() | after.keys():
        old, new = before.get(name), after.get(name)
        if old is None and new is not None:
            units += write_units(new[2])
        elif new is None and old is not None:
            units += write_units(old[2])
        elif old is not None and new is not None:
            if old[0] != new[0]:
                units += write_units(old[2]) + write_units(new[2])
            elif old[1] != new[1]:
                units += write_units(new[2])
    return units


def _wrap_write(cls: Any, name: str) -> None:
    """Meters PutItem, UpdateItem and DeleteItem: the item before the write is read first
    (from the table, not through the backend's metered GetItem), so the write is billed by the
    larger of the two items and the index entries it changes are counted."""
    from moto.dynamodb.exceptions import ConditionalCheckFailed

    original = getattr(cls, name)

    @functools.wraps(original)
    def metered(backend: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(_in_transaction, "active", False):
            # moto writes a transaction's items one by one: counted once, by its own hook.
            return original(backend, *args, **kwargs)
        table_name = kwargs.get("table_name") or (args[0] if args else None)
        key = kwargs.get("item_attrs") or kwargs.get("key") or (args[1] if len(args) > 1 else None)
        table = old = None
        with contextlib.suppress(Exception):
            table = backend.get_table(table_name)
            old_item = table.get_item(*backend.get_keys_value(table, key))
            # UpdateItem changes moto's item in place: keep what is needed of it now.
            old = (_size(old_item), _index_entries(table, old_item))
        try:
            result = original(backend, *args, **kwargs)
        except ConditionalCheckFailed:
            # A write whose condition fails is still billed (by the item's size) and still a
            # data event; any other failure is neither (it is not caught here).
            with contextlib.suppress(Exception):
                units = write_units(old[0] if old is not None else 0)
                count(f"data:dynamodb:{table_name}")
                _add_units("dynamodb_write_units", units)
                count(f"wcu:dynamodb:{table_name}", int(units))
            raise
        with contextlib.suppress(Exception):
            count(f"data:dynamodb:{table_name}")
            new_item = None if name == "delete_item" else result
            old_size, old_entries = old if old is not None else (0, {})
            units = write_units(max(old_size, _size(new_item)))
            index_units = _index_write_units(old_entries, _index_entries(table, new_item))
            _add_units("dynamodb_write_units", units + index_units)
            count(f"wcu:dynamodb:{table_name}", int(units + index_units))
            if index_units:
                count(f"wcu_index:dynamodb:{table_name}", int(index_units))
        return result

    setattr(cls, name, metered)


def _batch_tables(handler: Any) -> None:
    for table in (handler.body or {}).get("RequestItems", {}):
        count(f"data:dynamodb:{table}")


def install() -> None:
    """Patches moto (once) so that the counters above see every call."""
    from moto.core.responses import BaseResponse
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler
    from moto.events.models import EventsBackend
    from moto.logs.models import LogsBackend
    from moto.stepfunctions.parser.asl.component.state.state import CommonStateField

    if getattr(BaseResponse, "_payments_metered", False):
        return

    original_call_action = BaseResponse.call_action

    @functools.wraps(original_call_action)
    def call_action(self: Any) -> Any:
        with contextlib.suppress(Exception):
            count(f"api:{self.service_name}:{self._get_action()}")
        return original_call_action(self)

    BaseResponse.call_action = call_action  # type: ignore[method-assign]
    BaseResponse._payments_metered = True  # type: ignore[attr-defined]

    def table_call(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
        table = kwargs.get("table_name") or (args[1] if len(args) > 1 else None)
        if isinstance(table, str):
            count(f"data:dynamodb:{table}")
            return table
        return None

    def get(result: Any, *args: Any, **kwargs: Any) -> None:
        if getattr(_in_transaction, "active", False):
            return  # a condition the transaction checks is not a read the caller pays
        if getattr(_in_write, "active", False):
            return  # moto reading the old item inside a write (see _in_write)
        if getattr(_in_batch, "active", False):
            # One item of a BatchGetItem: billed eventually consistent unless asked otherwise
            # (the request's ConsistentRead is per table; the default is what callers use).
            _add_units("dynamodb_read_units", read_units(_size(result), consistent=False))
            return
        table_call(args, kwargs)
        _add_units("dynamodb_read_units", read_units(_size(result), consistent=True))

    def query(result: Any, *args: Any, **kwargs: Any) -> None:
        table_call(args, kwargs)
        items = result[0]
        on_index = bool(kwargs.get("index_name"))
        consistent = bool(kwargs.get("consistent_read")) and not on_index
        total = sum(_size(item) for item in items)
        _add_units("dynamodb_read_units", read_units(total, consistent))

    def transact(result: Any, backend: Any, transact_items: list[dict[str, Any]]) -> None:
        tables = {
            str(next(iter(operation.values())).get("TableName")) for operation in transact_items
        }
        for table in tables:  # one call, counted once on each table it touches
            count(f"data:dynamodb:{table}")
        for operation in transact_items:
            body = next(iter(operation.values()))
            # Binary values (the vault's ciphertext) arrive as bytes: one byte each, as
            # DynamoDB sizes them (json.dumps alone raised here, and the item went uncounted).
            size = len(json.dumps(body.get("Item") or body.get("Key") or {}, default=_byte_run))
            units = write_units(size, transactional=True)
            _add_units("dynamodb_write_units", units)
            count(f"wcu:dynamodb:{body.get('TableName')}", int(units))

    def events(result: Any, backend: Any, entries: list[dict[str, Any]]) -> None:
        count("events_published", len(entries))

    def logs(
        result: Any,
        backend: Any,
        log_group_name: str,
        log_stream_name: str,
        log_events: list[dict[str, Any]],
    ) -> None:
        size = sum(log_event_bytes(str(event["message"])) for event in log_events)
        source = log_source(log_group_name)
        _add_units("log_bytes", size)
        count(f"log_bytes:{source}", size)
        count(f"log_group_bytes:{log_group_name}", size)
        count(f"log_events:{source}", len(log_events))

    for name in ("put_item", "update_item", "delete_item"):
        _wrap_write(DynamoDBBackend, name)
    _wrap(DynamoDBBackend, "get_item", get)
    _wrap(DynamoDBBackend, "query", query)
    _wrap(DynamoDBBackend, "transact_write_items", transact)
    _flag_while(DynamoDBBackend, "transact_write_items", _in_transaction)
    for name in ("put_item", "update_item", "delete_item"):
        _flag_while(DynamoHandler, name, _in_write)
    _flag_while(DynamoHandler, "batch_get_item", _in_batch, before=_batch_tables)
    _wrap(EventsBackend, "put_events", events)
    _wrap(LogsBackend, "put_log_events", logs)

    original_eval_body = CommonStateField._eval_body

    @functools.wraps(original_eval_body)
    def eval_body(self: Any, env: Any) -> None:
        count("state_transitions")
        original_eval_body(self, env)

    CommonStateField._eval_body = eval_body  # type: ignore[method-assign]
