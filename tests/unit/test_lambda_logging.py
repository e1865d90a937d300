"""Lambda's logging configuration on the emulator: the function's LoggingConfig kept where moto
drops it, and the local runtime writing only the platform lines its system log level admits.

Workers run a small handler zipped here, with an empty SDK directory: no build, no emulator.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local import gaps, metering
from local.emulator import function_config
from local.lambda_runtime import FunctionConfig, LambdaRuntime
from tests.integration.handlers import zip_source

REGION = "eu-west-2"
HANDLER = """
import json
import os
import time


def handler(event, context):
    if event.get("warn"):
        print(json.dumps({"level": "WARNING", "message": "something to look at"}))
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {key: os.environ.get(key) for key in ("AWS_LAMBDA_LOG_FORMAT", "AWS_LAMBDA_LOG_LEVEL")}
"""


CODE = zip_source("probe", HANDLER)


def config(
    timeout_s: float = 3.0,
    log_format: str = "Text",
    application_log_level: str = "INFO",
    system_log_level: str = "INFO",
) -> FunctionConfig:
    return FunctionConfig(
        function_arn="arn:aws:lambda:eu-west-2:123456789012:function:probe",
        function_name="probe",
        handler="probe.handler",
        runtime="python3.11",
        timeout_s=timeout_s,
        memory_mb=256,
        environment={},
        code_sha256=hashlib.sha256(CODE).hexdigest(),
        region=REGION,
        log_group="/aws/lambda/probe",
        log_format=log_format,
        application_log_level=application_log_level,
        system_log_level=system_log_level,
    )


def json_warn(timeout_s: float = 3.0) -> FunctionConfig:
    """The lambda_function module's default: JSON, application and system logs at WARN."""
    return config(timeout_s, "JSON", "WARN", "WARN")


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[LambdaRuntime]:
    sdk = tmp_path / "sdk"
    sdk.mkdir()
    runtime = LambdaRuntime("http://127.0.0.1:9", tmp_path / "state", sdk)
    yield runtime
    runtime.shutdown()


def records(lines: list[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines]


def platform_bytes(lines: list[str]) -> int:
    """What the platform's own lines cost in CloudWatch Logs (the handler prints nothing)."""
    return sum(metering.log_event_bytes(line) for line in lines)


def test_text_format_writes_start_end_report_as_before(runtime: LambdaRuntime) -> None:
    result = runtime.invoke(config(), {}, lambda: CODE)
    assert result.error_type is None
    assert json.loads(result.payload) == {
        "AWS_LAMBDA_LOG_FORMAT": None,
        "AWS_LAMBDA_LOG_LEVEL": None,
    }
    assert [line.split(" ")[0] for line in result.logs] == ["START", "END", "REPORT"]
    assert "Init Duration" in result.logs[-1]
    # What the JSON/WARN default saves per invocation: three events, 330-360 bytes.
    assert 300 < platform_bytes(result.logs) < 400


def test_json_at_warn_writes_no_platform_lines(runtime: LambdaRuntime) -> None:
    cold = runtime.invoke(json_warn(), {}, lambda: CODE)
    warm = runtime.invoke(json_warn(), {}, lambda: CODE)
    assert cold.logs == warm.logs == []
    assert json.loads(warm.payload) == {
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_LAMBDA_LOG_LEVEL": "WARN",
    }


def test_json_at_warn_keeps_the_functions_own_warnings(runtime: LambdaRuntime) -> None:
    result = runtime.invoke(json_warn(), {"warn": True}, lambda: CODE)
    assert records(result.logs) == [{"level": "WARNING", "message": "something to look at"}]


def test_json_at_info_writes_start_and_report_records(runtime: LambdaRuntime) -> None:
    result = runtime.invoke(config(log_format="JSON", system_log_level="INFO"), {}, lambda: CODE)
    start, report = records(result.logs)
    assert start["type"] == "platform.start" and start["time"].endswith("Z")
    assert start["record"]["version"] == "$LATEST"
    assert report["type"] == "platform.report"
    assert report["record"]["requestId"] == start["record"]["requestId"]
    assert report["record"]["status"] == "success"
    assert set(report["record"]["metrics"]) == {
        "durationMs",
        "billedDurationMs",
        "memorySizeMB",
        "maxMemoryUsedMB",
        "initDurationMs",
    }
    assert all(" " not in line for line in result.logs)  # compact, as Lambda writes them


def test_json_at_debug_adds_runtime_done(runtime: LambdaRuntime) -> None:
    result = runtime.invoke(
        config(log_format="JSON", system_log_level="DEBUG"), {"fail": True}, lambda: CODE
    )
    by_type = {r.get("type"): r for r in records(result.logs)}
    assert list(by_type) == ["platform.start", None, "platform.runtimeDone", "platform.report"]
    assert by_type["platform.runtimeDone"]["record"]["status"] == "error"
    assert by_type["platform.report"]["record"]["errorType"] == "ValueError"


def test_an_unhandled_exception_is_one_error_record(runtime: LambdaRuntime) -> None:
    result = runtime.invoke(json_warn(), {"fail": True}, lambda: CODE)
    assert result.error_type == "ValueError"
    (error,) = records(result.logs)
    assert error["log_level"] == "ERROR" and error["errorType"] == "ValueError"
    assert error["errorMessage"] == "asked to fail" and error["stackTrace"]
    assert error["requestId"]


def test_a_timeout_is_logged_even_at_warn(runtime: LambdaRuntime) -> None:
    result = runtime.invoke(json_warn(timeout_s=1.0), {"sleep": 5}, lambda: CODE)
    assert result.error_type == "Sandbox.Timedout"
    (fault,) = records(result.logs)
    assert fault["type"] == "platform.fault"
    assert "Task timed out after 1.00 seconds" in fault["record"]


def test_a_timeout_in_text_keeps_its_line_between_start_and_end(runtime: LambdaRuntime) -> None:
    result = runtime.invoke(config(timeout_s=1.0), {"sleep": 5}, lambda: CODE)
    assert [line.split(" ")[0] for line in result.logs][::3] == ["START", "REPORT"]
    assert "Task timed out after 1.00 seconds" in result.logs[1]
    assert result.logs[2].startswith("END RequestId:")


def test_a_new_logging_configuration_gets_a_new_worker(runtime: LambdaRuntime) -> None:
    runtime.invoke(config(), {}, lambda: CODE)
    changed = runtime.invoke(json_warn(), {}, lambda: CODE)
    assert changed.init_ms is not None
    assert json.loads(changed.payload)["AWS_LAMBDA_LOG_LEVEL"] == "WARN"


@pytest.fixture
def lambda_api() -> Iterator[Any]:
    # Only the Lambda gap: gaps.install() would import moto's Step Functions interpreter (seconds).
    gaps._keep_lambda_logging_config()
    with mock_aws():
        yield boto3.client("lambda", region_name=REGION)


def create(client: Any, name: str, **extra: Any) -> dict[str, Any]:
    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName=f"{name}-role",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    return dict(
        client.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="probe.handler",
            Code={"ZipFile": CODE},
            **extra,
        )
    )


