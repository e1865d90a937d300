"""IAM policy evaluation for the emulator: what AWS decides for one request, from its policies.

moto's own evaluator (``moto.iam.access_control``) matches actions but compares resources only
for a few services, knows one condition operator (``StringEquals``), and turns an Allow whose
condition fails into a Deny. The payment modules rely on ``NotAction``, set operators on
multi-valued keys (``dynamodb:LeadingKeys``, ``kms:EncryptionContextKeys``), ``IfExists`` and
negated operators in their key policies, so the emulator evaluates policies here and keeps
moto for what it does well (finding the credentials, checking the signature, storing policies).

Pure: no moto, no boto3. The order is AWS's for one account: an explicit Deny in any policy
wins; then an Allow is needed. Which policies must allow (identity, resource, key policy) is the
caller's choice (``local.enforcement``).
"""

from __future__ import annotations

import datetime
import fnmatch
import functools
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

# Condition keys that carry a set of values; every other key has at most one value.
MULTI_VALUED_KEYS = frozenset(
    {"dynamodb:leadingkeys", "dynamodb:attributes", "kms:encryptioncontextkeys", "aws:tagkeys"}
)


class Effect(Enum):
    ALLOW = "Allow"
    DENY = "Deny"
    NONE = "None"


@dataclass(frozen=True)
class Principal:
    """Who calls: an IAM role's session, an IAM user, the account root, or an AWS service."""

    arn: str
    account: str
    service: str | None = None

    @property
    def is_root(self) -> bool:
        return self.arn == f"arn:aws:iam::{self.account}:root"

    @property
    def role_arn(self) -> str | None:
        """The role a session belongs to (what ``aws:PrincipalArn`` names for a session)."""
        match = re.fullmatch(r"arn:(aws[a-z-]*):sts::(\d{12}):assumed-role/([^/]+)/.+", self.arn)
        if match is None:
            return None
        return f"arn:{match[1]}:iam::{match[2]}:role/{match[3]}"

    @property
    def principal_arn(self) -> str:
        return self.role_arn or self.arn


@dataclass(frozen=True)
class Request:
    """One authorization question: may ``principal`` do ``action`` on ``resource``?"""

    principal: Principal
    action: str
    resource: str
    context: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def values(self, key: str) -> list[str] | None:
        """The request's values for a condition key (keys are case-insensitive), or None."""
        wanted = key.lower()
        for name, values in self.full_context.items():
            if name.lower() == wanted:
                return list(values)
        return None

    @functools.cached_property
    def full_context(self) -> dict[str, Sequence[str]]:
        principal = self.principal
        base: dict[str, Sequence[str]] = {
            "aws:PrincipalArn": [principal.principal_arn],
            "aws:PrincipalAccount": [principal.account],
            "aws:PrincipalIsAWSService": ["true" if principal.service else "false"],
            "aws:userid": [principal.arn],
        }
        if principal.service:
            base["aws:PrincipalServiceName"] = [principal.service]
        return {**base, **self.context}


@dataclass(frozen=True)
class Decision:
    effect: Effect
    statement: str | None = None
    # A resource policy's Allow that names the caller itself, not only its account: enough on
    # its own, where an Allow to the account also needs the caller's identity policy.
    direct: bool = False
    # An Allow naming the caller's own session or user ARN, not its role: a permissions boundary
    # or session policy does not cap it.
    exact: bool = False

    @property
    def allowed(self) -> bool:
        return self.effect is Effect.ALLOW


@functools.lru_cache(maxsize=1024)
def parse(document: str) -> tuple[dict[str, Any], ...]:
    """A policy document's statements (cached: the same documents are read on every call)."""
    statements = json.loads(document).get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    return tuple(statements)


def evaluate(
    documents: Iterable[str], request: Request, *, resource_policy: bool = False
) -> Decision:
    """The effect of a set of policies on a request: Deny if any statement denies, else Allow if
    any allows, else None (an implicit deny). Resource policies also match ``Principal``."""
    allowed: str | None = None
    direct = exact = False
    for document in documents:
        for index, statement in enumerate(parse(document)):
            if not statement_applies(statement, request, resource_policy=resource_policy):
                continue
            sid = str(statement.get("Sid") or f"#{index}")
            if statement.get("Effect") == "Deny":
                return Decision(Effect.DENY, sid)
            allowed = allowed or sid
            direct = direct or (
                resource_policy and names_principal_directly(statement, request.principal)
            )
            exact = exact or (
                resource_policy and names_principal_exactly(statement, request.principal)
            )
    return Decision(Effect.ALLOW, allowed, direct, exact) if allowed else Decision(Effect.NONE)


def statement_applies(
    statement: Mapping[str, Any], request: Request, *, resource_policy: bool = False
) -> bool:
    if "NotAction" in statement:
        if any(action_matches(p, request.action) for p in as_list(statement["NotAction"])):
            return False
    elif not any(action_matches(p, request.action) for p in as_list(statement.get("Action"))):
        return False
    if "NotResource" in statement:
        if any(resource_matches(p, request.resource) for p in as_list(statement["NotResource"])):
            return False
    elif "Resource" in statement and not any(
        resource_matches(p, request.resource) for p in as_list(statement["Resource"])
    ):
        return False
    if resource_policy:
        if "NotPrincipal" in statement:
            if principal_matches(statement["NotPrincipal"], request.principal):
                return False
        elif not principal_matches(statement.get("Principal"), request.principal):
            return False
    return conditions_hold(statement.get("Condition") or {}, request)


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def action_matches(pattern: str, action: str) -> bool:
    return fnmatch.fnmatchcase(action.lower(), str(pattern).lower())


