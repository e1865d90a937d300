"""What AWS would deny is denied here too (issue 20).

Each case runs twice on the shared emulator: with enforcement switched off (moto's own switch,
``/moto-api/reset-auth``), where the emulator used to allow it, and on, where it is refused as
AWS refuses it. Callers are execution-role sessions, as the Lambda workers get them, so most
cases need no function; the first one is a deployed function acting as its role.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local.aws import REGION
from local.endpoints import published
from local.enforcement import LAMBDA_TRUST_POLICY, switched
from tests.conftest import Emulator
from tests.integration.handlers import ECHO_PROXY, zip_source
from tests.integration.test_emulator import create_function, trail_bucket, wait_for
from tests.integration.test_local_api import call

ACCOUNT = "123456789012"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
TRUST_LAMBDA = json.loads(LAMBDA_TRUST_POLICY)
ROOT_KEY_STATEMENT = {
    "Sid": "EnableAccountRootAndIamPolicies",
    "Effect": "Allow",
    "Principal": {"AWS": ROOT},
    "Action": "kms:*",
    "Resource": "*",
}

CALLER = """
import boto3


def handler(event, context):
    table = boto3.client("dynamodb")
    try:
        table.get_item(TableName=event["table"], Key={"pk": {"S": "a"}})
        read = "ok"
    except Exception as error:
        read = getattr(error, "response", {}).get("Error", {}).get("Code", str(error))
    return {"read": read, "caller": boto3.client("sts").get_caller_identity()["Arn"]}
"""


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def enforcement(emulator: Emulator, on: bool) -> AbstractContextManager[None]:
    return switched(emulator.endpoint, on)


def denied(call: Any, code: str = "AccessDeniedException") -> str:
    with pytest.raises(ClientError) as refused:
        call()
    assert refused.value.response["Error"]["Code"] == code
    return str(refused.value.response["Error"]["Message"])


def both_ways(emulator: Emulator, call: Any, code: str = "AccessDeniedException") -> str:
    """Allowed without enforcement (as before), refused with it; the refusal's message."""
    with enforcement(emulator, on=False):
        call()
    with enforcement(emulator, on=True):
        return denied(call, code)


class Account:
    """Roles, tables and keys on the shared emulator, created as its administrator."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.iam = emulator.client("iam")

    def role(self, *statements: dict[str, Any], trust: dict[str, Any] = TRUST_LAMBDA) -> str:
        name = unique("deny-role")
        arn = self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
        if statements:
            self.iam.put_role_policy(
                RoleName=name, PolicyName="inline", PolicyDocument=policy(*statements)
            )
        return str(arn["Role"]["Arn"])

    def session(
        self, role_arn: str, service: str, *, secure: bool = False, session_policy: str = ""
    ) -> Any:
        """A client signing as a session of the role (what a Lambda worker holds), over plain
        HTTP or over the emulator's TLS listener (``secure``), capped by ``session_policy``."""
        extra = {"Policy": session_policy} if session_policy else {}
        credentials = self.emulator.client("sts").assume_role(
            RoleArn=role_arn, RoleSessionName="test", **extra
        )["Credentials"]
        endpoint: dict[str, Any] = {"endpoint_url": self.emulator.endpoint}
        if secure:
            listener = published(self.emulator.state_dir)
            endpoint = {"endpoint_url": listener.aws_tls, "verify": listener.ca_bundle}
        factory: Any = boto3.client
        return factory(
            service,
            region_name=REGION,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            config=Config(
                retries={"max_attempts": 1},
                s3={"addressing_style": "path"},
                inject_host_prefix=False,
            ),
            **endpoint,
        )

    def key(self, *statements: dict[str, Any]) -> str:
        created = self.emulator.client("kms").create_key(Policy=policy(*statements))
        return str(created["KeyMetadata"]["Arn"])

    def table(self, key_arn: str | None = None) -> str:
        name = unique("deny-table")
        extra: dict[str, Any] = {}
        if key_arn:
            extra["SSESpecification"] = {
                "Enabled": True,
                "SSEType": "KMS",
                "KMSMasterKeyId": key_arn,
            }
        self.emulator.client("dynamodb").create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            **extra,
        )
        return name


@pytest.fixture(scope="module")
def account(emulator: Emulator) -> Iterator[Account]:
    with enforcement(emulator, on=True):
        yield Account(emulator)


def deploy(emulator: Emulator, role_arn: str) -> str:
    name = unique("caller")
    emulator.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role_arn,
        Handler="caller.handler",
        Code={"ZipFile": zip_source("caller", CALLER)},
        Timeout=10,
    )
    return name


