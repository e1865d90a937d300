"""Per-request costs moto pays again and again, paid once here.

A profile of the emulator over 25 sequential payments (py-spy, all processes) put about a tenth
of every payment in places that do the same work on every call:

- ``jsonpath_ng``'s ``parse`` builds a new PLY parser (reading its LR tables) for each
  expression it parses, and moto parses the Step Functions paths (``$.payment.id``…) at every
  state of every execution and each EventBridge input template at every delivery. The parsed
  expression is an immutable tree, so one per distinct string is enough.
- moto's responses list their own methods (``inspect.getmembers``) on every request to find
  the action's handler.
- moto's server lists its own package directory (``os.listdir`` + ``isdir`` per entry) on every
  request to decide whether the host names a backend; the directory does not change while the
  emulator runs.

- moto's DynamoDB ``Query`` starts from ``Table.all_items()``, which sorts every item of the
  table, and then keeps those of the asked key: each query costs O(n log n) in the table's size
  with a Python comparison per step. Over a ``make chaos`` run the payments, vault and ledger
  tables grow to tens of thousands of items and the payment rate fell with them (1.3 payments/s
  over 150 payments, 0.9 over 1,000). Here a query sees only the items of its partition: the
  base table's by a dict lookup, an index's from a map of the table's items by the value of the
  index's hash key (built on the first query, kept by every write, and checked with moto's own
  hash-key test), sorted as ``all_items`` sorts them. moto's query then runs unchanged on that
  list, so its ordering, paging, projections and filters are its own. The map replaced a pass
  over the whole table per index query: 15 % of the emulator at 2,750 chaos payments, for the
  fraud velocity counts that query the payments table's indexes on every payment.

- moto's ``TransactWriteItems`` deep-copies every table the transaction names before it
  starts, to put the copy back if the transaction is cancelled: a copy of the whole ledger or
  payments table on every posting. Past 1,000 chaos payments that copy was 64 % of the
  emulator's CPU, and it grows with the tables. Here the copy is of the items the transaction
  names (at most 100), taken when moto takes its own, and a cancelled transaction puts those
  items back. That is the same state: copy, transaction and rollback run under the lock that
  serializes every DynamoDB write (``local.gaps.DYNAMODB_WRITES``), so nothing but the
  transaction changes the tables in between.

- moto's SQS ``ReceiveMessage`` checks each message it hands out against the queue's retention
  period by asking ``get_queue_attributes``, which builds all the queue's attributes three times,
  and each build counts the visible, in-flight and delayed messages by walking the queue. A
  webhook queue whose deliveries are retried holds hundreds of messages in flight, so each
  receive cost O(queue) several times over (6 to 15 % of the emulator late in a chaos run). Here
  the check reads the queue's retention period, the value those attributes report.

- moto's Step Functions ``StartExecution`` looks for an execution of the same name (the name
  is the payment's idempotency) by walking every execution the state machine ever ran: 2 to
  4 % of the emulator at 3,000 to 5,500 chaos payments, growing with them. Here the executions
  are indexed by name as they are appended (moto only appends), and the first of a name
  answers as moto's walk would. The index is kept beside the state machine, not on it: moto
  deep-copies the machine for every execution (leaving its executions out), and a copy of an
  index holding running executions fails on their locks.

None changes what moto answers, only how often it redoes the same work.
"""

from __future__ import annotations

import copy
import functools
import inspect
import threading
import types
from collections.abc import Callable, Iterable
from typing import Any

# Distinct expressions in the payment workflow and the event rules: a few hundred at most.
_PARSED_PATHS = 4096


def install() -> None:
    _cache_jsonpath_parsers()
    _cache_moto_module_list()
    _cache_response_method_names()
    _narrow_dynamodb_queries()
    _roll_back_transactions_by_item()
    _keep_value_maps()
    _read_sqs_retention_directly()
    _find_executions_by_name()


def _cache_jsonpath_parsers() -> None:
    import jsonpath_ng
    import jsonpath_ng.ext
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path

    plain = _cached(getattr(jsonpath_ng, "parse"))  # noqa: B009 (not re-exported for mypy)
    extended = _cached(getattr(jsonpath_ng.ext, "parse"))  # noqa: B009
    # moto binds `parse` at import in these two modules and imports it inside the call in
    # moto.events, so each name is replaced where it is looked up.
    for module, parse in (
        (jsonpath_ng, plain),
        (result_path, plain),
        (jsonpath_ng.ext, extended),
        (json_path, extended),
    ):
        setattr(module, "parse", parse)  # noqa: B010


