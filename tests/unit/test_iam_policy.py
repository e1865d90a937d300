"""The emulator's policy evaluation (local/iam_policy.py, local/enforcement.decide) against the
rules AWS documents, on the statement shapes the modules use."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.enforcement import Caller, decide, grant_condition_keys, grant_constraints_hold
from local.iam_policy import Effect, Principal, Request, UnsupportedCondition, evaluate

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/payments-tokenize-role"
SESSION = Principal(f"arn:aws:sts::{ACCOUNT}:assumed-role/payments-tokenize-role/f", ACCOUNT)
ROOT = Principal(f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT)
TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/vault"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str, resource: str = "*", **condition: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


def request(action: str, resource: str = TABLE, **context: list[str]) -> Request:
    return Request(SESSION, action, resource, {k.replace("__", ":"): v for k, v in context.items()})


def test_a_session_is_its_role_for_principal_arn() -> None:
    assert SESSION.principal_arn == ROLE
    assert request("x:Y").values("aws:principalarn") == [ROLE]


def test_actions_match_case_insensitively_with_wildcards_and_resources_exactly() -> None:
    policy = doc(allow("dynamodb:Get*", TABLE))
    assert evaluate([policy], request("DynamoDB:GetItem")).allowed
    assert not evaluate([policy], request("dynamodb:PutItem")).allowed
    assert not evaluate([policy], request("dynamodb:GetItem", TABLE + "/index/x")).allowed


def test_an_explicit_deny_wins_whatever_the_order() -> None:
    deny = {"Effect": "Deny", "Action": "dynamodb:*", "Resource": "*"}
    assert evaluate(
        [doc(allow("dynamodb:GetItem")), doc(deny)], request("dynamodb:GetItem")
    ).effect is (Effect.DENY)


def test_not_action_and_not_resource_exclude() -> None:
    policy = doc({"Effect": "Allow", "NotAction": "kms:Decrypt", "NotResource": KEY})
    assert not evaluate([policy], request("kms:Decrypt", "*")).allowed
    assert not evaluate([policy], request("kms:Encrypt", KEY)).allowed
    assert evaluate([policy], request("kms:Encrypt", "other")).allowed


@pytest.mark.parametrize(
    ("keys", "allowed"),
    [(["T#1", "T#2"], True), (["T#1", "C#1"], False), ([], True)],
)
def test_for_all_values_holds_for_every_value_and_for_none(keys: list[str], allowed: bool) -> None:
    # ForAllValues over no values holds: a Scan has no leading keys (IAM's documented trap).
    policy = doc(
        allow(
            "dynamodb:PutItem",
            TABLE,
            **{"ForAllValues:StringLike": {"dynamodb:LeadingKeys": "T#*"}},
        )
    )
    context = {"dynamodb:LeadingKeys": keys} if keys else {}
    assert (
        evaluate([policy], Request(SESSION, "dynamodb:PutItem", TABLE, context)).allowed is allowed
    )


def test_a_missing_key_fails_a_condition_unless_if_exists_or_negated() -> None:
    plain = doc(allow("kms:Decrypt", KEY, StringEquals={"kms:ViaService": "dynamodb.x"}))
    if_exists = doc(
        allow("kms:Decrypt", KEY, StringEqualsIfExists={"kms:ViaService": "dynamodb.x"})
    )
    negated = doc(allow("kms:Decrypt", KEY, StringNotEquals={"kms:ViaService": "dynamodb.x"}))
    bare = request("kms:Decrypt", KEY)
    assert not evaluate([plain], bare).allowed
    assert evaluate([if_exists], bare).allowed
    assert evaluate([negated], bare).allowed
    via = request("kms:Decrypt", KEY, kms__ViaService=["dynamodb.x"])
    assert evaluate([plain], via).allowed
    assert not evaluate([negated], via).allowed


def test_an_unsupported_operator_is_refused_loudly() -> None:
    policy = doc(allow("kms:Decrypt", KEY, BinaryEquals={"aws:x": "AAEC"}))
    with pytest.raises(UnsupportedCondition):
        evaluate([policy], request("kms:Decrypt", KEY, aws__x=["AAEC"]))


@pytest.mark.parametrize(
    ("operator", "source", "allowed"),
    [
        ("IpAddress", "10.1.2.3", True),
        ("IpAddress", "192.168.0.1", False),
        ("NotIpAddress", "192.168.0.1", True),
        ("NotIpAddress", "10.1.2.3", False),
    ],
)
def test_ip_address_conditions_match_cidr_blocks(operator: str, source: str, allowed: bool) -> None:
    policy = doc(allow("kms:Decrypt", KEY, **{operator: {"aws:SourceIp": ["10.0.0.0/8"]}}))
    assert (
        evaluate([policy], request("kms:Decrypt", KEY, aws__SourceIp=[source])).allowed is allowed
    )


@pytest.mark.parametrize(
    ("operator", "now", "allowed"),
    [
        ("DateLessThan", "2026-11-30T12:00:00Z", True),
        ("DateLessThan", "2026-12-01T00:00:01Z", False),
        ("DateGreaterThan", "1796083260", True),  # epoch seconds: 2026-12-01T00:01:00Z
        ("DateNotEquals", "2026-12-01T00:00:00+00:00", False),
    ],
)
def test_date_conditions_compare_iso_8601_and_epoch_times(
    operator: str, now: str, allowed: bool
) -> None:
    policy = doc(allow("kms:Decrypt", KEY, **{operator: {"aws:CurrentTime": "2026-12-01"}}))
    assert evaluate([policy], request("kms:Decrypt", KEY, aws__CurrentTime=[now])).allowed is (
        allowed
    )


def test_a_key_policy_to_the_account_needs_the_identity_policy_too() -> None:
    key_policy = doc({**allow("kms:*"), "Principal": {"AWS": ROOT.arn}})
    without = Caller(SESSION, [])
    with_grant = Caller(SESSION, [doc(allow("kms:Decrypt", KEY))])
    assert not decide(without, request("kms:Decrypt", KEY), key_policy)[0].allowed
    assert decide(with_grant, request("kms:Decrypt", KEY), key_policy)[0].allowed
    # Root is the account itself.
    assert decide(Caller(ROOT, None), Request(ROOT, "kms:Decrypt", KEY), key_policy)[0].allowed


def test_a_key_policy_naming_the_role_is_enough_and_its_deny_binds_root() -> None:
    key_policy = doc(
        {**allow("kms:Decrypt"), "Principal": {"AWS": ROLE}},
        {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "kms:Encrypt", "Resource": "*"},
    )
    assert decide(Caller(SESSION, []), request("kms:Decrypt", KEY), key_policy)[0].allowed
    assert not decide(Caller(ROOT, None), Request(ROOT, "kms:Encrypt", KEY), key_policy)[0].allowed


def test_service_principals_match_only_their_service() -> None:
    logs = Principal("logs.us-east-1.amazonaws.com", ACCOUNT, "logs.us-east-1.amazonaws.com")
    key_policy = doc({**allow("kms:Encrypt*"), "Principal": {"Service": logs.service}})
    assert evaluate([key_policy], Request(logs, "kms:Encrypt", KEY), resource_policy=True).allowed
    assert not evaluate([key_policy], request("kms:Encrypt", KEY), resource_policy=True).allowed


BUCKET_OBJECT = "arn:aws:s3:::audit/AWSLogs/x.json.gz"
TLS_ONLY = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::audit", "arn:aws:s3:::audit/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def s3_read(secure: bool) -> Request:
    return request(
        "s3:GetObject", BUCKET_OBJECT, aws__SecureTransport=["true" if secure else "false"]
    )


def test_a_tls_only_bucket_refuses_plain_http_whatever_the_identity_policy_allows() -> None:
    reader = Caller(SESSION, [doc(allow("s3:GetObject", "arn:aws:s3:::audit/*"))])
    bucket_policy = doc(TLS_ONLY)
    decision, reason = decide(reader, s3_read(False), bucket_policy, resource_policy_required=False)
    assert not decision.allowed
    assert "explicit deny in a resource-based policy (DenyInsecureTransport)" in reason
    assert decide(reader, s3_read(True), bucket_policy, resource_policy_required=False)[0].allowed


def test_same_account_either_the_identity_or_the_resource_policy_may_allow() -> None:
    # "If either the identity-based policy or the resource-based policy within the same
    # account allows the request and the other doesn't, the request is still allowed."
    names_role = doc({**allow("s3:GetObject", "arn:aws:s3:::audit/*"), "Principal": {"AWS": ROLE}})
    bare = Caller(SESSION, [])
    assert decide(bare, s3_read(True), names_role, resource_policy_required=False)[0].allowed
    assert not decide(bare, s3_read(True), doc(TLS_ONLY), resource_policy_required=False)[0].allowed
    # An Allow to the account only delegates to IAM: the role still needs its own Allow.
    to_account = doc({**allow("s3:GetObject"), "Principal": {"AWS": ROOT.arn}})
    assert not decide(bare, s3_read(True), to_account, resource_policy_required=False)[0].allowed


def test_an_identity_deny_beats_a_resource_policy_allow_naming_the_role() -> None:
    names_role = doc({**allow("sqs:SendMessage"), "Principal": {"AWS": ROLE}})
    caller = Caller(SESSION, [doc({"Effect": "Deny", "Action": "sqs:*", "Resource": "*"})])
    queue = f"arn:aws:sqs:us-east-1:{ACCOUNT}:q"
    decision, reason = decide(
        caller, request("sqs:SendMessage", queue), names_role, resource_policy_required=False
    )
    assert not decision.allowed
    assert "identity-based policy" in reason


def test_a_function_policy_admits_a_service_only_for_its_source_arn() -> None:
    gateway = Principal("apigateway.amazonaws.com", ACCOUNT, "apigateway.amazonaws.com")
    function = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:payments-api"
    api = f"arn:aws:execute-api:us-east-1:{ACCOUNT}:abc123"
    policy = doc(
        {
            **allow("lambda:InvokeFunction", function),
            "Principal": {"Service": "apigateway.amazonaws.com"},
            "Condition": {"ArnLike": {"AWS:SourceArn": f"{api}/*/POST/v1/payments"}},
        }
    )

    def invoke(source: str) -> bool:
        context = {"aws:SourceArn": [source], "aws:SourceAccount": [ACCOUNT]}
        call = Request(gateway, "lambda:InvokeFunction", function, context)
        return evaluate([policy], call, resource_policy=True).allowed

    assert invoke(f"{api}/local/POST/v1/payments")
    assert not invoke(f"{api}/local/GET/v1/payments")
    assert not invoke(f"arn:aws:execute-api:us-east-1:{ACCOUNT}:other/local/POST/v1/payments")


def test_a_permissions_boundary_caps_the_identity_policy_and_its_deny_refuses() -> None:
    policies = [doc(allow("dynamodb:*", TABLE))]
    boundary = doc(
        allow("dynamodb:GetItem"),
        {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": "*"},
    )
    unbounded, bounded = Caller(SESSION, policies), Caller(SESSION, policies, boundary=boundary)
    assert decide(bounded, request("dynamodb:GetItem"), None)[0].allowed
    assert decide(unbounded, request("dynamodb:PutItem"), None)[0].allowed
    decision, reason = decide(bounded, request("dynamodb:PutItem"), None)
    assert not decision.allowed
    assert "no permissions boundary allows the dynamodb:PutItem action" in reason
    decision, reason = decide(bounded, request("dynamodb:DeleteItem"), None)
    assert "explicit deny in a permissions boundary" in reason
    # A boundary grants nothing the identity policy does not.
    bare = Caller(SESSION, [], boundary=boundary)
    assert not decide(bare, request("dynamodb:GetItem"), None)[0].allowed


def test_a_session_policy_caps_a_resource_policy_naming_the_role_not_the_session() -> None:
    queue = f"arn:aws:sqs:us-east-1:{ACCOUNT}:q"
    send = request("sqs:SendMessage", queue)
    session_policy = doc(allow("sqs:ReceiveMessage"))
    capped = Caller(SESSION, [doc(allow("sqs:*"))], session_policy=session_policy)
    assert not decide(capped, send, None, resource_policy_required=False)[0].allowed
    names_role = doc({**allow("sqs:SendMessage"), "Principal": {"AWS": ROLE}})
    assert not decide(capped, send, names_role, resource_policy_required=False)[0].allowed
    # "Permissions granted to the session ARN are not limited by the session policy."
    names_session = doc({**allow("sqs:SendMessage"), "Principal": {"AWS": SESSION.arn}})
    assert decide(capped, send, names_session, resource_policy_required=False)[0].allowed
    assert decide(capped, request("sqs:ReceiveMessage", queue), None)[0].allowed


def test_a_grants_context_constraint_is_the_whole_context_or_part_of_it() -> None:
    context = {"vault": "data-key", "tenant_id": "t1"}
    assert grant_constraints_hold(None, context)
    assert grant_constraints_hold({"EncryptionContextSubset": {"vault": "data-key"}}, context)
    assert not grant_constraints_hold({"EncryptionContextSubset": {"vault": "other"}}, context)
    assert not grant_constraints_hold({"EncryptionContextEquals": {"vault": "data-key"}}, context)
    assert grant_constraints_hold({"EncryptionContextEquals": dict(context)}, context)


def test_create_grant_is_decided_on_the_grants_operations_and_kind() -> None:
    keys = grant_condition_keys(
        {
            "GranteePrincipal": ROLE,
            "Operations": ["Decrypt", "Encrypt"],
            "Constraints": {"EncryptionContextSubset": {"a": "b"}},
        }
    )
    only_decrypt = doc(
        {
            **allow("kms:CreateGrant"),
            "Condition": {"ForAllValues:StringEquals": {"kms:GrantOperations": ["Decrypt"]}},
        }
    )
    create = request("kms:CreateGrant", KEY, **{k.replace(":", "__"): v for k, v in keys.items()})
    assert keys["kms:GrantConstraintType"] == ["EncryptionContextSubset"]
    assert not evaluate([only_decrypt], create).allowed
    for_aws_resources = doc(allow("kms:CreateGrant", Bool={"kms:GrantIsForAWSResource": "true"}))
    assert not evaluate([for_aws_resources], create).allowed
    assert evaluate([doc(allow("kms:CreateGrant"))], create).allowed
