"""The lake's schema as Terraform reads it, and generated events written the way the local
Firehose writes them (one Parquet file per partition under Hive-style folders)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from local import lake

SCHEMA_FILE = (
    Path(__file__).resolve().parents[3] / "modules" / "data_lake" / "schema" / "payment_events.json"
)
SCHEMA = json.loads(SCHEMA_FILE.read_text())
COLUMNS = [lake.Column(c["name"], c["type"]) for c in SCHEMA["columns"]]
PARTITION_KEYS = [lake.Column(c["name"], c["type"]) for c in SCHEMA["partition_keys"]]
# The delivery stream's prefixes and partition query as modules/data_lake/firehose.tf sets them
# (its plan test pins the same strings).
PREFIX = (
    "payment_events/event_date=!{partitionKeyFromQuery:event_date}"
    "/event_type=!{partitionKeyFromQuery:event_type}/"
)
ERROR_PREFIX = (
    "errors/payment_events/!{firehose:error-output-type}/event_date=!{timestamp:yyyy-MM-dd}/"
)
PARTITION_QUERY = '{event_date: .occurred_at[0:10], event_type: (.event_id | split(":")[1])}'


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
