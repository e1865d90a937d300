"""What a workload costs on the emulator, counted the way AWS bills it.

The emulator counts, per process: every API call by service and action, Lambda invocations,
Step Functions state transitions (each state entered), EventBridge entries published, and
DynamoDB capacity units computed from item sizes with DynamoDB's rules (write: 1 WCU per
started KB, doubled in a transaction; read: 1 RCU per started 4 KB when strongly consistent,
half that when eventually consistent or on a global secondary index; a query is charged on
the summed size of what it read). The local API serves the totals at ``GET /_local/meter``
and resets them with ``POST /_local/meter/reset`` (benchmarks read them around one payment).
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
_units: dict[str, float] = {"dynamodb_write_units": 0.0, "dynamodb_read_units": 0.0}


def count(name: str, amount: int = 1) -> None:
    with _lock:
        _counts[name] += amount


def _add_units(kind: str, units: float) -> None:
    with _lock:
        _units[kind] += units


def snapshot() -> dict[str, Any]:
    with _lock:
        return {"counts": dict(_counts), **dict(_units)}


def reset() -> None:
    with _lock:
        _counts.clear()
        for key in _units:
            _units[key] = 0.0


def write_units(size_bytes: int, transactional: bool = False) -> float:
    return max(1, math.ceil(size_bytes / 1024)) * (2 if transactional else 1)


def read_units(size_bytes: int, consistent: bool) -> float:
    units = max(1, math.ceil(size_bytes / 4096))
    return float(units) if consistent else units / 2


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


def _size(item: Any) -> int:
    return int(item.size()) if item is not None and hasattr(item, "size") else 0


def install() -> None:
    """Patches moto (once) so that the counters above see every call."""
    from moto.core.responses import BaseResponse
    from moto.dynamodb.models import DynamoDBBackend
    from moto.events.models import EventsBackend
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

    def put(result: Any, *args: Any, **kwargs: Any) -> None:
        _add_units("dynamodb_write_units", write_units(_size(result)))

    def get(result: Any, *args: Any, **kwargs: Any) -> None:
        _add_units("dynamodb_read_units", read_units(_size(result), consistent=True))

    def query(result: Any, *args: Any, **kwargs: Any) -> None:
        items = result[0]
        on_index = bool(kwargs.get("index_name"))
        consistent = bool(kwargs.get("consistent_read")) and not on_index
        total = sum(_size(item) for item in items)
        _add_units("dynamodb_read_units", read_units(total, consistent))

    def transact(result: Any, backend: Any, transact_items: list[dict[str, Any]]) -> None:
        for operation in transact_items:
            body = next(iter(operation.values()))
            size = len(json.dumps(body.get("Item") or body.get("Key") or {}))
            _add_units("dynamodb_write_units", write_units(size, transactional=True))

    def events(result: Any, backend: Any, entries: list[dict[str, Any]]) -> None:
        count("events_published", len(entries))

    _wrap(DynamoDBBackend, "put_item", put)
    _wrap(DynamoDBBackend, "update_item", put)
    _wrap(DynamoDBBackend, "delete_item", put)
    _wrap(DynamoDBBackend, "get_item", get)
    _wrap(DynamoDBBackend, "query", query)
    _wrap(DynamoDBBackend, "transact_write_items", transact)
    _wrap(EventsBackend, "put_events", events)

    original_eval_body = CommonStateField._eval_body

    @functools.wraps(original_eval_body)
    def eval_body(self: Any, env: Any) -> None:
        count("state_transitions")
        original_eval_body(self, env)

    CommonStateField._eval_body = eval_body  # type: ignore[method-assign]
