"""The simulator over its deployed record, the payments table (moto): of a void and a capture or
refund of one authorization the first to claim it wins, across containers; a claim whose
operation was never recorded is recorded by the refusal it causes; retries keep their first
answer; the claim items stay out of the operations and the indexes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from functions.adapters.payments_table import CLAIM_PREFIX, AcquirerOperationsTable
from functions.domain.acquirer import (
    AcquirerOperation,
    AcquirerRejectedError,
    AcquirerSimulator,
    Authentication,
    AuthorizationRequest,
    CardReference,
    OperationKind,
    OperationStatus,
)
from tests.adapters.payment_tables import PAYMENTS_TABLE, REGION, create_payments_table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    # The proxy below is the client it wraps: every call but put_item is forwarded to it.
    _ClientProxy = DynamoDBClient
else:
    _ClientProxy = object

KEY = b"operations-table-test-key-0123456789"
EXECUTED = dt.datetime(2026, 11, 22, 11, 5, tzinfo=dt.UTC)


@pytest.fixture
def ddb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_payments_table(client)
        yield client


def container(client: Any) -> AcquirerSimulator:
    """One Lambda container's simulator: its own instance, the shared table."""
    records = AcquirerOperationsTable(client, PAYMENTS_TABLE, clock=lambda: EXECUTED)
    return AcquirerSimulator(KEY, 1.0, sleep=lambda _: None, records=records)


def authorize(simulator: AcquirerSimulator, key: str) -> str:
    result = simulator.authorize(
        AuthorizationRequest(
            key.split(":", 1)[0],
            "m_1",
            600,
            "EUR",
            CardReference("tok_1", "visa", "4242", 12, 2030),
            Authentication("05", "AAAB", None),
            key,
        )
    )
    assert result.authorization_id is not None
    return result.authorization_id


def test_a_void_in_one_container_refuses_the_capture_in_another(ddb: Any) -> None:
    one, other = container(ddb), container(ddb)
    authorization_id = authorize(one, "pay_1:authorize")
    void = one.void(authorization_id, "pay_1:void")
    for simulator in (one, other):
        with pytest.raises(AcquirerRejectedError) as raised:
            simulator.capture(authorization_id, 600, "EUR", "pay_1:capture:1")
        assert raised.value.code == "authorization_voided"
        with pytest.raises(AcquirerRejectedError) as refund:
            simulator.refund(authorization_id, 600, "EUR", "pay_1:refund:re_1")
        assert refund.value.code == "authorization_voided"
    assert other.void(None, "pay_1:authorize") == void  # by the authorize key: the same void
    assert other.operation_status("pay_1:capture:1") is OperationStatus.NOT_FOUND
    assert {o.kind for o in other.records.operations()} == {OperationKind.VOID}


def test_a_capture_in_one_container_refuses_the_void_in_another(ddb: Any) -> None:
    one, other = container(ddb), container(ddb)
    authorization_id = authorize(one, "pay_2:authorize")
    captured = one.capture(authorization_id, 600, "EUR", "pay_2:capture:1")
    for voided_by, key in ((authorization_id, "pay_2:void"), (None, "pay_2:authorize")):
        with pytest.raises(AcquirerRejectedError) as raised:
            other.void(voided_by, key)
        assert raised.value.code == "already_captured"
    # The capture sent again answers its first result; a refund is what remains to do.
    assert other.capture(authorization_id, 600, "EUR", "pay_2:capture:1") == captured
    assert other.refund(authorization_id, 600, "EUR", "pay_2:refund:re_1").amount == 600
    assert sorted(o.reference for o in other.records.operations()) == [
        "pay_2:capture:1",
        "pay_2:refund:re_1",
    ]


def test_the_claim_item_is_no_operation_and_no_indexed_payment(ddb: Any) -> None:
    simulator = container(ddb)
    authorization_id = authorize(simulator, "pay_3:authorize")
    simulator.void(authorization_id, "pay_3:void")
    items = ddb.scan(TableName=PAYMENTS_TABLE)["Items"]
    claims = [item for item in items if item["payment_id"]["S"].startswith(CLAIM_PREFIX)]
    assert len(claims) == 1 and claims[0]["reference"] == {"S": "pay_3:void"}
    # No index key, no version: the reconciliation's windows, the sweeper and the index
    # backfill never take it for a payment.
    assert not {"update_key", "updated_at", "open_key", "version"} & set(claims[0])
    records = AcquirerOperationsTable(ddb, PAYMENTS_TABLE)
    assert [o.reference for o in records.operations()] == ["pay_3:void"]
    window = list(records.operations_between("2026-11-22T11:00:00Z", "2026-11-22T12:00:00Z"))
    assert [o.reference for o in window] == ["pay_3:void"]


