"""Issue 12 end to end: payments through the local API -> payment bus -> Kinesis -> Firehose
(the emulator's delivery, with the deployed transformation step) -> Parquet in the lake bucket,
partitioned by event date and type -> named queries through ``make lake-query``'s path. Shares
environments/local's apply with the other end-to-end modules (tests/e2e/conftest.py)."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import time
import uuid
from typing import Any

import pyarrow.parquet as pq

from functions.domain.cards import contains_card_number
from local import endpoints, lake, lake_query
from tests.conftest import Emulator
from tests.e2e.test_local_environment import (
    burst_cards,
    create,
    merchant_api,
    payment_request,
    stream_records,
)

# The local Firehose flushes within LOCAL_FIREHOSE_MAX_BUFFER_S (1 s) of a record's arrival;
# the rest is the workflow and the bus.
LANDING_TIMEOUT_S = 40


def lake_objects(s3: Any, bucket: str, prefix: str = "") -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            found[item["Key"]] = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return found


def parquet_rows(objects: dict[str, bytes]) -> dict[str, list[dict[str, Any]]]:
    return {
        key: pq.read_table(io.BytesIO(body)).to_pylist()
        for key, body in objects.items()
        if key.startswith("payment_events/")
    }


def lake_text(key: str, body: bytes) -> str:
    """What an object holds, as text a scan can read: Parquet's values (compression would hide
    a digit run from a byte scan), and an error document's records decoded from base64."""
    if not key.startswith("errors/"):
        return json.dumps(pq.read_table(io.BytesIO(body)).to_pylist(), default=str)
    documents = [json.loads(line) for line in body.decode().splitlines() if line]
    raw = [base64.b64decode(d["rawData"]).decode("utf-8", errors="replace") for d in documents]
    return "\n".join([body.decode(), *raw])


def event_pairs(rows: dict[str, list[dict[str, Any]]]) -> set[tuple[str, str]]:
    return {
        (r["payment_id"], r["event_id"].split(":")[1]) for batch in rows.values() for r in batch
    }


def not_landed(
    emulator: Emulator,
    api_env: dict[str, Any],
    s3: Any,
    expected: set[tuple[str, str]],
    payments: set[str],
) -> str:
    """Where the missing events stopped: on the stream or not, and what the errors prefix says."""
    landed = event_pairs(parquet_rows(lake_objects(s3, api_env["data_lake"]["bucket_name"])))
    on_stream = set()
    for record in stream_records(emulator, api_env["fraud_stream"]["stream_name"]):
        detail = json.loads(record)
        if detail.get("payment_id") in payments:
            on_stream.add((detail["payment_id"], detail["event_id"].split(":")[1]))
    errors = [
        {k: d.get(k) for k in ("errorCode", "errorMessage", "sequenceNumber")}
        for key, body in lake_objects(s3, api_env["data_lake"]["bucket_name"], "errors/").items()
        for d in map(json.loads, body.decode().splitlines())
    ]
    return (
        f"not in the lake within {LANDING_TIMEOUT_S} s: {sorted(expected - landed)}; "
        f"of these on the stream: {sorted((expected - landed) & on_stream)}; "
        f"error documents: {errors[-10:]}"
    )


