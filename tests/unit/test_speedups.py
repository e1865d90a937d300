from __future__ import annotations

import contextlib
import copy
import random
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import backends, mock_aws
from moto.dynamodb.models.table import Table
from moto.stepfunctions.parser.asl.utils import json_path

from local import speedups


def test_each_path_is_parsed_once_and_still_finds_the_same_values() -> None:
    speedups.install()
    speedups.install()  # a second emulator in the same process must not wrap twice
    parse = getattr(json_path, "parse")  # noqa: B009 (moto does not re-export it)
    first = parse("$.payment.card.token")
    assert parse("$.payment.card.token") is first
    data = {"payment": {"card": {"token": "tok_1"}}}
    assert json_path.extract_json("$.payment.card.token", data) == "tok_1"
    assert json_path.extract_json("$.payment", data) == {"card": {"token": "tok_1"}}


def test_the_backend_list_is_read_once_and_names_the_services() -> None:
    speedups.install()
    listed = backends.list_of_moto_modules()
    assert {"dynamodb", "stepfunctions", "kms"} <= set(listed)
    assert backends.list_of_moto_modules() is listed


def test_a_response_class_s_methods_are_listed_once_and_as_moto_lists_them() -> None:
    speedups.install()
    from moto.core import responses, utils
    from moto.dynamodb.responses import DynamoHandler

    listed = getattr(responses, "method_names_from_class")  # noqa: B009 (not re-exported)
    assert listed(DynamoHandler) == utils.method_names_from_class(DynamoHandler)
    hits = listed.cache_info().hits
    assert "query" in listed(DynamoHandler)
    assert listed.cache_info().hits == hits + 1


def _table_with_indexes(client: Any) -> None:
    client.create_table(
        TableName="t",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "g", "gs")
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": "by_g_gs",
                "KeySchema": [
                    {"AttributeName": "g", "KeyType": "HASH"},
                    {"AttributeName": "gs", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
        ],
    )
    rng = random.Random(5)
    for n in range(400):
        item: dict[str, Any] = {
            "pk": {"S": f"p{rng.randrange(40)}"},
            "sk": {"S": f"s{n:04d}"},
            "n": {"N": str(rng.randrange(100))},
        }
        if rng.random() < 0.8:  # some items are not in the indexes
            item["g"] = {"S": f"g{rng.randrange(6)}"}
        if rng.random() < 0.7:
            item["gs"] = {"S": f"{rng.randrange(1000):04d}"}
        client.put_item(TableName="t", Item=item)


QUERIES: tuple[dict[str, Any], ...] = (
    {"KeyConditionExpression": "pk = :v", "ExpressionAttributeValues": {":v": {"S": "p3"}}},
    {"KeyConditionExpression": "pk = :v", "ExpressionAttributeValues": {":v": {"S": "absent"}}},
    {
        "KeyConditionExpression": "pk = :v AND sk BETWEEN :a AND :b",
        "ExpressionAttributeValues": {
            ":v": {"S": "p7"},
            ":a": {"S": "s0100"},
            ":b": {"S": "s0300"},
        },
        "ScanIndexForward": False,
    },
    {
        "IndexName": "by_g",
        "KeyConditionExpression": "g = :v",
        "ExpressionAttributeValues": {":v": {"S": "g2"}},
    },
    {
        "IndexName": "by_g",
        "KeyConditionExpression": "g = :v",
        "FilterExpression": "n > :m",
        "ExpressionAttributeValues": {":v": {"S": "g4"}, ":m": {"N": "50"}},
        "ProjectionExpression": "pk, sk, n",
    },
    {
        "IndexName": "by_g_gs",
        "KeyConditionExpression": "g = :v AND gs >= :s",
        "ExpressionAttributeValues": {":v": {"S": "g1"}, ":s": {"S": "0500"}},
        "ScanIndexForward": False,
    },
)


def _all_pages(client: Any, query: dict[str, Any], limit: int | None) -> list[Any]:
    pages, start = [], None
    while True:
        asked = dict(query, TableName="t")
        if limit:
            asked["Limit"] = limit
        if start:
            asked["ExclusiveStartKey"] = start
        answer = client.query(**asked)
        pages.append((answer["Items"], answer.get("Count"), answer.get("ScannedCount")))
        start = answer.get("LastEvaluatedKey")
        if not start:
            return pages


