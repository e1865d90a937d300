"""The data lake's formats, locally: what Firehose's Parquet conversion, its S3 prefixes and
Athena do on AWS, as plain functions the local Firehose (``local/firehose.py``), ``make
lake-query`` and the tests share.

- ``arrow_type``: a Glue column type (``bigint``, ``struct<brand:string,last4:string>``, ...) as
  the Arrow type Parquet conversion writes.
- ``convert``: JSON records to one Arrow table with the Glue table's columns, the way Firehose's
  conversion treats them: a field the table does not name is dropped (the table is the
  allow-list), a column the record lacks is null, a record that is not a JSON object or whose
  value does not fit its column's type fails alone and is returned as an error.
- ``render_prefix``: an S3 prefix with Firehose's ``!{namespace:value}`` expressions evaluated.
- ``read_table`` / ``run_query``: a Glue table's Parquet files read with its Hive partitions
  (pyarrow, over any filesystem: the emulator's S3 or a folder), and a named query's Athena
  (Trino) SQL transpiled to DuckDB by sqlglot and run over them.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs

QUERIES_DIR = Path(__file__).resolve().parent.parent / "modules" / "data_lake" / "queries"

_SCALARS: dict[str, pa.DataType] = {
    "string": pa.string(),
    "varchar": pa.string(),
    "char": pa.string(),
    "bigint": pa.int64(),
    "int": pa.int32(),
    "integer": pa.int32(),
    "smallint": pa.int16(),
    "tinyint": pa.int8(),
    "double": pa.float64(),
    "float": pa.float32(),
    "boolean": pa.bool_(),
    # Athena reads a Parquet timestamp as a timestamp without zone: the lake keeps UTC.
    "timestamp": pa.timestamp("ms"),
    "date": pa.date32(),
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str


def _split_top_level(body: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, char in enumerate(body):
        if char in "<(":
            depth += 1
        elif char in ">)":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(body[start:i].strip())
            start = i + 1
    parts.append(body[start:].strip())
    return [p for p in parts if p]


def arrow_type(glue_type: str) -> pa.DataType:
    """The Arrow type of a Glue (Hive DDL) column type."""
    text = glue_type.strip().lower()
    if text in _SCALARS:
        return _SCALARS[text]
    if (m := re.fullmatch(r"(?:varchar|char)\(\d+\)", text)) is not None:
        return pa.string()
    if (m := re.fullmatch(r"decimal\((\d+),\s*(\d+)\)", text)) is not None:
        return pa.decimal128(int(m[1]), int(m[2]))
    if text.startswith("struct<") and text.endswith(">"):
        fields = []
        for part in _split_top_level(glue_type.strip()[7:-1]):
            name, _, inner = part.partition(":")
            fields.append(pa.field(name.strip(), arrow_type(inner)))
        return pa.struct(fields)
    if text.startswith("array<") and text.endswith(">"):
        return pa.list_(arrow_type(glue_type.strip()[6:-1]))
    if text.startswith("map<") and text.endswith(">"):
        key, value = _split_top_level(glue_type.strip()[4:-1])
        return pa.map_(arrow_type(key), arrow_type(value))
    raise ValueError(f"unsupported Glue column type {glue_type!r}")


def arrow_schema(columns: Sequence[Column]) -> pa.Schema:
    return pa.schema([pa.field(c.name, arrow_type(c.type)) for c in columns])


class ConversionError(ValueError):
    """A record that does not fit the table's schema (Firehose: format-conversion-failed)."""


