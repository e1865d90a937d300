"""IAM and KMS key-policy enforcement in the emulator: what AWS would deny is denied here too.

moto authenticates requests and stores every policy, and has a switch for access control
(``INITIAL_NO_AUTH_ACTION_COUNT``, ``POST /moto-api/reset-auth``); this module keeps that switch
and moto's credential and signature checks, and replaces the decision (``local.iam_policy``) and
what it is asked: the IAM action, the resource ARN and the condition keys of each request.

Who is checked: requests signed with a session moto's STS issued (the execution role of each
Lambda worker and the role of each state machine, ``RoleSessions``) or an IAM user's key. Any
other key is the emulator's administrator, the account root (Terraform, the tests, the tools):
root is never refused by IAM, but key policies apply to it as on AWS.

What is evaluated (README, "How the local emulator differs from AWS"):
- identity policies of the role (inline and attached), explicit Deny first, for every service,
  with the resource ARN and condition keys worked out for DynamoDB, KMS, EventBridge, Step
  Functions, CloudWatch Logs, Lambda, S3, SQS, SNS, Kinesis, Firehose and Secrets Manager
  (others are checked on ``*``), capped by the role's permissions boundary and the session
  policy;
- KMS grants: the grantee's use within the grant's operations and constraints, CreateGrant's
  condition keys, the grants a grant allowing CreateGrant lets its grantee create (no wider
  than its own), who may retire a grant;
- KMS key policies for every KMS call naming a key, and for DynamoDB's on-behalf ``Decrypt`` of
  a table's customer managed key (as the caller, through ``dynamodb.<region>.amazonaws.com``,
  with the table-name context);
- the resource policy of an S3 bucket, SQS queue, SNS topic, Lambda function or EventBridge bus,
  joined with the identity policy by the same-account rule (``decide``), for role sessions and
  IAM users; ``aws:SecureTransport`` is true only on the emulator's TLS listener (``local.tls``);
- SQS, SNS and Step Functions using a queue's, topic's or state machine's customer managed key
  as the caller, Step Functions using it as the execution role, and Lambda sending failed events
  to a dead-letter queue or on-failure destination as the function's role;
- a log group, event bus, trail or logging state machine whose key policy does not admit
  CloudWatch Logs, EventBridge, CloudTrail or log delivery, and a trail whose bucket policy does
  not let CloudTrail write its log files;
- API Gateway invoking a function its policy does not admit, and stage logging without the
  account's CloudWatch Logs role;
- a key, bucket, queue, topic, secret or trust policy, or a Lambda permission, naming a role or
  user of the account that does not exist.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import functools
import json
import logging
import os
import re
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from local import iam_policy
from local.iam_policy import Decision, Effect, Principal, Request

LOG = logging.getLogger("local.enforcement")
# "off" (or 0/false) runs the emulator without enforcement, for debugging an access problem.
SWITCH = "LOCAL_IAM_ENFORCEMENT"
JSON_SERVICES = frozenset(
    {
        "dynamodb",
        "kms",
        "events",
        "states",
        "logs",
        "lambda",
        "secretsmanager",
        "kinesis",
        "firehose",
        "cloudtrail",
    }
)
PARTITION = "aws"
# The trust policy of an execution role: what RoleSessions requires of a function's role.
LAMBDA_TRUST_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def enabled_by_environment() -> bool:
    return os.environ.get(SWITCH, "on").strip().lower() not in ("0", "off", "false", "no")


def install(enforce: bool) -> None:
    """Route moto's authorization through this module; ``enforce`` sets moto's switch."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin

    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0 if enforce else float("inf")
    if getattr(ActionAuthenticatorMixin, "_payments_enforcement", False):
        return

    def authorize(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        if ActionAuthenticatorMixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT:
            ActionAuthenticatorMixin.request_count += 1
            return
        if self.headers.get("X-Amz-Target") in ActionAuthenticatorMixin.PUBLIC_OPERATIONS:
            return
        Authorizer(self, iam_request_cls, resource).check()

    setattr(ActionAuthenticatorMixin, "_authenticate_and_authorize_action", authorize)  # noqa: B010
    ActionAuthenticatorMixin._payments_enforcement = True  # type: ignore[attr-defined]
    _bucket_policies_decided_here()
    _api_gateway_logging_needs_the_account_role()
    _lambda_grants_its_environment_keys()
    _dynamodb_grants_its_table_keys()
    _users_carry_permissions_boundaries()


def _users_carry_permissions_boundaries() -> None:
    """An IAM user's permissions boundary (``CreateUser`` with ``PermissionsBoundary``,
    ``PutUserPermissionsBoundary``, ``DeleteUserPermissionsBoundary``), kept and returned as IAM
    does for roles, so ``Authorizer`` caps the user's requests by it; moto has none of it."""
    from moto.core.responses import EmptyResult
    from moto.iam.models import User
    from moto.iam.responses import IamResponse

    def boundary(self: Any) -> dict[str, str] | None:
        arn = getattr(self, "permissions_boundary_arn", None)
        return (
            {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn}
            if arn
            else None
        )

    create_user = IamResponse.create_user

    def set_boundary(response: Any, user_name: str, arn: str | None) -> None:
        user = response.backend.get_user(user_name)
        if arn:
            response.backend.get_policy(arn)  # NoSuchEntity for a policy that does not exist
        user.permissions_boundary_arn = arn or None

    def creating(self: Any) -> Any:
        arn = self._get_param("PermissionsBoundary")
        if arn:
            self.backend.get_policy(arn)
        answer = create_user(self)
        set_boundary(self, self._get_param("UserName"), arn)
        return answer

    def put_boundary(self: Any) -> Any:
        set_boundary(self, self._get_param("UserName"), self._get_param("PermissionsBoundary"))
        return EmptyResult()

    def delete_boundary(self: Any) -> Any:
        set_boundary(self, self._get_param("UserName"), None)
        return EmptyResult()

    setattr(User, "permissions_boundary", property(boundary))  # noqa: B010
    setattr(IamResponse, "create_user", creating)  # noqa: B010
    setattr(IamResponse, "put_user_permissions_boundary", put_boundary)  # noqa: B010
    setattr(IamResponse, "delete_user_permissions_boundary", delete_boundary)  # noqa: B010


def _dynamodb_grants_its_table_keys() -> None:
    """DynamoDB creates its grant on a table's customer managed key when the table gets the key
    and retires it when the table is deleted (``grant_table_key``); moto creates none."""
    from moto.dynamodb.models import DynamoDBBackend

    create_table = DynamoDBBackend.create_table
    update_table = DynamoDBBackend.update_table
    delete_table = DynamoDBBackend.delete_table

    def creating(self: Any, *args: Any, **kwargs: Any) -> Any:
        table = create_table(self, *args, **kwargs)
        grant_table_key(table)
        return table

    def updating(self: Any, *args: Any, **kwargs: Any) -> Any:
        table = update_table(self, *args, **kwargs)
        grant_table_key(table)
        return table

    def deleting(self: Any, name: str) -> Any:
        table = delete_table(self, name)
        grant_table_key(table, retire=True)
        return table

    setattr(DynamoDBBackend, "create_table", creating)  # noqa: B010
    setattr(DynamoDBBackend, "update_table", updating)  # noqa: B010
    setattr(DynamoDBBackend, "delete_table", deleting)  # noqa: B010


def _lambda_grants_its_environment_keys() -> None:
    """Lambda creates its grant on a function's environment key when the key is configured
    (``grant_environment_key``); moto creates none."""
    from moto.awslambda.models import LambdaBackend

    create_function = LambdaBackend.create_function
    update_configuration = LambdaBackend.update_function_configuration

    def creating(self: Any, spec: dict[str, Any]) -> Any:
        function = create_function(self, spec)
        grant_environment_key(function)
        return function

    def updating(self: Any, name: str, qualifier: str, body: dict[str, Any]) -> Any:
        answer = update_configuration(self, name, qualifier, body)
        with contextlib.suppress(Exception):  # Lambda answered the update itself
            grant_environment_key(self.get_function(name, qualifier))
        return answer

    setattr(LambdaBackend, "create_function", creating)  # noqa: B010
    setattr(LambdaBackend, "update_function_configuration", updating)  # noqa: B010


def _api_gateway_logging_needs_the_account_role() -> None:
    """API Gateway writes a stage's execution and access logs with the CloudWatch Logs role set
    once per account and Region (``UpdateAccount``, Terraform's ``aws_api_gateway_account``); a
    new account has none, and a stage update that turns logging on is refused until it is set
    ("Set up CloudWatch logging for REST APIs in API Gateway"). Setting it checks that API
    Gateway may assume the role. moto stores both without either check."""
    from moto.apigateway.exceptions import BadRequestException
    from moto.apigateway.models import APIGatewayBackend
    from moto.iam.models import iam_backends

    update_stage = APIGatewayBackend.update_stage
    update_account = APIGatewayBackend.update_account

    def turns_logging_on(operation: dict[str, Any]) -> bool:
        path, value = str(operation.get("path", "")), str(operation.get("value") or "")
        if operation.get("op") == "remove" or not value:
            return False
        if path.startswith("/accessLogSettings"):
            return True
        if path.endswith("/logging/loglevel"):
            return value.upper() != "OFF"
        return path.endswith("/logging/dataTrace") and value.lower() == "true"

    def checked_update_stage(
        self: Any, function_id: str, stage_name: str, patch_operations: Any
    ) -> Any:
        if (
            enforcing()
            and not self.account.cloudwatch_role_arn
            and any(turns_logging_on(operation) for operation in patch_operations or [])
        ):
            raise BadRequestException(
                "CloudWatch Logs role ARN must be set in account settings to enable logging"
            )
        return update_stage(self, function_id, stage_name, patch_operations)

    def checked_update_account(self: Any, patch_operations: list[dict[str, Any]]) -> Any:
        for operation in patch_operations:
            role_arn = str(operation.get("value") or "")
            if not enforcing() or "/cloudwatchRoleArn" not in operation.get("path", ""):
                continue
            if not role_arn:
                continue  # unsetting the role is always allowed
            account = self.account_id
            service = "apigateway.amazonaws.com"
            try:
                role = iam_backends[account][PARTITION].get_role_by_arn(role_arn)
                trust = str(role.assume_role_policy_document)
            except Exception:
                trust = ""
            request = Request(
                Principal(service, account, service),
                "sts:AssumeRole",
                role_arn,
                {"aws:SourceAccount": [account]},
            )
            if not trust or not iam_policy.evaluate([trust], request, resource_policy=True).allowed:
                raise BadRequestException(
                    "The role ARN does not have required permissions set to API Gateway"
                )
        return update_account(self, patch_operations)

    setattr(APIGatewayBackend, "update_stage", checked_update_stage)  # noqa: B010
    setattr(APIGatewayBackend, "update_account", checked_update_account)  # noqa: B010


def _bucket_policies_decided_here() -> None:
    """moto also checks a bucket's policy on every object request, whoever signs it and whatever
    the switch says, and turns any statement whose condition it cannot read into a Deny: a
    TLS-only bucket (``Deny`` when ``aws:SecureTransport`` is ``false``) refused every object
    read, even an allowed one. The policy is decided with the caller's identity and transport in
    ``Authorizer`` instead, so moto's answer becomes "no opinion" (an anonymous request is then
    decided by the object's ACL alone, as moto does for a bucket without a policy)."""
    from moto.iam.access_control import PermissionResult
    from moto.s3.models import FakeBucket

    def get_permission(self: Any, action: str, resource: str) -> Any:
        return PermissionResult.NEUTRAL

    setattr(FakeBucket, "get_permission", get_permission)  # noqa: B010


@contextlib.contextmanager
def switched(endpoint_url: str, on: bool) -> Iterator[None]:
    """Enforcement on or off on a running emulator for a while (moto's own switch: authorize
    after 0 requests, or after infinitely many), then as it was."""

    def reset(count: str) -> str:
        url = f"{endpoint_url}/moto-api/reset-auth"
        # Plain text: a form body would be parsed away before moto reads the number.
        headers = {"Content-Type": "text/plain"}
        request = urllib.request.Request(url, count.encode(), headers, method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return str(json.loads(answer.read())["PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT"])

    previous = reset("0" if on else "inf")
    try:
        yield
    finally:
        reset(previous)


def enforcing() -> bool:
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin

    return bool(ActionAuthenticatorMixin.request_count >= settings.INITIAL_NO_AUTH_ACTION_COUNT)


@dataclass(frozen=True)
class Caller:
    principal: Principal
    # Identity policy documents; None for the root user, whom IAM never refuses.
    identity_policies: list[str] | None
    # The role's permissions boundary and the session policy passed to AssumeRole: each caps
    # what the identity policies (and a resource policy naming the role) grant, and its Deny
    # refuses; neither grants anything on its own.
    boundary: str | None = None
    session_policy: str | None = None


class Authorizer:
    """One request: who signed it, what it asks, and whether the policies allow it."""

    def __init__(self, response: Any, iam_request_cls: type, resource: str) -> None:
        self.response = response
        self.iam_request_cls = iam_request_cls
        self.moto_resource = resource
        self.account = str(response.current_account)
        self.region = str(response.region)
        authorization = response.headers.get("Authorization", "")
        scope = between(authorization, "Credential=", ",").split("/")
        self.access_key_id = scope[0]
        self.service = scope[3] if len(scope) > 3 else str(response.service_name)
        try:
            self.operation = str(response._get_action())
        except Exception:
            self.operation = "*"

    def check(self) -> None:
        caller = self.caller()
        if caller is None:
            return
        self.require_existing_principals()
        if caller.identity_policies is None and self.service not in ROOT_CHECKED_SERVICES:
            return  # root: only resource and key policies can refuse it
        if (self.service, self.operation) == ("sts", "GetCallerIdentity"):
            return  # allowed to every principal, whatever its policies say
        for request in self.requests(caller.principal):
            self.require(caller, request)
        if self.service == "dynamodb":
            for request in self.dynamodb_key_requests(caller.principal):
                self.require(caller, request, through="dynamodb")
            for request in self.table_grant_requests(caller.principal):
                self.require(caller, request, through="dynamodb")
        if self.service in ("sqs", "sns"):
            for request in self.message_key_requests(caller.principal):
                self.require(caller, request, through=self.service.upper())
        if self.service == "states":
            for request in self.state_machine_key_requests(caller.principal):
                self.require(caller, request, through="Step Functions")
            self.require_execution_role_key_use()
            self.require_log_delivery_key_use()
        if self.service == "logs":
            for request in self.logs_key_requests():
                self.require_service_key_use(request)
        if self.service == "events":
            for request in self.event_bus_key_requests():
                self.require_service_key_use(request)
        if self.service == "kms" and self.operation == "RetireGrant":
            self.require_grant_retirer(caller)
        if self.service == "lambda":
            self.require_environment_key_grant(caller)
        if self.service == "cloudtrail":
            for request in self.trail_key_requests():
                self.require_service_key_use(request, code="InsufficientEncryptionPolicyException")
            self.require_trail_log_delivery_role()
            self.require_trail_bucket_policy()

    def require_existing_principals(self) -> None:
        """A key, bucket, queue, topic, function or trust policy naming an IAM role or user of
        the account that does not exist is refused when it is set, as each service refuses it
        (a new account has none of the roles a policy may name): create them first."""
        from moto.iam.models import iam_backends

        operations, code, message = INVALID_PRINCIPAL_ERRORS.get(
            self.service, (frozenset(), "", "")
        )
        if self.operation not in operations:
            return
        iam = iam_backends[self.account][PARTITION]
        for name in self.principals_set():
            match = re.fullmatch(rf"arn:aws:iam::{self.account}:(role|user)/(?:.*/)?([^/]+)", name)
            if match is None:
                continue
            known = iam.roles if match[1] == "role" else iam.users
            if not any(
                entity.arn == name or getattr(entity, "name", None) == match[2]
                for entity in known.values()
            ):
                LOG.info("refused: %s (%s does not exist)", message, name)
                raise invalid_request(self.service, code, message.format(name=name))

    def principals_set(self) -> list[str]:
        """The IAM principals named by the policy (or Lambda permission) a request sets."""
        body, service = self.body(), self.service
        if service == "lambda":
            return [str(body.get("Principal") or "")]
        document: Any = None
        if service == "kms":
            document = body.get("Policy")
        elif service == "sqs":
            document = (body.get("Attributes") or {}).get("Policy")
        elif service == "s3":
            raw = self.response.raw_body
            document = raw.decode() if isinstance(raw, bytes) else raw
        elif service == "iam":
            document = self.param("AssumeRolePolicyDocument") or self.param("PolicyDocument")
        elif service == "sns":
            document = self.sns_policy_attribute()
        elif service == "secretsmanager":
            document = body.get("ResourcePolicy")
        try:
            statements = iam_policy.parse(str(document)) if document else ()
        except (ValueError, AttributeError):
            return []  # the service answers a malformed document itself
        names: list[str] = []
        for statement in statements:
            principal = statement.get("Principal")
            if isinstance(principal, dict):
                names += [str(name) for name in iam_policy.as_list(principal.get("AWS"))]
        return names

    def param(self, name: str) -> str | None:
        try:
            value = self.response._get_param(name)
        except Exception:
            return None
        return str(value) if value else None

    def sns_policy_attribute(self) -> str | None:
        if self.operation == "SetTopicAttributes":
            return self.param("AttributeValue") if self.param("AttributeName") == "Policy" else None
        try:
            # CreateTopic: moto parses the Attributes map into a dict.
            attributes = self.response._get_param("Attributes") or {}
        except Exception:
            return None
        policy = attributes.get("Policy") if isinstance(attributes, dict) else None
        return str(policy) if policy else None

    # Who -------------------------------------------------------------------------------------

    def caller(self) -> Caller | None:
        from moto.iam.models import iam_backends
        from moto.sts.models import sts_backends

        if not self.access_key_id:
            return None
        root = Principal(f"arn:{PARTITION}:iam::{self.account}:root", self.account)
        session = sts_backends[self.account][PARTITION].get_assumed_role_from_access_key(
            self.access_key_id
        )
        user_key = self.access_key_id.startswith("AKIA") and any(
            key.access_key_id == self.access_key_id
            for user in iam_backends[self.account][PARTITION].users.values()
            for key in user.access_keys
        )
        if session is None and not user_key:
            # Not a key moto issued: the emulator's own credentials, the account root.
            return Caller(root, None)
        if session is not None and session.expiration < utcnow():
            raise access_error(self.service, "ExpiredTokenException", "The security token expired")
        iam_request = self.iam_request_cls(
            account_id=self.account,
            method=self.response.method,
            path=self.path_with_query(),
            data=self.response.data,
            body=self.response.raw_body,
            headers=self.response.headers,
            action=self.operation,
        )
        iam_request.check_signature()
        key = iam_request._access_key
        return Caller(
            Principal(key.arn, self.account),
            policy_documents(key.collect_policies()),
            boundary=(
                role_boundary(self.account, session.role_arn)
                if session
                else user_boundary(self.account, key.arn)
            ),
            session_policy=(session.policy or None) if session else None,
        )

    def path_with_query(self) -> str:
        from urllib.parse import urlparse

        path = str(self.response.raw_path)
        query = urlparse(self.response.uri).query
        return f"{path}?{query}" if query else path

    # What ------------------------------------------------------------------------------------

    @functools.cached_property
    def parsed_body(self) -> dict[str, Any]:
        # The request as sent: moto replaces ``body`` with its own parse for some services.
        try:
            parsed = json.loads(self.response.raw_body or b"{}")
        except (TypeError, ValueError):
            return {}
        return parsed if isinstance(parsed, dict) else {}

    def body(self) -> dict[str, Any]:
        return self.parsed_body

    def arn(self, service: str, resource: str) -> str:
        return f"arn:{PARTITION}:{service}:{self.region}:{self.account}:{resource}"

    def requests(self, principal: Principal) -> Iterator[Request]:
        body = self.body()
        service, operation = self.service, self.operation
        if service == "dynamodb":
            for action, resource, context in self.dynamodb_items(body):
                yield Request(principal, f"dynamodb:{action}", resource, context)
            return
        if service == "kms":
            yield from self.kms_requests(principal, body)
            return
        if service == "events" and operation == "PutEvents":
            for entry in body.get("Entries", []):
                bus = entry.get("EventBusName") or "default"
                bus_arn = bus if bus.startswith("arn:") else self.arn("events", f"event-bus/{bus}")
                context = {
                    "events:source": [str(entry.get("Source", ""))],
                    "events:detail-type": [str(entry.get("DetailType", ""))],
                }
                yield Request(principal, "events:PutEvents", bus_arn, context)
            return
        yield Request(principal, self.iam_action(), self.resource(body), {})

    def iam_action(self) -> str:
        operation = IAM_ACTION_NAMES.get((self.service, self.operation), self.operation)
        return f"{self.service}:{operation}"

    def resource(self, body: dict[str, Any]) -> str:
        service = self.service
        if service == "sns":
            try:
                topic = self.response._get_param("TopicArn") or self.response._get_param(
                    "TargetArn"
                )
            except Exception:
                topic = None
            if topic:
                return str(topic)
        if service == "states":
            for field in ("stateMachineArn", "executionArn", "activityArn"):
                if body.get(field):
                    return str(body[field])
        if service == "logs":
            group = body.get("logGroupName") or body.get("logGroupIdentifier")
            if group:
                if str(group).startswith("arn:"):
                    return str(group).removesuffix(":*")
                arn = self.arn("logs", f"log-group:{group}")
                stream = body.get("logStreamName")
                return f"{arn}:log-stream:{stream}" if stream else arn
        if service == "lambda":
            match = re.search(r"/functions/([^/]+)", str(self.response.path))
            if match:
                from urllib.parse import unquote

                name = unquote(match[1])
                arn = name if name.startswith("arn:") else self.arn("lambda", f"function:{name}")
                qualifier = self.response.querystring.get("Qualifier", [None])[0]
                return f"{arn}:{qualifier}" if qualifier else arn
        if service == "kinesis":
            return self.stream_resource(body) or self.moto_resource
        if service == "firehose" and body.get("DeliveryStreamName"):
            return self.arn("firehose", f"deliverystream/{body['DeliveryStreamName']}")
        if service == "secretsmanager":
            return self.secret_resource(body) or self.moto_resource
        return self.moto_resource

    def stream_resource(self, body: dict[str, Any]) -> str | None:
        """The stream (or consumer) a Kinesis request acts on; GetRecords names it only
        through its shard iterator, which moto composes from the stream's name."""
        from moto.kinesis.utils import decompose_shard_iterator

        if body.get("ConsumerARN"):
            return str(body["ConsumerARN"])
        stream = body.get("StreamARN") or body.get("StreamName")
        if not stream and body.get("ShardIterator"):
            with contextlib.suppress(Exception):  # Kinesis answers a bad iterator itself
                stream = decompose_shard_iterator(str(body["ShardIterator"]))[0]
        if not stream:
            return None
        stream = str(stream)
        return stream if stream.startswith("arn:") else self.arn("kinesis", f"stream/{stream}")

    def secret_resource(self, body: dict[str, Any]) -> str | None:
        """The ARN of the secret a request names (by name or ARN). A secret being created has
        no ARN yet: its name and the six characters Secrets Manager appends stand for it, which
        the usual ``secret:<name>-*`` or ``secret:<name>-??????`` patterns match."""
        from moto.secretsmanager.models import secretsmanager_backends

        if self.operation == "CreateSecret" and body.get("Name"):
            return self.arn("secretsmanager", f"secret:{body['Name']}-??????")
        secret_id = body.get("SecretId")
        if not secret_id:
            return None
        secret = secretsmanager_backends[self.account][self.region].secrets.get(str(secret_id))
        return str(secret.arn) if secret is not None else None

    # DynamoDB --------------------------------------------------------------------------------

    def table(self, name: str) -> Any:
        from moto.dynamodb.models import dynamodb_backends

        name = name.rsplit("/", 1)[-1]
        try:
            return dynamodb_backends[self.account][self.region].get_table(name)
        except Exception:
            return None  # moto answers ResourceNotFoundException itself

    def table_arn(self, name: str) -> str:
        return name if name.startswith("arn:") else self.arn("dynamodb", f"table/{name}")

    def dynamodb_items(self, body: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(IAM action, resource, context) per item: a transaction is authorized item by item
        with the item's own action, a batch per table with the leading keys of all its items."""
        operation = self.operation
        if operation in ("TransactWriteItems", "TransactGetItems"):
            actions = {
                "Put": "PutItem",
                "Update": "UpdateItem",
                "Delete": "DeleteItem",
                "ConditionCheck": "ConditionCheckItem",
                "Get": "GetItem",
            }
            for item in body.get("TransactItems", []):
                for kind, spec in item.items():
                    name = str(spec.get("TableName", ""))
                    keys = self.leading_keys(name, [spec.get("Key") or spec.get("Item") or {}])
                    yield actions[kind], self.table_arn(name), keys
            return
        if operation in ("BatchWriteItem", "BatchGetItem"):
            for name, entries in (body.get("RequestItems") or {}).items():
                if operation == "BatchGetItem":
                    items = list(entries.get("Keys", []))
                else:
                    items = [
                        request.get("PutRequest", {}).get("Item")
                        or request.get("DeleteRequest", {}).get("Key")
                        or {}
                        for request in entries
                    ]
                yield operation, self.table_arn(name), self.leading_keys(name, items)
            return
        name = str(body.get("TableName") or "")
        if not name:
            yield operation, self.moto_resource, {}
            return
        resource = self.table_arn(name)
        if body.get("IndexName"):
            resource += f"/index/{body['IndexName']}"
        if operation == "Query":
            yield operation, resource, self.query_leading_keys(name, body)
        elif body.get("Key") or body.get("Item"):
            yield operation, resource, self.leading_keys(name, [body.get("Key") or body["Item"]])
        else:
            yield operation, resource, {}

    def leading_keys(self, name: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        table = self.table(name)
        if table is None:
            return {}
        # An item without the table's key is moto's ValidationException to give, as on AWS.
        key = table.hash_key_attr
        values = [attribute_text(item[key]) for item in items if item and key in item]
        return {"dynamodb:LeadingKeys": values} if values else {}

    def query_leading_keys(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        table = self.table(name)
        if table is None:
            return {}
        hash_key = table.hash_key_attr
        for index in [*table.indexes, *table.global_indexes]:
            if index.name == body.get("IndexName"):
                hash_key = next(k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH")
        names = body.get("ExpressionAttributeNames") or {}
        values = body.get("ExpressionAttributeValues") or {}
        expression = str(body.get("KeyConditionExpression") or "")
        for attribute, placeholder in re.findall(r"([#\w.]+)\s*=\s*(:\w+)", expression):
            if names.get(attribute, attribute) == hash_key and placeholder in values:
                return {"dynamodb:LeadingKeys": [attribute_text(values[placeholder])]}
        condition = (body.get("KeyConditions") or {}).get(hash_key)
        if condition and condition.get("AttributeValueList"):
            return {"dynamodb:LeadingKeys": [attribute_text(condition["AttributeValueList"][0])]}
        return {}

    def dynamodb_key_requests(self, principal: Principal) -> Iterator[Request]:
        """DynamoDB reads a customer managed table key with KMS as the caller ("How Amazon
        DynamoDB uses AWS KMS"): Decrypt, through DynamoDB, under the table-name context."""
        if self.operation not in DYNAMODB_DATA_OPERATIONS:
            return
        seen: set[str] = set()
        for _, resource, _ in self.dynamodb_items(self.body()):
            name = resource.split(":table/", 1)[-1].split("/", 1)[0]
            table = self.table(name)
            if table is None or name in seen:
                continue
            seen.add(name)
            key = self.kms_key((table.sse_specification or {}).get("KMSMasterKeyId") or "")
            if key is None or key_is_aws_managed(key):
                continue
            context = {
                "aws:dynamodb:tableName": name,
                "aws:dynamodb:subscriberId": self.account,
            }
            yield Request(
                principal,
                "kms:Decrypt",
                key.arn,
                {
                    **encryption_context_keys(context),
                    "kms:ViaService": [f"dynamodb.{self.region}.amazonaws.com"],
                    "kms:CallerAccount": [self.account],
                },
            )

    def table_grant_requests(self, principal: Principal) -> Iterator[Request]:
        """A table given a customer managed key (CreateTable, UpdateTable): DynamoDB describes
        the key and creates its grant as the caller, through DynamoDB (``grant_table_key``)."""
        body = self.body()
        if self.operation not in ("CreateTable", "UpdateTable"):
            return
        key = self.kms_key(str((body.get("SSESpecification") or {}).get("KMSMasterKeyId") or ""))
        if key is None or key_is_aws_managed(key):
            return
        service = f"dynamodb.{self.region}.amazonaws.com"
        via = {"kms:ViaService": [service], "kms:CallerAccount": [self.account]}
        yield Request(principal, "kms:DescribeKey", key.arn, via)
        grant = {
            **via,
            "kms:GrantIsForAWSResource": ["true"],
            "kms:GranteePrincipal": [service],
            "kms:RetiringPrincipal": [service],
            "kms:GrantOperations": list(TABLE_GRANT_OPERATIONS),
            "kms:GrantConstraintType": ["EncryptionContextSubset"],
        }
        yield Request(principal, "kms:CreateGrant", key.arn, grant)

    # KMS -------------------------------------------------------------------------------------

    def kms_key(self, key_id: str) -> Any:
        return kms_key(self.account, self.region, key_id)

    def kms_requests(self, principal: Principal, body: dict[str, Any]) -> Iterator[Request]:
        operation = self.operation
        context = body.get("EncryptionContext") or {}
        base = {**encryption_context_keys(context), "kms:CallerAccount": [self.account]}
        if operation == "CreateGrant":
            base.update(grant_condition_keys(body))
        if operation == "RetireGrant":
            return  # decided by the grant itself, not by any policy (require_grant_retirer)
        if operation == "ReEncrypt":
            source = self.ciphertext_key(body)
            source_context = body.get("SourceEncryptionContext") or {}
            if source is not None:
                yield Request(
                    principal,
                    "kms:ReEncryptFrom",
                    source.arn,
                    {
                        **encryption_context_keys(source_context),
                        "kms:CallerAccount": [self.account],
                    },
                )
            target = self.kms_key(str(body.get("DestinationKeyId") or ""))
            if target is not None:
                yield Request(principal, "kms:ReEncryptTo", target.arn, base)
            return
        key = self.kms_key(str(body.get("KeyId") or body.get("TargetKeyId") or ""))
        if key is None and operation == "Decrypt":
            key = self.ciphertext_key(body)
        if key is None:
            yield Request(principal, f"kms:{operation}", "*", base)
            return
        yield Request(principal, f"kms:{operation}", key.arn, base)

    def granted(self, caller: Caller, request: Request) -> bool:
        return key_granted(self.account, self.region, caller, request, self.new_grant_constraints())

    def new_grant_constraints(self) -> dict[str, Any]:
        """The constraints of the grant this request creates: the caller's own CreateGrant, or
        DynamoDB's for a table's key; Lambda's is passed by ``require_environment_key_grant``."""
        body = self.body()
        if self.service == "kms" and self.operation == "CreateGrant":
            return dict(body.get("Constraints") or {})
        if self.service == "dynamodb" and self.operation in ("CreateTable", "UpdateTable"):
            return table_grant_constraints(self.account, str(body.get("TableName") or ""))
        return {}

    def require_grant_retirer(self, caller: Caller) -> None:
        """RetireGrant is not controlled by a policy: the grant's retiring principal may retire
        it, and so may its grantee when the grant allows RetireGrant, and the account."""
        body = self.body()
        key = self.kms_key(str(body.get("KeyId") or ""))
        token = body.get("GrantToken")
        if key is not None and body.get("GrantId"):
            grants = [grant for grant in key.grants.values() if grant.id == body["GrantId"]]
        else:
            grants = [
                grant
                for each in self.kms_keys()
                for grant in each.grants.values()
                if token and grant.token == token
            ]
        principal = caller.principal
        names = (principal.arn, principal.principal_arn)
        for grant in grants:
            if (
                caller.identity_policies is None
                or grant.retiring_principal in names
                or (grant.grantee_principal in names and "RetireGrant" in grant.operations)
            ):
                return
            message = (
                f"User: {principal.arn} is not authorized to perform: kms:RetireGrant on grant "
                f"{grant.id}: it is neither the grant's retiring principal nor a grantee the "
                "grant allows to retire it"
            )
            LOG.info("denied: %s", message)
            raise access_error("kms", "AccessDeniedException", message)

    def kms_keys(self) -> list[Any]:
        from moto.kms.models import kms_backends

        return list(kms_backends[self.account][self.region].keys.values())

    def ciphertext_key(self, body: dict[str, Any]) -> Any:
        import base64

        from moto.kms.utils import _deserialize_ciphertext_blob

        try:
            blob = base64.b64decode(body["CiphertextBlob"])
            key_id = _deserialize_ciphertext_blob(blob).key_id.decode()
        except Exception:
            return None  # KMS answers InvalidCiphertextException itself
        return self.kms_key(key_id)

    # CloudWatch Logs -------------------------------------------------------------------------

    def logs_key_requests(self) -> Iterator[Request]:
        """A log group encrypted with a customer managed key: CloudWatch Logs uses the key as
        itself, so its key policy must admit ``logs.<region>.amazonaws.com`` for the group."""
        body = self.body()
        if self.operation not in ("CreateLogGroup", "AssociateKmsKey") or not body.get("kmsKeyId"):
            return
        key = self.kms_key(str(body["kmsKeyId"]))
        if key is None:
            return
        group = body.get("logGroupName") or body.get("logGroupIdentifier") or ""
        group_arn = self.arn("logs", f"log-group:{group}")
        service = f"logs.{self.region}.amazonaws.com"
        context = {
            **encryption_context_keys({"aws:logs:arn": group_arn}),
            "aws:SourceAccount": [self.account],
            "aws:SourceArn": [group_arn],
        }
        for action in ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"):
            yield Request(Principal(service, self.account, service), action, key.arn, context)

    # Services using a customer managed key ----------------------------------------------------

    def message_key_requests(self, principal: Principal) -> Iterator[Request]:
        yield from message_key_requests(
            principal, self.service, self.operation, self.resource(self.body())
        )

    def state_machine(self, arn: str) -> Any:
        from moto.stepfunctions.responses import get_backend

        try:
            # The backend moto answers with (its ASL interpreter's, when executions run).
            return get_backend(self.account, arn.split(":")[3]).describe_state_machine(arn)
        except Exception:
            return None  # Step Functions answers StateMachineDoesNotExist itself

    def customer_key(self, configuration: dict[str, Any] | None) -> Any:
        """The customer managed key of an encryption configuration, or None."""
        configuration = configuration or {}
        if configuration.get("type") != "CUSTOMER_MANAGED_KMS_KEY":
            return None
        key = self.kms_key(str(configuration.get("kmsKeyId") or ""))
        return None if key is None or key_is_aws_managed(key) else key

    def states_context(self, arn: str) -> dict[str, list[str]]:
        return {
            **encryption_context_keys({"aws:states:stateMachineArn": arn}),
            "kms:ViaService": [f"states.{self.region}.amazonaws.com"],
            "kms:CallerAccount": [self.account],
        }

    def state_machine_key_requests(self, principal: Principal) -> Iterator[Request]:
        """A state machine encrypted with a customer managed key: StartSyncExecution and the
        Describe calls return its definition, which "callers must have kms:Decrypt permission to
        decrypt" unless they ask for ``includedData = METADATA_ONLY`` (Step Functions API
        Reference, StartSyncExecution); Step Functions decrypts as the caller, through
        ``states.<region>.amazonaws.com``, with the state machine ARN as context."""
        operations = ("StartSyncExecution", "DescribeStateMachine")
        body = self.body()
        if self.operation not in operations or body.get("includedData") == "METADATA_ONLY":
            return
        arn = str(body.get("stateMachineArn") or "")
        machine = self.state_machine(arn)
        key = self.customer_key(machine.encryptionConfiguration) if machine else None
        if key is not None:
            yield Request(principal, "kms:Decrypt", key.arn, self.states_context(arn))

    def require_execution_role_key_use(self) -> None:
        """An execution of a state machine with a customer managed key: Step Functions encrypts
        its history and decrypts its definition with the key as the execution role
        (``kms:GenerateDataKey`` and ``kms:Decrypt`` under the state machine's context, "Data at
        rest encryption in Step Functions"), and refuses to start it otherwise
        (``KmsAccessDeniedException``)."""
        if self.operation not in ("StartExecution", "StartSyncExecution"):
            return
        arn = str(self.body().get("stateMachineArn") or "")
        machine = self.state_machine(arn)
        key = self.customer_key(machine.encryptionConfiguration) if machine else None
        if key is None:
            return
        role = role_caller(str(machine.roleArn), "StepFunctions")
        for action in ("kms:GenerateDataKey", "kms:Decrypt"):
            request = Request(role.principal, action, key.arn, self.states_context(arn))
            self.require(role, request, "Step Functions", code="KmsAccessDeniedException")

    def require_log_delivery_key_use(self) -> None:
        """Execution logs of a state machine with a customer managed key (any level but OFF):
        Step Functions encrypts what it hands to log delivery with that key as the execution role
        (``kms:GenerateDataKey`` with ``kms:EncryptionContext:SourceArn`` =
        ``arn:aws:logs:<region>:<account>:*``), and CloudWatch Logs' delivery service decrypts
        it as itself, so the key policy must admit ``delivery.logs.amazonaws.com`` for
        ``kms:Decrypt`` ("Data at rest encryption in Step Functions", CloudWatch Logs
        permissions). On AWS the logs are lost or the create/update is refused; here it is
        refused, so the gap shows before an execution needs its logs."""
        if self.operation not in ("CreateStateMachine", "UpdateStateMachine"):
            return
        body = self.body()
        current = self.state_machine(str(body.get("stateMachineArn") or ""))
        logging_configuration = body.get("loggingConfiguration") or getattr(
            current, "loggingConfiguration", {}
        )
        if str((logging_configuration or {}).get("level") or "OFF") == "OFF":
            return
        key = self.customer_key(
            body.get("encryptionConfiguration") or getattr(current, "encryptionConfiguration", {})
        )
        role_arn = str(body.get("roleArn") or getattr(current, "roleArn", ""))
        if key is None or not role_arn:
            return
        context = encryption_context_keys(
            {"SourceArn": f"arn:{PARTITION}:logs:{self.region}:{self.account}:*"}
        )
        delivery = "delivery.logs.amazonaws.com"
        self.require_service_key_use(
            Request(
                Principal(delivery, self.account, delivery),
                "kms:Decrypt",
                key.arn,
                {**context, "aws:SourceAccount": [self.account]},
            ),
            code="KmsAccessDeniedException",
        )
        role = role_caller(role_arn, "StepFunctions")
        request = Request(
            role.principal,
            "kms:GenerateDataKey",
            key.arn,
            {**context, "kms:CallerAccount": [self.account]},
        )
        self.require(role, request, "Step Functions log delivery", code="KmsAccessDeniedException")

    def event_bus_key_requests(self) -> Iterator[Request]:
        """A bus encrypted with a customer managed key: EventBridge uses the key as itself, so its
        key policy must admit ``events.amazonaws.com`` for DescribeKey, GenerateDataKey and
        Decrypt, with the bus ARN as context and source ("Authorizing EventBridge to use a
        customer managed key"). Checked when the bus is given the key and on every PutEvents."""
        from moto.events.models import events_backends

        body = self.body()
        buses: list[tuple[str, str]] = []
        if self.operation in ("CreateEventBus", "UpdateEventBus") and body.get("KmsKeyIdentifier"):
            name = str(body.get("Name") or "default")
            buses.append((self.arn("events", f"event-bus/{name}"), str(body["KmsKeyIdentifier"])))
        elif self.operation == "PutEvents":
            backend = events_backends[self.account][self.region]
            for name in {
                entry.get("EventBusName") or "default" for entry in body.get("Entries", [])
            }:
                try:
                    bus = backend.describe_event_bus(str(name))
                except Exception:  # EventBridge answers ResourceNotFoundException itself
                    bus = None
                if bus is not None and bus.kms_key_identifier:
                    buses.append((str(bus.arn), str(bus.kms_key_identifier)))
        service = "events.amazonaws.com"
        for bus_arn, key_id in buses:
            key = self.kms_key(key_id)
            if key is None or key_is_aws_managed(key):
                continue
            context = {
                **encryption_context_keys({"aws:events:event-bus:arn": bus_arn}),
                "aws:SourceAccount": [self.account],
                "aws:SourceArn": [bus_arn],
            }
            for action in ("kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt"):
                yield Request(Principal(service, self.account, service), action, key.arn, context)

    def trail_key_requests(self) -> Iterator[Request]:
        """A trail given a customer managed key: CloudTrail encrypts its log files with the key
        as itself, so the key policy must admit ``cloudtrail.amazonaws.com`` for DescribeKey
        and GenerateDataKey with the trail as ``aws:SourceArn`` and as the
        ``aws:cloudtrail:arn`` context ("Configure AWS KMS key policies for CloudTrail");
        CreateTrail and UpdateTrail are refused otherwise
        (``InsufficientEncryptionPolicyException``)."""
        body = self.body()
        if self.operation not in ("CreateTrail", "UpdateTrail") or not body.get("KmsKeyId"):
            return
        key = self.kms_key(str(body["KmsKeyId"]))
        if key is None or key_is_aws_managed(key):
            return
        name = str(body.get("Name") or "")
        trail_arn = name if name.startswith("arn:") else self.arn("cloudtrail", f"trail/{name}")
        service = "cloudtrail.amazonaws.com"
        context = {
            **encryption_context_keys({"aws:cloudtrail:arn": trail_arn}),
            "aws:SourceAccount": [self.account],
            "aws:SourceArn": [trail_arn],
        }
        for action in ("kms:DescribeKey", "kms:GenerateDataKey"):
            yield Request(Principal(service, self.account, service), action, key.arn, context)

    def require_environment_key_grant(self, caller: Caller) -> None:
        """A function given a customer managed key for its environment (``KMSKeyArn``): Lambda
        uses the caller's permissions to create a grant on the key for the function's execution
        role and to encrypt the variables ("Securing environment variables": ``kms:CreateGrant``
        and ``kms:Encrypt`` to configure the key), through ``lambda.<region>.amazonaws.com``
        with ``aws:lambda:FunctionArn`` as the context. CreateFunction and
        UpdateFunctionConfiguration are refused otherwise, as Lambda refuses them."""
        body = self.body()
        if self.operation not in ("CreateFunction", "UpdateFunctionConfiguration"):
            return
        key = self.kms_key(str(body.get("KMSKeyArn") or ""))
        if key is None or key_is_aws_managed(key):
            return
        if self.operation == "CreateFunction":
            function_arn = self.arn("lambda", f"function:{body.get('FunctionName', '')}")
            role_arn = str(body.get("Role") or "")
        else:
            function_arn = self.resource(body).removesuffix(":$LATEST")
            role_arn = str(body.get("Role") or self.function_role(function_arn) or "")
        via_lambda = {
            "kms:ViaService": [f"lambda.{self.region}.amazonaws.com"],
            "kms:CallerAccount": [self.account],
        }
        grant = {
            **via_lambda,
            "kms:GrantIsForAWSResource": ["true"],
            "kms:GranteePrincipal": [role_arn],
            "kms:GrantOperations": list(ENVIRONMENT_GRANT_OPERATIONS),
            "kms:GrantConstraintType": ["EncryptionContextEquals"],
        }
        encrypt = {**via_lambda, **encryption_context_keys({ENVIRONMENT_CONTEXT: function_arn})}
        for request in (
            Request(caller.principal, "kms:CreateGrant", key.arn, grant),
            Request(caller.principal, "kms:Encrypt", key.arn, encrypt),
        ):
            request = self.in_environment(request)
            decision, reason = decide(caller, request, str(key.policy))
            if decision.allowed or (
                decision.effect is not Effect.DENY
                and key_granted(
                    self.account,
                    self.region,
                    caller,
                    request,
                    {"EncryptionContextEquals": {ENVIRONMENT_CONTEXT: function_arn}},
                )
            ):
                continue
            message = (
                "Lambda was unable to configure access to your environment variables because the "
                "KMS key is invalid for CreateGrant. Please check your KMS key settings. KMS "
                f"Exception: AccessDeniedException KMS Message: User: {caller.principal.arn} is "
                f"not authorized to perform: {request.action} on resource: {key.arn} {reason}"
            )
            LOG.info("refused: %s", message)
            raise invalid_request("lambda", "InvalidParameterValueException", message)

    def function_role(self, function_arn: str) -> str | None:
        from moto.awslambda.models import lambda_backends

        try:
            return str(lambda_backends[self.account][self.region].get_function(function_arn).role)
        except Exception:
            return None  # Lambda answers ResourceNotFoundException itself

    def trail_being_set(self) -> tuple[str, Any]:
        """The ARN of the trail a CreateTrail or UpdateTrail names, and the trail as it is now
        (None when it is being created): an update keeps the settings it does not send."""
        from moto.cloudtrail.models import cloudtrail_backends

        name = str(self.body().get("Name") or "")
        trail_arn = name if name.startswith("arn:") else self.arn("cloudtrail", f"trail/{name}")
        current: Any = None
        if self.operation == "UpdateTrail":
            with contextlib.suppress(Exception):  # CloudTrail answers a missing trail itself
                current = cloudtrail_backends[self.account][self.region].get_trail(name)
        return trail_arn, current

    def require_trail_log_delivery_role(self) -> None:
        """A trail sending its events to CloudWatch Logs: CloudTrail assumes the trail's role
        (its trust policy must admit ``cloudtrail.amazonaws.com``) and, as the role, creates its
        log stream ``<account>_CloudTrail_<region>`` in the group and puts events into it, so the
        role must allow ``logs:CreateLogStream`` and ``logs:PutLogEvents`` on that stream
        ("Sending events to CloudWatch Logs", the role policy document). CreateTrail and
        UpdateTrail are refused otherwise (``InvalidCloudWatchLogsRoleArnException``)."""
        from moto.iam.models import iam_backends

        body = self.body()
        if self.operation not in ("CreateTrail", "UpdateTrail"):
            return
        trail_arn, current = self.trail_being_set()
        role_arn = str(
            body.get("CloudWatchLogsRoleArn") or getattr(current, "cw_role_arn", "") or ""
        )
        group_arn = str(
            body.get("CloudWatchLogsLogGroupArn") or getattr(current, "cw_log_group_arn", "") or ""
        )
        if not role_arn or not group_arn:
            return
        code = "InvalidCloudWatchLogsRoleArnException"
        try:
            role = iam_backends[self.account][PARTITION].get_role_by_arn(role_arn)
        except Exception:
            raise invalid_request(
                "cloudtrail", code, "Access denied. The role does not exist."
            ) from None
        service = "cloudtrail.amazonaws.com"
        assume = Request(
            Principal(service, self.account, service),
            "sts:AssumeRole",
            role_arn,
            {"aws:SourceAccount": [self.account], "aws:SourceArn": [trail_arn]},
        )
        trust = str(role.assume_role_policy_document)
        if not iam_policy.evaluate([trust], assume, resource_policy=True).allowed:
            LOG.info("refused: CloudTrail may not assume %s for %s", role_arn, trail_arn)
            raise invalid_request(
                "cloudtrail", code, "Access denied. Check the trust relationships for your role."
            )
        stream = (
            f"{group_arn.removesuffix(':*')}:log-stream:{self.account}_CloudTrail_{self.region}"
        )
        caller = role_caller(role_arn, "CloudTrail")
        secure = {"aws:SecureTransport": ["true"]}
        requests = [
            Request(caller.principal, action, stream, secure)
            for action in ("logs:CreateLogStream", "logs:PutLogEvents")
        ]
        refusal = role_refusal(caller, requests)
        if refusal:
            LOG.info("refused: %s", refusal)
            raise invalid_request(
                "cloudtrail",
                code,
                f"Access denied. Verify in IAM that the role has adequate permissions. ({refusal})",
            )

    def require_trail_bucket_policy(self) -> None:
        """A trail's bucket: CloudTrail checks the bucket policy when the trail is created or
        given another bucket or prefix, and refuses it (``InsufficientS3BucketPolicyException``)
        unless the policy lets ``cloudtrail.amazonaws.com``, with the trail as
        ``aws:SourceArn``, call ``s3:GetBucketAcl`` on the bucket and ``s3:PutObject`` under
        ``[<prefix>/]AWSLogs/<account>/`` with the ``bucket-owner-full-control`` ACL ("Amazon S3
        bucket policy for CloudTrail"). Only a bucket policy can admit a service principal."""
        body = self.body()
        if self.operation not in ("CreateTrail", "UpdateTrail"):
            return
        if self.operation == "UpdateTrail" and not (
            body.get("S3BucketName") or "S3KeyPrefix" in body
        ):
            return
        trail_arn, current = self.trail_being_set()
        bucket = str(body.get("S3BucketName") or getattr(current, "bucket_name", "") or "")
        prefix = str(
            body["S3KeyPrefix"] if "S3KeyPrefix" in body else getattr(current, "s3_key_prefix", "")
        )
        if not bucket:
            return
        refusal = trail_bucket_refusal(self.account, trail_arn, bucket, prefix or "")
        if refusal:
            LOG.info("refused: %s", refusal)
            raise invalid_request(
                "cloudtrail",
                "InsufficientS3BucketPolicyException",
                f"Incorrect S3 bucket policy is detected for bucket: {bucket}",
            )

    # Decision --------------------------------------------------------------------------------

    def require(
        self,
        caller: Caller,
        request: Request,
        through: str | None = None,
        *,
        code: str = "AccessDeniedException",
    ) -> None:
        if caller.identity_policies is None and not request.action.startswith("kms:"):
            # The emulator's administrator is exempt from bucket, queue, topic, function and
            # bus policies: it reaches the emulator over plain HTTP (Terraform, tests, tools),
            # where on AWS it would use TLS, so a TLS-only policy would refuse it (README).
            return
        request = self.in_environment(request)
        policy, required = self.resource_policy(request)
        decision, reason = decide(caller, request, policy, resource_policy_required=required)
        if decision.allowed:
            return
        if decision.effect is not Effect.DENY and self.granted(caller, request):
            return
        message = (
            f"User: {caller.principal.arn} is not authorized to perform: {request.action} on "
            f"resource: {request.resource} {reason}"
        )
        if through == "dynamodb":
            message = f"KMS key access denied: {message} (DynamoDB reads the table key as you)"
        elif through:
            message = f"KMS key access denied: {message} ({through} uses the key as that principal)"
        LOG.info("denied: %s", message)
        raise access_error(self.service, code, message)

    def in_environment(self, request: Request) -> Request:
        """The request with the global keys of its transport: ``aws:SecureTransport`` is true
        only for a request that reached the emulator over TLS (its https listener, see
        ``local.emulator``), ``aws:SourceIp`` is the client's address."""
        incoming = getattr(self.response, "normalized_request", None)
        secure = str(getattr(self.response, "uri", "")).startswith("https:") or bool(
            getattr(incoming, "is_secure", False)
        )
        now = utcnow()
        environment: dict[str, list[str]] = {
            "aws:SecureTransport": ["true" if secure else "false"],
            "aws:CurrentTime": [now.strftime("%Y-%m-%dT%H:%M:%SZ")],
            "aws:EpochTime": [str(int(now.replace(tzinfo=datetime.UTC).timestamp()))],
        }
        address = getattr(incoming, "remote_addr", None)
        if address:
            environment["aws:SourceIp"] = [str(address)]
        return dataclasses.replace(request, context={**environment, **request.context})

    def resource_policy(self, request: Request) -> tuple[str | None, bool]:
        """The policy attached to the request's resource, and whether it must allow on its own
        (a KMS key policy must; the others are a union with the identity policy)."""
        if request.action.startswith("kms:"):
            return self.kms_key_policy(request), True
        try:
            return resource_policy_of(self.account, self.region, request), False
        except Exception:  # the service answers a missing resource itself
            return None, False

    def require_service_key_use(
        self, request: Request, *, code: str = "AccessDeniedException"
    ) -> None:
        key_policy = self.kms_key_policy(request)
        decision = iam_policy.evaluate(
            [key_policy] if key_policy else [], request, resource_policy=True
        )
        if decision.allowed:
            return
        source = request.values("aws:SourceArn") or [""]
        message = (
            f"The specified KMS key does not exist or is not allowed to be used with Arn "
            f"'{source[0]}' ({request.action} for {request.principal.arn} is not allowed by the "
            f"key policy of {request.resource})"
        )
        LOG.info("denied: %s", message)
        raise access_error(self.service, code, message)

    def kms_key_policy(self, request: Request) -> str | None:
        if not request.action.startswith("kms:") or request.resource == "*":
            return None
        key = self.kms_key(request.resource)
        return None if key is None else str(key.policy)


# Services where a key policy can refuse the account root here: KMS itself, the services that
# use a key as the caller (DynamoDB, SQS, SNS, Step Functions, Lambda's environment key) and
# those that use it as themselves or as a role (CloudWatch Logs, EventBridge, CloudTrail, Step
# Functions).
ROOT_CHECKED_SERVICES = frozenset(
    {"kms", "dynamodb", "logs", "events", "sqs", "sns", "states", "cloudtrail", "lambda"}
)
DYNAMODB_DATA_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)


# How each service refuses a policy naming a principal that does not exist: the operations
# that set one, the error code and the message ({name} is the principal).
INVALID_PRINCIPAL_ERRORS: dict[str, tuple[frozenset[str], str, str]] = {
    "kms": (
        frozenset({"CreateKey", "PutKeyPolicy"}),
        "MalformedPolicyDocumentException",
        "Policy contains a statement with one or more invalid principals.",
    ),
    "s3": (frozenset({"PutBucketPolicy"}), "MalformedPolicy", "Invalid principal in policy"),
    "sqs": (
        frozenset({"CreateQueue", "SetQueueAttributes"}),
        "InvalidAttributeValue",
        "Invalid value for the parameter Policy.",
    ),
    "sns": (
        frozenset({"CreateTopic", "SetTopicAttributes"}),
        "InvalidParameter",
        "Invalid parameter: Policy Error: PrincipalNotFound",
    ),
    "iam": (
        frozenset({"CreateRole", "UpdateAssumeRolePolicy"}),
        "MalformedPolicyDocument",
        'Invalid principal in policy: "AWS":"{name}"',
    ),
    "secretsmanager": (
        frozenset({"PutResourcePolicy"}),
        "MalformedPolicyDocumentException",
        "This resource policy contains an unsupported principal.",
    ),
    "lambda": (
        frozenset({"AddPermission"}),
        "InvalidParameterValueException",
        "The provided principal was invalid. Please check the principal and try again.",
    ),
}


def invalid_request(service: str, code: str, message: str) -> Exception:
    """A 400 client error in the service's own format."""
    from moto.core.exceptions import _RESTError

    error = access_error(service, code, message)
    if isinstance(error, _RESTError):
        error.code = 400  # the HTTP status; S3's errors carry theirs in the service model
    return error


def service_invoke_refusal(function: Any, service: str, source_arn: str) -> str | None:
    """Why a service (API Gateway, EventBridge, S3, SNS) may not invoke a function, or None: it
    invokes as itself, so only the function's resource policy can admit it, for the
    ``aws:SourceArn`` (the API method, the rule, ...) and ``aws:SourceAccount`` it sends
    ("Using resource-based policies in Lambda")."""
    if not enforcing():
        return None
    arn = str(function.function_arn)
    account, region = arn.split(":")[4], arn.split(":")[3]
    request = Request(
        Principal(service, account, service),
        "lambda:InvokeFunction",
        arn,
        {"aws:SourceArn": [source_arn], "aws:SourceAccount": [account]},
    )
    policy = resource_policy_of(account, region, request)
    decision = iam_policy.evaluate([policy] if policy else [], request, resource_policy=True)
    if decision.allowed:
        return None
    return (
        f"{service} may not invoke {arn} for {source_arn}: the function's resource-based "
        "policy does not allow lambda:InvokeFunction"
    )


def resource_policy_of(account: str, region: str, request: Request) -> str | None:
    """The resource-based policy of an S3 bucket, SQS queue, SNS topic, Lambda function or
    EventBridge event bus a request names, as stored by moto (None if it has none)."""
    service, _, _ = request.action.partition(":")
    resource = request.resource
    if service == "s3" and resource.startswith("arn:aws:s3:::") and resource != "arn:aws:s3:::*":
        from moto.s3.models import s3_backends

        bucket = resource.removeprefix("arn:aws:s3:::").split("/", 1)[0]
        policy = s3_backends[account][PARTITION].get_bucket(bucket).policy
        return policy.decode() if isinstance(policy, bytes) else policy
    if service == "sqs" and resource.startswith("arn:"):
        from moto.sqs.models import sqs_backends

        queue = sqs_backends[account][region].get_queue(resource.rsplit(":", 1)[-1])
        return queue.policy  # type: ignore[no-any-return]
    if service == "sns" and resource.startswith("arn:"):
        from moto.sns.models import sns_backends

        return str(sns_backends[account][region].get_topic(resource).policy)
    if service == "lambda" and ":function:" in resource:
        from moto.awslambda.models import lambda_backends

        function = lambda_backends[account][region].get_function(resource)
        statements = function.policy.statements
        return (
            json.dumps({"Version": "2012-10-17", "Statement": statements}) if statements else None
        )
    if service == "events" and ":event-bus/" in resource:
        from moto.events.models import events_backends

        bus = events_backends[account][region].describe_event_bus(resource)
        return bus.policy
    return None


def trail_bucket_refusal(account: str, trail_arn: str, bucket: str, prefix: str) -> str | None:
    """Why CloudTrail may not deliver a trail's log files to ``bucket``, or None: its ACL
    check and its write, as ``cloudtrail.amazonaws.com`` for the trail, decided by the bucket
    policy alone (None too for a bucket that does not exist: CloudTrail answers that itself)."""
    from moto.s3.models import s3_backends

    try:
        policy = s3_backends[account][PARTITION].get_bucket(bucket).policy
    except Exception:
        return None
    document = policy.decode() if isinstance(policy, bytes) else policy
    service = "cloudtrail.amazonaws.com"
    source = {
        "aws:SourceArn": [trail_arn],
        "aws:SourceAccount": [account],
        "aws:SecureTransport": ["true"],
    }
    region = trail_arn.split(":")[3]
    folder = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
    log_file = f"{folder}AWSLogs/{account}/CloudTrail/{region}/{account}_CloudTrail.json.gz"
    requests = [
        Request(
            Principal(service, account, service),
            "s3:GetBucketAcl",
            f"arn:aws:s3:::{bucket}",
            source,
        ),
        Request(
            Principal(service, account, service),
            "s3:PutObject",
            f"arn:aws:s3:::{bucket}/{log_file}",
            {**source, "s3:x-amz-acl": ["bucket-owner-full-control"]},
        ),
    ]
    for request in requests:
        decision = iam_policy.evaluate(
            [document] if document else [], request, resource_policy=True
        )
        if not decision.allowed:
            return (
                f"the policy of bucket {bucket} does not allow {service} {request.action} on "
                f"{request.resource} for {trail_arn}"
            )
    return None


def decide(
    caller: Caller,
    request: Request,
    resource_policy: str | None,
    *,
    resource_policy_required: bool = True,
) -> tuple[Decision, str]:
    """AWS's order for one account: an explicit Deny in any policy wins. Then a KMS key policy
    must allow (``resource_policy_required``), naming the caller or, for the account, together
    with the caller's identity policy. Any other resource policy (bucket, queue, topic, function,
    event bus) is a union with the identity policy: either one's Allow is enough, except an Allow
    to the account, which only delegates to the identity policy ("Policy evaluation for
    requests within a single account"). Root passes IAM (its identity is unlimited)."""
    identity = (
        Decision(Effect.ALLOW, "root")
        if caller.identity_policies is None
        else iam_policy.evaluate(caller.identity_policies, request)
    )
    if identity.effect is Effect.DENY:
        return identity, f"with an explicit deny in an identity-based policy ({identity.statement})"
    # A permissions boundary or session policy that does not allow the action caps the
    # identity policy and any resource policy naming the role; only a resource policy naming
    # the session (or the user) itself reaches past it ("Policy evaluation logic").
    capped = ""
    for kind, document in (
        ("permissions boundary", caller.boundary),
        ("session policy", caller.session_policy),
    ):
        if document is None:
            continue
        limit = iam_policy.evaluate([document], request)
        if limit.effect is Effect.DENY:
            return limit, f"with an explicit deny in a {kind} ({limit.statement})"
        if not limit.allowed and not capped:
            capped = f"because no {kind} allows the {request.action} action"
    by_resource = (
        Decision(Effect.NONE)
        if resource_policy is None
        else iam_policy.evaluate([resource_policy], request, resource_policy=True)
    )
    if by_resource.effect is Effect.DENY:
        return (
            by_resource,
            f"with an explicit deny in a resource-based policy ({by_resource.statement})",
        )
    identity_allows = identity.allowed and not capped
    resource_alone = by_resource.allowed and (
        by_resource.exact or (by_resource.direct and not capped)
    )
    lacking_identity = (
        capped or f"because no identity-based policy allows the {request.action} action"
    )
    if resource_policy is None or not resource_policy_required:
        if identity_allows:
            return identity, ""
        if resource_alone:
            return by_resource, ""
        return Decision(Effect.NONE), lacking_identity
    if resource_alone or (by_resource.allowed and identity_allows):
        return by_resource, ""
    if by_resource.allowed:
        return Decision(Effect.NONE), lacking_identity
    return by_resource, f"because no resource-based policy allows the {request.action} action"


def policy_documents(policies: list[Any]) -> list[str]:
    """moto's collected policies (inline documents, managed policies) as documents."""
    from moto.iam.models import Policy

    documents = []
    for policy in policies:
        if isinstance(policy, Policy):
            version = next(v for v in policy.versions if v.is_default)
            documents.append(str(version.document))
        elif isinstance(policy, str):
            documents.append(policy)
        else:
            documents.append(str(policy["policy_document"]))
    return documents


def kms_key(account: str, region: str, key_id: str) -> Any:
    from moto.kms.models import kms_backends

    if not key_id:
        return None
    backend = kms_backends[account][region]
    try:
        return backend.keys[backend.any_id_to_key_id(key_id)]
    except Exception:
        return None  # KMS answers NotFoundException itself


# Operations authorized under another action's name: Lambda's invocation, and SQS's batch
# operations, which need the single-message action ("there is no sqs:SendMessageBatch action":
# the SQS Developer Guide's batch actions take the permissions of SendMessage, DeleteMessage and
# ChangeMessageVisibility).
IAM_ACTION_NAMES = {
    ("lambda", "Invoke"): "InvokeFunction",
    ("sqs", "SendMessageBatch"): "SendMessage",
    ("sqs", "DeleteMessageBatch"): "DeleteMessage",
    ("sqs", "ChangeMessageVisibilityBatch"): "ChangeMessageVisibility",
}


def message_key_requests(
    principal: Principal, service: str, operation: str, resource: str
) -> Iterator[Request]:
    """SQS and SNS encrypt messages with a queue's or topic's customer managed key as the
    caller, through the service: a producer needs ``kms:GenerateDataKey`` and ``kms:Decrypt``, a
    consumer ``kms:Decrypt`` (SQS Developer Guide, "Configuring AWS KMS permissions"; SNS
    Developer Guide, "Managing Amazon SNS encryption keys")."""
    from moto.sns.models import sns_backends
    from moto.sqs.models import sqs_backends

    parts = resource.split(":")
    if len(parts) < 6:
        return
    region, account = parts[3], parts[4]
    key_id: str | None = None
    if service == "sqs":
        actions = {
            "SendMessage": ("kms:GenerateDataKey", "kms:Decrypt"),
            "SendMessageBatch": ("kms:GenerateDataKey", "kms:Decrypt"),
            "ReceiveMessage": ("kms:Decrypt",),
        }.get(operation, ())
        context_key = "aws:sqs:arn"
        with contextlib.suppress(Exception):  # SQS answers a missing queue itself
            queue = sqs_backends[account][region].get_queue(parts[5])
            key_id = getattr(queue, "kms_master_key_id", None)
    else:
        actions = {
            "Publish": ("kms:GenerateDataKey", "kms:Decrypt"),
            "PublishBatch": ("kms:GenerateDataKey", "kms:Decrypt"),
        }.get(operation, ())
        context_key = "aws:sns:topicArn"
        with contextlib.suppress(Exception):  # SNS answers a missing topic itself
            key_id = str(sns_backends[account][region].get_topic(resource).kms_master_key_id)
    key = kms_key(account, region, key_id or "") if actions else None
    if key is None or key_is_aws_managed(key):
        return
    context = {
        **encryption_context_keys({context_key: resource}),
        "kms:ViaService": [f"{service}.{region}.amazonaws.com"],
        "kms:CallerAccount": [account],
    }
    for action in actions:
        yield Request(principal, action, key.arn, context)


def destination_refusal(function_arn: str, destination_arn: str) -> str | None:
    """Why the Lambda service may not send a function's event or invocation record to its
    dead-letter queue or destination, or None. It sends as the function's execution role
    ("Adding a dead-letter queue", "Configuring destinations for event source mappings": the
    role needs ``sqs:SendMessage`` or ``sns:Publish``), so the role's policies and the queue's
    or topic's policy decide, and a customer managed key on it is used as the role through SQS
    or SNS."""
    from moto.awslambda.models import lambda_backends

    if not enforcing():
        return None
    parts = function_arn.split(":")
    function = lambda_backends[parts[4]][parts[3]].get_function(function_arn)
    caller = role_caller(str(function.role), str(function.function_name))
    service = destination_arn.split(":")[2]
    operation = {"sqs": "SendMessage", "sns": "Publish"}.get(service)
    if operation is None:
        return None
    # AWS services call each other over TLS.
    secure = {"aws:SecureTransport": ["true"]}
    sends = Request(caller.principal, f"{service}:{operation}", destination_arn, secure)
    requests = [sends, *message_key_requests(caller.principal, service, operation, destination_arn)]
    return role_refusal(caller, requests)


# DynamoDB's grant for a table's customer managed key ("How Amazon DynamoDB uses AWS KMS",
# CreateGrant): the service may use the key for the table's own context.
TABLE_GRANT_OPERATIONS = (
    "DescribeKey",
    "GenerateDataKey",
    "Decrypt",
    "Encrypt",
    "ReEncryptFrom",
    "ReEncryptTo",
    "RetireGrant",
)


def table_grant_constraints(account: str, table_name: str) -> dict[str, Any]:
    return {
        "EncryptionContextSubset": {
            "aws:dynamodb:tableName": table_name,
            "aws:dynamodb:subscriberId": account,
        }
    }


def grant_table_key(table: Any, *, retire: bool = False) -> None:
    """The grant DynamoDB creates (as the table's creator) on a table's customer managed key:
    grantee and retiring principal ``dynamodb.<region>.amazonaws.com``, the table's context as
    its constraint; retired when the table is deleted."""
    account, region = str(table.account_id), str(table.region_name)
    key_id = (getattr(table, "sse_specification", None) or {}).get("KMSMasterKeyId") or ""
    key = kms_key(account, region, str(key_id))
    if key is None or key_is_aws_managed(key):
        return
    service = f"dynamodb.{region}.amazonaws.com"
    constraints = table_grant_constraints(account, str(table.name))
    if retire:
        for grant in list(key.grants.values()):
            if grant.grantee_principal == service and grant.constraints == constraints:
                key.grants.pop(grant.id, None)
        return
    service_grant(key, service, TABLE_GRANT_OPERATIONS, constraints, f"dynamodb-{table.name}")


def service_grant(
    key: Any, grantee: str, operations: tuple[str, ...], constraints: dict[str, Any], name: str
) -> None:
    """A grant an AWS service creates for itself or a role on a key (once per grantee and
    constraint), retirable by its grantee."""
    from moto.kms.models import kms_backends

    if any(
        grant.grantee_principal == grantee and grant.constraints == constraints
        for grant in key.grants.values()
    ):
        return
    account, region = key.arn.split(":")[4], key.arn.split(":")[3]
    kms_backends[account][region].create_grant(
        key.id,
        grantee_principal=grantee,
        operations=list(operations),
        name=name[:256],
        constraints=constraints,
        retiring_principal=grantee,
    )


# Lambda's grant for a function's environment key: its execution role may decrypt the variables
# of that function only.
ENVIRONMENT_CONTEXT = "aws:lambda:FunctionArn"
ENVIRONMENT_GRANT_OPERATIONS = ("Decrypt",)


def grant_environment_key(function: Any) -> None:
    """The grant Lambda creates on a function's customer managed environment key when the key is
    configured: the execution role may Decrypt under ``aws:lambda:FunctionArn`` = the function
    (one grant per function and role; a new role gets a new grant, as when the configuration is
    updated on AWS)."""
    arn = str(function.function_arn)
    region, account = arn.split(":")[3], arn.split(":")[4]
    key = kms_key(account, region, str(getattr(function, "kms_key_arn", "") or ""))
    if key is None or key_is_aws_managed(key):
        return
    constraints = {"EncryptionContextEquals": {ENVIRONMENT_CONTEXT: arn}}
    name = f"lambda-environment-{function.function_name}"
    service_grant(key, str(function.role), ENVIRONMENT_GRANT_OPERATIONS, constraints, name)


def environment_key_refusal(function: Any) -> str | None:
    """Why Lambda may not decrypt a function's environment variables with its customer managed
    key, or None. Lambda decrypts them as the function's execution role through
    ``lambda.<region>.amazonaws.com`` under ``aws:lambda:FunctionArn`` when it starts an
    execution environment (the grant above allows it, unless retired, revoked or denied); an
    invocation fails with ``KMSAccessDeniedException`` otherwise."""
    if not enforcing() or not getattr(function, "environment_vars", None):
        return None
    arn = str(function.function_arn)
    region, account = arn.split(":")[3], arn.split(":")[4]
    key = kms_key(account, region, str(getattr(function, "kms_key_arn", "") or ""))
    if key is None or key_is_aws_managed(key):
        return None
    caller = role_caller(str(function.role), str(function.function_name))
    context = {
        **encryption_context_keys({ENVIRONMENT_CONTEXT: arn}),
        "kms:ViaService": [f"lambda.{region}.amazonaws.com"],
        "kms:CallerAccount": [account],
    }
    return role_refusal(caller, [Request(caller.principal, "kms:Decrypt", key.arn, context)])


def role_refusal(caller: Caller, requests: list[Request]) -> str | None:
    """Why a service acting as a role (Lambda as a function's execution role) may not do one of
    ``requests``, or None: the role's policies with the resource's policy (a key policy must
    allow; a queue's or topic's policy joins the identity policy), KMS grants included."""
    for request in requests:
        region = request.resource.split(":")[3] if request.resource.count(":") >= 5 else ""
        account = caller.principal.account
        if request.action.startswith("kms:"):
            key = kms_key(account, region, request.resource)
            policy, required = (None if key is None else str(key.policy)), True
        else:
            try:
                policy = resource_policy_of(account, region, request)
            except Exception:  # a resource that is gone is the service's to answer
                policy = None
            required = False
        decision, reason = decide(caller, request, policy, resource_policy_required=required)
        if decision.allowed:
            continue
        if decision.effect is not Effect.DENY and key_granted(account, region, caller, request):
            continue
        return (
            f"{caller.principal.arn} is not authorized to perform: {request.action} on "
            f"resource: {request.resource} {reason}"
        )
    return None


def key_granted(
    account: str,
    region: str,
    caller: Caller,
    request: Request,
    new_grant_constraints: dict[str, Any] | None = None,
) -> bool:
    """Whether a grant on the request's key lets the caller do it: it names the caller (or its
    role) as grantee, lists the operation, and its encryption-context constraint holds ("Grants
    in AWS KMS"), except for DescribeKey and RetireGrant, which the constraint does not bind. A
    grant that allows CreateGrant lets its grantee create grants for a subset of its operations
    with an equally strict or stricter constraint (``new_grant_constraints``), never more
    ("Granting CreateGrant permission"). A grant only allows: an explicit deny still wins (the
    caller checks)."""
    key = kms_key(account, region, request.resource) if request.action.startswith("kms:") else None
    if key is None:
        return False
    principal = caller.principal
    operation = request.action.removeprefix("kms:")
    context = {
        name.removeprefix("kms:EncryptionContext:"): values[0]
        for name, values in request.context.items()
        if name.startswith("kms:EncryptionContext:") and values
    }

    def allows(grant: Any) -> bool:
        if operation == "CreateGrant":
            operations = set(request.values("kms:GrantOperations") or ())
            return operations <= set(grant.operations) and constraint_at_least_as_strict(
                new_grant_constraints or {}, grant.constraints or {}
            )
        if operation in UNCONSTRAINED_GRANT_OPERATIONS:
            return True
        return grant_constraints_hold(grant.constraints, context)

    return any(
        grant.grantee_principal in (principal.arn, principal.principal_arn)
        and operation in grant.operations
        and allows(grant)
        for grant in key.grants.values()
    )


# Grant operations that take no encryption context, so a grant's constraint does not apply to
# them (GrantConstraints, KMS API Reference).
UNCONSTRAINED_GRANT_OPERATIONS = frozenset({"DescribeKey", "RetireGrant"})


def constraint_at_least_as_strict(new: dict[str, Any], parent: dict[str, Any]) -> bool:
    """Whether a grant's constraint ``new`` admits no context its parent's does not: under a
    parent's EncryptionContextSubset, a subset or an equality that includes its pairs; under an
    EncryptionContextEquals, that same equality only."""
    new_equals = new.get("EncryptionContextEquals")
    new_pairs = [dict(pairs) for pairs in new.values() if pairs is not None]
    for kind, pairs in parent.items():
        pairs = dict(pairs or {})
        if kind == "EncryptionContextEquals" and (new_equals is None or new_equals != pairs):
            return False
        if kind == "EncryptionContextSubset" and not any(
            all(each.get(name) == value for name, value in pairs.items()) for each in new_pairs
        ):
            return False
    return True


# What Lambda's poller calls on an event source as the function's execution role ("Lambda
# execution role" permissions for Kinesis, DynamoDB Streams and SQS event sources), and the
# refusal CreateEventSourceMapping answers when the role lacks one of them.
EVENT_SOURCE_ACTIONS: dict[str, tuple[str, ...]] = {
    "kinesis": (
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:DescribeStream",
        "kinesis:ListShards",
    ),
    "dynamodb": (
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:DescribeStream",
        "dynamodb:ListStreams",
    ),
    "sqs": ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"),
}


def event_source_requests(
    principal: Principal, source_arn: str, *, with_keys: bool = True
) -> list[Request]:
    """The requests Lambda's poller makes on an event source as the function's role: reading
    the stream or queue and, on a customer managed key, ``kms:Decrypt`` through Kinesis
    (``aws:kinesis:arn``) or SQS (``aws:sqs:arn``) ("Kinesis Data Streams: permissions for
    consumers"; SQS Developer Guide, "Configuring AWS KMS permissions")."""
    service = source_arn.split(":")[2] if source_arn.count(":") >= 5 else ""
    secure = {"aws:SecureTransport": ["true"]}
    requests = [
        Request(principal, action, source_arn, secure)
        for action in EVENT_SOURCE_ACTIONS.get(service, ())
    ]
    if not with_keys:
        return requests
    if service == "sqs":
        requests += message_key_requests(principal, "sqs", "ReceiveMessage", source_arn)
    elif service == "kinesis":
        requests += stream_key_requests(principal, source_arn)
    return requests


def stream_key_requests(principal: Principal, stream_arn: str) -> list[Request]:
    from moto.kinesis.models import kinesis_backends

    region, account = stream_arn.split(":")[3], stream_arn.split(":")[4]
    try:
        stream = kinesis_backends[account][region].streams.get(stream_arn.rsplit("/", 1)[-1])
    except Exception:
        stream = None
    if stream is None or stream.encryption_type != "KMS":
        return []
    key = kms_key(account, region, str(stream.key_id or ""))
    if key is None or key_is_aws_managed(key):
        return []
    context = {
        **encryption_context_keys({"aws:kinesis:arn": stream_arn}),
        "kms:ViaService": [f"kinesis.{region}.amazonaws.com"],
        "kms:CallerAccount": [account],
    }
    return [Request(principal, "kms:Decrypt", key.arn, context)]


def event_source_refusal(function: Any, source_arn: str, *, with_keys: bool = True) -> str | None:
    """Why Lambda's poller may not read an event source as the function's execution role, or
    None (enforcement off)."""
    if not enforcing():
        return None
    caller = role_caller(str(function.role), str(function.function_name))
    return role_refusal(
        caller, event_source_requests(caller.principal, source_arn, with_keys=with_keys)
    )


def require_event_source_access(function: Any, source_arn: str) -> None:
    """CreateEventSourceMapping checks that the function's role may read the source, and refuses
    the mapping otherwise with Lambda's ``InvalidParameterValueException`` (the aws provider
    retries it while IAM changes propagate). Key use is not checked there: a role without
    ``kms:Decrypt`` gets a mapping that fails to deliver (``LastProcessingResult``)."""
    refusal = event_source_refusal(function, source_arn, with_keys=False)
    if refusal is None:
        return
    service = source_arn.split(":")[2]
    if service == "sqs":
        action = next(
            a.split(":")[1] for a in EVENT_SOURCE_ACTIONS["sqs"] if f"perform: {a} " in refusal
        )
        message = f"The provided execution role does not have permissions to call {action} on SQS"
    else:
        actions = [a.split(":")[1] for a in EVENT_SOURCE_ACTIONS[service]]
        message = (
            f"Cannot access stream {source_arn}. Please ensure the role can perform the "
            f"{', '.join(actions[:-1])}, and {actions[-1]} Actions on your stream in IAM."
        )
    LOG.info("refused: %s (%s)", message, refusal)
    raise invalid_request("lambda", "InvalidParameterValueException", message)


def grant_condition_keys(body: dict[str, Any]) -> dict[str, list[str]]:
    """The condition keys of a CreateGrant request ("AWS KMS condition keys"). A caller's
    CreateGrant is never for an AWS resource here: services do not create grants locally."""
    keys = {
        "kms:GrantIsForAWSResource": ["false"],
        "kms:GranteePrincipal": [str(body.get("GranteePrincipal") or "")],
        "kms:GrantOperations": [str(operation) for operation in body.get("Operations") or []],
    }
    if body.get("RetiringPrincipal"):
        keys["kms:RetiringPrincipal"] = [str(body["RetiringPrincipal"])]
    constraints = body.get("Constraints") or {}
    if constraints:
        keys["kms:GrantConstraintType"] = sorted(constraints)
    return keys


def grant_constraints_hold(constraints: dict[str, Any] | None, context: dict[str, str]) -> bool:
    """A grant's encryption-context constraint against a request's context: Equals is the whole
    context, Subset some of it."""
    constraints = constraints or {}
    equals = constraints.get("EncryptionContextEquals")
    subset = constraints.get("EncryptionContextSubset")
    if equals is not None and dict(equals) != context:
        return False
    return subset is None or all(context.get(name) == value for name, value in subset.items())


def user_boundary(account: str, user_arn: str) -> str | None:
    """The document of an IAM user's permissions boundary, or None (kept by
    ``_users_carry_permissions_boundaries``)."""
    from moto.iam.models import iam_backends

    iam = iam_backends[account][PARTITION]
    user = next((u for u in iam.users.values() if u.arn == user_arn), None)
    arn = getattr(user, "permissions_boundary_arn", None)
    try:
        return policy_documents([iam.get_policy(arn)])[0] if arn else None
    except Exception:
        return None  # IAM refuses to delete a policy still set as a boundary


def role_boundary(account: str, role_arn: str) -> str | None:
    """The document of a role's permissions boundary, or None."""
    from moto.iam.models import iam_backends

    iam = iam_backends[account][PARTITION]
    try:
        arn = iam.get_role_by_arn(role_arn).permissions_boundary_arn
        return policy_documents([iam.get_policy(arn)])[0] if arn else None
    except Exception:
        return None  # a role that is gone has no session to check; a boundary must exist


def role_caller(role_arn: str, session_name: str) -> Caller:
    """A service acting as a role (Lambda's execution role, a state machine's): its session,
    with the role's policies and boundary, as a request it signed would be checked."""
    from moto.iam.models import iam_backends

    account, name = role_arn.split(":")[4], role_arn.rsplit("/", 1)[-1]
    iam = iam_backends[account][PARTITION]
    try:
        role = iam.get_role_by_arn(role_arn)
        attached = list(role.managed_policies.values())
        documents = [*map(str, role.policies.values()), *policy_documents(attached)]
    except Exception:
        documents = []  # a missing role allows nothing
    session = f"arn:{PARTITION}:sts::{account}:assumed-role/{name}/{session_name}"
    return Caller(Principal(session, account), documents, role_boundary(account, role_arn))


def encryption_context_keys(context: dict[str, Any]) -> dict[str, list[str]]:
    keys: dict[str, list[str]] = {
        f"kms:EncryptionContext:{name}": [str(value)] for name, value in context.items()
    }
    if context:
        keys["kms:EncryptionContextKeys"] = sorted(context)
    return keys


def key_is_aws_managed(key: Any) -> bool:
    return str(getattr(key, "key_manager", "CUSTOMER")) == "AWS"


def attribute_text(value: dict[str, Any]) -> str:
    """A DynamoDB attribute value as IAM sees a leading key: its text."""
    return str(next(iter(value.values()))) if value else ""


def between(text: str, start: str, end: str) -> str:
    return text.partition(start)[2].partition(end)[0]


def utcnow() -> datetime.datetime:
    from moto.core.utils import utcnow as moto_utcnow

    return moto_utcnow()


def access_error(service: str, code: str, message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError, _RESTError

    error: Exception
    if service in JSON_SERVICES:
        error = JsonRESTError(code, message)
        error.code = 403 if service == "lambda" else 400
        return error
    if service == "s3":
        from moto.s3.exceptions import S3ClientError

        # What moto's own S3 access check raises, so every S3 handler answers it as S3 does.
        return S3ClientError("AccessDenied" if code == "AccessDeniedException" else code, message)
    if service == "sqs":
        # SQS speaks JSON to current SDKs, with the query protocol's error codes.
        error = JsonRESTError("AccessDenied" if code == "AccessDeniedException" else code, message)
        error.code = 403
        return error
    error = _RESTError("AccessDenied" if code == "AccessDeniedException" else code, message)
    error.code = 403
    return error


@dataclass(frozen=True)
class SessionCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: datetime.datetime

    def environment(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
            # botocore reads credentials from the environment again as this nears, so a warm
            # worker picks up the renewed session the emulator hands it (RoleSessions).
            "AWS_CREDENTIAL_EXPIRATION": self.expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


class RoleSessions:
    """Sessions of the roles AWS services act as: Lambda for a function's execution role, Step
    Functions for a state machine's. The service assumes the role (its trust policy must admit
    the service, with the ``aws:SourceAccount`` and ``aws:SourceArn`` the service sends) and a
    session is renewed before it expires."""

    DURATION_S = 3600
    # botocore refreshes credentials it read from the environment 15 minutes before expiry; the
    # renewed session must reach the worker before that.
    RENEW_BEFORE_S = 20 * 60

    def __init__(self) -> None:
        self._sessions: dict[tuple[str, str, str], SessionCredentials] = {}
        self._lock = threading.Lock()

    def for_function(self, function: Any) -> SessionCredentials:
        return self.credentials(
            "lambda.amazonaws.com",
            str(function.role),
            str(function.function_name),
            str(function.function_arn),
        )

    def credentials(
        self, service: str, role_arn: str, session_name: str, source_arn: str | None = None
    ) -> SessionCredentials:
        cache_key = (service, role_arn, source_arn or session_name)
        with self._lock:
            current = self._sessions.get(cache_key)
            renew_at = utcnow() + datetime.timedelta(seconds=self.RENEW_BEFORE_S)
            if current is None or current.expiration <= renew_at:
                current = self._assume(service, role_arn, session_name, source_arn)
                self._sessions[cache_key] = current
            return current

    def _assume(
        self, service: str, role_arn: str, session_name: str, source_arn: str | None
    ) -> SessionCredentials:
        from moto.sts.models import sts_backends

        account = role_arn.split(":")[4]
        self._check_trust(service, role_arn, account, source_arn)
        session = sts_backends[account][PARTITION].assume_role(
            region_name="us-east-1",
            role_session_name=session_name[:64],
            role_arn=role_arn,
            policy=None,  # type: ignore[arg-type]
            duration=self.DURATION_S,
            external_id=None,  # type: ignore[arg-type]
        )
        return SessionCredentials(
            session.access_key_id,
            session.secret_access_key,
            session.session_token,
            session.expiration,
        )

    @staticmethod
    def _check_trust(service: str, role_arn: str, account: str, source_arn: str | None) -> None:
        from moto.iam.models import iam_backends

        if not enforcing():
            return
        try:
            role = iam_backends[account][PARTITION].get_role_by_arn(role_arn)
        except Exception as error:
            raise RoleNotAssumable(f"The role {role_arn} does not exist") from error
        context = {"aws:SourceAccount": [account]}
        if source_arn:
            context["aws:SourceArn"] = [source_arn]
        request = Request(Principal(service, account, service), "sts:AssumeRole", role_arn, context)
        decision = iam_policy.evaluate(
            [str(role.assume_role_policy_document)], request, resource_policy=True
        )
        if not decision.allowed:
            raise RoleNotAssumable(
                f"The role {role_arn} cannot be assumed by {service}: its trust policy does not "
                "admit it"
            )


# One per emulator: Lambda workers and the Step Functions interpreter share the sessions.
SESSIONS = RoleSessions()


class RoleNotAssumable(Exception):
    pass