def test_a_query_reads_only_its_partition_and_answers_what_moto_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    speedups.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-2")
        _table_with_indexes(client)
        narrowed = [_all_pages(client, q, limit) for q in QUERIES for limit in (None, 7)]
        seen: list[int] = []
        scoped = Table.all_items

        def counted(self: Table) -> list[Any]:
            items = scoped(self)
            seen.append(len(items))
            return items

        monkeypatch.setattr(Table, "all_items", counted)
        assert [_all_pages(client, q, None) for q in QUERIES]
        # Each query saw its partition, never the table's 400 items.
        assert seen and max(seen) < 150
        # moto's own query, unnarrowed, must give the same pages.
        monkeypatch.setattr(Table, "query", Table.query.__wrapped__)  # type: ignore[attr-defined]
        monkeypatch.setattr(Table, "all_items", scoped.__wrapped__)  # type: ignore[attr-defined]
        unnarrowed = [_all_pages(client, q, limit) for q in QUERIES for limit in (None, 7)]
    assert narrowed == unnarrowed
    assert any(len(pages) > 2 for pages in narrowed)  # paging was exercised


def _ledger_like(client: Any) -> None:
    client.create_table(
        TableName="ledger",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
    )
    client.create_table(
        TableName="balances",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "account", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "account", "KeyType": "HASH"}],
    )
    for n in range(50):
        client.put_item(TableName="ledger", Item={"pk": {"S": f"p{n}"}, "sk": {"S": "e1"}})
    client.put_item(TableName="balances", Item={"account": {"S": "cash"}, "v": {"N": "10"}})


def _posting(entry: str, spend: int) -> list[dict[str, Any]]:
    """A new entry, an existing one rewritten, and a balance spent only while it lasts."""
    return [
        {"Put": {"TableName": "ledger", "Item": {"pk": {"S": entry}, "sk": {"S": "e1"}}}},
        {
            "Put": {
                "TableName": "ledger",
                "Item": {"pk": {"S": "p1"}, "sk": {"S": "e1"}, "note": {"S": entry}},
            }
        },
        {"Delete": {"TableName": "ledger", "Key": {"pk": {"S": "p2"}, "sk": {"S": "e1"}}}},
        {
            "Update": {
                "TableName": "balances",
                "Key": {"account": {"S": "cash"}},
                "UpdateExpression": "SET v = v - :s",
                "ConditionExpression": "v >= :s",
                "ExpressionAttributeValues": {":s": {"N": str(spend)}},
            }
        },
    ]


def _state(client: Any) -> tuple[list[Any], list[Any]]:
    return (
        sorted(
            (i["pk"]["S"], i["sk"]["S"], i.get("note", {}).get("S"))
            for i in client.scan(TableName="ledger")["Items"]
        ),
        client.scan(TableName="balances")["Items"],
    )


def _run_postings(client: Any) -> list[Any]:
    """A posting that fits, one cancelled by its condition, one that fits what is left."""
    seen: list[Any] = []
    for entry, spend in (("new_1", 4), ("new_2", 20), ("new_3", 6)):
        try:
            client.transact_write_items(TransactItems=_posting(entry, spend))
            seen.append(("done", entry))
        except client.exceptions.TransactionCanceledException as cancelled:
            reasons = [r["Code"] for r in cancelled.response["CancellationReasons"]]
            seen.append(("cancelled", entry, reasons))
        seen.append(_state(client))
    return seen


def test_a_cancelled_transaction_leaves_the_tables_as_moto_leaves_them_without_copying_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    speedups.install()
    from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends

    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-2")
        _ledger_like(client)
        backend = dynamodb_backends["123456789012"]["eu-west-2"]
        ledger = backend.tables["ledger"]
        by_item = _run_postings(client)
        # The cancelled transaction's tables are the live ones, not copies put in their place.
        assert backend.tables["ledger"] is ledger
    monkeypatch.setattr(
        DynamoDBBackend,
        "transact_write_items",
        DynamoDBBackend.transact_write_items.__wrapped__,  # type: ignore[attr-defined]
    )
    monkeypatch.delattr(Table, "__deepcopy__")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-2")
        _ledger_like(client)
        by_moto = _run_postings(client)
    assert by_item == by_moto
    assert by_item[2][0] == "cancelled"  # the rollback was exercised
    assert ("new_2", "e1", None) not in by_item[3][0]


