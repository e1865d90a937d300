"""The cost model: price files refuse entries without provenance, every line is units x price,
a unit the meter did not report fails loudly (or, for the stream and the lake, leaves the
component out with a note, never at zero), the stream and lake are priced per record with the
services' roundings, and the README block is the model's output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bench.cost import inventory, model, prices, report
from bench.cost.__main__ import QUOTING_PATHS, README_PATH, estimate_from_report
from bench.cost.usage import (
    BNPL_UNITS,
    LAKE_REQUIRED,
    LAKE_TRANSFORM_REQUIRED,
    REQUIRED,
    STREAM_REQUIRED,
    MissingMeterFigure,
    Usage,
)

COST_DIR = Path(prices.__file__).resolve().parent
INVENTORY: dict[str, dict[str, Any]] = {
    env: {
        "availability_zones": azs,
        "interface_endpoints": 9,
        "interface_endpoint_azs": 9 * azs,
        "nat_gateways": nat,
        "kms_keys": 5,
        "waf_web_acls": 1,
        "waf_rules": 4,
        "alarms": 27,
        "trails": 1,
        "kinesis_on_demand_streams": 1,
        "data_event_scope": {"dynamodb": ["vault"], "lambda": ["vault-tokenize"]},
    }
    for env, azs, nat in (("dev", 2, 0), ("prod", 3, 3))
}


def usage(**overrides: float) -> Usage:
    figures = {name: 1.0 for name in REQUIRED} | overrides
    results = {name: {"value": value, "unit": "x"} for name, value in figures.items()}
    results |= {
        "payment_data_calls:dynamodb:payments-local-vault": {"value": 2, "unit": "calls"},
        "payment_data_calls:dynamodb:payments-local-payments": {"value": 5, "unit": "calls"},
        "payment_data_calls:lambda:payments-local-vault-tokenize": {"value": 1, "unit": "calls"},
        "payment_data_calls:lambda:payments-local-score-fraud": {"value": 1, "unit": "calls"},
    }
    return Usage.from_results(results, "test")


def entry(**overrides: Any) -> dict[str, Any]:
    base = {
        "usd": 1.0,
        "per": 1_000_000,
        "unit": "requests",
        "source": "https://aws.amazon.com/lambda/pricing/",
        "retrieved": "2026-11-30",
        "verified": True,
    }
    return {k: v for k, v in (base | overrides).items() if v is not None}


@pytest.mark.parametrize("region", prices.regions())
def test_every_price_file_loads_with_source_and_date(region: str) -> None:
    book = prices.load(region)
    assert book.region == region
    for key, price in book.prices.items():
        assert price.source.scheme == "https", key
        assert "2026-11-30" <= price.retrieved.isoformat() <= book.version.isoformat(), key


def test_price_files_price_the_same_things() -> None:
    keys = [set(prices.load(region).prices) for region in prices.regions()]
    assert all(k == keys[0] for k in keys)
    assert {"eu-west-2", "us-east-1"} <= set(prices.regions())


@pytest.mark.parametrize("missing", ["source", "retrieved", "usd", "per"])
def test_a_price_without_provenance_or_amount_is_refused(missing: str) -> None:
    with pytest.raises(ValidationError, match=missing):
        prices.Price.model_validate(entry(**{missing: None}))


@pytest.mark.parametrize(
    ("field", "value"), [("source", "not a url"), ("retrieved", "yesterday"), ("usd", -1)]
)
def test_a_malformed_price_is_refused(field: str, value: object) -> None:
    with pytest.raises(ValidationError):
        prices.Price.model_validate(entry(**{field: value}))


@pytest.mark.parametrize("figure", REQUIRED)
def test_a_unit_missing_from_the_meter_fails_loudly(figure: str) -> None:
    results = {name: {"value": 1, "unit": "x"} for name in REQUIRED if name != figure}
    measured = Usage.from_results(results, "test")
    assert measured.missing() == [figure]
    with pytest.raises(MissingMeterFigure, match=figure):
        model.estimate(prices.load("eu-west-2"), measured, INVENTORY)


LINES = [
    ("API Gateway REST requests", "payment_api_requests", "apigateway_rest_request", 1.0),
    ("WAF requests", "payment_api_requests", "waf_request", 1.0),
    ("Lambda requests", "payment_lambda_invocations", "lambda_request", 1.0),
    ("Lambda duration", "payment_lambda_gb_seconds", "lambda_gb_second", 1.0),
    (
        "DynamoDB writes (on-demand)",
        "payment_dynamodb_write_units",
        "dynamodb_write_request_unit",
        1.0,
    ),
    ("KMS requests", "payment_kms_calls", "kms_request", 1.0),
    ("EventBridge events", "payment_events_published", "eventbridge_event", 1.0),
    ("CloudWatch Logs ingestion", "payment_log_bytes", "logs_ingestion_gb", 1 / 1024**3),
    (
        "Step Functions Express requests",
        "payment_step_functions_express_executions",
        "sfn_express_request",
        1.0,
    ),
    (
        "Step Functions Express duration",
        "payment_step_functions_express_billed_ms",
        "sfn_express_gb_second",
        64 / 1024 / 1000,  # billed ms -> s, in one 64 MB chunk
    ),
]


@pytest.mark.parametrize(("component", "figure", "price_key", "per_unit"), LINES)
@pytest.mark.parametrize("region", prices.regions())
def test_each_line_is_meter_units_times_price(
    region: str, component: str, figure: str, price_key: str, per_unit: float
) -> None:
    book = prices.load(region)
    line = next(
        x
        for x in model.estimate(book, usage(**{figure: 7.0}), INVENTORY).express
        if x.component == component
    )
    assert line.price_key == price_key
    assert line.usd_per_payment == pytest.approx(7.0 * per_unit * book.unit_usd(price_key))


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ({}, 0),
        ({"dynamodb": ["vault"]}, 2),
        ({"dynamodb": ["vault"], "lambda": ["vault-tokenize"]}, 3),
        ({"dynamodb": ["*"]}, 7),
        ({"dynamodb": ["*"], "lambda": ["*"]}, 9),
    ],
)
def test_cloudtrail_data_events_follow_the_trail_selectors(
    scope: dict[str, list[str]], expected: int
) -> None:
    assert model.data_events(usage(), scope) == expected


def test_standard_bills_transitions_instead_of_express_requests_and_duration() -> None:
    book = prices.load("eu-west-2")
    estimate = model.estimate(book, usage(payment_state_transitions=19.0), INVENTORY)
    shared = [x for x in estimate.express if not x.component.startswith("Step Functions")]
    assert [x for x in estimate.standard if not x.component.startswith("Step Functions")] == shared
    transitions = estimate.standard[0]
    assert transitions.price_key == "sfn_standard_transition"
    per_transition = book.unit_usd("sfn_standard_transition")
    assert transitions.usd_per_million == pytest.approx(19 * per_transition * 1e6)


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_fixed_floor_is_plan_counts_times_prices(env: str) -> None:
    book = prices.load("eu-west-2")
    estimate = model.estimate(book, usage(), INVENTORY)
    counts = INVENTORY[env]
    hours = book.hours_per_month
    expected = (
        counts["interface_endpoint_azs"] * book.unit_usd("interface_endpoint_az_hour") * hours
        + counts["nat_gateways"] * book.unit_usd("nat_gateway_hour") * hours
        + counts["kms_keys"] * book.unit_usd("kms_key_month")
        + counts["waf_web_acls"] * book.unit_usd("waf_web_acl_month")
        + counts["waf_rules"] * book.unit_usd("waf_rule_month")
        + counts["alarms"] * book.unit_usd("alarm_metric_month")
        + counts["kinesis_on_demand_streams"]
        * book.unit_usd("kinesis_on_demand_stream_hour")
        * hours
    )
    assert estimate.fixed_monthly(env) == pytest.approx(expected)
    assert estimate.monthly_total(env, 1_000_000) == pytest.approx(
        expected + estimate.per_million(estimate.express)
    )


def test_the_readme_block_is_the_models_output_for_the_committed_report() -> None:
    committed = json.loads((COST_DIR / "report.json").read_text())
    estimate = estimate_from_report(committed)
    assert report.readme_block(README_PATH.read_text()) == report.summary(estimate), (
        "README's 'What it costs' block is stale: run `make cost`"
    )
    assert committed["bench_figures"] == report.bench_figures(estimate)


STREAM = {
    "payment_events_published": 2.0,
    "fraud_stream_record_bytes": 1_100.0,  # two 1 KB units on Kinesis, one 5 KB on Firehose
    "fraud_stream_lambda_invocations_per_record": 0.5,
    "fraud_stream_lambda_gb_seconds_per_record": 0.01,
    "fraud_stream_dynamodb_write_units_per_record": 2.5,
    "fraud_stream_dynamodb_read_units_per_record": 1.5,
    "fraud_stream_log_bytes_per_record": 300.0,
    "lake_parquet_bytes_per_event": 80.0,
}
GIB = 1024**3


@pytest.mark.parametrize(
    ("component", "price_key", "units"),
    [
        ("EventBridge rule delivery to Kinesis", "eventbridge_target_delivery", 2),
        ("Kinesis on-demand data in", "kinesis_on_demand_data_in_gb", 2 * 2048 / GIB),
        (
            "Kinesis on-demand data out (fraud consumer)",
            "kinesis_on_demand_data_out_gb",
            2_200 / GIB,
        ),
        ("Consumer Lambda requests", "lambda_request", 1.0),
        ("Consumer Lambda duration", "lambda_gb_second", 0.02),
        ("Feature and block-list writes (on-demand)", "dynamodb_write_request_unit", 5.0),
        ("Feature and block-list reads (on-demand)", "dynamodb_read_request_unit", 3.0),
        ("Consumer logs ingestion", "logs_ingestion_gb", 600 / GIB),
    ],
)
def test_stream_lines_are_records_per_payment_times_per_record_units(
    component: str, price_key: str, units: float
) -> None:
    book = prices.load("us-east-1")
    estimate = model.estimate(book, usage(**STREAM), INVENTORY)
    line = next(x for x in estimate.stream if x.component == component)
    assert line.price_key == price_key
    assert line.units == pytest.approx(units)
    assert line.usd_per_payment == pytest.approx(units * book.unit_usd(price_key))


@pytest.mark.parametrize(
    ("component", "price_key", "units"),
    [
        ("Kinesis on-demand data out (Firehose)", "kinesis_on_demand_data_out_gb", 2_200 / GIB),
        ("Firehose ingestion", "firehose_gb", 2 * 5 * 1024 / GIB),
        (
            "Firehose format conversion (Parquet)",
            "firehose_format_conversion_gb",
            2 * 5 * 1024 / GIB,
        ),
        ("Firehose dynamic partitioning", "firehose_dynamic_partitioning_gb", 2_200 / GIB),
        ("S3 storage, per month kept", "s3_storage_gb_month", 160 / GIB),
        ("Athena, one scan of the lake", "athena_tb_scanned", 160 / 1024**4),
    ],
)
def test_lake_lines_price_the_same_records_with_firehoses_rounding(
    component: str, price_key: str, units: float
) -> None:
    book = prices.load("eu-west-2")
    line = next(
        x for x in model.estimate(book, usage(**STREAM), INVENTORY).lake if x.component == component
    )
    assert line.price_key == price_key
    assert line.units == pytest.approx(units)


TRANSFORM = {"lake_delivery_streams": 2.0, "lake_transform_gb_seconds_per_record": 1e-5}


@pytest.mark.parametrize(
    ("component", "price_key", "units"),
    [
        (
            "Kinesis on-demand data out (other delivery streams)",
            "kinesis_on_demand_data_out_gb",
            2_200 / GIB,
        ),
        ("Firehose ingestion (other delivery streams)", "firehose_gb", 2 * 5 * 1024 / GIB),
        ("Transformation Lambda requests", "lambda_request", 2 * 2_200 / 1024**2),
        ("Transformation Lambda duration", "lambda_gb_second", 2 * 2 * 1e-5),
    ],
)
def test_the_lakes_second_delivery_stream_and_transformation_step_are_priced(
    component: str, price_key: str, units: float
) -> None:
    book = prices.load("eu-west-2")
    estimate = model.estimate(book, usage(**STREAM, **TRANSFORM), INVENTORY)
    line = next(x for x in estimate.lake if x.component == component)
    assert line.price_key == price_key
    assert line.units == pytest.approx(units)
    assert line.usd_per_payment == pytest.approx(units * book.unit_usd(price_key))
    assert "transformation Lambda" not in " ".join(estimate.notes)


@pytest.mark.parametrize("figure", LAKE_TRANSFORM_REQUIRED)
def test_without_the_transform_figures_the_lake_is_priced_as_before_with_a_note(
    figure: str,
) -> None:
    book = prices.load("eu-west-2")
    partial = {k: v for k, v in TRANSFORM.items() if k != figure}
    without = model.estimate(book, usage(**STREAM, **partial), INVENTORY)
    assert without.lake == model.estimate(book, usage(**STREAM), INVENTORY).lake
    assert "transformation Lambda" in " ".join(without.notes)


def test_the_hot_path_figure_leaves_the_stream_and_lake_out() -> None:
    book = prices.load("eu-west-2")
    alone = model.estimate(book, usage(payment_events_published=2.0), INVENTORY)
    both = model.estimate(book, usage(**STREAM), INVENTORY)
    assert both.express == alone.express and both.stream and both.lake
    figures = report.bench_figures(both)
    assert figures["cost_per_million_payments_usd"]["value"] == round(
        both.per_million(both.express), 2
    )
    assert figures["cost_per_million_payments_stream_usd"]["value"] == round(
        both.per_million(both.stream), 2
    )
    assert figures["cost_per_million_payments_lake_usd"]["value"] == round(
        both.per_million(both.lake), 2
    )


@pytest.mark.parametrize("figure", sorted(set(STREAM_REQUIRED + LAKE_REQUIRED) - set(REQUIRED)))
def test_a_stream_or_lake_figure_missing_leaves_its_component_out_with_a_note(
    figure: str,
) -> None:
    estimate = model.estimate(
        prices.load("eu-west-2"),
        usage(**{k: v for k, v in STREAM.items() if k != figure}),
        INVENTORY,
    )
    assert figure in " ".join(estimate.notes)
    assert not (estimate.stream if figure in STREAM_REQUIRED else estimate.lake)
    assert "cost_per_million_payments_stream_usd" in report.bench_figures(estimate) or (
        figure in STREAM_REQUIRED
    )


def test_lake_objects_a_month_come_from_the_lake_modules_layout() -> None:
    layout = inventory.lake_layout()
    assert layout == {"event_types": 6, "buffer_interval_s": 900}
    book = prices.load("eu-west-2")
    puts, objects = model.estimate(book, usage(), INVENTORY, layout).lake_fixed
    assert puts.quantity == objects.quantity == pytest.approx(6 * 730 * 3600 / 900)
    assert puts.usd_per_month == pytest.approx(puts.quantity * book.unit_usd("s3_put_request"))


@pytest.mark.parametrize(("mode", "counted"), [("ON_DEMAND", 1), ("PROVISIONED", 0)])
def test_the_inventory_counts_on_demand_streams(mode: str, counted: int) -> None:
    stream = {
        "type": "aws_kinesis_stream",
        "change": {
            "actions": ["create"],
            "after": {"stream_mode_details": [{"stream_mode": mode}]},
        },
    }
    assert inventory.count([stream])["kinesis_on_demand_streams"] == counted


BNPL = {
    **{f"bnpl_checkout_{unit}": 2.0 for unit in BNPL_UNITS},
    **{f"bnpl_collection_{unit}": 1.0 for unit in BNPL_UNITS},
    "bnpl_checkout_api_requests": 1.0,
    "bnpl_collection_api_requests": 0.0,
    "bnpl_collection_step_functions_express_executions": 0.0,
    "bnpl_collection_step_functions_express_billed_ms": 0.0,
    "bnpl_checkout_step_functions_express_billed_ms": 300.0,
    "bnpl_checkout_log_bytes": 2 * GIB,
    "bnpl_collections_per_payment": 3.0,
}


@pytest.mark.parametrize(
    ("component", "price_key", "units"),
    [
        ("BNPL checkout: API Gateway REST requests", "apigateway_rest_request", 1.0),
        ("BNPL checkout: WAF requests", "waf_request", 1.0),
        ("BNPL checkout: Step Functions Express requests", "sfn_express_request", 2.0),
        (
            "BNPL checkout: Step Functions Express duration",
            "sfn_express_gb_second",
            0.3 * model.EXPRESS_MEMORY_GB,
        ),
        ("BNPL checkout: Lambda requests", "lambda_request", 2.0),
        ("BNPL checkout: CloudWatch Logs ingestion", "logs_ingestion_gb", 2.0),
        ("BNPL collections (x3): Lambda requests", "lambda_request", 3.0),
        ("BNPL collections (x3): DynamoDB writes (on-demand)", "dynamodb_write_request_unit", 3.0),
        ("BNPL collections (x3): EventBridge events", "eventbridge_event", 3.0),
    ],
)
def test_a_bnpl_payment_is_its_checkout_and_each_collection_times_the_meters_units(
    component: str, price_key: str, units: float
) -> None:
    book = prices.load("eu-west-2")
    estimate = model.estimate(book, usage(**BNPL), INVENTORY)
    line = next(line for line in estimate.bnpl if line.component == component)
    assert line.units == pytest.approx(units)
    assert line.usd_per_payment == pytest.approx(units * book.unit_usd(price_key))
    # A collection is run by the schedule: no API request, no workflow execution.
    assert not any(
        line.component.startswith("BNPL collections") and "API Gateway" in line.component
        for line in estimate.bnpl
    )


def test_bnpl_is_priced_per_bnpl_payment_apart_from_the_hot_path() -> None:
    book = prices.load("eu-west-2")
    alone = model.estimate(book, usage(), INVENTORY)
    with_bnpl = model.estimate(book, usage(**BNPL), INVENTORY)
    assert with_bnpl.express == alone.express and not alone.bnpl
    figures = report.bench_figures(with_bnpl)
    assert figures["cost_per_million_bnpl_payments_usd"]["value"] == round(
        with_bnpl.per_million(with_bnpl.bnpl), 2
    )
    assert "cost_per_million_bnpl_payments_usd" not in report.bench_figures(alone)
    assert "BNPL, per million BNPL payments" in report.markdown(with_bnpl, "chart.svg")


@pytest.mark.parametrize("figure", ["bnpl_collection_kms_calls", "bnpl_collections_per_payment"])
def test_a_bnpl_figure_missing_leaves_bnpl_out_with_a_note(figure: str) -> None:
    estimate = model.estimate(
        prices.load("eu-west-2"),
        usage(**{k: v for k, v in BNPL.items() if k != figure}),
        INVENTORY,
    )
    assert not estimate.bnpl and figure in " ".join(estimate.notes)


def _created(resource_type: str, address: str, after: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": resource_type,
        "address": address,
        "change": {"actions": ["create"], "after": after},
    }


def test_a_firewall_endpoint_is_priced_and_covers_one_nat_gateway_hour() -> None:
    firewall = _created(
        "aws_networkfirewall_firewall",
        "module.network.aws_networkfirewall_firewall.acquirer[0]",
        {"subnet_mapping": [{"subnet_id": None}, {"subnet_id": None}]},
    )
    nats = [_created("aws_nat_gateway", f"module.network.aws_nat_gateway.x[{i}]", {}) for i in "ab"]
    counts = inventory.count([firewall, *nats])
    assert (counts["firewall_endpoints"], counts["nat_gateways"]) == (2, 2)
    book = prices.load("eu-west-2")
    lines = {line.component: line for line in model.fixed_lines(book, counts)}
    endpoints = lines["Network Firewall endpoints"]
    assert endpoints.usd_per_month == pytest.approx(
        2 * book.unit_usd("network_firewall_endpoint_hour") * book.hours_per_month
    )
    # The waiver is one NAT gateway-hour per endpoint-hour, never more than there are NATs.
    assert lines["NAT gateways (beyond those a firewall endpoint covers)"].quantity == 0
    one_more = inventory.count([firewall, *nats, nats[0]])
    more = {line.component: line for line in model.fixed_lines(book, one_more)}
    assert more["NAT gateways (beyond those a firewall endpoint covers)"].quantity == 1


def test_an_inventory_from_before_the_firewall_prices_none() -> None:
    counts = {k: v for k, v in INVENTORY["prod"].items() if k != "firewall_endpoints"}
    lines = {line.component: line for line in model.fixed_lines(prices.load(), counts)}
    assert lines["Network Firewall endpoints"].usd_per_month == 0
    assert lines["NAT gateways (beyond those a firewall endpoint covers)"].quantity == 3


def test_tables_and_functions_get_the_arns_aws_would_give_them() -> None:
    resources = [
        _created(
            "aws_dynamodb_table", "module.p.module.vault.aws_dynamodb_table.this", {"name": "v"}
        ),
        _created(
            "aws_lambda_function",
            "module.p.module.vault.module.tokenize.aws_lambda_function.this",
            {"function_name": "p-tokenize"},
        ),
        # Two instances share one override target: an override would give both one ARN.
        _created(
            "aws_lambda_function",
            'module.p.module.step["a"].aws_lambda_function.this',
            {"function_name": "p-a"},
        ),
        _created(
            "aws_lambda_function",
            'module.p.module.step["b"].aws_lambda_function.this',
            {"function_name": "p-b"},
        ),
        _created("aws_sqs_queue", "module.p.aws_sqs_queue.q", {"name": "q"}),
    ]
    hcl = inventory.arn_overrides(resources, "eu-west-2", "111122223333")
    assert hcl.count("override_resource") == 2
    assert "target = module.p.module.vault.aws_dynamodb_table.this\n" in hcl
    assert 'arn = "arn:aws:dynamodb:eu-west-2:111122223333:table/v"' in hcl
    assert (
        'invoke_arn = "arn:aws:apigateway:eu-west-2:lambda:path/2015-03-31/functions/'
        'arn:aws:lambda:eu-west-2:111122223333:function:p-tokenize/invocations"'
    ) in hcl
    assert "module.step" not in hcl and "sqs" not in hcl


def test_a_data_event_selector_with_an_unknown_arn_is_refused_not_priced() -> None:
    trail = _created(
        "aws_cloudtrail",
        "module.audit.aws_cloudtrail.this",
        {
            "advanced_event_selector": [
                {
                    "name": "Cardholder-data DynamoDB tables",
                    "field_selector": [
                        {"field": "eventCategory", "equals": ["Data"]},
                        {"field": "resources.type", "equals": ["AWS::DynamoDB::Table"]},
                        {"field": "resources.ARN", "equals": [None]},
                    ],
                }
            ]
        },
    )
    with pytest.raises(ValueError, match="Cardholder-data DynamoDB tables"):
        inventory.count([trail])
    trail["change"]["after"]["advanced_event_selector"][0]["field_selector"][2]["equals"] = [
        "arn:aws:dynamodb:eu-west-2:111122223333:table/payments-dev-vault"
    ]
    assert inventory.count([trail])["data_event_scope"] == {"dynamodb": ["payments-dev-vault"]}


def test_the_figures_the_decision_matrix_quotes_are_the_models_for_the_committed_report() -> None:
    estimate = estimate_from_report(json.loads((COST_DIR / "report.json").read_text()))
    for path in QUOTING_PATHS:
        text = path.read_text()
        assert "<!-- cost:" in text
        assert report.refresh_inline_figures(text, estimate) == text, (
            f"{path.name} quotes stale cost figures: run `make cost`"
        )


def test_a_quoted_figure_is_rewritten_and_an_unknown_one_refused() -> None:
    estimate = estimate_from_report(json.loads((COST_DIR / "report.json").read_text()))
    express = report.inline_figures(estimate)["express"]
    text = "all-in <!-- cost:express -->1.00<!-- /cost --> per million"
    assert report.refresh_inline_figures(text, estimate) == (
        f"all-in <!-- cost:express -->{express}<!-- /cost --> per million"
    )
    summed = "<!-- cost:components:KMS requests+EventBridge events -->0<!-- /cost -->"
    kms_and_events = report.refresh_inline_figures(summed, estimate)
    assert ">8.00<" in kms_and_events
    for unknown in (
        "<!-- cost:nonsense -->1<!-- /cost -->",
        "<!-- cost:component:Nope -->1<!-- /cost -->",
        "<!-- cost:components:KMS requests+Nope -->1<!-- /cost -->",
    ):
        with pytest.raises(KeyError):
            report.refresh_inline_figures(unknown, estimate)
