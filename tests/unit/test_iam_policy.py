"""The emulator's policy evaluation (local/iam_policy.py, local/enforcement.decide) against the
rules AWS documents, on the statement shapes the modules use."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.enforcement import Caller, decide
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
    policy = doc(allow("kms:Decrypt", KEY, IpAddress={"aws:SourceIp": "10.0.0.0/8"}))
    with pytest.raises(UnsupportedCondition):
        evaluate([policy], request("kms:Decrypt", KEY, aws__SourceIp=["10.0.0.1"]))


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
