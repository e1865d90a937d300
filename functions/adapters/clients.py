"""The one place that builds boto3 clients: one per service per container.

Each factory is cached (``functools.cache``), so a warm Lambda container reuses its clients and
their connection pools. Region, credentials and endpoint come from the standard environment
(``AWS_REGION``, the execution role, ``AWS_ENDPOINT_URL`` on the local emulator). Timeouts are
short and retries bounded: the vault is on the payment hot path, and a slow dependency must fail
fast as ``VaultUnavailableError`` rather than hold the API until it times out.

Tests that switch AWS backends (moto ``mock_aws``) call ``clear()`` between cases.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol, cast

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_logs import CloudWatchLogsClient

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
def events() -> EventsClient:
    return cast(EventsClient, boto3.client("events", config=_CONFIG))


def clear() -> None:
    """Forget every cached client (tests only: a new moto backend needs new clients)."""
    for factory in (kms, dynamodb, logs, events):
        factory.cache_clear()
