"""Per-payment and fixed monthly cost from a price file, the meter's units and the inventory.

Every figure is units x price: the units of one payment from the emulator's meter
(``usage.Usage``), the fixed quantities from each environment's plan (``inventory``), the
prices from ``prices/<region>.json``. Nothing here is a typed-in dollar amount.

Three components per payment, reported apart: the hot path (``express``, or ``standard`` for
the Standard-workflow variant: ``cost_per_million_payments_usd``), the payment event stream
with its fraud consumer (``stream``), and the data lake fed from the stream (``lake``). The
stream's on-demand stream-hours are in each environment's fixed floor; the lake's objects per
month (one per partition and buffering interval, whatever the volume) in ``lake_fixed``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bench.cost.prices import PriceBook
from bench.cost.usage import (
    BNPL_REQUIRED,
    LAKE_REQUIRED,
    LAKE_TRANSFORM_REQUIRED,
    STREAM_REQUIRED,
    Usage,
)

MILLION = 1_000_000
GIB = 1024**3
KIB = 1024
# Express workflows bill memory in 64 MB chunks; a payment's execution (definition plus a few
# KB of state) fits the first chunk.
EXPRESS_MEMORY_GB = 64 / 1024
TIB = 1024**4
# Firehose bills ingestion per record rounded up to 5 KB; Kinesis on-demand bills data in per
# record rounded up to 1 KB (the pricing pages' examples).
FIREHOSE_RECORD_ROUNDING = 5 * KIB
KINESIS_RECORD_ROUNDING = KIB
SECONDS_PER_MONTH = 730 * 3600
# Firehose's Lambda processor buffers 1 MB (BufferSizeInMBs' default) before it invokes.
LAMBDA_PROCESSOR_BUFFER_BYTES = 1024**2
VOLUMES = (100_000, 1_000_000, 10_000_000)
# The merchant authorizer (docs/decisions/0008) runs on API Gateway's cache misses only: a
# stated hit rate (one key per merchant server, answers cached 300 s), not a measured one (the
# emulator's cache holds for a whole bench run). Each miss is one invocation of 256 MB for about
# 15 ms billed and two strongly consistent GetItems of items under 4 KB (one read unit each:
# the key, then its merchant, whose status the authorizer checks).
AUTHORIZER_CACHE_HIT_RATE = 0.9
AUTHORIZER_GB_SECONDS_PER_MISS = 256 / 1024 * 0.015
AUTHORIZER_READ_UNITS_PER_MISS = 2.0

# Webhooks (docs/decisions/0009): each payment event delivered to the merchant's subscribed
# endpoints, stated, not measured (how many endpoints a merchant registers is its choice): one
# endpoint subscribed to payment.*, every delivery answered 2xx at its first attempt. A delivery
# is two invocations of 256 MB (the dispatch and the attempt, batches of one: the worst case),
# 30 ms of our own work each plus the merchant's answer while the attempt waits (300 ms), six
# SQS requests (send, receive, delete on each queue), three writes (the delivery, the claim,
# the outcome), three reads (the endpoints, the delivery, the endpoint) and a KMS Decrypt of the
# secret in one attempt out of a hundred (cached a minute per container).
WEBHOOK_ENDPOINTS_PER_EVENT = 1.0
WEBHOOK_LAMBDA_INVOCATIONS = 2.0
WEBHOOK_GB_SECONDS = 256 / 1024 * (0.030 + 0.030 + 0.300)
WEBHOOK_SQS_REQUESTS = 6.0
WEBHOOK_WRITE_UNITS = 3.0
WEBHOOK_READ_UNITS = 3.0
WEBHOOK_KMS_REQUESTS = 0.01


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
    stream: list[Line] = field(default_factory=list)
    lake: list[Line] = field(default_factory=list)
    lake_fixed: list[FixedLine] = field(default_factory=list)
    # Per million BNPL payments (a BNPL payment is not also a card payment of the hot path).
    bnpl: list[Line] = field(default_factory=list)
    # Not built, priced for the decision records: the same requests on an HTTP API.
    http_api: Line | None = None
    volumes: tuple[int, ...] = VOLUMES
    notes: list[str] = field(default_factory=list)

    @staticmethod
    def per_million(lines: list[Line]) -> float:
        return sum(line.usd_per_million for line in lines)

    def component_totals(self) -> dict[str, float]:
        """USD per million payments of each component measured (the hot path as built)."""
        totals = {"hot path": self.per_million(self.express)}
        if self.stream:
            totals["event stream and fraud consumer"] = self.per_million(self.stream)
        if self.lake:
            totals["data lake"] = self.per_million(self.lake)
        return totals

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


def authorizer_lines(prices: PriceBook, api_requests: float) -> list[Line]:
    """The merchant authorizer's cache misses among a payment's API requests."""
    misses = api_requests * (1 - AUTHORIZER_CACHE_HIT_RATE)
    return [
        _line(prices, "Merchant authorizer requests", misses, "invocations", "lambda_request"),
        _line(
            prices,
            "Merchant authorizer duration",
            misses * AUTHORIZER_GB_SECONDS_PER_MISS,
            "GB-s",
            "lambda_gb_second",
        ),
        _line(
            prices,
            "Merchant registry reads",
            misses * AUTHORIZER_READ_UNITS_PER_MISS,
            "RRU",
            "dynamodb_read_request_unit",
        ),
    ]


def webhook_lines(prices: PriceBook, events: float) -> list[Line]:
    """Webhook deliveries of a payment's events to its merchant's endpoints."""
    deliveries = events * WEBHOOK_ENDPOINTS_PER_EVENT
    return [
        _line(
            prices,
            "Webhook Lambda requests",
            deliveries * WEBHOOK_LAMBDA_INVOCATIONS,
            "invocations",
            "lambda_request",
        ),
        _line(
            prices,
            "Webhook Lambda duration",
            deliveries * WEBHOOK_GB_SECONDS,
            "GB-s",
            "lambda_gb_second",
        ),
        _line(
            prices,
            "Webhook SQS requests",
            deliveries * WEBHOOK_SQS_REQUESTS,
            "requests",
            "sqs_request",
        ),
        _line(
            prices,
            "Webhook delivery log writes",
            deliveries * WEBHOOK_WRITE_UNITS,
            "WRU",
            "dynamodb_write_request_unit",
        ),
        _line(
            prices,
            "Webhook endpoint and log reads",
            deliveries * WEBHOOK_READ_UNITS,
            "RRU",
            "dynamodb_read_request_unit",
        ),
        _line(
            prices,
            "Webhook secret decrypts",
            deliveries * WEBHOOK_KMS_REQUESTS,
            "requests",
            "kms_request",
        ),
    ]


def shared_lines(prices: PriceBook, usage: Usage, scope: Mapping[str, list[str]]) -> list[Line]:
    """Everything but the workflow engine: the same for Express and Standard."""
    api = usage["payment_api_requests"]
    return [
        *authorizer_lines(prices, api),
        *webhook_lines(prices, usage["payment_events_published"]),
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
    ]


def _rounded(size: float, step: int) -> float:
    return max(1, math.ceil(size / step)) * step


def stream_lines(prices: PriceBook, usage: Usage) -> list[Line]:
    """The payment event stream and its fraud consumer, per payment: the payment's events onto
    the stream (each one the stream's rules take) times what one record costs the consumer."""
    records = usage["payment_events_published"]
    size = usage["fraud_stream_record_bytes"]
    return [
        _line(
            prices,
            "EventBridge rule delivery to Kinesis",
            records,
            "deliveries",
            "eventbridge_target_delivery",
        ),
        _line(
            prices,
            "Kinesis on-demand data in",
            records * _rounded(size, KINESIS_RECORD_ROUNDING) / GIB,
            "GB",
            "kinesis_on_demand_data_in_gb",
        ),
        _line(
            prices,
            "Kinesis on-demand data out (fraud consumer)",
            records * size / GIB,
            "GB",
            "kinesis_on_demand_data_out_gb",
        ),
        _line(
            prices,
            "Consumer Lambda requests",
            records * usage["fraud_stream_lambda_invocations_per_record"],
            "invocations",
            "lambda_request",
        ),
        _line(
            prices,
            "Consumer Lambda duration",
            records * usage["fraud_stream_lambda_gb_seconds_per_record"],
            "GB-s",
            "lambda_gb_second",
        ),
        _line(
            prices,
            "Feature and block-list writes (on-demand)",
            records * usage["fraud_stream_dynamodb_write_units_per_record"],
            "WRU",
            "dynamodb_write_request_unit",
        ),
        _line(
            prices,
            "Feature and block-list reads (on-demand)",
            records * usage["fraud_stream_dynamodb_read_units_per_record"],
            "RRU",
            "dynamodb_read_request_unit",
        ),
        _line(
            prices,
            "Consumer logs ingestion",
            records * usage["fraud_stream_log_bytes_per_record"] / GIB,
            "GB",
            "logs_ingestion_gb",
        ),
    ]


def lake_lines(prices: PriceBook, usage: Usage) -> list[Line]:
    """The data lake, per payment: Firehose reads every record of the stream, converts it to
    Parquet, partitions it by date and type, and S3 keeps it; Athena scans it. Storage is one
    month's; the scan is one query over everything (Athena bills at least 10 MB a query, which
    the lake passes from about 70,000 payments a month on)."""
    records = usage["payment_events_published"]
    size = usage["fraud_stream_record_bytes"]
    parquet = records * usage["lake_parquet_bytes_per_event"]
    ingested = records * _rounded(size, FIREHOSE_RECORD_ROUNDING) / GIB
    return [
        _line(
            prices,
            "Kinesis on-demand data out (Firehose)",
            records * size / GIB,
            "GB",
            "kinesis_on_demand_data_out_gb",
        ),
        _line(prices, "Firehose ingestion", ingested, "GB", "firehose_gb"),
        _line(
            prices,
            "Firehose format conversion (Parquet)",
            ingested,
            "GB",
            "firehose_format_conversion_gb",
        ),
        _line(
            prices,
            "Firehose dynamic partitioning",
            records * size / GIB,
            "GB",
            "firehose_dynamic_partitioning_gb",
        ),
        _line(
            prices, "S3 storage, per month kept", parquet / GIB, "GB-month", "s3_storage_gb_month"
        ),
        _line(
            prices, "Athena, one scan of the lake", parquet / TIB, "TB scanned", "athena_tb_scanned"
        ),
        *(lake_transform_lines(prices, usage) if usage.has(LAKE_TRANSFORM_REQUIRED) else []),
    ]


def lake_transform_lines(prices: PriceBook, usage: Usage) -> list[Line]:
    """What the lines above leave out: every delivery stream (one per lake table) reads and
    ingests every record of the stream, its transformation step keeping its own kind and
    dropping the rest, so the streams beyond the first pay the read and the ingestion again;
    each runs the transformation Lambda on every record, invoked once per 1 MB it buffers (at
    low volume once per 60 s buffering interval instead, a few cents a month)."""
    records = usage["payment_events_published"]
    size = usage["fraud_stream_record_bytes"]
    streams = usage["lake_delivery_streams"]
    others = max(0.0, streams - 1)
    return [
        _line(
            prices,
            "Kinesis on-demand data out (other delivery streams)",
            others * records * size / GIB,
            "GB",
            "kinesis_on_demand_data_out_gb",
        ),
        _line(
            prices,
            "Firehose ingestion (other delivery streams)",
            others * records * _rounded(size, FIREHOSE_RECORD_ROUNDING) / GIB,
            "GB",
            "firehose_gb",
        ),
        _line(
            prices,
            "Transformation Lambda requests",
            streams * records * size / LAMBDA_PROCESSOR_BUFFER_BYTES,
            "invocations",
            "lambda_request",
        ),
        _line(
            prices,
            "Transformation Lambda duration",
            streams * records * usage["lake_transform_gb_seconds_per_record"],
            "GB-s",
            "lambda_gb_second",
        ),
    ]


def lake_fixed_lines(prices: PriceBook, layout: Mapping[str, int]) -> list[FixedLine]:
    """Objects a month whatever the volume (at the volumes here the buffering interval, not
    the 128 MB size, closes each object): one PUT and one dynamic-partitioning object each."""
    objects = layout["event_types"] * SECONDS_PER_MONTH / layout["buffer_interval_s"]
    return [
        FixedLine(
            "Lake S3 PUTs (objects a month)",
            objects,
            "objects",
            "s3_put_request",
            objects * prices.unit_usd("s3_put_request"),
        ),
        FixedLine(
            "Firehose dynamic partitioning objects",
            objects,
            "objects",
            "firehose_dynamic_partitioning_object",
            objects * prices.unit_usd("firehose_dynamic_partitioning_object"),
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


def bnpl_lines(prices: PriceBook, usage: Usage) -> list[Line]:
    """One BNPL payment, per million BNPL payments: its checkout (the API, WAF, the workflow's
    BNPL branch, the vault describing the card token, the bnpl function) and each later
    instalment's collection (the bnpl function a scheduled run invokes, its writes and events),
    as many collections as the plan bench_credit measures has."""
    collections = usage["bnpl_collections_per_payment"]
    lines: list[Line] = []
    for part, per, label in (
        ("checkout", 1.0, "BNPL checkout"),
        ("collection", collections, f"BNPL collections (x{collections:g})"),
    ):

        def units(name: str, part: str = part, per: float = per) -> float:
            return usage[f"bnpl_{part}_{name}"] * per

        if units("api_requests"):
            api = units("api_requests")
            lines += [
                _line(
                    prices,
                    f"{label}: API Gateway REST requests",
                    api,
                    "requests",
                    "apigateway_rest_request",
                ),
                _line(prices, f"{label}: WAF requests", api, "requests", "waf_request"),
            ]
        if units("step_functions_express_executions"):
            billed_s = units("step_functions_express_billed_ms") / 1000
            lines += [
                _line(
                    prices,
                    f"{label}: Step Functions Express requests",
                    units("step_functions_express_executions"),
                    "requests",
                    "sfn_express_request",
                ),
                _line(
                    prices,
                    f"{label}: Step Functions Express duration",
                    billed_s * EXPRESS_MEMORY_GB,
                    "GB-s",
                    "sfn_express_gb_second",
                ),
            ]
        lines += [
            _line(
                prices,
                f"{label}: Lambda requests",
                units("lambda_invocations"),
                "invocations",
                "lambda_request",
            ),
            _line(
                prices,
                f"{label}: Lambda duration",
                units("lambda_gb_seconds"),
                "GB-s",
                "lambda_gb_second",
            ),
            _line(
                prices,
                f"{label}: DynamoDB writes (on-demand)",
                units("dynamodb_write_units"),
                "WRU",
                "dynamodb_write_request_unit",
            ),
            _line(
                prices,
                f"{label}: DynamoDB reads (on-demand)",
                units("dynamodb_read_units"),
                "RRU",
                "dynamodb_read_request_unit",
            ),
            _line(prices, f"{label}: KMS requests", units("kms_calls"), "requests", "kms_request"),
            _line(
                prices,
                f"{label}: EventBridge events",
                units("events_published"),
                "events",
                "eventbridge_event",
            ),
            _line(
                prices,
                f"{label}: CloudWatch Logs ingestion",
                units("log_bytes") / GIB,
                "GB",
                "logs_ingestion_gb",
            ),
        ]
    return lines


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

    # Inventories counted before the acquirer's firewall existed have no such count.
    firewall_endpoints = counts.get("firewall_endpoints", 0)

    return [
        line(
            "Interface endpoints x AZs",
            counts["interface_endpoint_azs"],
            "endpoint-AZs",
            "interface_endpoint_az_hour",
            True,
        ),
        # Each firewall endpoint-hour waives one NAT gateway-hour (Network Firewall pricing),
        # so the firewall mode's per-zone NAT gateways cost nothing beside their endpoints.
        line(
            "NAT gateways (beyond those a firewall endpoint covers)",
            max(counts["nat_gateways"] - firewall_endpoints, 0),
            "gateways",
            "nat_gateway_hour",
            True,
        ),
        line(
            "Network Firewall endpoints",
            firewall_endpoints,
            "endpoints",
            "network_firewall_endpoint_hour",
            True,
        ),
        line("KMS keys", counts["kms_keys"], "keys", "kms_key_month", False),
        line("WAF web ACLs", counts["waf_web_acls"], "web ACLs", "waf_web_acl_month", False),
        line("WAF rules", counts["waf_rules"], "rules", "waf_rule_month", False),
        line("CloudWatch alarms", counts["alarms"], "alarms", "alarm_metric_month", False),
        line("CloudTrail trails", counts["trails"], "trails", "cloudtrail_trail_month", False),
        line(
            "Kinesis on-demand streams",
            counts["kinesis_on_demand_streams"],
            "streams",
            "kinesis_on_demand_stream_hour",
            True,
        ),
    ]


def estimate(
    prices: PriceBook,
    usage: Usage,
    inventory: Mapping[str, Any],
    lake_layout: Mapping[str, int] | None = None,
) -> Estimate:
    """``lake_layout``: ``inventory.lake_layout()`` (read from modules/data_lake when None)."""
    if lake_layout is None:
        from bench.cost.inventory import lake_layout as read_layout

        lake_layout = read_layout()
    envs = sorted(inventory)
    notes = []
    if not usage.has(STREAM_REQUIRED):
        notes.append(f"event stream not measured: {', '.join(usage.missing(STREAM_REQUIRED))}")
    if not usage.has(LAKE_REQUIRED):
        notes.append(f"data lake not measured: {', '.join(usage.missing(LAKE_REQUIRED))}")
    if not usage.has(BNPL_REQUIRED):
        notes.append(f"BNPL not measured: {', '.join(usage.missing(BNPL_REQUIRED))}")
    else:
        notes.append(
            "BNPL: priced per BNPL payment (its checkout and "
            f"{usage['bnpl_collections_per_payment']:g} collections, bench_credit's plan); the "
            "collections schedule's one daily trigger and CloudTrail data events on the credit "
            "tables are not priced"
        )
    if usage.has(LAKE_REQUIRED) and not usage.has(LAKE_TRANSFORM_REQUIRED):
        notes.append(
            "data lake: the Firehose transformation Lambda and the Glue Data Catalog (within its "
            "free million objects and requests a month) are not priced"
        )
    elif usage.has(LAKE_REQUIRED):
        notes.append(
            "data lake: the Glue Data Catalog is not priced (two tables with partition "
            "projection: within its free million objects and requests a month)"
        )
    # The variable cost is priced with prod's trail selectors (all environments share modules).
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
        stream=stream_lines(prices, usage) if usage.has(STREAM_REQUIRED) else [],
        lake=lake_lines(prices, usage) if usage.has(LAKE_REQUIRED) else [],
        lake_fixed=lake_fixed_lines(prices, lake_layout),
        bnpl=bnpl_lines(prices, usage) if usage.has(BNPL_REQUIRED) else [],
        notes=notes,
    )