def test_a_claim_answers_the_first_operation_to_reach_the_authorization(ddb: Any) -> None:
    records = AcquirerOperationsTable(ddb, PAYMENTS_TABLE, clock=lambda: EXECUTED)
    capture = AcquirerOperation(OperationKind.CAPTURE, "pay_4:capture:1", "auth_x", 600, "EUR")
    void = AcquirerOperation(OperationKind.VOID, "pay_4:void", "auth_x", 0, "")
    assert records.claim("core4", capture) is capture
    assert records.claim("core4", void) == capture
    assert records.claim("core5", void) is void  # another authorization
    assert records.operations() == []  # a claim records no operation


class DiesAfterClaiming(_ClientProxy):
    """The table's client in a container that dies once right after it claimed an
    authorization, before it recorded the operation."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.dies = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def put_item(self, **request: Any) -> Any:
        if self.dies and request["Item"]["payment_id"]["S"].startswith("acquirer-op#"):
            self.dies = False
            raise ClientError(
                {"Error": {"Code": "InternalServerError", "Message": "died"}}, "PutItem"
            )
        return self._client.put_item(**request)


def test_a_capture_that_claimed_then_died_refuses_the_void_and_is_recorded(ddb: Any) -> None:
    authorization_id = authorize(container(ddb), "pay_5:authorize")
    dying = AcquirerSimulator(
        KEY,
        1.0,
        sleep=lambda _: None,
        records=AcquirerOperationsTable(DiesAfterClaiming(ddb), PAYMENTS_TABLE),
    )
    with pytest.raises(ClientError):
        dying.capture(authorization_id, 600, "EUR", "pay_5:capture:1")
    other = container(ddb)
    # Compensation asks first, finds nothing, voids: refused, and the capture is on record.
    assert other.operation_status("pay_5:capture:1") is OperationStatus.NOT_FOUND
    with pytest.raises(AcquirerRejectedError) as raised:
        other.void(authorization_id, "pay_5:void")
    assert raised.value.code == "already_captured"
    assert other.operation_status("pay_5:capture:1") is OperationStatus.SUCCEEDED
    assert other.capture(authorization_id, 600, "EUR", "pay_5:capture:1").amount == 600
    assert [o.reference for o in other.records.operations()] == ["pay_5:capture:1"]


def test_many_operations_are_read_in_batches_as_find_reads_each(ddb: Any) -> None:
    simulator = container(ddb)
    records = simulator.records
    assert isinstance(records, AcquirerOperationsTable)
    authorization = authorize(simulator, "pay_many:authorize")
    executed = [f"pay_many:capture:{n}" for n in range(150)]
    for n, key in enumerate(executed):
        simulator.capture(authorization, 1 + n, "EUR", key)
    asked = [*executed, "pay_many:capture:never", executed[0]]  # one missing, one twice
    batches: list[int] = []
    read = ddb.batch_get_item

    def counted(**request: Any) -> Any:
        (table,) = request["RequestItems"].values()
        assert table["ConsistentRead"] is True
        batches.append(len(table["Keys"]))
        return read(**request)

    ddb.batch_get_item = counted
    found = records.find_all(asked)
    assert batches == [100, 51]  # 151 distinct references, at most 100 a request
    assert found == {key: records.find(key) for key in executed}
    assert found["pay_many:capture:7"].amount == 8


def test_keys_a_batch_leaves_unprocessed_are_asked_again_until_read(
    ddb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulator = container(ddb)
    records = simulator.records
    assert isinstance(records, AcquirerOperationsTable)
    authorization = authorize(simulator, "pay_throttled:authorize")
    executed = [f"pay_throttled:capture:{n}" for n in range(5)]
    for key in executed:
        simulator.capture(authorization, 100, "EUR", key)
    pauses: list[float] = []
    monkeypatch.setattr("functions.adapters.payments_table.time.sleep", pauses.append)
    asked: list[int] = []
    read = ddb.batch_get_item

    def throttles_all_but_one(**request: Any) -> Any:
        # DynamoDB's answer under throttling: part read, the rest handed back unprocessed.
        ((name, table),) = request["RequestItems"].items()
        asked.append(len(table["Keys"]))
        first, rest = table["Keys"][:1], table["Keys"][1:]
        response = read(**{**request, "RequestItems": {name: {**table, "Keys": first}}})
        if rest:
            response["UnprocessedKeys"] = {name: {**table, "Keys": rest}}
        return response

    ddb.batch_get_item = throttles_all_but_one
    assert records.find_all(executed) == {key: records.find(key) for key in executed}
    assert asked == [5, 4, 3, 2, 1]
    assert pauses == [0.05, 0.1, 0.2, 0.4]  # growing, and none after the last read


def test_keys_still_unprocessed_after_the_last_attempt_raise_instead_of_reading_as_missing(
    ddb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = container(ddb).records
    assert isinstance(records, AcquirerOperationsTable)
    monkeypatch.setattr("functions.adapters.payments_table.time.sleep", lambda _: None)
    calls: list[int] = []

    def always_throttled(**request: Any) -> Any:
        calls.append(1)
        return {"Responses": {}, "UnprocessedKeys": request["RequestItems"]}

    ddb.batch_get_item = always_throttled
    with pytest.raises(RuntimeError, match="unprocessed"):
        records.find_all(["pay_x:capture:1"])
    assert len(calls) == 6