def table_arn(name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


def test_a_function_calling_an_action_its_role_lacks_is_denied(
    emulator: Emulator, account: Account
) -> None:
    table = account.table()
    role = account.role(
        {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": table_arn(table)}
    )
    name = deploy(emulator, role)
    functions = emulator.client("lambda")

    def invoke() -> dict[str, Any]:
        answer = functions.invoke(FunctionName=name, Payload=json.dumps({"table": table}))
        return dict(json.loads(answer["Payload"].read()))

    with enforcement(emulator, on=False):
        assert invoke()["read"] == "ok"
    with enforcement(emulator, on=True):
        answer = invoke()
    assert answer["read"] == "AccessDeniedException"
    # The worker signs as its function's execution role, not as the emulator's administrator.
    assert answer["caller"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role.split('/')[-1]}/{name}"


def test_a_role_lambda_may_not_assume_runs_no_function(
    emulator: Emulator, account: Account
) -> None:
    role = account.role(trust={**TRUST_LAMBDA, "Statement": []})
    name = deploy(emulator, role)
    answer = emulator.client("lambda").invoke(FunctionName=name, Payload=b"{}")
    assert answer["FunctionError"]
    assert "cannot be assumed by lambda.amazonaws.com" in answer["Payload"].read().decode()


def test_an_explicit_deny_wins_over_any_allow(account: Account) -> None:
    table = account.table()
    role = account.role(
        {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": table_arn(table)},
    )
    client = account.session(role, "dynamodb")
    client.put_item(TableName=table, Item={"pk": {"S": "a"}})
    message = both_ways(
        account.emulator, lambda: client.delete_item(TableName=table, Key={"pk": {"S": "a"}})
    )
    assert "explicit deny in an identity-based policy" in message


def test_an_item_outside_the_leading_keys_a_role_is_bound_to_is_denied(account: Account) -> None:
    table = account.table()
    role = account.role(
        {
            "Effect": "Allow",
            "Action": ["dynamodb:PutItem", "dynamodb:TransactWriteItems"],
            "Resource": table_arn(table),
            "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["T#*"]}},
        }
    )
    client = account.session(role, "dynamodb")
    client.put_item(TableName=table, Item={"pk": {"S": "T#1"}})
    both_ways(account.emulator, lambda: client.put_item(TableName=table, Item={"pk": {"S": "C#1"}}))
    # An item without the key is the caller's error to hear, not a crash of the authorizer
    # reading the key (it answered 500, which the SDK retried for seconds).
    with pytest.raises(ClientError) as keyless:
        client.put_item(TableName=table, Item={"other": {"S": "T#1"}})
    assert keyless.value.response["Error"]["Code"] == "ValidationException"
    # A transaction is authorized item by item, each with its own action and key.
    both_ways(
        account.emulator,
        lambda: client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": "T#2"}}}},
                {"Put": {"TableName": table, "Item": {"pk": {"S": "C#2"}}}},
            ]
        ),
    )


def test_a_key_used_without_the_encryption_context_its_policy_requires_is_denied(
    account: Account,
) -> None:
    role = account.role({"Effect": "Allow", "Action": "kms:GenerateDataKey", "Resource": "*"})
    key = account.key(
        {
            "Sid": "RootManagesButCannotUse",
            "Effect": "Allow",
            "Principal": {"AWS": ROOT},
            "NotAction": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": "*",
        },
        {
            "Sid": "VaultContextOnly",
            "Effect": "Allow",
            "Principal": {"AWS": ROOT},
            "Action": "kms:GenerateDataKey",
            "Resource": "*",
            "Condition": {
                "ArnEquals": {"aws:PrincipalArn": role},
                "StringEquals": {"kms:EncryptionContext:vault": "data-key"},
            },
        },
    )
    client = account.session(role, "kms")
    client.generate_data_key(KeyId=key, KeySpec="AES_256", EncryptionContext={"vault": "data-key"})
    message = both_ways(
        account.emulator, lambda: client.generate_data_key(KeyId=key, KeySpec="AES_256")
    )
    assert "no resource-based policy allows the kms:GenerateDataKey action" in message
    # The key policy delegates to IAM: without the role's own Allow, the context is not enough.
    bare = account.session(account.role(), "kms")
    both_ways(
        account.emulator,
        lambda: bare.generate_data_key(
            KeyId=key, KeySpec="AES_256", EncryptionContext={"vault": "data-key"}
        ),
    )


def test_a_key_policy_can_refuse_the_account_root(account: Account, emulator: Emulator) -> None:
    key = account.key(
        ROOT_KEY_STATEMENT,
        {
            "Sid": "DenyCryptoToAnyoneElse",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "kms:GenerateDataKey",
            "Resource": "*",
            "Condition": {"StringNotEqualsIfExists": {"kms:ViaService": "dynamodb.x"}},
        },
    )
    kms = emulator.client("kms")
    both_ways(emulator, lambda: kms.generate_data_key(KeyId=key, KeySpec="AES_256"))


def test_dynamodb_on_a_cmk_table_without_the_key_grant_is_denied(account: Account) -> None:
    key = account.key(ROOT_KEY_STATEMENT)
    table = account.table(key)
    item_access = {
        "Effect": "Allow",
        "Action": ["dynamodb:GetItem", "dynamodb:PutItem"],
        "Resource": table_arn(table),
    }
    without_key = account.session(account.role(item_access), "dynamodb")
    message = both_ways(
        account.emulator,
        lambda: without_key.put_item(TableName=table, Item={"pk": {"S": "a"}}),
    )
    assert "KMS key access denied" in message
    assert "kms:Decrypt" in message
    # DynamoDB's Decrypt carries kms:ViaService and the table-name context, nothing else.
    through_dynamodb = {
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": key,
        "Condition": {
            "StringEquals": {
                "kms:ViaService": f"dynamodb.{REGION}.amazonaws.com",
                "kms:EncryptionContext:aws:dynamodb:tableName": table,
                "kms:EncryptionContext:aws:dynamodb:subscriberId": ACCOUNT,
            }
        },
    }
    with_key = account.session(account.role(item_access, through_dynamodb), "dynamodb")
    with_key.put_item(TableName=table, Item={"pk": {"S": "a"}})
    assert with_key.get_item(TableName=table, Key={"pk": {"S": "a"}})["Item"]


def test_a_log_group_encrypted_with_a_key_that_does_not_admit_logs_is_refused(
    account: Account, emulator: Emulator
) -> None:
    logs = emulator.client("logs")
    closed = account.key(ROOT_KEY_STATEMENT)
    message = both_ways(
        emulator,
        lambda: logs.create_log_group(logGroupName=unique("/deny/closed"), kmsKeyId=closed),
    )
    assert "is not allowed to be used with Arn" in message
    admits_logs = account.key(
        ROOT_KEY_STATEMENT,
        {
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{REGION}.amazonaws.com"},
            "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": (
                        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:*"
                    )
                }
            },
        },
    )
    logs.create_log_group(logGroupName=unique("/deny/open"), kmsKeyId=admits_logs)


def test_a_key_policy_naming_a_role_that_does_not_exist_is_refused(
    account: Account, emulator: Emulator
) -> None:
    missing = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/{unique('never-created')}"},
        "Action": "kms:DescribeKey",
        "Resource": "*",
    }
    kms = emulator.client("kms")
    both_ways(
        emulator,
        lambda: kms.create_key(Policy=policy(ROOT_KEY_STATEMENT, missing)),
        "MalformedPolicyDocumentException",
    )
    # Created first, as an environment must (the key administrators of a new account).
    created = account.role()
    assert kms.create_key(
        Policy=policy(ROOT_KEY_STATEMENT, {**missing, "Principal": {"AWS": created}})
    )


def test_a_state_machine_whose_role_may_not_invoke_its_task_fails_it(
    emulator: Emulator, account: Account
) -> None:
    function = deploy(emulator, account.role())
    function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}"
    trust_states = json.loads(LAMBDA_TRUST_POLICY)
    trust_states["Statement"][0]["Principal"]["Service"] = "states.amazonaws.com"
    definition = {
        "StartAt": "Call",
        "States": {"Call": {"Type": "Task", "Resource": function_arn, "End": True}},
    }
    sfn = emulator.client("stepfunctions")

    def run(role: str) -> dict[str, Any]:
        machine = sfn.create_state_machine(
            name=unique("machine"), definition=json.dumps(definition), roleArn=role, type="EXPRESS"
        )["stateMachineArn"]
        return dict(sfn.start_sync_execution(stateMachineArn=machine, input='{"table": "none"}'))

    may_invoke = {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": function_arn}
    assert run(account.role(may_invoke, trust=trust_states))["status"] == "SUCCEEDED"
    without = account.role(trust=trust_states)
    with enforcement(emulator, on=False):
        assert run(without)["status"] == "SUCCEEDED"
    refused = run(without)
    assert refused["status"] == "FAILED"
    assert "lambda:InvokeFunction" in refused.get("cause", "")


def test_reserved_concurrency_leaves_the_account_its_unreserved_minimum(
    emulator: Emulator, account: Account
) -> None:
    functions = emulator.client("lambda")
    name = deploy(emulator, account.role())
    functions.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=10)
    # The account quota is 1,000 here as on AWS by default; 100 must stay unreserved.
    with pytest.raises(ClientError) as refused:
        functions.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=901)
    assert "below its minimum value of [100]" in refused.value.response["Error"]["Message"]