def _cached(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    if hasattr(parse, "cache_info"):  # installed twice (tests start several emulators)
        return parse
    return functools.lru_cache(maxsize=_PARSED_PATHS)(parse)


def _cache_moto_module_list() -> None:
    from moto import backends

    listed = backends.list_of_moto_modules
    if hasattr(listed, "cache_info"):
        return
    modules = frozenset(listed())

    @functools.lru_cache(maxsize=1)
    def list_of_moto_modules() -> Iterable[str]:
        return modules

    setattr(backends, "list_of_moto_modules", list_of_moto_modules)  # noqa: B010


def _replace(owner: Any, name: str, replacement: Callable[..., Any]) -> None:
    """Put ``replacement`` in place of ``owner.name``, marked so a second install (tests start
    several emulators in one process) keeps the first, and with the original as its
    ``__wrapped__`` so a test can compare the two."""
    setattr(replacement, "_speedup", True)  # noqa: B010
    setattr(replacement, "__wrapped__", getattr(owner, name))  # noqa: B010
    setattr(owner, name, replacement)


def _replaced(owner: Any, name: str) -> bool:
    return getattr(getattr(owner, name), "_speedup", False)


def _cache_response_method_names() -> None:
    """moto's ``BaseResponse.call_action`` lists its response class's methods with
    ``inspect.getmembers`` on every request, to see whether the action is one (2 % of the
    emulator). The classes do not change once the glue has patched them, before the first
    request."""
    from moto.core import responses

    listed = getattr(responses, "method_names_from_class")  # noqa: B009 (not re-exported)
    if hasattr(listed, "cache_info"):
        return
    by_class = functools.lru_cache(maxsize=512)(listed)

    def method_names_from_class(clazz: object) -> list[str]:
        return list(by_class(clazz))

    method_names_from_class.cache_info = by_class.cache_info  # type: ignore[attr-defined]
    setattr(responses, "method_names_from_class", method_names_from_class)  # noqa: B010


# The items one query of this thread may see: (table, items). Thread-local because the server
# answers requests on several threads, and another request's scan must still see every item.
_QUERY_SCOPE = threading.local()


def _narrow_dynamodb_queries() -> None:
    from moto.dynamodb.models.table import Table

    if _replaced(Table, "query"):
        return
    full_query = Table.query
    all_items = Table.all_items
    parameters = inspect.signature(full_query)

    def scoped_all_items(self: Table) -> list[Any]:
        scope = getattr(_QUERY_SCOPE, "scope", None)
        if scope is not None and scope[0] is self:
            return list(scope[1])
        return all_items(self)

    def query(self: Table, *args: Any, **kwargs: Any) -> Any:
        asked = parameters.bind(self, *args, **kwargs).arguments
        items = _partition(self, asked.get("hash_key"), asked.get("index_name"), asked)
        if items is None:
            return full_query(self, *args, **kwargs)
        _QUERY_SCOPE.scope = (self, items)
        try:
            return full_query(self, *args, **kwargs)
        finally:
            _QUERY_SCOPE.scope = None

    _replace(Table, "all_items", scoped_all_items)
    _replace(Table, "query", query)


def _partition(
    table: Any, hash_key: Any, index_name: str | None, asked: dict[str, Any]
) -> list[Any] | None:
    """The items a query of this key can return, in ``all_items`` order; None: all of them."""
    from moto.dynamodb.models.dynamo_type import Item

    from local.gaps import DYNAMODB_WRITES

    if index_name is None:
        if hash_key is None:
            return None
        held = table.items.get(hash_key)
        if held is None:
            return []
        found = list(held.values()) if table.range_key_attr else [held]
    else:
        conditions = asked.get("hash_key_conditions")
        if not conditions:
            return None
        name, expected = conditions[0]
        if expected.type not in _INDEXED_TYPES:
            return None
        with DYNAMODB_WRITES:  # no write between the map's lookup and its copy
            candidates = _value_map(table, name).holding(expected)
        # moto's own test: each attribute present, truthy and equal to the asked value.
        found = [
            item
            for item in candidates
            if all(
                (value := item.attrs.get(name)) and value == expected
                for name, expected in conditions
            )
        ]
    found = [item for item in found if isinstance(item, Item)]
    return sorted(found, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)


# Index key attributes are strings, numbers or binaries; a query on anything else walks.
_INDEXED_TYPES = frozenset({"S", "N", "B"})


class _ValueMap:
    """The items of one table by the value of one attribute: the candidates of an index query
    on it, found by a dict lookup instead of a pass over the table. Built on the first query,
    then kept by every write (``_keep_value_maps``), all under ``DYNAMODB_WRITES``.

    Values are keyed by (type, value) as taken at the write, never by moto's ``DynamoType``:
    an update may change an attribute's value in place."""

    def __init__(self, table: Any, name: str) -> None:
        self._name = name
        self._by_value: dict[tuple[str, Any], dict[tuple[Any, Any], Any]] = {}
        self._where: dict[tuple[Any, Any], tuple[str, Any]] = {}
        for held in table.items.values():
            for item in held.values() if table.range_key_attr else [held]:
                self.place((item.hash_key, item.range_key), item)

    def holding(self, expected: Any) -> list[Any]:
        return list(self._by_value.get((expected.type, expected.cast_value), {}).values())

    def place(self, key: tuple[Any, Any], item: Any) -> None:
        """Where the item of this primary key is now (None: deleted)."""
        old = self._where.pop(key, None)
        if old is not None:
            bucket = self._by_value[old]
            bucket.pop(key, None)
            if not bucket:
                del self._by_value[old]
        value = item.attrs.get(self._name) if item is not None else None
        if value is not None and value.type in _INDEXED_TYPES:
            where = (value.type, value.cast_value)
            self._by_value.setdefault(where, {})[key] = item
            self._where[key] = where


def _value_map(table: Any, name: str) -> _ValueMap:
    maps: dict[str, _ValueMap] = table.__dict__.setdefault("_speedup_value_maps", {})
    if name not in maps:
        maps[name] = _ValueMap(table, name)
    return maps[name]


def _keep_value_maps() -> None:
    """After each write, the value maps of the table written hold its item as it now is.

    Every write of the DynamoDB API reaches the tables through the backend's ``put_item``,
    ``update_item`` or ``delete_item`` (a batch and a transaction call them), except a
    cancelled transaction's rollback, which refreshes the items it puts back, and PartiQL,
    which writes to the tables directly: after a statement the maps are rebuilt."""
    from moto.dynamodb.models import DynamoDBBackend

    from local.gaps import DYNAMODB_WRITES

    if _replaced(DynamoDBBackend, "put_item"):
        return

    def keeping(name: str, key_argument: str) -> None:
        write = getattr(DynamoDBBackend, name)
        parameters = inspect.signature(write)

        def kept(self: Any, *args: Any, **kwargs: Any) -> Any:
            asked = parameters.bind(self, *args, **kwargs).arguments
            with DYNAMODB_WRITES:
                try:
                    return write(self, *args, **kwargs)
                finally:
                    table = self.tables.get(asked["table_name"])
                    if table is not None:
                        _refresh(table, asked[key_argument])

        _replace(DynamoDBBackend, name, kept)

    keeping("put_item", "item_attrs")
    keeping("update_item", "key")
    keeping("delete_item", "key")

    def forgetting(name: str) -> None:
        statement = getattr(DynamoDBBackend, name)

        def forgot(self: Any, *args: Any, **kwargs: Any) -> Any:
            with DYNAMODB_WRITES:
                try:
                    return statement(self, *args, **kwargs)
                finally:
                    for table in list(self.tables.values()):
                        table.__dict__.pop("_speedup_value_maps", None)

        _replace(DynamoDBBackend, name, forgot)

    for name in ("execute_statement", "batch_execute_statement", "execute_transaction"):
        forgetting(name)


def _primary_key(table: Any, key: dict[str, Any]) -> tuple[Any, Any] | None:
    """The (hash, range) key of a request's key or item, None when the request names none."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    if not isinstance(key, dict) or table.hash_key_attr not in key:
        return None
    range_key = None
    if table.range_key_attr is not None:
        if table.range_key_attr not in key:
            return None
        range_key = DynamoType(key[table.range_key_attr])
    return DynamoType(key[table.hash_key_attr]), range_key


def _held(table: Any, hash_key: Any, range_key: Any) -> Any:
    held = table.items.get(hash_key)
    return held if range_key is None else (held or {}).get(range_key)


def _refresh(table: Any, key: dict[str, Any]) -> None:
    """After a write naming ``key`` (a request's key or item)."""
    if table.__dict__.get("_speedup_value_maps"):
        primary = _primary_key(table, key)
        if primary is not None:
            _place(table, primary)


def _place(table: Any, primary: tuple[Any, Any]) -> None:
    """The table's value maps hold the item now under this primary key (or none)."""
    maps = table.__dict__.get("_speedup_value_maps") or {}
    item = _held(table, *primary) if maps else None
    for value_map in list(maps.values()):
        value_map.place(primary, item)


# Set while this thread runs a transaction: moto's copy of a table is then the table itself.
_IN_TRANSACTION = threading.local()


def _roll_back_transactions_by_item() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    from local.gaps import DYNAMODB_WRITES

    if _replaced(DynamoDBBackend, "transact_write_items"):
        return
    transact = DynamoDBBackend.transact_write_items

    def deepcopy_table(self: Table, memo: dict[int, Any]) -> Table:
        if getattr(_IN_TRANSACTION, "active", False):
            return self  # moto's rollback then puts the live table back: a no-op
        # Anything else (a backup) gets the copy deepcopy would have made.
        reductor = self.__reduce_ex__(4)
        copied: Table = copy._reconstruct(self, memo, *reductor)  # type: ignore[attr-defined]
        return copied

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        with DYNAMODB_WRITES:
            before = _items_named(self, transact_items)
            _IN_TRANSACTION.active = True
            try:
                transact(self, transact_items)
            except Exception:
                for table, key, item in before:
                    _put_back(table, key[0], key[1], item)
                    _place(table, key)
                raise
            finally:
                _IN_TRANSACTION.active = False

    setattr(Table, "__deepcopy__", deepcopy_table)  # noqa: B010
    _replace(DynamoDBBackend, "transact_write_items", transact_write_items)


def _items_named(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """(table, (hash key, range key), a copy of the item or None) for each item named."""
    named = []
    for request in transact_items:
        for operation in request.values():
            table = backend.tables.get(operation.get("TableName"))
            key = operation.get("Key") or operation.get("Item")
            primary = _primary_key(table, key) if table is not None else None
            if primary is None:
                continue  # moto refuses it before writing anything
            named.append((table, primary, copy.deepcopy(_held(table, *primary))))
    return named


def _put_back(table: Any, hash_key: Any, range_key: Any, item: Any) -> None:
    if range_key is None:
        if item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
        return
    held = table.items.get(hash_key)
    if item is None:
        if held:
            held.pop(range_key, None)
    else:
        table.items[hash_key][range_key] = item


def _read_sqs_retention_directly() -> None:
    from moto.core.utils import unix_time
    from moto.sqs.models import SQSBackend

    if _replaced(SQSBackend, "is_message_valid_based_on_retention_period"):
        return

    def is_message_valid_based_on_retention_period(
        self: SQSBackend, queue_name: str, message: Any
    ) -> bool:
        # moto's version asks get_queue_attributes, which builds every attribute of the queue
        # three times, each count walking every message: O(queue) per message received.
        queue: Any = self.get_queue(queue_name)  # its attributes are set from a dict
        retention_period = queue.message_retention_period
        return bool(retention_period + message.sent_timestamp / 1000 > unix_time())

    _replace(
        SQSBackend,
        "is_message_valid_based_on_retention_period",
        is_message_valid_based_on_retention_period,
    )


class _NameIndex:
    """The first execution of each name in one ``executions`` list, and how much of the list
    it has read. It lives on the state machine, so it goes when the machine goes."""

    __slots__ = ("by_name", "executions", "indexed")

    def __init__(self, executions: list[Any]) -> None:
        self.executions = executions
        self.by_name: dict[str, Any] = {}
        self.indexed = 0

    def __deepcopy__(self, memo: dict[int, Any]) -> _NameIndex:
        # moto's executing backend deep-copies the machine for each execution, with its
        # executions mapped to [] in ``memo`` (they hold threads and locks): the copy's index
        # is built afresh over the copied list, never by copying the executions it points at.
        return _NameIndex(copy.deepcopy(self.executions, memo))

    def first(self, name: str) -> Any:
        if self.indexed > len(self.executions):  # not moto's way today: start again
            self.by_name.clear()
            self.indexed = 0
        for execution in self.executions[self.indexed :]:
            self.by_name.setdefault(execution.name, execution)
        self.indexed = len(self.executions)
        return self.by_name.get(name)


_NAME_INDEX_ATTRIBUTE = "_payments_blueprint_name_index"
_NAME_INDEX_LOCK = threading.Lock()


def _find_executions_by_name() -> None:
    from moto.stepfunctions.models import StateMachine

    if _replaced(StateMachine, "_handle_name_input_idempotency"):
        return
    walk: Callable[..., Any] = StateMachine._handle_name_input_idempotency

    def by_name(self: Any, name: str, execution_input: str) -> Any:
        with _NAME_INDEX_LOCK:
            index = getattr(self, _NAME_INDEX_ATTRIBUTE, None)
            if index is None or index.executions is not self.executions:
                index = _NameIndex(self.executions)
                setattr(self, _NAME_INDEX_ATTRIBUTE, index)
            first = index.first(name)
        if first is None:
            return None
        # moto's own answer for a list holding only that execution: the same one returned, or
        # the same error raised.
        return walk(types.SimpleNamespace(executions=[first]), name, execution_input)

    _replace(StateMachine, "_handle_name_input_idempotency", by_name)
