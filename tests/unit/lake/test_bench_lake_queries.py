"""make bench times every named query over tables it can read: a query that reads a table the
benchmark does not provide (fraud_alerts once was) fails here, not after half an hour of bench."""

from __future__ import annotations

import pytest

from bench import bench_lake
from local import lake


def test_the_benchmark_times_every_named_query(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench_lake, "QUERY_EVENTS", 2_000)
    monkeypatch.setattr(bench_lake, "QUERY_RUNS", 1)
    figures = bench_lake.query_figures()
    assert {f"lake_query_ms_{name}" for name in lake.query_names()} <= set(figures)
    assert float(figures["lake_parquet_bytes_per_event"]["value"]) > 0
