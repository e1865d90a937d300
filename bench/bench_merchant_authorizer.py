"""The merchant authorizer in process (docs/decisions/0008): what one cache miss costs.

``authorizer_ms_p99``: the Lambda handler (functions/handlers/merchant_authorizer.py) end to
end on moto's in-process DynamoDB: parse the header, a strongly consistent ``GetItem`` of the
key item, the constant-time hash comparison, a second of its merchant's item (the status check,
the usage key), the policy and context. moto's request handling
is most of it; on AWS the read is a few milliseconds inside the Region.
``authorizer_check_us_p99``: the key check alone over an in-memory store (parse, hash, compare,
state), the part that is ours whatever the store.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from unittest import mock

WARM_UP = 50
SAMPLES = 1_000
TABLE = "bench-merchants"


@dataclass
class _Context:
    function_name: str = "bench-merchant-authorizer"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:bench-merchant-authorizer"
    )
    aws_request_id: str = "bench"


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _handler_samples() -> list[float]:
    import boto3
    from moto import mock_aws

    from functions.adapters import clients, merchant_wiring
    from functions.adapters.merchant_wiring import build_registry
    from functions.handlers import merchant_authorizer
    from tests.adapters.merchant_registry import create_registry_table

    settings = {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "MERCHANT_REGISTRY_TABLE_NAME": TABLE,
        "PAYMENTS_ENVIRONMENT": "local",
    }
    with mock.patch.dict(os.environ, settings), mock_aws():
        clients.clear()
        merchant_wiring.registry.cache_clear()
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        create_registry_table(ddb, TABLE)
        issued = build_registry(ddb, TABLE, "local").create_merchant("m_bench")
        event = {
            "type": "REQUEST",
            "methodArn": "arn:aws:execute-api:us-east-1:123456789012:api1/v1/POST/v1/payments",
            "headers": {"Authorization": f"Bearer {issued.api_key}"},
            "requestContext": {"stage": "v1", "apiId": "api1", "accountId": "123456789012"},
        }
        samples = []
        for n in range(WARM_UP + SAMPLES):
            start = time.perf_counter()
            answer = merchant_authorizer.handler(event, _Context())
            if n >= WARM_UP:
                samples.append((time.perf_counter() - start) * 1000)
            assert answer["context"]["merchant_id"] == "m_bench"
        clients.clear()
        merchant_wiring.registry.cache_clear()
    return samples


def _check_samples() -> list[float]:
    from functions.services.merchant_registry import MerchantRegistry
    from tests.unit.merchants.memory_store import MemoryMerchantStore

    registry = MerchantRegistry(MemoryMerchantStore(), "test")
    header = f"Bearer {registry.create_merchant('m_bench').api_key}"
    samples = []
    for n in range(WARM_UP + SAMPLES):
        start = time.perf_counter_ns()
        registry.authenticate(header)
        if n >= WARM_UP:
            samples.append((time.perf_counter_ns() - start) / 1000)
    return samples


def run() -> dict[str, dict[str, float | str]]:
    handler, check = _handler_samples(), _check_samples()
    return {
        "authorizer_ms_p50": {"value": round(_percentile(handler, 0.50), 3), "unit": "ms"},
        "authorizer_ms_p99": {"value": round(_percentile(handler, 0.99), 3), "unit": "ms"},
        "authorizer_check_us_p99": {"value": round(_percentile(check, 0.99), 1), "unit": "us"},
    }