def test_a_bucket_read_over_plain_http_against_a_tls_only_policy_is_denied(
    account: Account, emulator: Emulator
) -> None:
    s3 = emulator.client("s3")
    bucket = unique("deny-tls-only")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="report.json", Body=b"{}")
    tls_only = {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(tls_only))
    role = account.role(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    )
    plain = account.session(role, "s3")
    message = both_ways(
        emulator, lambda: plain.get_object(Bucket=bucket, Key="report.json"), "AccessDenied"
    )
    assert "explicit deny in a resource-based policy (DenyInsecureTransport)" in message
    # The same read over TLS (the emulator's https listener, as the SDK reads on AWS) is allowed.
    secure = account.session(role, "s3", secure=True)
    assert secure.get_object(Bucket=bucket, Key="report.json")["Body"].read() == b"{}"


def sqs_queue(emulator: Emulator, *statements: dict[str, Any]) -> tuple[str, str]:
    sqs = emulator.client("sqs")
    url = sqs.create_queue(QueueName=unique("deny-queue"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    if statements:
        document = json.loads(policy(*statements).replace("QUEUE_ARN", arn))
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(document)})
    return str(url), str(arn)


def test_a_queue_policy_deny_wins_over_the_roles_allow(
    account: Account, emulator: Emulator
) -> None:
    role = account.role({"Effect": "Allow", "Action": "sqs:*", "Resource": "*"})
    url, _ = sqs_queue(
        emulator,
        {
            "Sid": "OnlyTheSettlementRoleSends",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sqs:SendMessage",
            "Resource": "QUEUE_ARN",
            "Condition": {"ArnNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/x"}},
        },
    )
    sender = account.session(role, "sqs")
    message = both_ways(
        emulator, lambda: sender.send_message(QueueUrl=url, MessageBody="{}"), "AccessDenied"
    )
    assert "explicit deny in a resource-based policy (OnlyTheSettlementRoleSends)" in message


def test_a_queue_policy_naming_the_role_is_enough_in_the_same_account(
    account: Account, emulator: Emulator
) -> None:
    role = account.role()
    url, _ = sqs_queue(
        emulator,
        {
            "Effect": "Allow",
            "Principal": {"AWS": role},
            "Action": "sqs:SendMessage",
            "Resource": "QUEUE_ARN",
        },
    )
    account.session(role, "sqs").send_message(QueueUrl=url, MessageBody="{}")
    # Without the queue's Allow, nothing lets the role send.
    other_url, _ = sqs_queue(emulator)
    unlisted = account.session(role, "sqs")
    both_ways(
        emulator,
        lambda: unlisted.send_message(QueueUrl=other_url, MessageBody="{}"),
        "AccessDenied",
    )


def test_an_event_bus_policy_deny_refuses_put_events(account: Account, emulator: Emulator) -> None:
    events = emulator.client("events")
    bus = unique("deny-bus")
    bus_arn = events.create_event_bus(Name=bus)["EventBusArn"]
    events.put_permission(
        EventBusName=bus,
        Policy=policy(
            {
                "Sid": "NoPaymentEventsFromOthers",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "events:PutEvents",
                "Resource": bus_arn,
                "Condition": {"StringEquals": {"events:source": "payments"}},
            }
        ),
    )
    role = account.role({"Effect": "Allow", "Action": "events:PutEvents", "Resource": bus_arn})
    client = account.session(role, "events")
    entry = {"EventBusName": bus, "Source": "payments", "DetailType": "x", "Detail": "{}"}
    message = both_ways(emulator, lambda: client.put_events(Entries=[entry]))
    assert "NoPaymentEventsFromOthers" in message
    assert not client.put_events(Entries=[{**entry, "Source": "fraud"}])["FailedEntryCount"]


def test_the_api_invokes_a_function_only_as_its_resource_policy_allows(
    account: Account, emulator: Emulator
) -> None:
    name = create_function(emulator, account.role(), ECHO_PROXY, "echo")
    functions = emulator.client("lambda")
    arn = functions.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    apigw = emulator.client("apigateway")
    api_name = unique("deny-api")
    api = apigw.create_rest_api(name=api_name)
    root = next(r for r in apigw.get_resources(restApiId=api["id"])["items"] if r["path"] == "/")
    pay = apigw.create_resource(restApiId=api["id"], parentId=root["id"], pathPart="pay")
    apigw.put_method(
        restApiId=api["id"], resourceId=pay["id"], httpMethod="POST", authorizationType="NONE"
    )
    apigw.put_integration(
        restApiId=api["id"],
        resourceId=pay["id"],
        httpMethod="POST",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{arn}/invocations",
    )
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    execution_arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api['id']}"

    def permit(method: str) -> None:
        functions.add_permission(
            FunctionName=name,
            StatementId=unique("api"),
            Action="lambda:InvokeFunction",
            Principal="apigateway.amazonaws.com",
            SourceArn=f"{execution_arn}/*/{method}/pay",
        )

    with enforcement(emulator, on=False):
        assert call(emulator, api_name, "POST", "/pay", {})[0] == 201
    # No permission, then one for another method: API Gateway may not invoke the function.
    assert call(emulator, api_name, "POST", "/pay", {}) == (
        500,
        {"message": "Internal server error"},
    )
    permit("GET")
    assert call(emulator, api_name, "POST", "/pay", {})[0] == 500
    permit("POST")
    assert call(emulator, api_name, "POST", "/pay", {})[0] == 201


def test_stage_logging_without_the_accounts_cloudwatch_role_is_refused(
    account: Account, emulator: Emulator
) -> None:
    apigw = emulator.client("apigateway")
    api = apigw.create_rest_api(name=unique("deny-logging"))["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
    apigw.create_deployment(restApiId=api, stageName="v1")

    def unset_role() -> None:
        apigw.update_account(
            patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": ""}]
        )

    def log_errors() -> None:
        apigw.update_stage(
            restApiId=api,
            stageName="v1",
            patchOperations=[{"op": "replace", "path": "/*/*/logging/loglevel", "value": "ERROR"}],
        )

    # A new account has no role: logging is refused, as CreateStage/UpdateStage are on AWS.
    unset_role()
    message = both_ways(emulator, log_errors, "BadRequestException")
    assert "CloudWatch Logs role ARN must be set in account settings" in message

    def set_role(arn: str) -> None:
        apigw.update_account(
            patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": arn}]
        )

    # The role must let API Gateway assume it.
    lambda_only = account.role()
    with pytest.raises(ClientError) as refused:
        set_role(lambda_only)
    assert "does not have required permissions set to API Gateway" in str(refused.value)
    trust_gateway = json.loads(LAMBDA_TRUST_POLICY)
    trust_gateway["Statement"][0]["Principal"]["Service"] = "apigateway.amazonaws.com"
    set_role(account.role(trust=trust_gateway))
    try:
        log_errors()
    finally:
        unset_role()


def test_sending_to_a_queue_with_a_cmk_needs_the_key_through_sqs(
    account: Account, emulator: Emulator
) -> None:
    key = account.key(ROOT_KEY_STATEMENT)
    sqs = emulator.client("sqs")
    url = sqs.create_queue(QueueName=unique("deny-cmk-queue"), Attributes={"KmsMasterKeyId": key})[
        "QueueUrl"
    ]
    send = {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}
    without_key = account.session(account.role(send), "sqs")
    message = both_ways(
        emulator, lambda: without_key.send_message(QueueUrl=url, MessageBody="{}"), "AccessDenied"
    )
    assert "KMS key access denied" in message
    assert "kms:GenerateDataKey" in message
    # SQS uses the key as the sender, through sqs.<region>: GenerateDataKey and Decrypt.
    through_sqs = {
        "Effect": "Allow",
        "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
        "Resource": key,
        "Condition": {"StringEquals": {"kms:ViaService": f"sqs.{REGION}.amazonaws.com"}},
    }
    with_key = account.session(account.role(send, through_sqs), "sqs")
    assert with_key.send_message(QueueUrl=url, MessageBody="{}")["MessageId"]


def trust_service(service: str) -> dict[str, Any]:
    trust = json.loads(LAMBDA_TRUST_POLICY)
    trust["Statement"][0]["Principal"]["Service"] = service
    return dict(trust)


PASS_DEFINITION = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})


