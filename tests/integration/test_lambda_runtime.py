"""The local Lambda runtime on its own: workers, warmth, timeouts, errors, packaging."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.lambda_runtime import FunctionConfig, LambdaRuntime
from tests.conftest import LOCAL_SDK, LOCAL_ZIP
from tests.integration.handlers import PROBE_HANDLER, zip_source


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[LambdaRuntime]:
    runtime = LambdaRuntime("http://127.0.0.1:9", tmp_path, LOCAL_SDK)
    yield runtime
    runtime.shutdown()


def config_for(
    code: bytes, handler: str, timeout_s: float = 3.0, env: dict[str, str] | None = None
) -> FunctionConfig:
    return FunctionConfig(
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:probe",
        function_name="probe",
        handler=handler,
        runtime="python3.11",
        timeout_s=timeout_s,
        memory_mb=256,
        environment=env or {},
        code_sha256=hashlib.sha256(code).hexdigest(),
        region="us-east-1",
        log_group="/aws/lambda/probe",
    )


def test_the_deployed_zip_handler_imports_and_runs_in_an_isolated_worker(
    runtime: LambdaRuntime,
) -> None:
    code = LOCAL_ZIP.read_bytes()
    config = config_for(code, "functions.handlers.payments_api.handler")
    pan = "5555555555554444"
    body = {
        "merchant_id": "m",
        "amount": 100,
        "currency": "EUR",
        "customer": {"id": "c"},
        "payment_method": {
            "type": "card",
            "card": {"number": pan, "exp_month": 1, "exp_year": 2035, "track2": pan},
        },
    }
    # A refused request is answered before the function needs AWS: the import of the whole
    # API package (Powertools, pydantic, the domain) and its error path run here.
    event = {
        "httpMethod": "POST",
        "path": "/v1/payments",
        "resource": "/v1/payments",
        "headers": {"Idempotency-Key": "k-1"},
        "body": json.dumps(body),
        "requestContext": {"stage": "v1", "requestId": "r-1"},
        "isBase64Encoded": False,
    }
    result = runtime.invoke(config, event, lambda: code)
    assert result.error_type is None, result.payload
    answer = json.loads(result.payload)
    assert answer["statusCode"] == 400
    assert json.loads(answer["body"])["error"]["param"] == "payment_method.card.track2"
    assert result.init_ms is not None  # the first call paid the cold start
    assert pan not in "\n".join(result.logs) and pan not in answer["body"]


def test_a_worker_stays_warm_and_sees_the_function_environment(runtime: LambdaRuntime) -> None:
    code = zip_source("probe", PROBE_HANDLER)
    config = config_for(code, "probe.handler", env={"GREETING": "hello"})
    first = json.loads(runtime.invoke(config, {}, lambda: code).payload)
    second = runtime.invoke(config, {"echo": 2}, lambda: code)
    assert json.loads(second.payload)["pid"] == first["pid"]
    assert second.init_ms is None
    assert first["greeting"] == "hello"
    assert first["endpoint"] == "http://127.0.0.1:9"
    assert first["function_name"] == "probe"
    assert 0 < first["remaining_ms"] <= 3000
    assert "probe invoked" in second.logs
    assert second.logs[-1].startswith("REPORT RequestId:")


def test_an_overrunning_handler_is_killed_and_the_next_call_works(
    runtime: LambdaRuntime,
) -> None:
    code = zip_source("probe", PROBE_HANDLER)
    config = config_for(code, "probe.handler", timeout_s=1.0)
    slow = runtime.invoke(config, {"sleep": 5}, lambda: code)
    assert slow.error_type == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in json.loads(slow.payload)["errorMessage"]
    assert slow.duration_ms < 3000
    fast = runtime.invoke(config, {"echo": "again"}, lambda: code)
    assert fast.error_type is None
    assert json.loads(fast.payload)["echo"] == "again"


def test_a_handler_exception_is_an_unhandled_function_error(runtime: LambdaRuntime) -> None:
    code = zip_source("probe", PROBE_HANDLER)
    result = runtime.invoke(config_for(code, "probe.handler"), {"fail": True}, lambda: code)
    assert result.error_type == "ValueError"
    assert json.loads(result.payload)["errorMessage"] == "asked to fail"
    assert any("Traceback" in line for line in result.logs)


def test_a_missing_dependency_fails_like_lambda_does(runtime: LambdaRuntime) -> None:
    code = zip_source("needs_pydantic", "import pydantic\n\ndef handler(e, c):\n    return 1\n")
    result = runtime.invoke(config_for(code, "needs_pydantic.handler"), {}, lambda: code)
    # The worker sees only the zip and the SDK, never the project's virtualenv.
    assert result.error_type == "Runtime.ImportModuleError"
    assert "No module named 'pydantic'" in json.loads(result.payload)["errorMessage"]


CREDENTIALS_PROBE = """
import os

import botocore.session

# Built once per container, as the functions build their clients.
CREDENTIALS = botocore.session.get_session().get_credentials()


def handler(event, context):
    return {"pid": os.getpid(), "access_key": CREDENTIALS.get_frozen_credentials().access_key}
"""


def test_a_warm_worker_signs_with_the_renewed_session_it_is_handed(
    runtime: LambdaRuntime,
) -> None:
    code = zip_source("creds", CREDENTIALS_PROBE)
    config = config_for(code, "creds.handler")

    def session(key: str, minutes_left: int) -> dict[str, str]:
        expiry = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes_left)
        return {
            "AWS_ACCESS_KEY_ID": key,
            "AWS_SECRET_ACCESS_KEY": "secret",
            "AWS_SESSION_TOKEN": "token",
            "AWS_CREDENTIAL_EXPIRATION": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    def invoke(credentials: dict[str, str]) -> dict[str, object]:
        result = runtime.invoke(config, {}, lambda: code, credentials=credentials)
        return dict(json.loads(result.payload))

    # The first session is near its end, inside the window where the SDK looks for a new one.
    first = invoke(session("ASIAFIRST", minutes_left=12))
    renewed = invoke(session("ASIARENEWED", minutes_left=60))
    assert first["access_key"] == "ASIAFIRST"
    assert renewed == {"pid": first["pid"], "access_key": "ASIARENEWED"}
