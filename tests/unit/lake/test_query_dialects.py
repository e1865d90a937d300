"""Every named query as Athena reads it: the file parses as Trino SQL, each column it names is a
column or partition key of the Glue table it reads (the allow-list in modules/data_lake/schema,
which Terraform gives Glue), and every function is one sqlglot knows in both dialects, so the
DuckDB rewrite in test_named_queries runs the same query Athena runs rather than passing an
unknown function through unchanged."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, OptimizeError
from sqlglot.optimizer.qualify import qualify

from local import lake
from local.lake_events import ALERT_SCHEMA, SCHEMA


def glue_schema() -> dict[str, object]:
    # Typed as qualify() takes it (dict[str, object]; a dict is invariant): table -> columns.
    def columns(table: dict[str, object]) -> dict[str, str]:
        listed = [*table["columns"], *table["partition_keys"]]  # type: ignore[misc]
        return {c["name"]: c["type"] for c in listed}

    return {"payment_events": columns(SCHEMA), "fraud_alerts": columns(ALERT_SCHEMA)}


def athena_tree(sql: str) -> exp.Expr:
    tree = sqlglot.parse_one(sql, read="trino", error_level=ErrorLevel.RAISE)
    assert tree is not None
    return tree


@pytest.mark.parametrize("name", lake.query_names())
def test_each_named_query_reads_only_catalogued_columns_in_trino(name: str) -> None:
    tree = athena_tree(lake.query_sql(name))
    qualify(tree, schema=glue_schema(), dialect="trino", validate_qualify_columns=True)
    unknown = sorted({f.name for f in tree.find_all(exp.Anonymous)})
    assert not unknown, f"{name}: functions sqlglot cannot translate: {unknown}"
    sqlglot.transpile(
        lake.query_sql(name), read="trino", write="trino", unsupported_level=ErrorLevel.RAISE
    )


def test_a_column_outside_the_allow_list_is_refused() -> None:
    sql = lake.query_sql("daily_settlement").replace("payment_id,", "customer_id,", 1)
    with pytest.raises(OptimizeError, match="customer_id"):
        qualify(
            athena_tree(sql), schema=glue_schema(), dialect="trino", validate_qualify_columns=True
        )