def resource_matches(pattern: str, resource: str) -> bool:
    # fnmatch's [] classes are not IAM syntax: only * and ? are wildcards.
    return wildcard(str(pattern)).fullmatch(resource) is not None


@functools.lru_cache(maxsize=4096)
def wildcard(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    body = "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern
    )
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def principal_matches(element: Any, principal: Principal) -> bool:
    """Whether a ``Principal`` element names the caller. A role ARN names every session of the
    role; the account root (or the bare account ID) names the account, which for an IAM
    principal means its own identity policy must allow too (the caller decides that)."""
    if element == "*":
        return True
    if not isinstance(element, Mapping):
        return False
    if principal.service:
        return principal.service in as_list(element.get("Service"))
    names = as_list(element.get("AWS"))
    if "*" in names:
        return True
    account_names = {f"arn:aws:iam::{principal.account}:root", principal.account}
    return any(name in account_names for name in names) or bool(
        {principal.arn, principal.principal_arn} & set(names)
    )


def names_principal_directly(statement: Mapping[str, Any], principal: Principal) -> bool:
    """Whether a statement's ``Principal`` names the caller itself, not only its account (the
    root user is the account)."""
    if "NotPrincipal" in statement:
        return True
    element = statement.get("Principal")
    if principal.service or principal.is_root:
        return principal_matches(element, principal)
    if element == "*":
        return True
    names = as_list(element.get("AWS")) if isinstance(element, Mapping) else []
    return "*" in names or bool({principal.arn, principal.principal_arn} & set(names))


def names_principal_exactly(statement: Mapping[str, Any], principal: Principal) -> bool:
    """Whether a statement's ``Principal`` names the caller's own ARN: the session (not only its
    role), the user, or the service."""
    element = statement.get("Principal")
    if principal.service:
        return principal_matches(element, principal)
    names = as_list(element.get("AWS")) if isinstance(element, Mapping) else []
    return principal.arn in names


def conditions_hold(conditions: Mapping[str, Mapping[str, Any]], request: Request) -> bool:
    return all(
        condition_holds(operator, key, as_list(expected), request)
        for operator, pairs in conditions.items()
        for key, expected in pairs.items()
    )


def condition_holds(operator: str, key: str, expected: list[Any], request: Request) -> bool:
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    actual = request.values(key)
    expected_text = [substitute(str(value), request) for value in expected]
    if base == "Null":
        wanted_absent = expected_text[0].lower() == "true"
        return (not actual) == wanted_absent
    if qualifier == "ForAllValues":
        return all(test(base, a, expected_text) for a in actual or [])
    if qualifier == "ForAnyValue":
        return any(test(base, a, expected_text) for a in actual or [])
    if actual is None:
        # A missing key matches nothing; IfExists and the negated operators hold without it.
        return if_exists or negated(base)
    if negated(base):
        return all(test(base, a, expected_text) for a in actual)
    return any(test(base, a, expected_text) for a in actual)


def test(operator: str, actual: str, expected: list[str]) -> bool:
    """One request value against a condition's values: any of them (none, if negated)."""
    hit = any(match(operator, actual, e) for e in expected)
    return not hit if negated(operator) else hit


def negated(operator: str) -> bool:
    return "Not" in operator


def substitute(value: str, request: Request) -> str:
    """Policy variables (``${aws:PrincipalAccount}``) from the request context."""

    def replace(match: re.Match[str]) -> str:
        values = request.values(match[1])
        return values[0] if values else match[0]

    return re.sub(r"\$\{([^}]+)\}", replace, value)


def match(operator: str, actual: str, expected: str) -> bool:
    positive = operator.replace("Not", "")
    if positive == "StringEquals":
        return actual == expected
    if positive == "StringEqualsIgnoreCase":
        return actual.lower() == expected.lower()
    if positive in ("StringLike", "ArnLike", "ArnEquals"):
        return wildcard(expected).fullmatch(actual) is not None
    if positive == "Bool":
        return actual.lower() == expected.lower()
    if positive.startswith("Numeric"):
        return numeric(positive, actual, expected)
    if positive.startswith("Date"):
        return compare(positive.removeprefix("Date"), moment(actual), moment(expected))
    if positive == "IpAddress":
        # The condition's value is a CIDR block (a bare address is a /32 or /128).
        try:
            return ipaddress.ip_address(actual) in ipaddress.ip_network(expected, strict=False)
        except ValueError:
            return False
    raise UnsupportedCondition(operator)


def numeric(operator: str, actual: str, expected: str) -> bool:
    return compare(operator.removeprefix("Numeric"), float(actual), float(expected))


def compare(relation: str, left: Any, right: Any) -> bool:
    return bool(
        {
            "Equals": left == right,
            "LessThan": left < right,
            "LessThanEquals": left <= right,
            "GreaterThan": left > right,
            "GreaterThanEquals": left >= right,
        }[relation]
    )


def moment(value: str) -> datetime.datetime:
    """A Date condition's value: ISO 8601 (a date, or a time with its zone) or epoch seconds,
    the two forms IAM documents for the Date operators."""
    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text) and "-" not in text:
        return datetime.datetime.fromtimestamp(float(text), datetime.UTC)
    parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


class UnsupportedCondition(ValueError):
    """A condition operator the emulator does not evaluate (Binary*): refused
    loudly rather than guessed, so a policy relying on it is noticed and the gap filled."""
