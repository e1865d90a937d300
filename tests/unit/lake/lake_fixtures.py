"""The lake's schema as Terraform reads it, and generated events written the way the local
Firehose writes them (one Parquet file per partition under Hive-style folders)."""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from aws_lambda_powertools.utilities.typing import LambdaContext

from local import lake
from local.lake_events import ALERT_SCHEMA, SCHEMA

COLUMNS = [lake.Column(c["name"], c["type"]) for c in SCHEMA["columns"]]
PARTITION_KEYS = [lake.Column(c["name"], c["type"]) for c in SCHEMA["partition_keys"]]
ALERT_COLUMNS = [lake.Column(c["name"], c["type"]) for c in ALERT_SCHEMA["columns"]]
ALERT_PARTITION_KEYS = [lake.Column(c["name"], c["type"]) for c in ALERT_SCHEMA["partition_keys"]]


def write_partitioned(events: list[dict[str, Any]], root: Path) -> None:
    schema = lake.arrow_schema(COLUMNS)
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        key = (event["occurred_at"][:10], event["event_id"].split(":")[1])
        groups[key].append(lake.row(event, schema))
    for (date, event_type), rows in groups.items():
        folder = root / f"event_date={date}" / f"event_type={event_type}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(lake.to_table(rows, schema), folder / "part-0.parquet")


def read(root: Path) -> Any:
    import pyarrow.fs as pafs

    return lake.read_table(pafs.LocalFileSystem(), str(root), COLUMNS, PARTITION_KEYS)


def write_alerts(alerts: list[dict[str, Any]], root: Path) -> Any:
    """Alerts as the fraud_alerts delivery stream writes them (by the day of last_seen), read
    back as the table."""
    import pyarrow.fs as pafs

    schema = lake.arrow_schema(ALERT_COLUMNS)
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for alert in alerts:
        groups[alert["last_seen"][:10]].append(lake.row(alert, schema))
    for date, rows in groups.items():
        folder = root / f"event_date={date}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(lake.to_table(rows, schema), folder / "part-0.parquet")
    return lake.read_table(pafs.LocalFileSystem(), str(root), ALERT_COLUMNS, ALERT_PARTITION_KEYS)


class Context(LambdaContext):
    """The Lambda context the transformation handler's Powertools logger reads."""

    function_name = "pay-lake-transform"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:eu-west-1:111122223333:function:pay-lake-transform"
    aws_request_id = "req-1"


class MemoryPseudonymKeys:
    """The pseudonym key store in memory (the DynamoDB adapter is tested under moto)."""

    def __init__(self) -> None:
        self.items: dict[str, bytes] = {}
        self.calls = 0

    def secrets(self, scopes: Collection[str]) -> Mapping[str, bytes]:
        self.calls += 1
        for scope in scopes:
            self.items.setdefault(scope, secrets.token_bytes(32))
        return {scope: self.items[scope] for scope in scopes}

    def erase(self, scope: str) -> bool:
        return self.items.pop(scope, None) is not None
