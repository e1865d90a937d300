"""What one approved-and-captured payment uses, as the emulator's meter counted it.

The figures come from ``bench/results.json`` (written by ``make bench``); when that file or a
figure is missing, a fresh measuring run (``bench.bench_payments``) fills it. A figure the model
needs that the meter did not report is an error, never a silent zero.

Four components, each from its own benchmark: the hot path (``REQUIRED``,
bench_payments: one payment through the API), the payment event stream and its fraud consumer
(``STREAM_REQUIRED``, bench_fraud: the consumer's metered usage per stream record, and the
events a payment publishes, each of which the stream's rules take), the data lake
(``LAKE_REQUIRED``, bench_lake: Parquet bytes per event) and BNPL (``BNPL_REQUIRED``,
bench_credit: a BNPL checkout and one collection, priced per BNPL payment). The hot path must
be complete; a component whose figures are missing is reported as not measured, never priced
as zero.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

RESULTS_PATH = Path(__file__).resolve().parent.parent / "results.json"

# Every per-payment figure the model prices, by the name bench/bench_payments.py gives it.
REQUIRED = (
    "payment_api_requests",
    "payment_step_functions_express_executions",
    "payment_step_functions_express_billed_ms",
    "payment_state_transitions",
    "payment_lambda_invocations",
    "payment_lambda_gb_seconds",
    "payment_dynamodb_write_units",
    "payment_dynamodb_read_units",
    "payment_kms_calls",
    "payment_events_published",
    "payment_log_bytes",
)
# The stream (bench/bench_fraud.py), per stream record; a payment puts payment_events_published.
STREAM_REQUIRED = (
    "payment_events_published",
    "fraud_stream_record_bytes",
    "fraud_stream_lambda_invocations_per_record",
    "fraud_stream_lambda_gb_seconds_per_record",
    "fraud_stream_dynamodb_write_units_per_record",
    "fraud_stream_dynamodb_read_units_per_record",
    "fraud_stream_log_bytes_per_record",
)
# The lake (bench/bench_lake.py) over the same records.
LAKE_REQUIRED = ("fraud_stream_record_bytes", "lake_parquet_bytes_per_event")
# The lake's delivery streams (one per table, each reading every stream record) and its
# transformation step's duration per record, both from bench/bench_lake.py.
LAKE_TRANSFORM_REQUIRED = ("lake_delivery_streams", "lake_transform_gb_seconds_per_record")
# BNPL (bench/bench_credit.py), per BNPL payment: its checkout through the API and workflow, and
# each later instalment's collection (a scheduled run's units per instalment it charged).
BNPL_UNITS = (
    "api_requests",
    "step_functions_express_executions",
    "step_functions_express_billed_ms",
    "state_transitions",
    "lambda_invocations",
    "lambda_gb_seconds",
    "dynamodb_write_units",
    "dynamodb_read_units",
    "kms_calls",
    "events_published",
    "log_bytes",
)
BNPL_REQUIRED = (
    *(f"bnpl_checkout_{unit}" for unit in BNPL_UNITS),
    *(f"bnpl_collection_{unit}" for unit in BNPL_UNITS),
    "bnpl_collections_per_payment",
)
_KNOWN = frozenset(
    (*REQUIRED, *STREAM_REQUIRED, *LAKE_REQUIRED, *LAKE_TRANSFORM_REQUIRED, *BNPL_REQUIRED)
)
DATA_CALLS_PREFIX = "payment_data_calls:"


class MissingMeterFigure(KeyError):
    """A unit the model needs is not in the meter's figures."""


@dataclass(frozen=True)
class Usage:
    """Units per payment: ``figures`` by name, ``data_calls`` by ``<service>:<resource name>``."""

    figures: Mapping[str, float]
    data_calls: Mapping[str, float]
    source: str

    def __getitem__(self, name: str) -> float:
        if name not in self.figures:
            raise MissingMeterFigure(
                f"the meter reported no {name!r} (source: {self.source}); run `make bench` "
                "so bench/results.json has it, rather than pricing it as zero"
            )
        return float(self.figures[name])

    @classmethod
    def from_results(cls, results: Mapping[str, object], source: str) -> Usage:
        figures: dict[str, float] = {}
        data_calls: dict[str, float] = {}
        for name, figure in results.items():
            if not isinstance(figure, Mapping) or not isinstance(figure.get("value"), int | float):
                continue
            if name.startswith(DATA_CALLS_PREFIX):
                data_calls[name.removeprefix(DATA_CALLS_PREFIX)] = float(figure["value"])
            elif name in _KNOWN:
                figures[name] = float(figure["value"])
        return cls(figures, data_calls, source)

    def missing(self, required: tuple[str, ...] = REQUIRED) -> list[str]:
        return [name for name in required if name not in self.figures]

    def has(self, required: tuple[str, ...]) -> bool:
        return not self.missing(required)

    def as_results(self) -> dict[str, dict[str, float | str]]:
        """The inputs in bench/results.json's shape (recorded in the report, re-read by tests)."""
        out: dict[str, dict[str, float | str]] = {
            name: {"value": value, "unit": "per payment" if name in REQUIRED else "measured"}
            for name, value in self.figures.items()
        }
        for name, value in self.data_calls.items():
            out[f"{DATA_CALLS_PREFIX}{name}"] = {"value": value, "unit": "calls"}
        return dict(sorted(out.items()))


def read_results(path: Path = RESULTS_PATH) -> dict[str, object]:
    return dict(json.loads(path.read_text())) if path.exists() else {}


def measured(path: Path = RESULTS_PATH, measure_if_missing: bool = True) -> Usage:
    """The meter's figures from ``make bench``; a fresh measuring run when some are missing."""
    usage = Usage.from_results(read_results(path), str(path.name))
    if usage.missing() and measure_if_missing:
        from bench import run

        print(f"bench/results.json lacks {', '.join(usage.missing())}: measuring a payment")
        run.main(["bench_payments"])
        usage = Usage.from_results(read_results(path), f"{path.name} (fresh run)")
    return usage