def machine_key_use(key: str, machine_arn: str) -> dict[str, Any]:
    """What a state machine's execution role needs on its customer managed key: Step Functions
    encrypts the history and decrypts the definition as the role, under the machine's context."""
    return {
        "Effect": "Allow",
        "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
        "Resource": key,
        "Condition": {
            "StringEquals": {"kms:EncryptionContext:aws:states:stateMachineArn": machine_arn}
        },
    }


def test_a_sync_execution_of_a_cmk_state_machine_needs_decrypt_through_step_functions(
    account: Account, emulator: Emulator
) -> None:
    key = account.key(ROOT_KEY_STATEMENT)
    name = unique("deny-cmk-machine")
    machine_arn = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"
    machine = emulator.client("stepfunctions").create_state_machine(
        name=name,
        definition=PASS_DEFINITION,
        roleArn=account.role(
            machine_key_use(key, machine_arn), trust=trust_service("states.amazonaws.com")
        ),
        type="EXPRESS",
        encryptionConfiguration={"type": "CUSTOMER_MANAGED_KMS_KEY", "kmsKeyId": key},
    )["stateMachineArn"]
    start = {"Effect": "Allow", "Action": "states:StartSyncExecution", "Resource": machine}
    without_key = account.session(account.role(start), "stepfunctions")
    message = both_ways(
        emulator, lambda: without_key.start_sync_execution(stateMachineArn=machine, input="{}")
    )
    assert "KMS key access denied" in message
    # The definition is decrypted as the caller, through Step Functions, for this machine only.
    through_states = {
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": key,
        "Condition": {
            "StringEquals": {
                "kms:ViaService": f"states.{REGION}.amazonaws.com",
                "kms:EncryptionContext:aws:states:stateMachineArn": machine,
            }
        },
    }
    with_key = account.session(account.role(start, through_states), "stepfunctions")
    answer = with_key.start_sync_execution(stateMachineArn=machine, input="{}")
    assert answer["status"] == "SUCCEEDED"


def test_a_permissions_boundary_and_a_session_policy_cap_what_the_role_allows(
    account: Account, emulator: Emulator
) -> None:
    table = account.table()
    role = account.role({"Effect": "Allow", "Action": "dynamodb:*", "Resource": table_arn(table)})
    read_only = emulator.client("iam").create_policy(
        PolicyName=unique("boundary"),
        PolicyDocument=policy({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}),
    )["Policy"]["Arn"]
    emulator.client("iam").put_role_permissions_boundary(
        RoleName=role.split("/")[-1], PermissionsBoundary=read_only
    )
    bounded = account.session(role, "dynamodb")
    bounded.get_item(TableName=table, Key={"pk": {"S": "a"}})
    message = both_ways(
        emulator, lambda: bounded.put_item(TableName=table, Item={"pk": {"S": "a"}})
    )
    assert "no permissions boundary allows the dynamodb:PutItem action" in message
    # A session policy passed to AssumeRole caps the session the same way.
    unbounded = account.role(
        {"Effect": "Allow", "Action": "dynamodb:*", "Resource": table_arn(table)}
    )
    session = account.session(
        unbounded,
        "dynamodb",
        session_policy=policy({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}),
    )
    session.get_item(TableName=table, Key={"pk": {"S": "a"}})
    message = both_ways(
        emulator, lambda: session.put_item(TableName=table, Item={"pk": {"S": "a"}})
    )
    assert "no session policy allows the dynamodb:PutItem action" in message


def test_a_resource_policy_naming_a_role_that_does_not_exist_is_refused(
    account: Account, emulator: Emulator
) -> None:
    missing = f"arn:aws:iam::{ACCOUNT}:role/{unique('never-created')}"

    def naming(principal: str, action: str, resource: str) -> str:
        statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": action}
        return policy({**statement, "Resource": resource})

    sqs = emulator.client("sqs")
    url, queue = sqs_queue(emulator)
    both_ways(
        emulator,
        lambda: sqs.set_queue_attributes(
            QueueUrl=url, Attributes={"Policy": naming(missing, "sqs:SendMessage", queue)}
        ),
        "InvalidAttributeValue",
    )
    s3 = emulator.client("s3")
    bucket = unique("deny-principal")
    s3.create_bucket(Bucket=bucket)
    both_ways(
        emulator,
        lambda: s3.put_bucket_policy(
            Bucket=bucket, Policy=naming(missing, "s3:GetObject", f"arn:aws:s3:::{bucket}/*")
        ),
        "MalformedPolicy",
    )
    sns = emulator.client("sns")
    topic = sns.create_topic(Name=unique("deny-principal"))["TopicArn"]
    both_ways(
        emulator,
        lambda: sns.set_topic_attributes(
            TopicArn=topic,
            AttributeName="Policy",
            AttributeValue=naming(missing, "sns:Publish", topic),
        ),
        "InvalidParameter",
    )
    trust = policy({"Effect": "Allow", "Principal": {"AWS": missing}, "Action": "sts:AssumeRole"})
    iam = emulator.client("iam")
    message = both_ways(
        emulator,
        lambda: iam.create_role(RoleName=unique("deny-trust"), AssumeRolePolicyDocument=trust),
        "MalformedPolicyDocument",
    )
    assert missing in message
    function = deploy(emulator, account.role())
    both_ways(
        emulator,
        lambda: emulator.client("lambda").add_permission(
            FunctionName=function,
            StatementId=unique("missing"),
            Action="lambda:InvokeFunction",
            Principal=missing,
        ),
        "InvalidParameterValueException",
    )
    # A queue or topic created with such a policy is refused the same way.
    for_any_queue = naming(missing, "sqs:SendMessage", "*")
    both_ways(
        emulator,
        lambda: sqs.create_queue(
            QueueName=unique("deny-principal"), Attributes={"Policy": for_any_queue}
        ),
        "InvalidAttributeValue",
    )
    both_ways(
        emulator,
        lambda: sns.create_topic(
            Name=unique("deny-principal"),
            Attributes={"Policy": naming(missing, "sns:Publish", "*")},
        ),
        "InvalidParameter",
    )
    # Once the role exists, every one of them is accepted.
    created = account.role()
    sqs.set_queue_attributes(
        QueueUrl=url, Attributes={"Policy": naming(created, "sqs:SendMessage", queue)}
    )
    s3.put_bucket_policy(
        Bucket=bucket, Policy=naming(created, "s3:GetObject", f"arn:aws:s3:::{bucket}/*")
    )
    sns.create_topic(
        Name=unique("deny-principal"), Attributes={"Policy": naming(created, "sns:Publish", "*")}
    )


