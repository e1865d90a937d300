"""Per-payment and fixed monthly cost from a price file, the meter's units and the inventory.

Every figure is units x price: the units of one payment from the emulator's meter
(``usage.Usage``), the fixed quantities from each environment's plan (``inventory``), the
prices from ``prices/<region>.json``. Nothing here is a typed-in dollar amount.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bench.cost.prices import PriceBook
from bench.cost.usage import Usage

MILLION = 1_000_000
GIB = 1024**3
KIB = 1024
# Express workflows bill memory in 64 MB chunks; a payment's execution (definition plus a few
# KB of state) fits the first chunk.
EXPRESS_MEMORY_GB = 64 / 1024
FIREHOSE_RECORD_BYTES = 5 * KIB  # each record is rounded up to 5 KB
ATHENA_MIN_SCAN_TB = 10 * 1024**2 / 1024**4  # 10 MB minimum per query
VOLUMES = (100_000, 1_000_000, 10_000_000)


@dataclass(frozen=True)
class Line:
    component: str
    units: float  # per payment
    unit: str
    price_key: str
    usd_per_payment: float

    @property
    def usd_per_million(self) -> float:
        return self.usd_per_payment * MILLION


@dataclass(frozen=True)
class FixedLine:
    component: str
    quantity: float
    unit: str
    price_key: str
    usd_per_month: float


@dataclass(frozen=True)
class Estimate:
    region: str
    prices_version: str
    express: list[Line]
    standard: list[Line]
    fixed: dict[str, list[FixedLine]]
    # Not built, priced for the decision records: the same requests on an HTTP API.
    http_api: Line | None = None
    volumes: tuple[int, ...] = VOLUMES
    notes: list[str] = field(default_factory=list)

    @staticmethod
    def per_million(lines: list[Line]) -> float:
        return sum(line.usd_per_million for line in lines)

    def fixed_monthly(self, env: str) -> float:
        return sum(line.usd_per_month for line in self.fixed[env])

    def monthly_total(self, env: str, payments: int, standard: bool = False) -> float:
        lines = self.standard if standard else self.express
        return self.fixed_monthly(env) + self.per_million(lines) * payments / MILLION


def data_events(usage: Usage, scope: Mapping[str, list[str]]) -> float:
    """Data-plane calls on resources the trail selects: ``*`` selects every resource of a
    service; a name selects the resources whose name ends with ``-<name>`` (the environment's
    prefix differs between the emulator and dev or prod)."""
    total = 0.0
    for key, calls in usage.data_calls.items():
        service, _, resource = key.partition(":")
        names = scope.get(service, [])
        if "*" in names or any(resource == n or resource.endswith(f"-{n}") for n in names):
            total += calls
    return total


def _line(prices: PriceBook, component: str, units: float, unit: str, key: str) -> Line:
    return Line(component, units, unit, key, units * prices.unit_usd(key))


def shared_lines(prices: PriceBook, usage: Usage, scope: Mapping[str, list[str]]) -> list[Line]:
    """Everything but the workflow engine: the same for Express and Standard."""
    api = usage["payment_api_requests"]
    return [
        _line(prices, "API Gateway REST requests", api, "requests", "apigateway_rest_request"),
        _line(prices, "WAF requests", api, "requests", "waf_request"),
        _line(
            prices,
            "Lambda requests",
            usage["payment_lambda_invocations"],
            "invocations",
            "lambda_request",
        ),
        _line(
            prices,
            "Lambda duration",
            usage["payment_lambda_gb_seconds"],
            "GB-s",
            "lambda_gb_second",
        ),
        _line(
            prices,
            "DynamoDB writes (on-demand)",
            usage["payment_dynamodb_write_units"],
            "WRU",
            "dynamodb_write_request_unit",
        ),
        _line(
            prices,
            "DynamoDB reads (on-demand)",
            usage["payment_dynamodb_read_units"],
            "RRU",
            "dynamodb_read_request_unit",
        ),
        _line(prices, "KMS requests", usage["payment_kms_calls"], "requests", "kms_request"),
        _line(
            prices,
            "EventBridge events",
            usage["payment_events_published"],
            "events",
            "eventbridge_event",
        ),
        _line(
            prices,
            "CloudWatch Logs ingestion",
            usage["payment_log_bytes"] / GIB,
            "GB",
            "logs_ingestion_gb",
        ),
        _line(
            prices,
            "CloudTrail data events",
            data_events(usage, scope),
            "events",
            "cloudtrail_data_event",
        ),
        _line(
            prices,
            "Kinesis Data Streams",
            usage["payment_kinesis_put_calls"],
            "PUT payload units",
            "kinesis_put_payload_unit",
        ),
        _line(
            prices,
            "Firehose",
            usage["payment_firehose_put_calls"] * FIREHOSE_RECORD_BYTES / GIB,
            "GB",
            "firehose_gb",
        ),
        _line(
            prices, "S3 PUT requests", usage["payment_s3_put_calls"], "requests", "s3_put_request"
        ),
        _line(
            prices,
            "Athena queries",
            usage["payment_athena_queries"] * ATHENA_MIN_SCAN_TB,
            "TB scanned",
            "athena_tb_scanned",
        ),
    ]


def express_lines(prices: PriceBook, usage: Usage) -> list[Line]:
    billed_s = usage["payment_step_functions_express_billed_ms"] / 1000
    return [
        _line(
            prices,
            "Step Functions Express requests",
            usage["payment_step_functions_express_executions"],
            "requests",
            "sfn_express_request",
        ),
        _line(
            prices,
            "Step Functions Express duration",
            billed_s * EXPRESS_MEMORY_GB,
            "GB-s",
            "sfn_express_gb_second",
        ),
    ]


def standard_lines(prices: PriceBook, usage: Usage) -> list[Line]:
    """The same flow on a Standard workflow: the same Lambda per step, billed per transition."""
    return [
        _line(
            prices,
            "Step Functions Standard transitions",
            usage["payment_state_transitions"],
            "transitions",
            "sfn_standard_transition",
        )
    ]


def fixed_lines(prices: PriceBook, counts: Mapping[str, Any]) -> list[FixedLine]:
    hours = prices.hours_per_month

    def line(component: str, quantity: float, unit: str, key: str, per_hour: bool) -> FixedLine:
        usd = quantity * prices.unit_usd(key) * (hours if per_hour else 1)
        return FixedLine(component, quantity, unit, key, usd)

    return [
        line(
            "Interface endpoints x AZs",
            counts["interface_endpoint_azs"],
            "endpoint-AZs",
            "interface_endpoint_az_hour",
            True,
        ),
        line("NAT gateways", counts["nat_gateways"], "gateways", "nat_gateway_hour", True),
        line("KMS keys", counts["kms_keys"], "keys", "kms_key_month", False),
        line("WAF web ACLs", counts["waf_web_acls"], "web ACLs", "waf_web_acl_month", False),
        line("WAF rules", counts["waf_rules"], "rules", "waf_rule_month", False),
        line("CloudWatch alarms", counts["alarms"], "alarms", "alarm_metric_month", False),
        line("CloudTrail trails", counts["trails"], "trails", "cloudtrail_trail_month", False),
    ]


def estimate(prices: PriceBook, usage: Usage, inventory: Mapping[str, Any]) -> Estimate:
    envs = sorted(inventory)
    # The variable cost is priced with prod's trail selectors (dev and prod share the modules).
    scope = inventory["prod"]["data_event_scope"] if "prod" in inventory else {}
    shared = shared_lines(prices, usage, scope)
    return Estimate(
        region=prices.region,
        prices_version=prices.version.isoformat(),
        express=[*express_lines(prices, usage), *shared],
        standard=[*standard_lines(prices, usage), *shared],
        fixed={env: fixed_lines(prices, inventory[env]) for env in envs},
        http_api=_line(
            prices,
            "API Gateway HTTP API requests (alternative)",
            usage["payment_api_requests"],
            "requests",
            "apigateway_http_request",
        ),
    )
