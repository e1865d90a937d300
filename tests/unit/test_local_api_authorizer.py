"""The local API's Lambda authorizer and gateway responses, as API Gateway runs them: the
identity source, the invoke permission, the answer's policy against the method ARN, the cache
per identity value and TTL, ``Unauthorized`` as 401, a failure as 500, and every refusal in the
API's gateway response. No emulator: the API, route and functions are stand-ins."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from local import api_gateway, enforcement
from local.api_gateway import (
    AuthorizerCache,
    AuthRequest,
    Refusal,
    Route,
    gateway_response,
    policy_allows,
)
from local.lambda_runtime import InvocationResult

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:api1/v1/POST/v1/payments"
AUTHORIZER_ARN = "arn:aws:lambda:us-east-1:123456789012:function:pay-merchant-authorizer"


@dataclass
class Authorizer:
    id: str = "auth1"
    type: str = "REQUEST"
    identity_source: str = "method.request.header.Authorization"
    authorizer_result_ttl: int | None = 300
    authorizer_uri: str = (
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
        f"{AUTHORIZER_ARN}/invocations"
    )


@dataclass
class Method:
    authorizer_id: str = "auth1"
    http_method: str = "POST"
    authorization_type: str = "CUSTOM"
    request_parameters: dict[str, bool] = field(default_factory=dict)


@dataclass
class GatewayResponse:
    status_code: str | None
    response_templates: dict[str, str]


@dataclass
class Api:
    authorizers: dict[str, Authorizer] = field(default_factory=lambda: {"auth1": Authorizer()})
    gateway_responses: dict[str, GatewayResponse] = field(default_factory=dict)
    id: str = "api1"
    region_name: str = "us-east-1"
    account_id: str = "123456789012"


def allow(context: dict[str, Any] | None = None, effect: str = "Allow") -> bytes:
    return json.dumps(
        {
            "principalId": "m_1",
            "policyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Action": "execute-api:Invoke",
                        "Effect": effect,
                        "Resource": ["arn:aws:execute-api:us-east-1:123456789012:api1/v1/*/*"],
                    }
                ],
            },
            "context": context or {"merchant_id": "m_1"},
        }
    ).encode()


class Authorizers:
    """The authorizer function's answers, and what it was asked."""

    def __init__(self, *answers: InvocationResult) -> None:
        self.answers = list(answers)
        self.events: list[dict[str, Any]] = []

    def __call__(self, function: Any, event: dict[str, Any]) -> InvocationResult:
        self.events.append(event)
        return self.answers.pop(0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def invocations(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The authorizer function exists and API Gateway may invoke it (unless a test says not)."""
    asked: list[tuple[str, str]] = []
    monkeypatch.setattr(api_gateway, "lambda_function", lambda arn: arn)

    def refusal(function: Any, service: str, source_arn: str) -> str | None:
        asked.append((service, source_arn))
        return None

    monkeypatch.setattr(enforcement, "service_invoke_refusal", refusal)
    return asked


def route() -> Route:
    return Route(None, None, Method(), {}, "/v1/payments")


def authorize(
    cache: AuthorizerCache, headers: dict[str, str], api: Api | None = None
) -> dict[str, Any] | Refusal:
    request = AuthRequest(api or Api(), route(), METHOD_ARN, headers, "", "192.0.2.1", "v1")
    return cache.authorize(request)


def test_an_allowed_key_passes_its_context_and_is_asked_with_api_gateway_s_event(
    invocations: list[tuple[str, str]],
) -> None:
    invoke = Authorizers(InvocationResult(allow(), None))
    answer = authorize(AuthorizerCache(invoke), {"authorization": "Bearer sk_1"})
    assert answer == {"merchant_id": "m_1", "principalId": "m_1"}
    (event,) = invoke.events
    assert event["type"] == "REQUEST" and event["methodArn"] == METHOD_ARN
    assert event["headers"] == {"authorization": "Bearer sk_1"} and event["path"] == "/v1/payments"
    # Invoked as API Gateway, for this API's authorizer: the function's policy must admit it.
    assert invocations == [
        (
            "apigateway.amazonaws.com",
            "arn:aws:execute-api:us-east-1:123456789012:api1/authorizers/auth1",
        )
    ]


def test_answers_are_cached_per_key_for_the_ttl() -> None:
    clock = Clock()
    invoke = Authorizers(*(InvocationResult(allow(), None) for _ in range(3)))
    cache = AuthorizerCache(invoke, clock)
    for _ in range(3):
        authorize(cache, {"Authorization": "Bearer sk_1"})
    authorize(cache, {"Authorization": "Bearer sk_2"})
    assert len(invoke.events) == 2  # one per key
    clock.now += 300
    authorize(cache, {"Authorization": "Bearer sk_1"})
    assert len(invoke.events) == 3  # expired: asked again


def test_a_ttl_of_zero_asks_every_time() -> None:
    invoke = Authorizers(*(InvocationResult(allow(), None) for _ in range(2)))
    api = Api(authorizers={"auth1": Authorizer(authorizer_result_ttl=0)})
    cache = AuthorizerCache(invoke)
    authorize(cache, {"Authorization": "Bearer sk_1"}, api)
    authorize(cache, {"Authorization": "Bearer sk_1"}, api)
    assert len(invoke.events) == 2


def test_a_missing_identity_source_is_401_without_asking() -> None:
    invoke = Authorizers()
    assert authorize(AuthorizerCache(invoke), {}) == Refusal("UNAUTHORIZED", 401, "Unauthorized")
    assert invoke.events == []


def test_unauthorized_is_401_and_any_other_failure_500() -> None:
    unauthorized = json.dumps({"errorMessage": "Unauthorized", "errorType": "PermissionError"})
    failed = json.dumps({"errorMessage": "table missing", "errorType": "ClientError"})
    cache = AuthorizerCache(
        Authorizers(
            InvocationResult(unauthorized.encode(), "PermissionError"),
            InvocationResult(failed.encode(), "ClientError"),
            InvocationResult(b"not json", None),
        )
    )
    headers = {"Authorization": "Bearer sk_1"}
    assert authorize(cache, headers) == Refusal("UNAUTHORIZED", 401, "Unauthorized")
    assert authorize(cache, headers).response_type == "AUTHORIZER_FAILURE"  # type: ignore[union-attr]
    assert authorize(cache, headers).response_type == "AUTHORIZER_CONFIGURATION_ERROR"  # type: ignore[union-attr]


def test_a_deny_or_a_policy_for_other_resources_is_403() -> None:
    elsewhere = json.loads(allow())
    elsewhere["policyDocument"]["Statement"][0]["Resource"] = [
        "arn:aws:execute-api:us-east-1:123456789012:api1/v1/GET/*"
    ]
    cache = AuthorizerCache(
        Authorizers(
            InvocationResult(allow(effect="Deny"), None),
            InvocationResult(json.dumps(elsewhere).encode(), None),
        )
    )
    for key in ("Bearer sk_1", "Bearer sk_2"):
        refused = authorize(cache, {"Authorization": key})
        assert isinstance(refused, Refusal) and (refused.response_type, refused.status) == (
            "ACCESS_DENIED",
            403,
        )


def test_a_deny_s_context_fills_the_access_denied_response_as_api_gateway_substitutes_it() -> None:
    template = json.dumps(
        {
            "error": {
                "type": "permission_error",
                "code": "$context.authorizer.refusal_code",
                "message": "$context.authorizer.refusal_message",
                "param": None,
            }
        }
    )
    api = Api(
        gateway_responses={"ACCESS_DENIED": GatewayResponse("403", {"application/json": template})}
    )
    denied = {
        "merchant_id": "m_1",
        "refusal_code": "merchant_suspended",
        "refusal_message": "Held.",
    }
    cache = AuthorizerCache(Authorizers(InvocationResult(allow(denied, effect="Deny"), None)))
    refused = authorize(cache, {"Authorization": "Bearer sk_1"}, api)
    assert isinstance(refused, Refusal) and refused.context["refusal_code"] == "merchant_suspended"
    # Cached like an Allow: the second request asks no one and is denied the same way.
    again = authorize(cache, {"Authorization": "Bearer sk_1"}, api)
    assert again == refused
    status, _, body = gateway_response(api, "ACCESS_DENIED", 403, refused.text, refused.context)
    assert status == 403
    assert json.loads(body)["error"] == {
        "type": "permission_error",
        "code": "merchant_suspended",
        "message": "Held.",
        "param": None,
    }
    # Without an authorizer's context (an IAM route), the variables are empty, as on AWS.
    _, _, bare = gateway_response(api, "ACCESS_DENIED", 403, "denied")
    assert json.loads(bare)["error"]["code"] == ""


def test_the_answer_s_usage_identifier_key_is_kept_with_the_cached_answer() -> None:
    answer = json.loads(allow())
    answer["usageIdentifierKey"] = "u" * 40
    invoke = Authorizers(InvocationResult(json.dumps(answer).encode(), None))
    cache = AuthorizerCache(invoke)
    request = AuthRequest(
        Api(), route(), METHOD_ARN, {"Authorization": "Bearer sk_1"}, "", "", "v1"
    )
    for _ in range(2):
        decided = cache.authorize_with_usage_key(request)
        assert not isinstance(decided, Refusal)
        assert decided[1] == "u" * 40 and "usageIdentifierKey" not in decided[0]
    assert len(invoke.events) == 1


def test_an_authorizer_the_function_policy_refuses_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(enforcement, "service_invoke_refusal", lambda *_: "no statement admits it")
    invoke = Authorizers()
    refused = authorize(AuthorizerCache(invoke), {"Authorization": "Bearer sk_1"})
    assert isinstance(refused, Refusal) and refused.status == 500 and invoke.events == []


def test_policy_wildcards_and_deny_win() -> None:
    policy = json.loads(allow())["policyDocument"]
    assert policy_allows(policy, METHOD_ARN)
    assert not policy_allows(policy, METHOD_ARN.replace("api1", "api2"))
    policy["Statement"].append(
        {"Action": "execute-api:*", "Effect": "Deny", "Resource": f"{METHOD_ARN[:-8]}*"}
    )
    assert not policy_allows(policy, METHOD_ARN)


def test_refusals_take_the_api_s_gateway_response_or_its_default() -> None:
    shaped = json.dumps({"error": {"type": "authentication_error", "code": "api_key_invalid"}})
    fallback = json.dumps({"error": {"type": "invalid_request_error", "code": "request_refused"}})
    api = Api(
        gateway_responses={
            "UNAUTHORIZED": GatewayResponse("401", {"application/json": shaped}),
            "DEFAULT_4XX": GatewayResponse(None, {"application/json": fallback}),
        }
    )
    status, headers, body = gateway_response(api, "UNAUTHORIZED", 401, "Unauthorized")
    assert (status, json.loads(body)) == (401, json.loads(shaped))
    assert headers["x-amzn-ErrorType"] == "UNAUTHORIZED"
    status, _, body = gateway_response(api, "ACCESS_DENIED", 403, "denied")
    assert (status, json.loads(body)) == (403, json.loads(fallback))
    # An API without gateway responses answers as API Gateway does by default.
    assert json.loads(gateway_response(Api(), "THROTTLED", 429, "Too Many Requests")[2]) == {
        "message": "Too Many Requests"
    }


def test_required_headers_are_checked_before_the_function_runs() -> None:
    method = Method(request_parameters={"method.request.header.Idempotency-Key": True})
    needing = Route(None, None, method, {}, "/v1/payments")
    assert api_gateway.missing_header_parameters(needing, {}) == ["Idempotency-Key"]
    assert api_gateway.missing_header_parameters(needing, {"idempotency-key": " "}) == [
        "Idempotency-Key"
    ]
    assert api_gateway.missing_header_parameters(needing, {"idempotency-key": "k"}) == []
