"""boto3 clients and environment variables for talking to the local emulator, never to AWS."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

REGION = "us-east-1"
# moto accepts any credentials; these fixed ones make it obvious nothing here is real.
TEST_ACCESS_KEY_ID = "test"
TEST_SECRET_ACCESS_KEY = "test"  # noqa: S105


def emulator_env(endpoint_url: str) -> dict[str, str]:
    """What boto3 and Terraform need to talk to the emulator."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": TEST_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": TEST_SECRET_ACCESS_KEY,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def emulator_client(service: str, endpoint_url: str, read_timeout_s: int | None = None) -> Any:
    """``read_timeout_s``: for a synchronous call that may run longer than botocore's 60 s
    default (a function invoked and waited for). botocore retries a read timeout, so such a
    client makes one attempt: a retried Invoke would run the function again."""
    factory: Any = boto3.client  # typed per service literal; ours is a runtime string
    waits: dict[str, Any] = {}
    if read_timeout_s is not None:
        waits = {"read_timeout": read_timeout_s, "retries": {"total_max_attempts": 1}}
    return factory(
        service,
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=TEST_ACCESS_KEY_ID,
        aws_secret_access_key=TEST_SECRET_ACCESS_KEY,
        # Host prefixes (``sync-`` for StartSyncExecution) would turn 127.0.0.1 into a bad host.
        config=Config(inject_host_prefix=False, **waits),
    )