def backend_function(name: str) -> Any:
    from moto.awslambda.models import lambda_backends

    return lambda_backends["123456789012"][REGION].get_function(name)


def test_logging_config_is_kept_completed_and_reaches_the_runtime(lambda_api: Any) -> None:
    created = create(
        lambda_api,
        "pay-tokenize",
        LoggingConfig={
            "LogFormat": "JSON",
            "ApplicationLogLevel": "WARN",
            "SystemLogLevel": "WARN",
        },
    )
    expected = {
        "LogFormat": "JSON",
        "ApplicationLogLevel": "WARN",
        "SystemLogLevel": "WARN",
        "LogGroup": "/aws/lambda/pay-tokenize",
    }
    assert created["LoggingConfig"] == expected
    read = lambda_api.get_function(FunctionName="pay-tokenize")["Configuration"]
    assert read["LoggingConfig"] == expected
    runtime_config = function_config(backend_function("pay-tokenize"))
    assert (runtime_config.log_format, runtime_config.system_log_level) == ("JSON", "WARN")
    assert runtime_config.application_log_level == "WARN"
    assert runtime_config.log_group == "/aws/lambda/pay-tokenize"

    lambda_api.update_function_configuration(
        FunctionName="pay-tokenize",
        LoggingConfig={"LogFormat": "JSON", "SystemLogLevel": "INFO", "LogGroup": "/custom/pay"},
    )
    updated = lambda_api.get_function_configuration(FunctionName="pay-tokenize")["LoggingConfig"]
    assert updated == {**expected, "SystemLogLevel": "INFO", "LogGroup": "/custom/pay"}
    assert function_config(backend_function("pay-tokenize")).log_group == "/custom/pay"


def test_without_logging_config_a_function_logs_text_as_on_aws(lambda_api: Any) -> None:
    create(lambda_api, "pay-plain")
    read = lambda_api.get_function_configuration(FunctionName="pay-plain")["LoggingConfig"]
    assert read == {"LogFormat": "Text", "LogGroup": "/aws/lambda/pay-plain"}
    assert function_config(backend_function("pay-plain")).log_format == "Text"
    lambda_api.update_function_configuration(
        FunctionName="pay-plain", LoggingConfig={"LogFormat": "JSON"}
    )
    levels = lambda_api.get_function_configuration(FunctionName="pay-plain")["LoggingConfig"]
    assert (levels["ApplicationLogLevel"], levels["SystemLogLevel"]) == ("INFO", "INFO")


def test_log_levels_are_refused_with_the_text_format(lambda_api: Any) -> None:
    with pytest.raises(ClientError) as refused:
        create(lambda_api, "pay-bad", LoggingConfig={"LogFormat": "Text", "SystemLogLevel": "WARN"})
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
