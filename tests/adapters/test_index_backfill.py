"""The backfill of the reconciliation's index keys on moto: tables written before the indexes
get the keys today's writers give them, in a parallel, resumable, idempotent scan that never
overwrites a record a live write changed meanwhile."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.adapters.index_backfill import (
    IndexBackfill,
    Interrupted,
    RateLimiter,
    ScanState,
    main,
    payment_update,
)
from functions.adapters.ledger_table import DynamoLedgerStore
from functions.adapters.payments_table import CHECKPOINT_KEY, PaymentsTable, to_item
from functions.domain.ledger import PaymentLedger, PostingRules, acquirer_receivable
from functions.domain.payments import Payment, PaymentStatus, new_payment
from functions.services.reconciliation import HoldKind, Position
from tests.adapters.payment_tables import (
    LEDGER_TABLE,
    PAYMENTS_TABLE,
    REGION,
    create_ledger_table,
    create_payments_table,
    fake_aws_environment,
)

RULES = PostingRules()
AT = "2026-11-22T10:15:00.000+00:00"
WINDOW = ("2026-11-22T10:00:00.000+00:00", "2026-11-22T11:00:00.000+00:00")
INDEX_KEYS = ("update_key", "open_key", "open_at")
LEDGER_KEYS = ("recorded_key", "recorded_at")


@pytest.fixture
def ddb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    fake_aws_environment(monkeypatch)
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_payments_table(client)
        create_ledger_table(client)
        yield client


def payment(payment_id: str, *, captured: bool) -> Payment:
    context = {
        "payment_id": payment_id,
        "merchant_id": "m_1",
        "amount": 500,
        "currency": "EUR",
        "card": {"token": f"tok_{payment_id}", "brand": "visa", "last4": "4242"},
    }
    made = new_payment(context, PaymentStatus.AUTHORIZING, AT).authorized("auth_1", AT)
    if captured:
        made = made.captured(500, AT)
    return made.evolve(AT, version=1)


def legacy(ddb: Any, count: int = 6) -> list[str]:
    """Payments (half captured, half holding an authorization) and their entries as code
    before the indexes wrote them, plus items that are no payment's."""
    ledger = PaymentLedger(DynamoLedgerStore(ddb, LEDGER_TABLE), RULES)
    ids = [f"pay_{n}" for n in range(count)]
    for n, payment_id in enumerate(ids):
        record = payment(payment_id, captured=n % 2 == 0)
        item = {k: v for k, v in to_item(record).items() if k not in INDEX_KEYS}
        ddb.put_item(TableName=PAYMENTS_TABLE, Item=item)
        if n % 2 == 0:
            ledger.record_sale(payment_id, "m_1", 500, "EUR", AT)
        else:
            ledger.record_authorization(payment_id, "m_1", 500, "EUR", AT)
    ddb.put_item(
        TableName=PAYMENTS_TABLE,
        Item={"payment_id": {"S": CHECKPOINT_KEY}, "updated_at": {"S": AT}},
    )
    DynamoLedgerStore(ddb, LEDGER_TABLE).post(
        RULES.settlement(
            "b1", {(acquirer_receivable("pay_0", 8), "EUR"): (500, 0)}, {}, ["r"], AT, "2026-11-22"
        )
    )
    for item in ddb.scan(TableName=LEDGER_TABLE)["Items"]:
        if "recorded_key" in item:
            ddb.update_item(
                TableName=LEDGER_TABLE,
                Key={"pk": item["pk"], "sk": item["sk"]},
                UpdateExpression="REMOVE recorded_key, recorded_at",
            )
    return ids


def backfill(ddb: Any, state: Path, **options: Any) -> IndexBackfill:
    return IndexBackfill(ddb, ScanState(state), limiter=RateLimiter(10_000.0), **options)


def keyed(ddb: Any) -> tuple[list[str], list[str], list[str]]:
    """What the reconciliation now reads: the window's payments, the authorizations due, and
    the entries written in the window."""
    payments = PaymentsTable(ddb, PAYMENTS_TABLE)
    window = [p.payment_id for p in payments.updated_between(*WINDOW, Position(""))]
    due = [p.payment_id for p in payments.holds_due(HoldKind.AUTHORIZED, WINDOW[1])]
    entries = DynamoLedgerStore(ddb, LEDGER_TABLE).subjects_recorded_between(*WINDOW)
    return sorted(window), sorted(due), sorted(entries)


