"""local/gaps.py: Athena's DeleteNamedQuery, which moto lacks (its 500 made the aws provider
retry for many minutes, so every destroy of environments/local hung on modules/data_lake's
named queries)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local.gaps import _delete_athena_named_queries

REGION = "eu-west-2"


@pytest.fixture
def athena() -> Iterator[Any]:
    _delete_athena_named_queries()
    with mock_aws():
        yield boto3.client("athena", region_name=REGION)


def test_a_named_query_is_deleted_and_an_unknown_one_is_refused(athena: Any) -> None:
    kept, deleted = (
        athena.create_named_query(Name=name, Database="lake", QueryString="SELECT 1")[
            "NamedQueryId"
        ]
        for name in ("kept", "deleted")
    )
    athena.delete_named_query(NamedQueryId=deleted)
    assert athena.list_named_queries()["NamedQueryIds"] == [kept]
    with pytest.raises(ClientError) as refused:
        athena.delete_named_query(NamedQueryId=deleted)
    assert refused.value.response["Error"]["Code"] == "InvalidRequestException"
