"""The emulator's meter: CloudWatch Logs bytes from every writer, Step Functions execution logs
delivered at the level the state machine asks for, and the billing rules it counts with."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import pytest
from moto import mock_aws
from moto.core.config import default_user_config

from local import gaps, metering

if TYPE_CHECKING:
    from mypy_boto3_logs.type_defs import InputLogEventTypeDef
    from mypy_boto3_stepfunctions.literals import LogLevelType

REGION = "eu-west-2"
TWO_PASS_STATES = {
    "StartAt": "A",
    "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": True}},
}


@pytest.fixture
def meter() -> Iterator[None]:
    default_user_config["stepfunctions"]["execute_state_machine"] = True
    gaps.install()
    metering.install()
    with mock_aws():
        metering.reset()
        yield
    default_user_config["stepfunctions"]["execute_state_machine"] = False


@pytest.mark.parametrize(
    ("group", "source"),
    [
        ("/aws/lambda/payments-dev-tokenize", "lambda"),
        ("/aws/vendedlogs/states/payments-dev-payment-workflow", "states"),
        ("/aws/apigateway/payments-dev-access", "other"),
    ],
)
def test_log_source_follows_the_group_name(group: str, source: str) -> None:
    assert metering.log_source(group) == source


@pytest.mark.parametrize(("message", "size"), [("", 26), ("abc", 29), ("é", 28)])
def test_a_log_event_is_its_utf8_bytes_plus_26(message: str, size: int) -> None:
    assert metering.log_event_bytes(message) == size


@pytest.mark.parametrize(("duration_ms", "billed_ms"), [(0.2, 100), (100, 100), (100.1, 200)])
def test_express_duration_is_billed_in_100_ms_steps(duration_ms: float, billed_ms: int) -> None:
    metering.reset()
    metering.express_execution(duration_ms)
    assert metering.snapshot()["step_functions_express_billed_ms"] == billed_ms


def test_put_log_events_is_metered(meter: None) -> None:
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName="/aws/lambda/f")
    logs.create_log_stream(logGroupName="/aws/lambda/f", logStreamName="s")
    events: list[InputLogEventTypeDef] = [
        {"timestamp": int(time.time() * 1000), "message": m} for m in ("one", "three")
    ]
    logs.put_log_events(logGroupName="/aws/lambda/f", logStreamName="s", logEvents=events)
    used = metering.snapshot()
    assert used["log_bytes"] == 3 + 5 + 2 * 26
    assert used["counts"]["log_events:lambda"] == 2


def test_a_transaction_is_metered_once_at_two_units_an_item(meter: None) -> None:
    ddb = boto3.client("dynamodb", region_name=REGION)
    ddb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName="t", Item={"pk": {"S": "plain"}})
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "a"}}}},
            {
                "Update": {
                    "TableName": "t",
                    "Key": {"pk": {"S": "b"}},
                    "UpdateExpression": "SET n = :n",
                    "ExpressionAttributeValues": {":n": {"N": "1"}},
                }
            },
        ]
    )
    used = metering.snapshot()
    # One plain write (1) and a transaction of two items (2 x 2): moto applies the items with
    # the same methods a plain write uses, and they must not count again.
    assert used["dynamodb_write_units"] == 5
    assert used["counts"]["wcu:dynamodb:t"] == 5
    assert used["counts"]["data:dynamodb:t"] == 2


def test_a_transaction_with_binary_values_is_metered(meter: None) -> None:
    # The vault's token record carries its ciphertext as a binary attribute, beside a
    # ConditionCheck on the customer key: both are transaction items, two units each.
    ddb = boto3.client("dynamodb", region_name=REGION)
    ddb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName="t", Item={"pk": {"S": "key"}})
    metering.reset()
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "a"}, "c": {"B": b"\x00" * 2000}}}},
            {
                "ConditionCheck": {
                    "TableName": "t",
                    "Key": {"pk": {"S": "key"}},
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
        ]
    )
    # The ~2 KB item: two started KB, two units each; the check: one KB, two units.
    assert metering.snapshot()["counts"]["wcu:dynamodb:t"] == 6


def test_a_write_that_reads_its_old_item_is_one_write_and_no_read(meter: None) -> None:
    # moto reads the old item through the backend's get_item inside UpdateItem (and inside a
    # PutItem asked for ALL_OLD); the caller pays no read and CloudTrail logs one data event.
    ddb = boto3.client("dynamodb", region_name=REGION)
    ddb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    metering.reset()
    ddb.put_item(TableName="t", Item={"pk": {"S": "a"}}, ReturnValues="ALL_OLD")
    ddb.update_item(
        TableName="t",
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues={":n": {"N": "1"}},
    )
    used = metering.snapshot()
    assert (used["dynamodb_write_units"], used["dynamodb_read_units"]) == (2, 0)
    assert used["counts"]["data:dynamodb:t"] == 2
    ddb.get_item(TableName="t", Key={"pk": {"S": "a"}}, ConsistentRead=True)
    assert metering.snapshot()["dynamodb_read_units"] == 1  # a real read still counts


def test_a_batch_get_is_one_data_event_per_table_and_a_read_per_item(meter: None) -> None:
    ddb = boto3.client("dynamodb", region_name=REGION)
    for table in ("t", "u"):
        ddb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    metering.reset()
    keys = [{"pk": {"S": str(n)}} for n in range(5)]
    ddb.batch_get_item(RequestItems={"t": {"Keys": keys}, "u": {"Keys": keys[:1]}})
    used = metering.snapshot()
    # CloudTrail logs the call once per table; DynamoDB bills each key read (eventually
    # consistent, half a unit each: six keys, three units).
    assert (used["counts"]["data:dynamodb:t"], used["counts"]["data:dynamodb:u"]) == (1, 1)
    assert used["dynamodb_read_units"] == 3


def _run(level: LogLevelType) -> dict[str, object]:
    logs = boto3.client("logs", region_name=REGION)
    group = f"/aws/vendedlogs/states/wf-{level.lower()}"
    logs.create_log_group(logGroupName=group)
    arn = f"arn:aws:logs:{REGION}:123456789012:log-group:{group}:*"
    sfn = boto3.client("stepfunctions", region_name=REGION)
    machine = sfn.create_state_machine(
        name=f"wf-{level.lower()}",
        roleArn="arn:aws:iam::123456789012:role/r",
        definition=json.dumps(TWO_PASS_STATES),
        type="EXPRESS",
        loggingConfiguration={
            "level": level,
            "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": arn}}],
        },
    )
    metering.reset()
    execution = sfn.start_execution(
        stateMachineArn=machine["stateMachineArn"], input='{"card": "4242424242424242"}'
    )
    for _ in range(100):
        if sfn.describe_execution(executionArn=execution["executionArn"])["status"] != "RUNNING":
            break
        time.sleep(0.02)
    used = metering.snapshot()
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    lines = [
        e["message"]
        for s in streams
        for e in logs.get_log_events(logGroupName=group, logStreamName=s["logStreamName"])["events"]
    ]
    return {"bytes": used["log_bytes"], "lines": lines}


def test_execution_logs_at_all_are_delivered_without_execution_data(meter: None) -> None:
    delivered = _run("ALL")
    lines = delivered["lines"]
    assert isinstance(lines, list) and len(lines) == 6  # started, 2 x (entered, exited), succeeded
    assert delivered["bytes"] == sum(metering.log_event_bytes(line) for line in lines)
    assert not any("4242424242424242" in line for line in lines)


def test_execution_logs_at_error_write_nothing_for_a_success(meter: None) -> None:
    assert _run("ERROR") == {"bytes": 0.0, "lines": []}


def _table_with_sparse_index(ddb: object, name: str = "indexed") -> None:
    ddb.create_table(  # type: ignore[attr-defined]
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "card", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_card",
                "KeySchema": [{"AttributeName": "card", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def _units_of(call: object) -> float:
    before = metering.snapshot()["dynamodb_write_units"]
    call()  # type: ignore[operator]
    return float(metering.snapshot()["dynamodb_write_units"] - before)


def test_index_writes_are_billed_to_the_table(meter: None) -> None:
    """An item entering a global secondary index costs an index write; one whose index key
    is unchanged costs none there; a key change is a delete and a put; leaving is a delete."""
    ddb = boto3.client("dynamodb", region_name=REGION)
    _table_with_sparse_index(ddb)
    item = {"pk": {"S": "p1"}, "card": {"S": "c1"}, "status": {"S": "new"}}
    assert _units_of(lambda: ddb.put_item(TableName="indexed", Item=item)) == 2
    changed = {**item, "status": {"S": "captured"}}
    assert _units_of(lambda: ddb.put_item(TableName="indexed", Item=changed)) == 1
    moved = {**changed, "card": {"S": "c2"}}
    assert _units_of(lambda: ddb.put_item(TableName="indexed", Item=moved)) == 3
    assert _units_of(lambda: ddb.delete_item(TableName="indexed", Key={"pk": {"S": "p1"}})) == 2
    unindexed = {"pk": {"S": "p2"}}  # a sparse index: no entry, no index write
    assert _units_of(lambda: ddb.put_item(TableName="indexed", Item=unindexed)) == 1
    assert metering.snapshot()["counts"]["wcu_index:dynamodb:indexed"] == 4


def test_a_write_is_billed_by_the_larger_item_and_a_failed_condition_still_pays(
    meter: None,
) -> None:
    ddb = boto3.client("dynamodb", region_name=REGION)
    _table_with_sparse_index(ddb)
    big = {"pk": {"S": "p"}, "blob": {"S": "x" * 1500}}
    ddb.put_item(TableName="indexed", Item=big)
    small = {"pk": {"S": "p"}}
    assert _units_of(lambda: ddb.put_item(TableName="indexed", Item=small)) == 2

    def refused() -> None:
        with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
            ddb.put_item(
                TableName="indexed", Item=small, ConditionExpression="attribute_not_exists(pk)"
            )

    assert _units_of(refused) == 1
