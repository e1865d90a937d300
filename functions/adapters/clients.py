"""The one place that builds boto3 clients: one per service per container.

Each factory is cached (``functools.cache``), so a warm Lambda container reuses its clients and
their connection pools. Region, credentials and endpoint come from the standard environment
(``AWS_REGION``, the execution role, ``AWS_ENDPOINT_URL`` on the local emulator). Timeouts are
short and retries bounded: the vault is on the payment hot path, and a slow dependency must fail
fast as ``VaultUnavailableError`` rather than hold the API until it times out.

Tests that switch AWS backends (moto ``mock_aws``) call ``clear()`` between cases.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol, cast

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_stepfunctions import SFNClient

_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "max_attempts": 3},
)


class EventsClient(Protocol):
    """The part of the EventBridge client the functions use (no boto3 stubs are installed for
    ``events``; this keeps the call sites typed)."""

    def put_events(self, *, Entries: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]: ...


@cache
def kms() -> KMSClient:
    return boto3.client("kms", config=_CONFIG)


@cache
def dynamodb() -> DynamoDBClient:
    return boto3.client("dynamodb", config=_CONFIG)


@cache
def logs() -> CloudWatchLogsClient:
    return boto3.client("logs", config=_CONFIG)


@cache
def sqs() -> SQSClient:
    return boto3.client("sqs", config=_CONFIG)


@cache
def events() -> EventsClient:
    return cast(EventsClient, boto3.client("events", config=_CONFIG))


@cache
def secretsmanager() -> Any:
    """The HTTP acquirer connector's credential (``acquirer_http.SecretsManagerCredential``);
    typed loosely: no boto3 stubs are installed for ``secretsmanager``."""
    return boto3.client("secretsmanager", config=_CONFIG)


@cache
def stepfunctions() -> SFNClient:
    """For ``StartSyncExecution``: its read timeout covers a whole EXPRESS execution and leaves
    the API function (25 s, under API Gateway's 29 s) time to answer when it expires. botocore
    puts ``sync-`` in front of the host for that call; an endpoint override (the emulator on
    127.0.0.1) must be called as it is."""
    overridden = bool(os.environ.get("AWS_ENDPOINT_URL_SFN") or os.environ.get("AWS_ENDPOINT_URL"))
    config = _CONFIG.merge(
        Config(
            read_timeout=21,
            retries={"mode": "standard", "max_attempts": 1},
            inject_host_prefix=not overridden,
        )
    )
    return boto3.client("stepfunctions", config=config)


def clear() -> None:
    """Forget every cached client (tests only: a new moto backend needs new clients)."""
    for factory in (kms, dynamodb, logs, sqs, events, secretsmanager, stepfunctions):
        factory.cache_clear()