def test_an_execution_whose_role_may_not_use_the_state_machines_key_is_not_started(
    account: Account, emulator: Emulator
) -> None:
    key = account.key(ROOT_KEY_STATEMENT)
    sfn = emulator.client("stepfunctions")
    name = unique("deny-role-key")
    machine_arn = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"
    role = account.role(trust=trust_service("states.amazonaws.com"))

    def create(role: str) -> str:
        return str(
            sfn.create_state_machine(
                name=unique("deny-role-key"),
                definition=PASS_DEFINITION,
                roleArn=role,
                encryptionConfiguration={"type": "CUSTOMER_MANAGED_KMS_KEY", "kmsKeyId": key},
            )["stateMachineArn"]
        )

    without = create(role)
    message = both_ways(
        emulator, lambda: sfn.start_execution(stateMachineArn=without), "KmsAccessDeniedException"
    )
    assert "kms:GenerateDataKey" in message
    granted = sfn.create_state_machine(
        name=name,
        definition=PASS_DEFINITION,
        roleArn=account.role(
            machine_key_use(key, machine_arn), trust=trust_service("states.amazonaws.com")
        ),
        encryptionConfiguration={"type": "CUSTOMER_MANAGED_KMS_KEY", "kmsKeyId": key},
    )["stateMachineArn"]
    assert sfn.start_execution(stateMachineArn=granted)["executionArn"]


def test_execution_logs_of_a_cmk_state_machine_need_the_key_to_admit_log_delivery(
    account: Account, emulator: Emulator
) -> None:
    sfn, logs = emulator.client("stepfunctions"), emulator.client("logs")
    group = unique("/aws/vendedlogs/states/deny")
    logs.create_log_group(logGroupName=group)
    logging = {
        "level": "ERROR",
        "includeExecutionData": False,
        "destinations": [
            {
                "cloudWatchLogsLogGroup": {
                    "logGroupArn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}:*"
                }
            }
        ],
    }
    # Step Functions makes the logs' data key as the execution role, under the logs context.
    log_data_keys = {
        "Effect": "Allow",
        "Action": "kms:GenerateDataKey",
        "Resource": "*",
        "Condition": {
            "StringEquals": {
                "kms:EncryptionContext:SourceArn": f"arn:aws:logs:{REGION}:{ACCOUNT}:*"
            }
        },
    }
    role = account.role(log_data_keys, trust=trust_service("states.amazonaws.com"))
    bare_role = account.role(trust=trust_service("states.amazonaws.com"))

    def create(key: str, execution_role: str = role, **logging_configuration: Any) -> str:
        return str(
            sfn.create_state_machine(
                name=unique("deny-logs-key"),
                definition=PASS_DEFINITION,
                roleArn=execution_role,
                type="EXPRESS",
                encryptionConfiguration={"type": "CUSTOMER_MANAGED_KMS_KEY", "kmsKeyId": key},
                **logging_configuration,
            )["stateMachineArn"]
        )

    def admitting_delivery_for(account_id: str) -> str:
        return account.key(
            ROOT_KEY_STATEMENT,
            {
                "Effect": "Allow",
                "Principal": {"Service": "delivery.logs.amazonaws.com"},
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {
                    "StringLike": {
                        "kms:EncryptionContext:SourceArn": f"arn:aws:logs:{REGION}:{account_id}:*"
                    }
                },
            },
        )

    closed = account.key(ROOT_KEY_STATEMENT)
    message = both_ways(
        emulator, lambda: create(closed, loggingConfiguration=logging), "KmsAccessDeniedException"
    )
    assert "delivery.logs.amazonaws.com" in message
    other_accounts = admitting_delivery_for("999999999999")
    both_ways(
        emulator,
        lambda: create(other_accounts, loggingConfiguration=logging),
        "KmsAccessDeniedException",
    )
    # Turning logging on later is refused the same way.
    quiet = create(closed)
    both_ways(
        emulator,
        lambda: sfn.update_state_machine(stateMachineArn=quiet, loggingConfiguration=logging),
        "KmsAccessDeniedException",
    )
    admitting = admitting_delivery_for(ACCOUNT)
    # The key admits delivery, but the execution role may not make the logs' data key.
    message = both_ways(
        emulator,
        lambda: create(admitting, bare_role, loggingConfiguration=logging),
        "KmsAccessDeniedException",
    )
    assert bare_role.rsplit("/", 1)[1] in message
    create(admitting, loggingConfiguration=logging)


def test_a_trail_encrypted_with_a_key_that_does_not_admit_cloudtrail_is_refused(
    account: Account, emulator: Emulator
) -> None:
    trails = emulator.client("cloudtrail")
    bucket = trail_bucket(emulator, unique("deny-trail"))

    def create(key: str) -> None:
        trails.create_trail(Name=unique("deny-trail"), S3BucketName=bucket, KmsKeyId=key)

    closed = account.key(ROOT_KEY_STATEMENT)
    message = both_ways(emulator, lambda: create(closed), "InsufficientEncryptionPolicyException")
    assert "cloudtrail.amazonaws.com" in message
    # What modules/kms writes for the logs key: this account's trails only.
    trails_only = {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "StringLike": {
            "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{ACCOUNT}:trail/*"
        },
    }
    for_another_account = account.key(
        ROOT_KEY_STATEMENT,
        {
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": ["kms:GenerateDataKey*", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": "999999999999"}},
        },
    )
    both_ways(
        emulator, lambda: create(for_another_account), "InsufficientEncryptionPolicyException"
    )
    admits_trails = account.key(
        ROOT_KEY_STATEMENT,
        {
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:GenerateDataKey*",
            "Resource": "*",
            "Condition": trails_only,
        },
        {
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:DescribeKey",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        },
    )
    create(admits_trails)


def test_a_grant_lets_its_grantee_use_the_key_within_its_constraints_only(
    account: Account, emulator: Emulator
) -> None:
    kms = emulator.client("kms")
    key = account.key(ROOT_KEY_STATEMENT)
    grantee, retirer, stranger = account.role(), account.role(), account.role()
    user = account.session(grantee, "kms")

    def encrypt(context: dict[str, str]) -> None:
        user.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext=context)

    def grant() -> dict[str, Any]:
        return dict(
            kms.create_grant(
                KeyId=key,
                GranteePrincipal=grantee,
                RetiringPrincipal=retirer,
                Operations=["Encrypt", "Decrypt"],
                Constraints={"EncryptionContextSubset": {"purpose": "test"}},
            )
        )

    # No policy lets the role use the key; without a grant it may not.
    both_ways(emulator, lambda: encrypt({"purpose": "test"}))
    first = grant()
    encrypt({"purpose": "test", "other": "1"})
    # Outside the grant's constraint, or for an operation it does not list, nothing allows it.
    both_ways(emulator, lambda: encrypt({"purpose": "other"}))
    both_ways(emulator, lambda: user.generate_data_key(KeyId=key, KeySpec="AES_256"))
    # Only the retiring principal (or a grantee the grant allows) retires a grant.
    as_stranger, as_retirer = account.session(stranger, "kms"), account.session(retirer, "kms")
    with enforcement(emulator, on=False):
        as_stranger.retire_grant(KeyId=key, GrantId=first["GrantId"])
    second = grant()
    denied(lambda: as_stranger.retire_grant(KeyId=key, GrantId=second["GrantId"]))
    # RevokeGrant is decided by the key and identity policies, which allow the stranger nothing.
    denied(lambda: as_stranger.revoke_grant(KeyId=key, GrantId=second["GrantId"]))
    as_retirer.retire_grant(GrantToken=second["GrantToken"])
    denied(lambda: encrypt({"purpose": "test"}))


