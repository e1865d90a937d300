from __future__ import annotations

from moto import backends
from moto.stepfunctions.parser.asl.utils import json_path

from local import speedups


def test_each_path_is_parsed_once_and_still_finds_the_same_values() -> None:
    speedups.install()
    speedups.install()  # a second emulator in the same process must not wrap twice
    parse = getattr(json_path, "parse")  # noqa: B009 (moto does not re-export it)
    first = parse("$.payment.card.token")
    assert parse("$.payment.card.token") is first
    data = {"payment": {"card": {"token": "tok_1"}}}
    assert json_path.extract_json("$.payment.card.token", data) == "tok_1"
    assert json_path.extract_json("$.payment", data) == {"card": {"token": "tok_1"}}


def test_the_backend_list_is_read_once_and_names_the_services() -> None:
    speedups.install()
    listed = backends.list_of_moto_modules()
    assert {"dynamodb", "stepfunctions", "kms"} <= set(listed)
    assert backends.list_of_moto_modules() is listed
