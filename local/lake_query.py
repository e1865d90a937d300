"""``make lake-query NAME=<named query>`` (or ``SQL=...``): a lake query on the running emulator.

As Athena does on AWS: the table's columns, partitions and location come from the Glue catalog
(the database Terraform made, ``<prefix>_lake``), the data from the lake bucket. Locally the
Parquet is read through pyarrow's S3 filesystem over the emulator's TLS listener (the lake
bucket refuses plain HTTP, as on AWS; DuckDB's own httpfs extension would be downloaded at run
time and fails offline) and the query, the very file Terraform gave Athena, runs in DuckDB after
sqlglot has rewritten its Trino dialect (local/lake.py).

Prints the result as JSON lines, one object per row.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from local import aws, lake
from local import endpoints as published_endpoints

STATE_DIR = Path(__file__).resolve().parent.parent / ".local"


def glue_columns(
    glue: Any, database: str, table: str
) -> tuple[str, list[lake.Column], list[lake.Column]]:
    """The table's S3 location (``bucket/prefix``), columns and partition keys."""
    found = glue.get_table(DatabaseName=database, Name=table)["Table"]
    descriptor = found["StorageDescriptor"]
    columns = [lake.Column(c["Name"], c["Type"]) for c in descriptor["Columns"]]
    partitions = [lake.Column(c["Name"], c["Type"]) for c in found.get("PartitionKeys", [])]
    return descriptor["Location"].removeprefix("s3://"), columns, partitions


def lake_database(glue: Any) -> str:
    names = [
        d["Name"]
        for page in glue.get_paginator("get_databases").paginate()
        for d in page["DatabaseList"]
        if d["Name"].endswith("_lake")
    ]
    if len(names) != 1:
        raise SystemExit(
            f"expected one lake database (<prefix>_lake) in the emulator's Glue, found {names}; "
            "name it with --database"
        )
    return str(names[0])


def s3_filesystem(published: published_endpoints.Published) -> Any:
    import pyarrow.fs as pafs

    host = published.aws_tls.removeprefix("https://")
    return pafs.S3FileSystem(
        access_key=aws.TEST_ACCESS_KEY_ID,
        secret_key=aws.TEST_SECRET_ACCESS_KEY,
        region=aws.REGION,
        scheme="https",
        endpoint_override=host,
        tls_ca_file_path=published.ca_bundle,
    )


def s3_client(published: published_endpoints.Published) -> Any:
    """boto3's S3 on the emulator's TLS listener: the lake bucket refuses plain HTTP, as on AWS."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=published.aws_tls,
        verify=published.ca_bundle,
        region_name=aws.REGION,
        aws_access_key_id=aws.TEST_ACCESS_KEY_ID,
        aws_secret_access_key=aws.TEST_SECRET_ACCESS_KEY,
    )


def tables_on_emulator(
    published: published_endpoints.Published, database: str | None, names: list[str]
) -> dict[str, Any]:
    glue = aws.emulator_client("glue", published.aws)
    database = database or lake_database(glue)
    filesystem = s3_filesystem(published)
    tables = {}
    for name in names:
        location, columns, partitions = glue_columns(glue, database, name)
        tables[name] = lake.open_table(filesystem, location, columns, partitions)
    return tables


def query_rows(
    published: published_endpoints.Published,
    sql: str,
    params: list[str] | None = None,
    database: str | None = None,
) -> list[dict[str, Any]]:
    """The query's rows over every table of the lake database, as ``make lake-query`` prints
    them (the end-to-end test reads the lake through this same path)."""
    glue = aws.emulator_client("glue", published.aws)
    database = database or lake_database(glue)
    names = [
        t["Name"]
        for page in glue.get_paginator("get_tables").paginate(DatabaseName=database)
        for t in page["TableList"]
    ]
    tables = tables_on_emulator(published, database, names)
    rows: list[dict[str, Any]] = lake.run_query(sql, tables, params or []).to_pylist()
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="make lake-query", description=__doc__)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--name", help=f"a named query: {', '.join(lake.query_names())}")
    which.add_argument("--sql", help="any query in Athena's (Trino) dialect")
    parser.add_argument(
        "--params", default="", help="comma-separated values for the query's ? parameters"
    )
    parser.add_argument("--database", help="the Glue database (default: the one <prefix>_lake)")
    args = parser.parse_args(argv)

    sql = lake.query_sql(args.name) if args.name else args.sql
    params = [p for p in args.params.split(",") if p] if args.params else []
    try:
        published = published_endpoints.published(STATE_DIR)
    except FileNotFoundError:
        print("error: the emulator is not running; start it with `make up`", file=sys.stderr)
        return 2
    for row in query_rows(published, sql, params, args.database):
        print(json.dumps(row, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