def test_creating_a_grant_is_decided_with_the_grants_condition_keys(
    account: Account, emulator: Emulator
) -> None:
    key = account.key(ROOT_KEY_STATEMENT)
    grantee = account.role()
    # The modules' pattern: grants only for AWS resources, and only to decrypt.
    creator = account.session(
        account.role(
            {
                "Effect": "Allow",
                "Action": "kms:CreateGrant",
                "Resource": key,
                "Condition": {
                    "Bool": {"kms:GrantIsForAWSResource": "true"},
                    "ForAllValues:StringEquals": {"kms:GrantOperations": ["Decrypt"]},
                },
            }
        ),
        "kms",
    )
    both_ways(
        emulator,
        lambda: creator.create_grant(KeyId=key, GranteePrincipal=grantee, Operations=["Decrypt"]),
    )
    scoped = account.session(
        account.role(
            {
                "Effect": "Allow",
                "Action": "kms:CreateGrant",
                "Resource": key,
                "Condition": {"ForAllValues:StringEquals": {"kms:GrantOperations": ["Decrypt"]}},
            }
        ),
        "kms",
    )
    scoped.create_grant(KeyId=key, GranteePrincipal=grantee, Operations=["Decrypt"])
    both_ways(
        emulator,
        lambda: scoped.create_grant(
            KeyId=key, GranteePrincipal=grantee, Operations=["Decrypt", "Encrypt"]
        ),
    )


def test_a_grantee_may_not_create_a_grant_wider_than_its_own(
    account: Account, emulator: Emulator
) -> None:
    key = account.key(ROOT_KEY_STATEMENT)
    grantee = account.role()
    emulator.client("kms").create_grant(
        KeyId=key,
        GranteePrincipal=grantee,
        Operations=["CreateGrant", "Decrypt"],
        Constraints={"EncryptionContextSubset": {"purpose": "test"}},
    )
    user = account.session(grantee, "kms")

    def delegate(operations: list[str], constraints: dict[str, Any]) -> None:
        user.create_grant(
            KeyId=key, GranteePrincipal=grantee, Operations=operations, Constraints=constraints
        )

    within = {"EncryptionContextSubset": {"purpose": "test", "table": "t"}}
    delegate(["Decrypt"], within)
    both_ways(emulator, lambda: delegate(["Decrypt", "Encrypt"], within))
    both_ways(emulator, lambda: delegate(["Decrypt"], {"EncryptionContextSubset": {"x": "1"}}))


def test_a_trail_whose_bucket_policy_does_not_admit_cloudtrail_is_refused(
    emulator: Emulator,
) -> None:
    s3, trails = emulator.client("s3"), emulator.client("cloudtrail")
    bare = unique("deny-trail-bucket")
    s3.create_bucket(Bucket=bare)
    message = both_ways(
        emulator,
        lambda: trails.create_trail(Name=unique("deny-trail"), S3BucketName=bare),
        "InsufficientS3BucketPolicyException",
    )
    assert bare in message
    trails.create_trail(
        Name=unique("deny-trail"), S3BucketName=trail_bucket(emulator, unique("deny-trail"))
    )


def stream_reader(resource: str) -> dict[str, Any]:
    """What Lambda's poller needs to read a stream as the function's role."""
    return {
        "Effect": "Allow",
        "Action": [
            "kinesis:GetRecords",
            "kinesis:GetShardIterator",
            "kinesis:DescribeStream",
            "kinesis:ListShards",
        ],
        "Resource": resource,
    }


FAILING = """
def handler(event, context):
    raise RuntimeError("always fails")
"""


def test_lambda_sends_a_failed_batch_to_its_destination_only_as_the_role_may(
    account: Account, emulator: Emulator
) -> None:
    key = account.key(ROOT_KEY_STATEMENT)
    kinesis, sqs = emulator.client("kinesis"), emulator.client("sqs")

    def failing_batch_to_new_queue(function: str) -> str:
        """A stream whose one record the function fails on, its on-failure queue (encrypted
        with the key) and the mapping between them; the queue's URL."""
        url = sqs.create_queue(QueueName=unique("deny-dest"), Attributes={"KmsMasterKeyId": key})[
            "QueueUrl"
        ]
        queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        stream = unique("deny-dest")
        kinesis.create_stream(StreamName=stream, ShardCount=1)
        description = kinesis.describe_stream(StreamName=stream)["StreamDescription"]
        emulator.client("lambda").create_event_source_mapping(
            EventSourceArn=description["StreamARN"],
            FunctionName=function,
            StartingPosition="TRIM_HORIZON",
            MaximumRetryAttempts=0,
            DestinationConfig={"OnFailure": {"Destination": queue_arn}},
        )
        kinesis.put_record(StreamName=stream, Data=b"{}", PartitionKey="p")
        return str(url)

    def received(url: str) -> list[Any]:
        return list(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []))

    # Lambda reads the stream as the role too.
    read = stream_reader("*")
    # The role may send to the queue but not use its key through SQS.
    send = {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}
    send_only = create_function(emulator, account.role(read, send), FAILING, "failing")
    with enforcement(emulator, on=False):
        allowed = failing_batch_to_new_queue(send_only)
        assert wait_for(lambda: received(allowed), timeout_s=60)
    refused = failing_batch_to_new_queue(send_only)
    through_sqs = {
        "Effect": "Allow",
        "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
        "Resource": key,
        "Condition": {"StringEquals": {"kms:ViaService": f"sqs.{REGION}.amazonaws.com"}},
    }
    with_key = create_function(emulator, account.role(read, send, through_sqs), FAILING, "failing")
    granted = failing_batch_to_new_queue(with_key)
    # Started after the refused one, so once it is delivered the refused one had its chance.
    assert wait_for(lambda: received(granted), timeout_s=60)
    assert not received(refused)


NOOP = """
def handler(event, context):
    return {"seen": event}
"""


def ran(emulator: Emulator, function: str) -> bool:
    """Whether the function has run: Lambda wrote its log group."""
    logs = emulator.client("logs")
    try:
        streams = logs.describe_log_streams(logGroupName=f"/aws/lambda/{function}")
    except logs.exceptions.ResourceNotFoundException:
        return False
    return bool(streams["logStreams"])


def processing_result(emulator: Emulator, mapping: str) -> str:
    answer = emulator.client("lambda").get_event_source_mapping(UUID=mapping)
    return str(answer.get("LastProcessingResult", ""))


