"""Embedded metric format (EMF) on the emulator: CloudWatch Logs turns a function's EMF log
lines into CloudWatch metrics; moto stores the lines and extracts nothing, so the dashboards
and the alarms built on the functions' metrics would see no data here.

``metric_data`` reads one log line as CloudWatch does (the ``_aws.CloudWatchMetrics``
directives: namespace, dimension sets, metric names and units; the values and the dimension
values from the line's top level; a value may be a list), and ``publish`` puts what the lines of
one invocation hold into the emulator's CloudWatch. A line that is not EMF, or a directive that
names a missing value, is skipped, as CloudWatch skips it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

# CloudWatch extracts at most this many dimensions per set.
MAX_DIMENSIONS = 30


def metric_data(line: str) -> list[tuple[str, dict[str, Any]]]:
    """(namespace, PutMetricData datum) for each metric and dimension set of an EMF line."""
    if not line.startswith('{"_aws"'):
        return []
    try:
        record = json.loads(line)
        directives = record["_aws"]["CloudWatchMetrics"]
        # Naive UTC, as moto keeps every datapoint's time (an aware one breaks its reads).
        at = dt.datetime.fromtimestamp(record["_aws"]["Timestamp"] / 1000, dt.UTC)
        timestamp = at.replace(tzinfo=None)
    except (ValueError, KeyError, TypeError):
        return []
    found: list[tuple[str, dict[str, Any]]] = []
    for directive in directives:
        namespace = directive.get("Namespace")
        dimension_sets = directive.get("Dimensions") or [[]]
        for metric in directive.get("Metrics", []):
            name = metric.get("Name")
            value = record.get(name)
            values = value if isinstance(value, list) else [value]
            if not namespace or not name or not all(isinstance(v, int | float) for v in values):
                continue
            for names in dimension_sets:
                if len(names) > MAX_DIMENSIONS or not all(
                    isinstance(record.get(d), str) for d in names
                ):
                    continue
                datum: dict[str, Any] = {
                    "MetricName": name,
                    "Values": [float(v) for v in values],
                    "Timestamp": timestamp,
                    "Dimensions": [{"Name": d, "Value": record[d]} for d in names],
                }
                if metric.get("Unit"):
                    datum["Unit"] = metric["Unit"]
                found.append((namespace, datum))
    return found


def publish(lines: Iterable[str], cloudwatch_backend: Any) -> None:
    """The metrics of an invocation's log lines, into the emulator's CloudWatch."""
    for line in lines:
        for namespace, datum in metric_data(line):
            cloudwatch_backend.put_metric_data(namespace, [datum])