def _coerce(value: Any, type_: pa.DataType, path: str) -> Any:
    if value is None:
        return None
    if pa.types.is_string(type_):
        # The Hive JSON SerDe reads a JSON scalar into a string column as its text.
        if isinstance(value, str):
            return value
        if isinstance(value, (bool, int, float)):
            return json.dumps(value)
        raise ConversionError(f"{path}: expected a string, got {type(value).__name__}")
    if pa.types.is_integer(type_):
        if isinstance(value, bool):
            raise ConversionError(f"{path}: expected an integer, got a boolean")
        if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value):
            value = int(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            raise ConversionError(f"{path}: expected an integer, got {value!r}")
        bits = type_.bit_width - 1
        if not -(2**bits) <= value < 2**bits:
            raise ConversionError(f"{path}: {value} is out of range for {type_}")
        return value
    if pa.types.is_floating(type_):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConversionError(f"{path}: expected a number, got {value!r}")
        return float(value)
    if pa.types.is_boolean(type_):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ConversionError(f"{path}: expected a boolean, got {value!r}")
    if pa.types.is_timestamp(type_):
        if not isinstance(value, str):
            raise ConversionError(f"{path}: expected an ISO-8601 timestamp, got {value!r}")
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise ConversionError(f"{path}: {exc}") from exc
        if parsed.tzinfo is None:
            raise ConversionError(f"{path}: a timestamp needs its UTC offset")
        return parsed.astimezone(dt.UTC).replace(tzinfo=None)
    if pa.types.is_date(type_):
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError as exc:
            raise ConversionError(f"{path}: {exc}") from exc
    if pa.types.is_struct(type_):
        if not isinstance(value, dict):
            raise ConversionError(f"{path}: expected an object, got {type(value).__name__}")
        return {
            type_.field(i).name: _coerce(
                value.get(type_.field(i).name), type_.field(i).type, f"{path}.{type_.field(i).name}"
            )
            for i in range(type_.num_fields)
        }
    if pa.types.is_list(type_):
        if not isinstance(value, list):
            raise ConversionError(f"{path}: expected an array")
        return [_coerce(v, type_.value_type, f"{path}[]") for v in value]
    if pa.types.is_decimal(type_):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ConversionError(f"{path}: expected a decimal, got {value!r}")
        from decimal import Decimal, InvalidOperation

        try:
            return Decimal(str(value))
        except InvalidOperation as exc:
            raise ConversionError(f"{path}: {value!r} is not a decimal") from exc
    raise ConversionError(f"{path}: unsupported column type {type_}")


def parse_record(data: bytes) -> dict[str, Any]:
    """One Firehose record as the JSON object it must be."""
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConversionError(f"not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ConversionError("a record must be a JSON object")
    return value


def row(record: Mapping[str, Any], schema: pa.Schema) -> dict[str, Any]:
    """The record's values for the table's columns only (the allow-list), each coerced to its
    column's type; fields the table does not name are dropped, as Parquet conversion does."""
    return {f.name: _coerce(record.get(f.name), f.type, f.name) for f in schema}


def to_table(rows: Iterable[Mapping[str, Any]], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pylist(list(rows), schema=schema)


_EXPRESSION = re.compile(r"!\{([A-Za-z]+):([^}]*)\}")
# Firehose's !{timestamp:...} takes Java DateTimeFormatter patterns.
_JAVA_TO_STRFTIME = [
    ("yyyy", "%Y"),
    ("MM", "%m"),
    ("dd", "%d"),
    ("HH", "%H"),
    ("mm", "%M"),
    ("ss", "%S"),
]


def render_prefix(
    prefix: str,
    *,
    arrival: dt.datetime,
    partition_keys: Mapping[str, str] | None = None,
    error_output_type: str | None = None,
    random_string: str = "",
) -> str:
    """Evaluate Firehose's prefix expressions: ``!{partitionKeyFromQuery:k}``,
    ``!{timestamp:<java pattern>}`` (the record's arrival, UTC), ``!{firehose:error-output-type}``
    and ``!{firehose:random-string}``. An expression it cannot evaluate raises ``KeyError``, as
    Firehose sends such a record to the error prefix."""

    def evaluate(match: re.Match[str]) -> str:
        namespace, value = match[1], match[2]
        if namespace == "partitionKeyFromQuery":
            if partition_keys is None or partition_keys.get(value) in (None, ""):
                raise KeyError(f"partition key {value!r} is missing")
            return str(partition_keys[value])
        if namespace == "timestamp":
            pattern = value
            for java, strftime in _JAVA_TO_STRFTIME:
                pattern = pattern.replace(java, strftime)
            return arrival.astimezone(dt.UTC).strftime(pattern)
        if namespace == "firehose" and value == "error-output-type" and error_output_type:
            return error_output_type
        if namespace == "firehose" and value == "random-string":
            return random_string
        raise KeyError(f"unsupported prefix expression {match[0]}")

    return _EXPRESSION.sub(evaluate, prefix)


# ------------------------------------------------------------------------------------ reading


def open_table(
    filesystem: pafs.FileSystem,
    location: str,
    columns: Sequence[Column],
    partition_keys: Sequence[Column],
) -> ds.Dataset | pa.Table:
    """Every Parquet file under ``location`` (``bucket/prefix`` on S3, a folder locally) with
    the table's columns and its Hive-style partitions (``key=value`` folders), as Athena reads
    the table. A dataset, not yet read: DuckDB scans only the columns and partitions a query
    needs, as Athena does. An empty table when nothing has landed yet."""
    schema = pa.schema(list(arrow_schema(columns)) + list(arrow_schema(partition_keys)))
    try:
        return ds.dataset(
            location.rstrip("/"),
            filesystem=filesystem,
            format="parquet",
            schema=schema,
            partitioning=ds.partitioning(arrow_schema(partition_keys), flavor="hive"),
        )
    except FileNotFoundError:
        return pa.Table.from_pylist([], schema=schema)


def read_table(
    filesystem: pafs.FileSystem,
    location: str,
    columns: Sequence[Column],
    partition_keys: Sequence[Column],
) -> pa.Table:
    """The whole table in memory (``open_table``, read)."""
    found = open_table(filesystem, location, columns, partition_keys)
    return found.to_table() if isinstance(found, ds.Dataset) else found


def row_count(table: pa.Table | ds.Dataset) -> int:
    return int(table.count_rows() if isinstance(table, ds.Dataset) else table.num_rows)


def query_sql(name: str) -> str:
    """The named query's SQL, exactly the file Terraform gives Athena."""
    path = QUERIES_DIR / f"{name}.sql"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in QUERIES_DIR.glob("*.sql")))
        raise KeyError(f"no named query {name!r} (known: {known})")
    return path.read_text()


def query_names() -> list[str]:
    return sorted(p.stem for p in QUERIES_DIR.glob("*.sql"))


def to_duckdb(athena_sql: str) -> str:
    """Athena's (Trino's) SQL as DuckDB's: the one place the dialects meet. sqlglot rewrites
    what differs (functions, casts, integer division, ...); an unsupported construct raises."""
    import sqlglot
    from sqlglot.errors import ErrorLevel

    statements = sqlglot.transpile(
        athena_sql, read="trino", write="duckdb", unsupported_level=ErrorLevel.RAISE
    )
    if len(statements) != 1:
        raise ValueError(f"a named query is one statement, got {len(statements)}")
    return statements[0]


def run_query(
    athena_sql: str,
    tables: Mapping[str, pa.Table | ds.Dataset],
    params: Sequence[Any] = (),
) -> pa.Table:
    """Run Athena SQL over Arrow tables or datasets, each registered under its Glue table name."""
    import duckdb

    connection = duckdb.connect()
    # DuckDB draws a progress bar on long queries; the output is JSON lines.
    connection.execute("SET enable_progress_bar = false")
    try:
        for name, table in tables.items():
            connection.register(name, table)
        return connection.sql(to_duckdb(athena_sql), params=list(params) or None).to_arrow_table()
    finally:
        connection.close()