def mapping_refused_while_enforced(emulator: Emulator, source_arn: str, function: str) -> str:
    """CreateEventSourceMapping for a role that may not read the source: created without
    enforcement (and deleted again), refused with it; the refusal's message."""
    lambdas = emulator.client("lambda")

    def create_and_delete() -> None:
        extra = {} if ":sqs:" in source_arn else {"StartingPosition": "TRIM_HORIZON"}
        created = lambdas.create_event_source_mapping(
            EventSourceArn=source_arn, FunctionName=function, **extra
        )
        lambdas.delete_event_source_mapping(UUID=created["UUID"])

    return both_ways(emulator, create_and_delete, "InvalidParameterValueException")


def test_a_mapping_reads_its_stream_only_as_the_function_role_may(
    account: Account, emulator: Emulator
) -> None:
    key = account.key(ROOT_KEY_STATEMENT)
    kinesis, lambdas = emulator.client("kinesis"), emulator.client("lambda")
    stream = unique("deny-esm")
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    kinesis.start_stream_encryption(StreamName=stream, EncryptionType="KMS", KeyId=key)
    stream_arn = kinesis.describe_stream(StreamName=stream)["StreamDescription"]["StreamARN"]
    read = stream_reader(stream_arn)
    decrypt = {
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": key,
        "Condition": {
            "StringEquals": {
                "kms:ViaService": f"kinesis.{REGION}.amazonaws.com",
                "kms:EncryptionContext:aws:kinesis:arn": stream_arn,
            }
        },
    }
    # A role that may not read the stream gets no mapping (Lambda checks it at creation).
    message = mapping_refused_while_enforced(
        emulator, stream_arn, create_function(emulator, account.role(), NOOP, "noop")
    )
    assert f"Cannot access stream {stream_arn}" in message

    def mapping(*statements: dict[str, Any]) -> tuple[str, str]:
        function = create_function(emulator, account.role(*statements), NOOP, "noop")
        created = lambdas.create_event_source_mapping(
            EventSourceArn=stream_arn, FunctionName=function, StartingPosition="TRIM_HORIZON"
        )
        return function, str(created["UUID"])

    # One that may read it but not decrypt it with the stream's key delivers nothing.
    keyless, refused = mapping(read)
    granted, delivering = mapping(read, decrypt)
    kinesis.put_record(StreamName=stream, Data=b"{}", PartitionKey="p")
    assert wait_for(lambda: ran(emulator, granted), timeout_s=60)
    assert wait_for(lambda: processing_result(emulator, refused).startswith("PROBLEM"))
    assert "kms:Decrypt" in processing_result(emulator, refused)
    assert processing_result(emulator, delivering) == "OK"
    assert not ran(emulator, keyless)


def test_a_mapping_reads_its_queue_only_as_the_function_role_may(
    account: Account, emulator: Emulator
) -> None:
    key = account.key(ROOT_KEY_STATEMENT)
    sqs, iam = emulator.client("sqs"), emulator.client("iam")
    url = sqs.create_queue(QueueName=unique("deny-esm"), Attributes={"KmsMasterKeyId": key})[
        "QueueUrl"
    ]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    receive = {
        "Effect": "Allow",
        "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
        "Resource": queue_arn,
    }
    message = mapping_refused_while_enforced(
        emulator, queue_arn, create_function(emulator, account.role(), NOOP, "noop")
    )
    assert "does not have permissions to call ReceiveMessage on SQS" in message
    # The role may receive, but not decrypt with the queue's key through SQS: nothing is taken.
    role = account.role(receive)
    function = create_function(emulator, role, NOOP, "noop")
    mapping = emulator.client("lambda").create_event_source_mapping(
        EventSourceArn=queue_arn, FunctionName=function, BatchSize=1
    )["UUID"]
    sqs.send_message(QueueUrl=url, MessageBody="{}")
    assert wait_for(lambda: processing_result(emulator, mapping).startswith("PROBLEM"))
    assert "kms:Decrypt" in processing_result(emulator, mapping)
    waiting = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert waiting["Attributes"]["ApproximateNumberOfMessages"] == "1"
    assert not ran(emulator, function)
    # Once the role may use the key through SQS, the mapping delivers what waited.
    iam.put_role_policy(
        RoleName=role.rsplit("/", 1)[1],
        PolicyName="queue-key",
        PolicyDocument=policy(
            {
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": key,
                "Condition": {"StringEquals": {"kms:ViaService": f"sqs.{REGION}.amazonaws.com"}},
            }
        ),
    )
    assert wait_for(lambda: ran(emulator, function), timeout_s=30)
    assert wait_for(lambda: processing_result(emulator, mapping) == "OK")


def test_asynchronous_invocation_records_reach_their_destinations_as_the_role_may(
    account: Account, emulator: Emulator
) -> None:
    sqs, lambdas = emulator.client("sqs"), emulator.client("lambda")

    def queue() -> tuple[str, str]:
        url = sqs.create_queue(QueueName=unique("deny-async"))["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        return str(url), str(arn)

    (successes, success_arn), (failures, failure_arn) = queue(), queue()
    send = {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": [success_arn, failure_arn]}

    def function(source: str, *statements: dict[str, Any], **settings: Any) -> str:
        name = create_function(emulator, account.role(*statements), source, "destined")
        lambdas.put_function_event_invoke_config(
            FunctionName=name,
            DestinationConfig={
                "OnSuccess": {"Destination": success_arn},
                "OnFailure": {"Destination": failure_arn},
            },
            **settings,
        )
        lambdas.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"by": name}))
        return name

    def records(url: str) -> list[dict[str, Any]]:
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        return [json.loads(message["Body"]) for message in answer.get("Messages", [])]

    # Lambda sends the success record as the function's role: one that may not send gets none.
    mute = function(NOOP)
    sending = function(NOOP, send)
    # Lambda's first retry comes about a minute after the first attempt: an event that may be
    # at most a minute old is not retried.
    failing = function(FAILING, send, MaximumRetryAttempts=2, MaximumEventAgeInSeconds=60)
    [success] = wait_for(lambda: records(successes), timeout_s=60)
    assert success["requestContext"]["condition"] == "Success"
    assert success["requestPayload"] == {"by": sending}
    assert success["responsePayload"] == {"seen": {"by": sending}}
    [failure] = wait_for(lambda: records(failures), timeout_s=60)
    assert failure["requestContext"]["condition"] == "EventAgeExceeded"
    assert failure["requestContext"]["approximateInvokeCount"] == 1
    assert failure["requestPayload"] == {"by": failing}
    assert wait_for(lambda: ran(emulator, mute))
    assert not records(successes)