def test_legacy_items_get_the_keys_todays_writers_give_them(ddb: Any, tmp_path: Path) -> None:
    ids = legacy(ddb)
    assert keyed(ddb) == ([], [], [])
    counts = backfill(ddb, tmp_path / "state.json", segments=3).run(PAYMENTS_TABLE, LEDGER_TABLE)
    assert counts[PAYMENTS_TABLE].keyed == 6 and counts[LEDGER_TABLE].keyed == 6
    window, due, entries = keyed(ddb)
    assert window == ids and entries == ids
    assert due == ["pay_1", "pay_3", "pay_5"]  # the uncaptured ones hold an authorization
    # Exactly what a write by today's adapter stores.
    for payment_id in ids:
        stored = ddb.get_item(TableName=PAYMENTS_TABLE, Key={"payment_id": {"S": payment_id}})
        expected = to_item(payment(payment_id, captured=int(payment_id[-1]) % 2 == 0))
        assert {k: stored["Item"].get(k) for k in INDEX_KEYS} == {
            k: expected.get(k) for k in INDEX_KEYS
        }
    # The settlement's entry and the checkpoint are no payment's: left as they are.
    untouched = [
        *ddb.scan(TableName=LEDGER_TABLE)["Items"],
        *ddb.scan(TableName=PAYMENTS_TABLE)["Items"],
    ]
    assert not [
        i
        for i in untouched
        if i.get("pk", {}).get("S", "").startswith("settlement#") and "recorded_key" in i
    ]
    checkpoint = [i for i in untouched if i.get("payment_id", {}).get("S") == CHECKPOINT_KEY]
    assert checkpoint and "update_key" not in checkpoint[0]


def test_an_interrupted_run_resumes_where_it_stopped_and_a_rerun_writes_nothing(
    ddb: Any, tmp_path: Path
) -> None:
    ids = legacy(ddb, count=10)
    state = tmp_path / "state.json"
    with pytest.raises(Interrupted):
        backfill(ddb, state, segments=2, page_size=2, stop_after_pages=3).run(
            PAYMENTS_TABLE, LEDGER_TABLE
        )
    resumed = backfill(ddb, state, segments=2, page_size=2).run(PAYMENTS_TABLE, LEDGER_TABLE)
    # Continued from the saved pages, not from the start: fewer payment items read than exist.
    assert resumed[PAYMENTS_TABLE].scanned < 11
    window, _, entries = keyed(ddb)
    assert window == sorted(ids) and entries == sorted(ids)
    # Finished: the same state reads nothing more; a fresh scan finds nothing left to key.
    done = backfill(ddb, state, segments=2).run(PAYMENTS_TABLE, LEDGER_TABLE)
    assert done[PAYMENTS_TABLE].scanned == 0
    again = IndexBackfill(ddb, ScanState(state, restart=True), limiter=RateLimiter(10_000.0)).run(
        PAYMENTS_TABLE, LEDGER_TABLE
    )
    assert (again[PAYMENTS_TABLE].keyed, again[LEDGER_TABLE].keyed) == (0, 0)
    assert again[PAYMENTS_TABLE].scanned == 11


class WriteMeanwhile:
    """The DynamoDB client, with a live payment write landing between the backfill's read of
    a record and its own write."""

    def __init__(self, client: Any, payment_id: str) -> None:
        self._client = client
        self._payment_id = payment_id

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def update_item(self, **request: Any) -> Any:
        if request["Key"].get("payment_id", {}).get("S") == self._payment_id:
            live = payment(self._payment_id, captured=True).evolve(
                "2026-11-22T10:40:00.000+00:00", version=2
            )
            PaymentsTable(self._client, PAYMENTS_TABLE).save(live)
        return self._client.update_item(**request)


def test_a_record_written_meanwhile_keeps_what_the_live_write_gave_it(
    ddb: Any, tmp_path: Path
) -> None:
    legacy(ddb, count=2)
    client = WriteMeanwhile(ddb, "pay_1")
    counts = backfill(client, tmp_path / "state.json").table(PAYMENTS_TABLE, payment_update)
    assert (counts.keyed, counts.raced) == (1, 1)
    stored = ddb.get_item(TableName=PAYMENTS_TABLE, Key={"payment_id": {"S": "pay_1"}})["Item"]
    # Captured by the live write: no hold, and its update time is the live write's.
    assert stored["status"]["S"] == "captured" and "open_key" not in stored
    assert stored["update_key"]["S"].startswith("upd#2026-11-22T10#")
    assert stored["updated_at"]["S"] == "2026-11-22T10:40:00.000+00:00"


def test_the_writes_keep_to_the_rate_limit() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(10.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(30):
        limiter.acquire()
    # A second's burst, then ten a second: 30 writes take two seconds.
    assert now[0] == pytest.approx(2.0)


def test_the_operator_script_runs_on_named_tables(ddb: Any, tmp_path: Path, capsys: Any) -> None:
    legacy(ddb, count=2)
    state = tmp_path / "state.json"
    argv = ["--payments-table", PAYMENTS_TABLE, "--ledger-table", LEDGER_TABLE]
    assert main([*argv, "--state", str(state), "--segments", "2"], client=ddb) == 0
    assert '"keyed": 2' in capsys.readouterr().out and state.exists()
    assert keyed(ddb)[0] == ["pay_0", "pay_1"]
