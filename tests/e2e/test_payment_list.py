"""End to end on environments/local: GET /v1/payments and metadata as an integrator sees them
through the local API (authorizer, function, the by_merchant index on the emulator's DynamoDB).

A merchant pages through exactly its own payments with a cursor, each answered with its
metadata; another merchant sees none of them and cannot use the first one's cursor; bad list
parameters and a card number in metadata are 400s naming the parameter, never echoing the number;
Mastercard and American Express cards pay as Visa does (brand and last four answered).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from local.api_client import ApiClient, ApiResponse, onboard
from local.payments_demo import payment_request
from tests.conftest import Emulator

# docs/test-cards.md: the approving behaviour (last four 4242) on each network.
VISA = "4242424242424242"
MASTERCARD = "5555555500064242"
AMEX = "371449635374242"
PAN_IN_METADATA = "4000056655665556"


def merchant(emulator: Emulator, api_env: dict[str, Any], name: str) -> ApiClient:
    merchant_id = f"m_list_{name}_{uuid.uuid4().hex[:8]}"
    issued = onboard(emulator.endpoint, api_env, merchant_id)
    return ApiClient.for_merchant(emulator.api_endpoint, issued, api_env["api_name"])


def pay(client: ApiClient, number: str, amount: int, metadata: Any = None) -> ApiResponse:
    assert client.merchant_id is not None
    body = payment_request(
        number, amount, merchant=client.merchant_id, device=f"dev_{client.merchant_id}"
    )
    if number.startswith(("34", "37")):
        body["payment_method"]["card"]["cvc"] = "1234"
    if metadata is not None:
        body["metadata"] = metadata
    return client.post("/v1/payments", body, idempotency_key=str(uuid.uuid4()))


def problem(answer: ApiResponse) -> tuple[int, str, str | None]:
    assert isinstance(answer.body, dict) and "error" in answer.body, answer.body
    error = answer.body["error"]
    assert set(error) == {"type", "code", "message", "param"}, error
    return answer.status, error["type"], error["param"]


def test_a_merchant_pages_through_its_own_payments_and_no_one_else_s(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    alice, bob = merchant(emulator, api_env, "a"), merchant(emulator, api_env, "b")
    cards = [VISA, MASTERCARD, AMEX, MASTERCARD, AMEX]
    made: dict[str, dict[str, str]] = {}
    for i, number in enumerate(cards):
        metadata = {"order_id": f"ord_{i}", "channel": "web"}
        answer = pay(alice, number, 1200 + i, metadata)
        assert answer.status == 201, answer.body
        assert answer.body["metadata"] == metadata
        assert answer.body["card"]["last4"] == number[-4:]
        made[answer.body["id"]] = metadata

    # A page of two at a time: every payment once, newest first, each with its metadata.
    seen: list[dict[str, Any]] = []
    cursor = ""
    for _ in range(len(cards)):
        page = alice.get("/v1/payments?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert page.status == 200, page.body
        assert page.body["object"] == "list" and len(page.body["data"]) <= 2
        seen += page.body["data"]
        if not page.body["has_more"]:
            assert page.body["next_cursor"] is None
            break
        cursor = page.body["next_cursor"]
    ids = [p["id"] for p in seen]
    assert sorted(ids) == sorted(made) and len(ids) == len(set(ids))
    assert all(p["metadata"] == made[p["id"]] for p in seen)
    created = [p["created_at"] for p in seen]
    assert created == sorted(created, reverse=True)
    assert {p["card"]["brand"] for p in seen} >= {"visa", "mastercard", "amex"}, seen
    assert all(p["merchant_id"] == alice.merchant_id for p in seen)
    one = alice.get(f"/v1/payments/{ids[0]}")
    assert one.status == 200 and one.body["metadata"] == made[ids[0]]

    # Another merchant lists none of them, reads none of them, and cannot page with a's cursor.
    theirs = bob.get("/v1/payments?limit=100")
    assert theirs.status == 200 and theirs.body["data"] == [], theirs.body
    assert bob.get(f"/v1/payments/{ids[0]}").status == 404
    first = alice.get("/v1/payments?limit=1")
    assert first.body["has_more"]
    borrowed = bob.get(f"/v1/payments?limit=1&cursor={first.body['next_cursor']}")
    assert problem(borrowed) == (400, "invalid_request_error", "cursor")


def test_bad_list_parameters_are_400s_naming_the_parameter(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    client = merchant(emulator, api_env, "params")
    for query, param in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("status=paid", "status"),
        ("created[gte]=yesterday", "created[gte]"),
        ("cursor=not-a-cursor", "cursor"),
    ]:
        answer = client.get(f"/v1/payments?{query}")
        assert problem(answer) == (400, "invalid_request_error", param), (query, answer.body)
    window = client.get("/v1/payments?created[gte]=2026-12-01T00:00:00Z&status=captured")
    assert window.status == 200, window.body


def test_metadata_refuses_card_numbers_and_never_echoes_them(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    client = merchant(emulator, api_env, "meta")
    for metadata, param in [
        ({"note": PAN_IN_METADATA}, "metadata[note]"),
        (
            {"note": f"card {PAN_IN_METADATA[:4]} {PAN_IN_METADATA[4:8]} {PAN_IN_METADATA[8:]}"},
            "metadata[note]",
        ),
        ({PAN_IN_METADATA: "x"}, "metadata"),
        ({f"k{i}": "v" for i in range(21)}, "metadata"),
        ({"note": "x" * 501}, "metadata[note]"),
    ]:
        answer = pay(client, VISA, 1500, metadata)
        assert problem(answer) == (400, "invalid_request_error", param), (param, answer.body)
        assert PAN_IN_METADATA not in json.dumps(answer.body)
    listed = client.get("/v1/payments")
    assert listed.status == 200 and listed.body["data"] == [], "a refused payment was stored"