def test_lambda_decrypts_a_functions_environment_as_its_role_through_its_grant(
    account: Account, emulator: Emulator
) -> None:
    key = account.key(ROOT_KEY_STATEMENT)
    kms, lambdas = emulator.client("kms"), emulator.client("lambda")
    role = account.role()  # no key permission of its own: Lambda's grant is what lets it decrypt

    def create(client: Any) -> str:
        name = unique("env-key")
        client.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=role,
            Handler="noop.handler",
            Code={"ZipFile": zip_source("noop", NOOP)},
            Environment={"Variables": {"SETTING": "1"}},
            KMSKeyArn=key,
        )
        return name

    # Lambda creates its grant with the caller's permissions: a caller without kms:CreateGrant
    # on the key may not configure it.
    creator = account.session(
        account.role({"Effect": "Allow", "Action": "lambda:CreateFunction", "Resource": "*"}),
        "lambda",
    )
    message = both_ways(emulator, lambda: create(creator), "InvalidParameterValueException")
    assert "kms:CreateGrant" in message
    name = create(lambdas)
    function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    [grant] = [
        grant
        for grant in kms.list_grants(KeyId=key)["Grants"]
        if grant["GranteePrincipal"] == role
        and grant["Constraints"]
        == {"EncryptionContextEquals": {"aws:lambda:FunctionArn": function_arn}}
    ]
    assert grant["Operations"] == ["Decrypt"]

    def invoke() -> tuple[str | None, Any]:
        answer = lambdas.invoke(FunctionName=name, Payload=b"{}")
        return answer.get("FunctionError"), json.loads(answer["Payload"].read())

    assert invoke() == (None, {"seen": {}})
    # Without the grant the role may not decrypt the environment: the function does not start.
    kms.retire_grant(KeyId=key, GrantId=grant["GrantId"])
    with enforcement(emulator, on=False):
        assert invoke() == (None, {"seen": {}})
    error, payload = invoke()
    assert error is not None
    assert payload["errorType"] == "KMSAccessDeniedException"


def test_a_trail_delivers_to_cloudwatch_logs_only_through_a_role_cloudtrail_may_use(
    account: Account, emulator: Emulator
) -> None:
    logs, trails = emulator.client("logs"), emulator.client("cloudtrail")
    bucket = trail_bucket(emulator, unique("deny-trail-logs"))
    group = unique("/aws/cloudtrail/deny")
    logs.create_log_group(logGroupName=group)
    group_arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}"

    def writes_to(arn: str) -> dict[str, Any]:
        return {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{arn}:log-stream:*",
        }

    def create(role: str) -> None:
        trails.create_trail(
            Name=unique("deny-trail-logs"),
            S3BucketName=bucket,
            CloudWatchLogsLogGroupArn=f"{group_arn}:*",
            CloudWatchLogsRoleArn=role,
        )

    cloudtrail = trust_service("cloudtrail.amazonaws.com")
    code = "InvalidCloudWatchLogsRoleArnException"
    # A role CloudTrail may not assume (it trusts Lambda).
    message = both_ways(emulator, lambda: create(account.role(writes_to(group_arn))), code)
    assert "trust relationships" in message
    # A role CloudTrail may assume, but which may write to another log group only.
    elsewhere = account.role(writes_to(f"{group_arn}-other"), trust=cloudtrail)
    message = both_ways(emulator, lambda: create(elsewhere), code)
    assert "logs:CreateLogStream" in message
    create(account.role(writes_to(group_arn), trust=cloudtrail))


def test_a_secret_policy_naming_a_role_that_does_not_exist_is_refused(
    account: Account, emulator: Emulator
) -> None:
    secrets = emulator.client("secretsmanager")
    secret = secrets.create_secret(Name=unique("deny-principal"), SecretString="x")["ARN"]

    def naming(principal: str) -> str:
        return policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": principal},
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "*",
            }
        )

    missing = f"arn:aws:iam::{ACCOUNT}:role/{unique('never-created')}"
    message = both_ways(
        emulator,
        lambda: secrets.put_resource_policy(SecretId=secret, ResourcePolicy=naming(missing)),
        "MalformedPolicyDocumentException",
    )
    assert "unsupported principal" in message
    secrets.put_resource_policy(SecretId=secret, ResourcePolicy=naming(account.role()))


def test_a_users_permissions_boundary_caps_what_its_policies_allow(
    account: Account, emulator: Emulator
) -> None:
    iam = emulator.client("iam")
    table = account.table()
    name = unique("deny-user")
    reads_only = iam.create_policy(
        PolicyName=unique("deny-boundary"),
        PolicyDocument=policy({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}),
    )["Policy"]["Arn"]
    iam.create_user(UserName=name, PermissionsBoundary=reads_only)
    iam.put_user_policy(
        UserName=name,
        PolicyName="inline",
        PolicyDocument=policy(
            {"Effect": "Allow", "Action": "dynamodb:*", "Resource": table_arn(table)}
        ),
    )
    assert iam.get_user(UserName=name)["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == (
        reads_only
    )
    key = iam.create_access_key(UserName=name)["AccessKey"]
    user = boto3.client(
        "dynamodb",
        region_name=REGION,
        endpoint_url=emulator.endpoint,
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        config=Config(retries={"max_attempts": 1}),
    )
    user.get_item(TableName=table, Key={"pk": {"S": "a"}})
    message = both_ways(emulator, lambda: user.put_item(TableName=table, Item={"pk": {"S": "a"}}))
    assert "no permissions boundary allows the dynamodb:PutItem action" in message
    # Without the boundary, the user's own policy decides.
    iam.delete_user_permissions_boundary(UserName=name)
    user.put_item(TableName=table, Item={"pk": {"S": "a"}})


def test_dynamodb_creates_its_grant_on_a_tables_key_as_the_tables_creator(
    account: Account, emulator: Emulator
) -> None:
    key = account.key(ROOT_KEY_STATEMENT)
    kms = emulator.client("kms")
    service = f"dynamodb.{REGION}.amazonaws.com"

    def create(client: Any, name: str) -> None:
        client.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key},
        )

    def grants_for(name: str) -> list[dict[str, Any]]:
        table_context = {"aws:dynamodb:tableName": name, "aws:dynamodb:subscriberId": ACCOUNT}
        return [
            grant
            for grant in kms.list_grants(KeyId=key)["Grants"]
            if grant.get("Constraints") == {"EncryptionContextSubset": table_context}
        ]

    create_table = {"Effect": "Allow", "Action": "dynamodb:CreateTable", "Resource": "*"}
    # DynamoDB describes the key and creates its grant as the table's creator.
    without_key = account.session(account.role(create_table), "dynamodb")
    message = both_ways(emulator, lambda: create(without_key, unique("deny-grant")))
    assert "kms:DescribeKey" in message
    through_dynamodb = {"StringEquals": {"kms:ViaService": service}}
    describe = {
        "Effect": "Allow",
        "Action": "kms:DescribeKey",
        "Resource": key,
        "Condition": through_dynamodb,
    }
    describe_only = account.session(account.role(create_table, describe), "dynamodb")
    message = both_ways(emulator, lambda: create(describe_only, unique("deny-grant")))
    assert "kms:CreateGrant" in message
    grant_for_dynamodb = {
        "Effect": "Allow",
        "Action": "kms:CreateGrant",
        "Resource": key,
        "Condition": {**through_dynamodb, "Bool": {"kms:GrantIsForAWSResource": "true"}},
    }
    creator = account.session(account.role(create_table, describe, grant_for_dynamodb), "dynamodb")
    name = unique("deny-grant")
    create(creator, name)
    [grant] = grants_for(name)
    assert grant["GranteePrincipal"] == service
    assert grant["RetiringPrincipal"] == service
    assert {"GenerateDataKey", "Decrypt", "RetireGrant"} <= set(grant["Operations"])
    # Deleting the table retires it.
    emulator.client("dynamodb").delete_table(TableName=name)
    assert grants_for(name) == []
