"""``python -m local.lake_erasure --merchant <id> --customer <id>``: erase one customer from the
lake on the running emulator, as the erasure runbook does on AWS (docs/lake.md): delete the
customer's pseudonymisation secret from ``<prefix>-lake-pseudonym-keys``, after which their rows
in the lake can no longer be linked to them. Prints ``{"erased": true|false}`` (false: the
customer had no secret, so no row of theirs was pseudonymised under one)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from functions.adapters.lake_pseudonym_keys import DynamoPseudonymKeys
from functions.domain.lake_records import key_scope
from local import aws
from local import endpoints as published_endpoints
from local.lake_query import STATE_DIR

TABLE_SUFFIX = "-lake-pseudonym-keys"


def key_table(dynamodb: Any) -> str:
    names = [
        name
        for page in dynamodb.get_paginator("list_tables").paginate()
        for name in page["TableNames"]
        if name.endswith(TABLE_SUFFIX)
    ]
    if len(names) != 1:
        raise SystemExit(f"expected one <prefix>{TABLE_SUFFIX} table, found {names}; use --table")
    return str(names[0])


def erase_customer(dynamodb: Any, merchant_id: str, customer_id: str, table: str | None) -> bool:
    keys = DynamoPseudonymKeys(dynamodb, table or key_table(dynamodb))
    return keys.erase(key_scope(merchant_id, customer_id))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.lake_erasure", description=__doc__)
    parser.add_argument("--merchant", required=True, help="the merchant whose customer it is")
    parser.add_argument("--customer", required=True, help="the merchant's customer id")
    parser.add_argument("--table", help=f"the key table (default: the one <prefix>{TABLE_SUFFIX})")
    args = parser.parse_args(argv)
    try:
        published = published_endpoints.published(STATE_DIR)
    except FileNotFoundError:
        print("error: the emulator is not running; start it with `make up`", file=sys.stderr)
        return 2
    dynamodb = aws.emulator_client("dynamodb", published.aws)
    erased = erase_customer(dynamodb, args.merchant, args.customer, args.table)
    print(json.dumps({"erased": erased}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
