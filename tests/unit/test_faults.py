"""Fault injection (local/faults.py) without an emulator: the WSGI side and the plan."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from pydantic import ValidationError

from local import faults

SIGNED = "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20261201/us-east-1/dynamodb/aws4_request, x"


def moto(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b'{"from": "moto"}']


def call(
    app: Any, *, method: str = "POST", path: str = "/", body: bytes = b"", **headers: str
) -> tuple[str, dict[str, Any]]:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        **{f"HTTP_{name.upper()}": value for name, value in headers.items()},
    }
    seen: list[str] = []
    answer = b"".join(app(environ, lambda status, _headers: seen.append(status)))
    return seen[0], json.loads(answer or b"{}")


def plan(*rules: dict[str, Any], seed: int = 7) -> bytes:
    return json.dumps({"seed": seed, "rules": list(rules)}).encode()


@pytest.fixture
def app() -> Any:
    return faults.middleware(moto, faults.Injector())


def session_call(app: Any, target: str, body: bytes = b"{}") -> tuple[str, dict[str, Any]]:
    return call(
        app,
        body=body,
        authorization=SIGNED,
        x_amz_security_token="token",
        x_amz_target=f"DynamoDB_20120810.{target}",
    )


def test_a_throttled_operation_answers_as_dynamodb_does_and_others_pass(app: Any) -> None:
    rule = {"service": "dynamodb", "operation": "PutItem", "fault": "throttle", "probability": 1}
    assert call(app, method="PUT", path=faults.PATH, body=plan(rule))[0] == "200 OK"
    status, answer = session_call(app, "PutItem")
    assert status.startswith("400")
    assert answer["__type"] == "ProvisionedThroughputExceededException"
    assert session_call(app, "GetItem")[1] == {"from": "moto"}
    # The emulator's long-term keys (Terraform, tests) are never faulted.
    assert call(app, authorization=SIGNED, x_amz_target="DynamoDB_20120810.PutItem")[1] == {
        "from": "moto"
    }
    described = call(app, method="GET", path=faults.PATH)[1]
    assert described["injected"] == {"dynamodb:PutItem:throttle": 1}
    call(app, method="DELETE", path=faults.PATH)
    assert session_call(app, "PutItem")[1] == {"from": "moto"}


def test_a_conflicted_transaction_names_one_reason_per_item(app: Any) -> None:
    rule = {"service": "dynamodb", "fault": "transaction_conflict", "probability": 1}
    call(app, method="PUT", path=faults.PATH, body=plan(rule))
    items = json.dumps({"TransactItems": [{"Put": {}}, {"Update": {}}, {"Put": {}}]}).encode()
    status, answer = session_call(app, "TransactWriteItems", items)
    assert status.startswith("400")
    assert answer["__type"].endswith("#TransactionCanceledException")
    codes = [reason["Code"] for reason in answer["CancellationReasons"]]
    assert len(codes) == 3 and codes.count("TransactionConflict") == 1
    assert codes.count("None") == 2


def test_a_plan_that_cannot_apply_is_refused_naming_the_rule(app: Any) -> None:
    wrong = {"service": "dynamodb", "fault": "kill_worker", "probability": 1}
    status, answer = call(app, method="PUT", path=faults.PATH, body=plan(wrong))
    assert status.startswith("400")
    assert answer["error"][0]["loc"] == ["rules", 0]
    odds = {"service": "kms", "fault": "throttle", "probability": 1.5}
    status, answer = call(app, method="PUT", path=faults.PATH, body=plan(odds))
    assert answer["error"][0]["loc"] == ["rules", 0, "probability"]
    with pytest.raises(ValidationError):
        faults.Rule(service="events", operation="PutItem", fault="partial_failure", probability=1)


def test_a_seed_repeats_the_same_faults() -> None:
    rule = faults.Rule(service="kms", fault="throttle", probability=0.3)

    def run() -> list[str | None]:
        injector = faults.Injector()
        injector.set(faults.Plan(rules=[rule], seed=42))
        return [injector.draw("kms", "Decrypt") for _ in range(200)]

    first = run()
    assert first == run()
    assert 30 < first.count("throttle") < 90  # about 60 of 200
