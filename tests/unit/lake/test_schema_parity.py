"""The lake's allow-list (modules/data_lake/schema/payment_events.json, which Terraform turns into
the Glue table) against the payment event contract (functions/contracts/events.py) and against
the Parquet the local Firehose writes: a field added to the contract fails here until the lake
either names it as a column, with its type, or lists it as kept out, with a reason."""

from __future__ import annotations

import io
import json
from typing import Any

import pyarrow.parquet as pq

from functions.contracts.events import DETAIL_MODELS
from local import lake
from local.lake_events import SCHEMA, payment_events
from tests.unit.lake.lake_fixtures import COLUMNS, PARTITION_KEYS


def contract_fields() -> dict[str, dict[str, Any]]:
    """Every field any payment event's detail can carry, with its JSON Schema."""
    fields: dict[str, dict[str, Any]] = {}
    for model in DETAIL_MODELS.values():
        schema = model.model_json_schema()
        for name, spec in schema["properties"].items():
            fields.setdefault(name, {"spec": spec, "defs": schema.get("$defs", {})})
    return fields


def glue_type(spec: dict[str, Any], defs: dict[str, Any]) -> str:
    """The Glue type a JSON Schema property maps to (nullable unions collapse: every column is
    nullable)."""
    if "$ref" in spec:
        target = defs[spec["$ref"].split("/")[-1]]
        if "properties" in target:
            members = ",".join(f"{n}:{glue_type(p, defs)}" for n, p in target["properties"].items())
            return f"struct<{members}>"
        return glue_type(target, defs)
    if "anyOf" in spec:
        (kind,) = [s for s in spec["anyOf"] if s.get("type") != "null"]
        return glue_type(kind, defs)
    if spec.get("type") == "integer":
        return "bigint"
    if spec.get("type") == "boolean":
        return "boolean"
    if spec.get("type") == "string" and spec.get("format") == "date-time":
        return "timestamp"
    if spec.get("type") == "string" or "enum" in spec:
        return "string"
    raise AssertionError(f"no Glue type for {spec}")


def test_every_contract_field_is_a_column_or_kept_out_with_a_reason() -> None:
    columns = [c.name for c in COLUMNS]
    excluded, derived = SCHEMA["excluded"], SCHEMA["derived"]
    assert set(columns) - set(derived) | set(excluded) == set(contract_fields())
    assert set(derived) <= set(columns)
    assert not set(columns) & set(excluded)
    assert not set(derived) & set(contract_fields())
    assert all(reason.strip() for reason in [*excluded.values(), *derived.values()])
    assert len(columns) == len(set(columns))


def test_each_column_has_the_contract_type() -> None:
    fields = contract_fields()
    for column in COLUMNS:
        if column.name in SCHEMA["derived"]:
            assert column.type == "string", column.name  # a pseudonym
            continue
        field = fields[column.name]
        assert column.type == glue_type(field["spec"], field["defs"]), column.name


def test_the_transformation_step_writes_exactly_the_derived_columns() -> None:
    from functions.domain.lake_records import REMOVED_FIELDS, prepare
    from tests.unit.lake.lake_fixtures import MemoryPseudonymKeys

    events = list(payment_events(5, seed=4))
    (out, *_) = prepare([json.dumps(e) for e in events], MemoryPseudonymKeys())
    added = set(json.loads(out.text)) - set(events[0])
    assert added == set(SCHEMA["derived"])
    assert set(REMOVED_FIELDS) <= set(SCHEMA["excluded"])


def test_partitions_are_not_columns_and_cover_every_event_type() -> None:
    assert [k.name for k in PARTITION_KEYS] == ["event_date", "event_type"]
    assert not {k.name for k in PARTITION_KEYS} & {c.name for c in COLUMNS}
    assert set(SCHEMA["event_types"]) == {t.value for t in DETAIL_MODELS}


def test_the_parquet_written_has_exactly_the_table_columns() -> None:
    schema = lake.arrow_schema(COLUMNS)
    rows = [lake.row(e, schema) for e in payment_events(30, seed=3)]
    buffer = io.BytesIO()
    pq.write_table(lake.to_table(rows, schema), buffer)
    written = pq.read_schema(io.BytesIO(buffer.getvalue()))
    assert written.names == [c.name for c in COLUMNS]
    assert written.equals(schema)


def test_the_alert_table_has_every_alert_field_with_its_contract_type() -> None:
    from functions.contracts.events import FraudAlertDetail
    from tests.unit.lake.lake_fixtures import ALERT_COLUMNS

    schema = FraudAlertDetail.model_json_schema()
    fields, defs = schema["properties"], schema.get("$defs", {})
    assert [c.name for c in ALERT_COLUMNS] == list(fields)
    for column in ALERT_COLUMNS:
        spec = fields[column.name]
        if spec.get("type") == "array":
            assert column.type == f"array<{glue_type(spec['items'], defs)}>", column.name
        else:
            assert column.type == glue_type(spec, defs), column.name


def test_alerts_convert_to_the_alert_table_with_personal_subjects_removed() -> None:
    from functions.domain.lake_records import FRAUD_ALERTS, prepare
    from local.lake_events import ALERT_SCHEMA, fraud_alerts
    from tests.unit.lake.lake_fixtures import ALERT_COLUMNS, MemoryPseudonymKeys

    events = list(payment_events(60, seed=9))
    alerts = list(fraud_alerts(events, seed=2))
    schema = lake.arrow_schema(ALERT_COLUMNS)
    prepared = prepare(
        [json.dumps(a) for a in [*alerts, *events]], MemoryPseudonymKeys(), FRAUD_ALERTS
    )
    kept = [json.loads(p.text) for p in prepared if not p.dropped]
    assert len(kept) == len(alerts) and all(p.dropped for p in prepared[len(alerts) :])
    rows = [lake.row(a, schema) for a in kept]
    written = lake.to_table(rows, schema)
    assert written.schema.names == [c["name"] for c in ALERT_SCHEMA["columns"]]
    for alert, row in zip(alerts, rows, strict=True):
        personal = alert["subject_type"] in ALERT_SCHEMA["personal_subjects"]
        assert row["subject"] == (None if personal else alert["subject"])
    assert {a["subject_type"] for a in alerts} >= {"card", "device", "merchant"}
