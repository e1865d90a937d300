"""The lake's allow-list (modules/data_lake/schema/payment_events.json, which Terraform turns into
the Glue table) against the payment event contract (functions/contracts/events.py) and against
the Parquet the local Firehose writes: a field added to the contract fails here until the lake
either names it as a column, with its type, or lists it as kept out, with a reason."""

from __future__ import annotations

import io
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
    if spec.get("type") == "string" and spec.get("format") == "date-time":
        return "timestamp"
    if spec.get("type") == "string" or "enum" in spec:
        return "string"
    raise AssertionError(f"no Glue type for {spec}")


def test_every_contract_field_is_a_column_or_kept_out_with_a_reason() -> None:
    columns = [c.name for c in COLUMNS]
    excluded = SCHEMA["excluded"]
    assert set(columns) | set(excluded) == set(contract_fields())
    assert not set(columns) & set(excluded)
    assert all(reason.strip() for reason in excluded.values())
    assert len(columns) == len(set(columns))


def test_each_column_has_the_contract_type() -> None:
    fields = contract_fields()
    for column in COLUMNS:
        field = fields[column.name]
        assert column.type == glue_type(field["spec"], field["defs"]), column.name


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