def test_payments_land_in_the_lake_as_parquet_and_answer_the_named_queries(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    lake_env = api_env["data_lake"]
    bucket = lake_env["bucket_name"]
    published = endpoints.published(emulator.state_dir)
    s3 = lake_query.s3_client(published)
    api = merchant_api(emulator, api_env)
    customer, device, ip = (
        f"cus_lake_{uuid.uuid4().hex[:8]}",
        f"dev_lake_{uuid.uuid4().hex[:8]}",
        "198.51.100.77",
    )
    cards = burst_cards(3)

    def request(card: str, amount: int, **kwargs: Any) -> dict[str, Any]:
        body = payment_request(card, amount, device=device, ip=ip, **kwargs)
        body["customer"]["id"] = customer
        return body

    started = dt.datetime.now(dt.UTC).date()
    sales = {}
    decided = {}  # the SCA outcome each payment's answer reported
    for card, amount in zip(cards[:2], (1234, 5678), strict=True):
        made = create(api, request(card, amount))
        assert made.status == 201 and made.body["status"] == "captured", made.body
        sales[made.body["id"]] = amount
        decided[made.body["id"]] = made.body["sca"]
    held = create(api, request(cards[2], 4000, capture=False))
    assert held.status == 201 and held.body["status"] == "authorized", held.body
    decided[held.body["id"]] = held.body["sca"]
    refunded = next(iter(sales))
    refund = api.post(
        f"/v1/payments/{refunded}/refunds", {"amount": 234}, idempotency_key=uuid.uuid4().hex
    )
    assert refund.status == 201, refund.body
    merchant = held.body["merchant_id"]
    ours = {*sales, held.body["id"]}
    expected = {
        *((p, t) for p in sales for t in ("payment.authorized", "payment.captured")),
        (held.body["id"], "payment.authorized"),
        (refunded, "payment.refunded"),
    }

    def landed() -> dict[str, list[dict[str, Any]]] | None:
        # Only the partitions of the days these payments were made: the session's other
        # end-to-end tests fill the lake too.
        objects: dict[str, bytes] = {}
        for day in {started, dt.datetime.now(dt.UTC).date()}:
            objects |= lake_objects(s3, bucket, f"payment_events/event_date={day.isoformat()}/")
        rows = {
            key: mine
            for key, batch in parquet_rows(objects).items()
            if (mine := [r for r in batch if r["payment_id"] in ours])
        }
        return rows if expected <= event_pairs(rows) else None

    deadline = time.monotonic() + LANDING_TIMEOUT_S
    while (mine := landed()) is None and time.monotonic() < deadline:
        time.sleep(0.5)
    if mine is None:
        raise AssertionError(
            not_landed(emulator, api_env, s3, expected, ours) + "\n" + emulator.log_tail()
        )
    # Partitioned as the Glue table's projection reads it: event date, then event type.
    for key, rows in mine.items():
        date_part, type_part = key.split("/")[1:3]
        assert {f"event_date={r['occurred_at'].date().isoformat()}" for r in rows} == {date_part}
        assert {f"event_type={r['event_id'].split(':')[1]}" for r in rows} == {type_part}
    assert event_pairs(mine) == expected

    # Pseudonymised: one stable keyed pseudonym per identifier, never the identifier.
    rows = [r for batch in mine.values() for r in batch]
    # Every event carries the SCA outcome the risk step decided (the exemption-band query).
    assert {(r["payment_id"], r["sca_required"], r["sca_exemption"]) for r in rows} == {
        (p, sca["required"], sca["exemption"]) for p, sca in decided.items()
    }
    assert len({r["customer_pseudonym"] for r in rows}) == 1
    assert len({r["device_pseudonym"] for r in rows}) == 1
    assert rows[0]["customer_pseudonym"] not in (None, customer)
    assert rows[0]["device_pseudonym"] not in (None, device, rows[0]["customer_pseudonym"])

    # Every object in the lake bucket, errors prefix included: no card number, no identifier.
    for key, body in lake_objects(s3, bucket).items():
        text = lake_text(key, body)
        assert not contains_card_number(text), key
        for identifier in (customer, device, ip, *cards):
            assert identifier not in text, (key, identifier)

    # The named queries, through make lake-query's own path (Glue catalog -> DuckDB).
    today = dt.datetime.now(dt.UTC).date()
    settlement = lake_query.query_rows(published, lake.query_sql("daily_settlement"))
    merchant_days = [r for r in settlement if r["merchant_id"] == merchant]
    assert {r["currency"] for r in merchant_days} == {"EUR"}
    assert sum(r["captured_minor"] for r in merchant_days) == sum(sales.values())
    assert sum(r["refunded_minor"] for r in merchant_days) == 234
    assert sum(r["captured_payments"] for r in merchant_days) == len(sales)

    positions = lake_query.query_rows(
        published,
        lake.query_sql("payment_positions"),
        [started.isoformat(), today.isoformat()],
    )
    by_payment = {r["payment_id"]: r for r in positions if r["payment_id"] in ours}
    assert {p: (r["captured_minor"], r["refunded_minor"]) for p, r in by_payment.items()} == {
        **{p: (amount, 234 if p == refunded else 0) for p, amount in sales.items()},
        held.body["id"]: (0, 0),
    }
    assert all(r["events_complete"] for r in by_payment.values())