def test_a_table_copied_outside_a_transaction_is_a_deep_copy() -> None:
    speedups.install()
    from moto.dynamodb.models import dynamodb_backends

    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-2")
        _ledger_like(client)
        ledger = dynamodb_backends["123456789012"]["eu-west-2"].tables["ledger"]
        copied = copy.deepcopy(ledger)
        assert copied is not ledger and len(copied) == len(ledger) == 50
        client.delete_item(TableName="ledger", Key={"pk": {"S": "p0"}, "sk": {"S": "e1"}})
        assert len(copied) == 50 and len(ledger) == 49


def test_a_received_message_is_checked_against_the_queue_retention_without_its_attributes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    speedups.install()
    from moto.sqs.models import SQSBackend, sqs_backends

    direct = SQSBackend.is_message_valid_based_on_retention_period
    by_moto = direct.__wrapped__  # type: ignore[attr-defined]
    with mock_aws():
        client = boto3.client("sqs", region_name="eu-west-2")
        client.create_queue(QueueName="q", Attributes={"MessageRetentionPeriod": "60"})
        url = client.get_queue_url(QueueName="q")["QueueUrl"]
        for n in range(3):
            client.send_message(QueueUrl=url, MessageBody=str(n))
        backend = sqs_backends["123456789012"]["eu-west-2"]
        messages: list[Any] = list(backend.get_queue("q")._messages)
        messages[1].sent_timestamp -= 61_000  # past the retention period
        messages[2].sent_timestamp -= 59_000  # within it
        answers = [by_moto(backend, "q", message) for message in messages]
        assert answers == [True, False, True]

        def counted(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("the attributes walk the whole queue")

        monkeypatch.setattr(SQSBackend, "get_queue_attributes", counted)
        assert [direct(backend, "q", message) for message in messages] == answers
        monkeypatch.setattr(SQSBackend, "is_message_valid_based_on_retention_period", by_moto)
        with pytest.raises(AssertionError, match="walk"):
            by_moto(backend, "q", messages[0])


def _unnarrowed_pages(client: Any, queries: tuple[dict[str, Any], ...]) -> list[Any]:
    narrowed_query, scoped = Table.query, Table.all_items
    Table.query = narrowed_query.__wrapped__  # type: ignore[attr-defined,method-assign]
    Table.all_items = scoped.__wrapped__  # type: ignore[attr-defined,method-assign]
    try:
        return [_all_pages(client, q, None) for q in queries]
    finally:
        Table.query = narrowed_query  # type: ignore[method-assign]
        Table.all_items = scoped  # type: ignore[method-assign]


WRITES = ("put", "update", "remove", "delete", "batch", "transact", "cancel")


def _random_write(client: Any, rng: random.Random, n: int, kinds: tuple[str, ...]) -> None:
    key = {"pk": {"S": f"p{rng.randrange(40)}"}, "sk": {"S": f"s{rng.randrange(400):04d}"}}
    group = {"S": f"g{rng.randrange(6)}"}
    kind = rng.choice(kinds)
    if kind == "put":
        client.put_item(TableName="t", Item=dict(key, g=group, gs={"S": f"{n:04d}"}))
    elif kind == "update":  # an index key changed in place
        client.update_item(
            TableName="t",
            Key=key,
            UpdateExpression="SET g = :g, gs = :s",
            ExpressionAttributeValues={":g": group, ":s": {"S": f"{n:04d}"}},
        )
    elif kind == "remove":  # out of the indexes, still in the table
        client.update_item(TableName="t", Key=key, UpdateExpression="REMOVE g")
    elif kind == "delete":
        client.delete_item(TableName="t", Key=key)
    elif kind == "batch":
        client.batch_write_item(
            RequestItems={
                "t": [
                    {"PutRequest": {"Item": dict(key, g=group)}},
                    {"DeleteRequest": {"Key": dict(key, sk={"S": "s0001"})}},
                ]
            }
        )
    elif kind in ("transact", "cancel"):
        writes: list[dict[str, Any]] = [
            {"Put": {"TableName": "t", "Item": dict(key, g=group)}},
            {"Delete": {"TableName": "t", "Key": dict(key, sk={"S": "s0002"})}},
        ]
        if kind == "cancel":  # written, then rolled back
            writes.append(
                {
                    "ConditionCheck": {
                        "TableName": "t",
                        "Key": dict(key, sk={"S": "never"}),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                }
            )
        try:
            client.transact_write_items(TransactItems=writes)
        except client.exceptions.TransactionCanceledException:
            assert kind == "cancel"
    else:
        client.execute_statement(
            Statement="UPDATE t SET g = ? WHERE pk = ? AND sk = ?",
            Parameters=[group, key["pk"], key["sk"]],
        )


# PartiQL rebuilds the maps, so the API's writes are also checked without it.
@pytest.mark.parametrize("kinds", [WRITES, (*WRITES, "sql")], ids=["api", "api+partiql"])
def test_an_index_query_after_any_write_answers_what_moto_answers(kinds: tuple[str, ...]) -> None:
    speedups.install()
    index_queries = tuple(
        dict(q, ExpressionAttributeValues={":v": {"S": f"g{g}"}}, KeyConditionExpression="g = :v")
        for g in range(6)
        for q in ({"IndexName": "by_g"}, {"IndexName": "by_g_gs", "ScanIndexForward": False})
    )
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-2")
        _table_with_indexes(client)
        rng = random.Random(11)
        compared = 0
        for n in range(300):
            if n % 25 == 0:
                narrowed = [_all_pages(client, q, None) for q in index_queries]
                assert narrowed == _unnarrowed_pages(client, index_queries), f"after {n} writes"
                compared += 1
            # A PartiQL UPDATE of an absent item fails its implicit condition.
            with contextlib.suppress(client.exceptions.ConditionalCheckFailedException):
                _random_write(client, rng, n, kinds)
        narrowed = [_all_pages(client, q, None) for q in index_queries]
        assert narrowed == _unnarrowed_pages(client, index_queries)
    assert compared == 12


@pytest.mark.parametrize("executing", [False, True], ids=["moto", "executed-by-the-parser"])
def test_an_execution_name_is_found_without_walking_every_execution(executing: bool) -> None:
    """``executing``: the emulator's backend (``execute_state_machine``), which deep-copies the
    state machine for each execution: the index must not make that copy fail."""
    speedups.install()
    from moto.core.config import default_user_config
    from moto.stepfunctions.models import StateMachine
    from moto.stepfunctions.responses import get_backend

    by_name = StateMachine._handle_name_input_idempotency
    walk = by_name.__wrapped__  # type: ignore[attr-defined]
    config = default_user_config.setdefault("stepfunctions", {})
    before = config.get("execute_state_machine", False)
    config["execute_state_machine"] = executing
    try:
        with mock_aws():
            client = boto3.client("stepfunctions", region_name="eu-west-2")
            arn = client.create_state_machine(
                name="m",
                definition='{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}',
                roleArn="arn:aws:iam::123456789012:role/r",
            )["stateMachineArn"]
            for n in range(50):
                # Each start asks the index first, then (executing) copies the machine.
                client.start_execution(stateMachineArn=arn, name=f"e{n}", input=f'{{"n": {n}}}')
            machine = get_backend("123456789012", "eu-west-2").describe_state_machine(arn)
            assert len(machine.executions) == 50
            if not executing:  # the parser's executions ran (their status is their own)
                machine.executions[7].status = "RUNNING"
                machine.executions[9].status = "SUCCEEDED"
            asked = [("e7", '{"n": 7}'), ("e7", '{"n": 8}'), ("e9", '{"n": 9}'), ("new", "{}")]

            def answers(find: Any) -> list[Any]:
                found = []
                for name, given in asked:
                    try:
                        found.append(find(machine, name, given))
                    except Exception as error:  # moto's own error, compared below
                        found.append((type(error).__name__, str(error)))
                return found

            assert answers(by_name) == answers(walk)
            if not executing:
                assert answers(by_name)[0] is machine.executions[7]
            with pytest.raises(ClientError, match="ExecutionAlreadyExists"):
                client.start_execution(stateMachineArn=arn, name="e9", input='{"n": 10}')

            class Unwalkable(list[Any]):
                def __iter__(self) -> Any:
                    raise AssertionError("walked every execution")

            unwalkable = Unwalkable(machine.executions)
            machine.executions = unwalkable
            assert by_name(machine, "new", "{}") is None
            if not executing:
                assert by_name(machine, "e7", '{"n": 7}') is unwalkable[7]
    finally:
        config["execute_state_machine"] = before
