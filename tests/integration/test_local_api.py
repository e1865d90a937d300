"""The local API serves the REST API that Terraform (here: boto3) defined on the emulator."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.conftest import Emulator
from tests.integration.handlers import ECHO_PROXY
from tests.integration.test_emulator import create_function, unique


@pytest.fixture(scope="module")
def echo_api(emulator: Emulator, role_arn: str) -> str:
    name = create_function(emulator, role_arn, ECHO_PROXY, "echo")
    arn = emulator.client("lambda").get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    uri = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations"
    apigw = emulator.client("apigateway")
    api_name = unique("api")
    api = apigw.create_rest_api(name=api_name)
    root = next(r for r in apigw.get_resources(restApiId=api["id"])["items"] if r["path"] == "/")
    v1 = apigw.create_resource(restApiId=api["id"], parentId=root["id"], pathPart="v1")
    items = apigw.create_resource(restApiId=api["id"], parentId=v1["id"], pathPart="items")
    item = apigw.create_resource(restApiId=api["id"], parentId=items["id"], pathPart="{id}")
    secret = apigw.create_resource(restApiId=api["id"], parentId=item["id"], pathPart="secret")
    for resource, method, auth in (
        (items, "POST", "NONE"),
        (item, "GET", "NONE"),
        (item, "DELETE", "NONE"),
        (secret, "POST", "AWS_IAM"),
    ):
        apigw.put_method(
            restApiId=api["id"],
            resourceId=resource["id"],
            httpMethod=method,
            authorizationType=auth,
        )
        apigw.put_integration(
            restApiId=api["id"],
            resourceId=resource["id"],
            httpMethod=method,
            type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=uri,
        )
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    # API Gateway invokes the function as itself: the function's policy must admit it.
    emulator.client("lambda").add_permission(
        FunctionName=name,
        StatementId="AllowApi",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:us-east-1:123456789012:{api['id']}/*",
    )
    return api_name


def call(
    emulator: Emulator,
    api_name: str,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 (always the local http endpoint)
        f"{emulator.api_endpoint}{path}",
        data=data,
        method=method,
        headers={"X-Api-Name": api_name, **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_requests_become_proxy_events_and_responses(emulator: Emulator, echo_api: str) -> None:
    status, body = call(emulator, echo_api, "POST", "/v1/items?debug=1", {"amount": 5})
    assert status == 201
    assert body == {
        "resource": "/v1/items",
        "path": "/v1/items",
        "pathParameters": None,
        "query": {"debug": "1"},
        "body": {"amount": 5},
        "userArn": None,
    }
    status, body = call(emulator, echo_api, "GET", "/v1/items/it_42")
    assert (status, body["resource"], body["pathParameters"]) == (
        201,
        "/v1/items/{id}",
        {"id": "it_42"},
    )


def test_unknown_routes_and_function_errors(emulator: Emulator, echo_api: str) -> None:
    assert call(emulator, echo_api, "GET", "/v2/nothing")[0] == 404
    assert call(emulator, echo_api, "PUT", "/v1/items")[0] == 405
    status, body = call(emulator, echo_api, "DELETE", "/v1/items/it_1")
    assert (status, body) == (502, {"message": "Internal server error"})


def test_the_api_must_be_named_when_several_are_deployed(emulator: Emulator, echo_api: str) -> None:
    status, body = call(emulator, "no-such-api", "POST", "/v1/items", {})
    assert status == 404
    assert "no-such-api" in body["message"]


def test_iam_authorization_names_the_caller(emulator: Emulator, echo_api: str) -> None:
    assert call(emulator, echo_api, "POST", "/v1/items/it_1/secret", {})[0] == 403
    iam = emulator.client("iam")
    user = unique("auditor")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    url = f"{emulator.api_endpoint}/v1/items/it_1/secret"
    signed = AWSRequest(method="POST", url=url, data=b"{}", headers={"X-Api-Name": echo_api})
    SigV4Auth(
        Credentials(key["AccessKeyId"], key["SecretAccessKey"]), "execute-api", "us-east-1"
    ).add_auth(signed)
    status, body = call(
        emulator,
        echo_api,
        "POST",
        "/v1/items/it_1/secret",
        {},
        headers=dict(signed.headers.items()),
    )
    assert status == 201
    assert body["userArn"] == f"arn:aws:iam::123456789012:user/{user}"
