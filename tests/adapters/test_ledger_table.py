"""The DynamoDB ledger store on moto (in process), and its retry on transaction conflicts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from functions.adapters.ledger_table import DynamoLedgerStore, full_jitter
from functions.domain.acquirer import SettlementBatch, SettlementKind, SettlementLine
from functions.domain.fees import FeeSchedule
from functions.domain.ledger import (
    ConflictingEntryError,
    JournalEntry,
    JournalLine,
    PaymentLedger,
    PositionLimitError,
    PostingRules,
    acquirer_receivable,
    authorization_holds,
    balances,
    logical_balances,
)
from functions.domain.reconciliation import reconcile
from functions.services.settlement import SettlementService
from tests.adapters.payment_tables import create_ledger_table, fake_aws_environment
from tests.unit.ledger.interleaving import InterleaveAfterRead

REGION = "eu-west-1"
TABLE = "payments-ledger"
RULES = PostingRules()


@pytest.fixture
def ddb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    fake_aws_environment(monkeypatch)
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_ledger_table(client, TABLE)
        yield client


def stored_items(ddb: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = ddb.scan(TableName=TABLE)["Items"]
    return items


def test_post_writes_the_entry_and_its_position_and_no_balance_item(ddb: Any) -> None:
    store = DynamoLedgerStore(ddb, TABLE)
    auth = RULES.authorization("pay_1", "m_1", 1000, "EUR")
    capture = RULES.capture("pay_1", "m_1", 400, "EUR", 1)
    assert store.post(auth) is True
    assert store.last_consumed_write_units > 0
    assert store.post(capture) is True
    item = ddb.get_item(
        TableName=TABLE, Key={"pk": {"S": "payment#pay_1"}, "sk": {"S": "entry#capture-1"}}
    )["Item"]
    assert (item["entry_id"]["S"], item["kind"]["S"], item["step"]["S"]) == (
        "pay_1#capture-1",
        "capture",
        "capture-1",
    )
    assert "reverses" not in item
    assert len(item["lines"]["L"]) == 4
    # Two entries and one position: balances are sums of the entries, never stored items that
    # every posting would pay two write units each to update.
    # The position sits in the payment's partition: one query reads the entries and it.
    assert sorted((i["pk"]["S"], i["sk"]["S"]) for i in stored_items(ddb)) == [
        ("payment#pay_1", "entry#authorization"),
        ("payment#pay_1", "entry#capture-1"),
        ("payment#pay_1", "position"),
    ]
    assert store.last_consumed_write_units == 4.0  # two items, transactional
    holds = authorization_holds("pay_1")
    assert store.balance(holds, "EUR") == 600
    assert store.balance(RULES.pending("m_1", "pay_1"), "EUR") == -600
    assert store.balance("merchant_payable:m_1", "EUR") == -400
    assert store.balance(acquirer_receivable("pay_1"), "EUR") == 400
    assert store.balance("acquirer_receivable", "EUR") == 400
    assert store.balance("merchant_payable:m_1", "USD") == 0


def test_replay_returns_false_and_leaves_balances_alone(ddb: Any) -> None:
    store = DynamoLedgerStore(ddb, TABLE)
    auth = RULES.authorization("pay_1", "m_1", 1000, "EUR")
    assert store.post(auth) is True
    before = stored_items(ddb)
    other_container = DynamoLedgerStore(ddb, TABLE)
    assert other_container.post(RULES.authorization("pay_1", "m_1", 1000, "EUR")) is False
    assert other_container.last_consumed_write_units == 0.0
    assert stored_items(ddb) == before
    assert store.balance(authorization_holds("pay_1"), "EUR") == 1000
    assert store.entries_for("pay_1") == [auth]


def test_a_conflicting_replay_raises_and_changes_nothing(ddb: Any) -> None:
    store = DynamoLedgerStore(ddb, TABLE)
    store.post(RULES.authorization("pay_1", "m_1", 1000, "EUR"))
    with pytest.raises(ConflictingEntryError):
        store.post(RULES.authorization("pay_1", "m_1", 999, "EUR"))
    assert store.balance("authorization_holds", "EUR") == 1000
    assert store.balance("merchant_pending:m_1", "EUR") == -1000


def test_lines_on_the_same_account_add_up_in_its_balance(ddb: Any) -> None:
    store = DynamoLedgerStore(ddb, TABLE)
    store.post(RULES.authorization("pay_1", "m_1", 1000, "EUR"))  # what the void releases
    entry = JournalEntry(
        "pay_1#void",
        "pay_1",
        RULES.void("pay_1", "m_1", 1, "EUR").kind,
        "void",
        (
            JournalLine("merchant_pending:m_1", "EUR", 70, 0),
            JournalLine("merchant_pending:m_1", "EUR", 0, 20),
            JournalLine(authorization_holds("pay_1"), "EUR", 0, 50),
        ),
    )
    assert store.post(entry) is True
    assert store.balance(RULES.pending("m_1", "pay_1"), "EUR") == -1000
    assert store.all_balances()["merchant_pending:m_1", "EUR"] == 50
    assert store.entries_for("pay_1")[-1] == entry


def test_sharded_balances_sum_every_shard(ddb: Any) -> None:
    store = DynamoLedgerStore(ddb, TABLE, shards=4)
    rules = PostingRules(shards=4)
    payments = [f"pay_{i}" for i in range(24)]
    for n, pid in enumerate(payments, start=1):
        store.post(rules.authorization(pid, "m_1", n, "EUR"))
        store.post(rules.authorization(f"{pid}_jpy", "m_2", 1000, "JPY"))
    assert len({authorization_holds(pid, 4) for pid in payments}) == 4
    assert store.balance("authorization_holds", "EUR") == sum(range(1, 25))
    assert store.balance("authorization_holds", "JPY") == 24_000
    shard = authorization_holds("pay_0", 4)
    assert store.balance(shard, "EUR") == sum(
        n for n, pid in enumerate(payments, start=1) if authorization_holds(pid, 4) == shard
    )


def test_entries_round_trip_through_the_payment_ledger(ddb: Any) -> None:
    store = DynamoLedgerStore(ddb, TABLE)
    ledger = PaymentLedger(store, RULES)
    posted = [
        ledger.record_authorization("pay_1", "m_1", 1000, "KWD"),
        ledger.record_capture("pay_1", "m_1", 600, "KWD", 1),
        ledger.record_refund("pay_1", "m_1", 100, "KWD", "re_abc"),
    ]
    void = ledger.record_void("pay_1", "m_1", "KWD")
    assert void is not None
    reversals = ledger.reverse_all("pay_1")
    everything = [*posted, void, *reversals]
    got = store.entries_for("pay_1")
    assert sorted(got, key=lambda e: e.entry_id) == sorted(everything, key=lambda e: e.entry_id)
    assert {e.reverses for e in got} == {None, *(e.entry_id for e in [*posted, void])}
    assert ledger.reverse_all("pay_1") == []
    assert store.entries_for("pay_2") == []
    assert sorted(store.scan_entries(), key=lambda e: e.entry_id) == sorted(
        got, key=lambda e: e.entry_id
    )
    for (account, currency), value in logical_balances(everything).items():
        assert store.balance(account, currency) == value == 0
    assert balances(everything)


def test_scanned_entries_reconcile(ddb: Any) -> None:
    store = DynamoLedgerStore(ddb, TABLE)
    PaymentLedger(store, RULES).record_authorization("pay_1", "m_1", 1000, "EUR")
    report = reconcile([], store.scan_entries(), [], RULES)
    assert [m.payment_id for m in report.mismatches] == ["pay_1"]


# ------------------------------------------------------------------ transaction conflicts


def _cancelled(*codes: str) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
            "CancellationReasons": [{"Code": code} for code in codes],
        },
        "TransactWriteItems",
    )


class StubClient:
    """Answers transact_write_items from a script: exceptions to raise, then moto's client."""

    def __init__(self, real: Any, failures: list[ClientError]) -> None:
        self._real = real
        self._failures = failures
        self.attempts = 0

    def transact_write_items(self, **kwargs: Any) -> Any:
        self.attempts += 1
        if self._failures:
            raise self._failures.pop(0)
        return self._real.transact_write_items(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def test_a_transaction_conflict_is_retried_with_backoff(ddb: Any) -> None:
    stub = StubClient(ddb, [_cancelled("None", "TransactionConflict", "None")])
    sleeps: list[float] = []
    store = DynamoLedgerStore(stub, TABLE, sleep=sleeps.append, backoff=lambda n: 0.1 * 2**n)  # type: ignore[arg-type]
    assert store.post(RULES.authorization("pay_1", "m_1", 1000, "EUR")) is True
    assert stub.attempts == 2
    assert sleeps == [0.1]
    assert store.balance("authorization_holds", "EUR") == 1000


def test_conflicts_that_persist_are_raised_after_the_last_attempt(ddb: Any) -> None:
    stub = StubClient(ddb, [_cancelled("TransactionConflict", "None")] * 5)
    sleeps: list[float] = []
    store = DynamoLedgerStore(stub, TABLE, max_attempts=3, sleep=sleeps.append)  # type: ignore[arg-type]
    with pytest.raises(ClientError):
        store.post(RULES.authorization("pay_1", "m_1", 1000, "EUR"))
    assert stub.attempts == 3
    assert len(sleeps) == 2
    assert all(0.0 <= s <= 1.0 for s in sleeps)
    assert store.balance("authorization_holds", "EUR") == 0


def test_other_errors_are_not_retried(ddb: Any) -> None:
    failure = ClientError(
        {"Error": {"Code": "ValidationException", "Message": "bad"}}, "TransactWriteItems"
    )
    stub = StubClient(ddb, [failure])
    store = DynamoLedgerStore(stub, TABLE, sleep=lambda _: None)  # type: ignore[arg-type]
    with pytest.raises(ClientError, match="bad"):
        store.post(RULES.authorization("pay_1", "m_1", 1000, "EUR"))
    assert stub.attempts == 1


def test_full_jitter_stays_under_the_exponential_ceiling() -> None:
    for attempt in range(6):
        ceiling = min(1.0, 0.05 * 2**attempt)
        assert all(0.0 <= full_jitter(attempt) <= ceiling for _ in range(50))


class InterleavingDynamoStore(InterleaveAfterRead, DynamoLedgerStore):
    pass


def test_two_interleaved_full_refunds_refund_the_capture_once(ddb: Any) -> None:
    store = InterleavingDynamoStore(ddb, TABLE)
    ledger = PaymentLedger(store, RULES)
    ledger.record_authorization("pay_1", "m_1", 1000, "EUR")
    ledger.record_capture("pay_1", "m_1", 1000, "EUR", 1)
    other_writer = PaymentLedger(DynamoLedgerStore(ddb, TABLE), RULES)
    store.interleave = lambda: other_writer.record_refund("pay_1", "m_1", 1000, "EUR", "re_2")
    with pytest.raises(PositionLimitError):
        ledger.record_refund("pay_1", "m_1", 1000, "EUR", "re_1")
    assert ledger.position("pay_1").refunded == 1000
    assert store.balance("acquirer_receivable", "EUR") == 0
    assert store.stored_position("pay_1")["refundable"] == 0
    assert [e.step for e in store.entries_for("pay_1")] == [
        "authorization",
        "capture-1",
        "refund-re_2",
    ]


def test_a_capture_without_an_authorization_is_refused_by_the_store(ddb: Any) -> None:
    store = DynamoLedgerStore(ddb, TABLE)
    with pytest.raises(PositionLimitError):
        store.post(RULES.capture("pay_9", "m_1", 10, "EUR", 1))
    assert store.entries_for("pay_9") == []
    assert store.balance("acquirer_receivable", "EUR") == 0


def test_all_balances_are_the_sums_of_every_entry(ddb: Any) -> None:
    store = DynamoLedgerStore(ddb, TABLE)
    ledger = PaymentLedger(store, RULES)
    for n in range(30):
        ledger.record_authorization(f"pay_{n}", f"m_{n}", 100 + n, "EUR")
    found = store.all_balances()
    assert sum(found.values()) == 0
    assert found[RULES.pending("m_7", "pay_7"), "EUR"] == -107
    assert len([a for a, _ in found if a.startswith("merchant_pending:")]) == 30


def test_a_sale_is_one_item_and_only_a_first_movement(ddb: Any) -> None:
    store = DynamoLedgerStore(ddb, TABLE)
    sale = RULES.sale("pay_1", "m_1", 1000, "EUR")
    assert store.post(sale) is True
    # The position carrying the entry: one plain conditional write, one unit (was a
    # transaction of the entry and the position, four).
    assert store.last_consumed_write_units == 1.0
    assert [(i["pk"]["S"], i["sk"]["S"]) for i in stored_items(ddb)] == [
        ("payment#pay_1", "position")
    ]
    assert store.entries_for("pay_1") == [sale]
    assert list(store.scan_entries()) == [sale]
    assert store.stored_position("pay_1")["refundable"] == 1000
    assert store.post(sale) is False  # a replay
    with pytest.raises(ConflictingEntryError):
        store.post(RULES.sale("pay_1", "m_1", 999, "EUR"))
    store.post(RULES.authorization("pay_2", "m_1", 1000, "EUR"))
    with pytest.raises(PositionLimitError):
        store.post(RULES.sale("pay_2", "m_1", 1000, "EUR"))
    assert [e.step for e in store.entries_for("pay_2")] == ["authorization"]


def test_later_movements_of_a_sale_keep_the_entry_its_position_carries(ddb: Any) -> None:
    store = DynamoLedgerStore(ddb, TABLE)
    ledger = PaymentLedger(store, RULES)
    ledger.record_sale("pay_1", "m_1", 1000, "EUR")
    ledger.record_refund("pay_1", "m_1", 600, "EUR", "re_1")
    with pytest.raises(PositionLimitError):
        store.post(RULES.refund("pay_1", "m_1", 600, "EUR", "re_2"))
    assert store.stored_position("pay_1")["refundable"] == 400
    assert [e.step for e in store.entries_for("pay_1")] == ["refund-re_1", "sale"]
    # A repair rebuilds the position's figures and leaves the sale it carries in place.
    store.post(RULES.refund("pay_1", "m_1", 100, "EUR", "re_3"), repair=True)
    assert store.stored_position("pay_1")["refundable"] == 300
    ledger.reverse_all("pay_1")
    assert sorted(e.step for e in store.entries_for("pay_1")) == [
        "refund-re_1",
        "refund-re_3",
        "reversal-refund-re_1",
        "reversal-refund-re_3",
        "reversal-sale",
        "sale",
    ]
    assert all(v == 0 for v in logical_balances(store.scan_entries()).values())
    assert store.stored_position("pay_1")["captured"] == 0


def test_a_repair_posts_a_missing_sale_into_an_existing_position(ddb: Any) -> None:
    store = DynamoLedgerStore(ddb, TABLE)
    # A refund the reconciliation found first (its sale's posting failed): then the sale.
    store.post(RULES.refund("pay_1", "m_1", 300, "EUR", "re_1"), repair=True)
    sale = RULES.sale("pay_1", "m_1", 1000, "EUR")
    assert store.post(sale, repair=True) is True
    assert store.stored_position("pay_1")["refundable"] == 700
    assert sale in store.entries_for("pay_1")
    assert store.post(sale, repair=True) is False


# ---------------------------------------------------- issue 19 item 10: fees, dates, settlement

FEE_RULES = PostingRules(
    fees=FeeSchedule.from_config({"default": {"EUR": {"bps": 140, "fixed": "0.25"}}})
)
AT = "2026-11-30T21:00:00.000+00:00"


def test_a_sale_with_its_service_charge_stays_within_the_write_budget(ddb: Any) -> None:
    store = DynamoLedgerStore(ddb, TABLE)
    long_ids = FEE_RULES.sale("pay_" + "x" * 40, "m_" + "y" * 40, 10**12, "EUR", AT)
    assert store.post(long_ids) is True
    # Still one item (the position carrying the entry) under 1 KB: 1 write unit
    # (docs/decisions/0003).
    assert store.last_consumed_write_units == 1.0
    (read,) = store.entries_for("pay_" + "x" * 40)
    assert read == long_ids and (read.effective_at, read.value_date) == (AT, "2026-11-30")


def test_an_entry_stored_before_entries_carried_dates_still_reads(ddb: Any) -> None:
    store = DynamoLedgerStore(ddb, TABLE)
    store.post(RULES.authorization("pay_1", "m_1", 1000, "EUR", AT))
    ddb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": "payment#pay_1"}, "sk": {"S": "entry#authorization"}},
        UpdateExpression="REMOVE effective_at, value_date",
    )
    (legacy,) = store.entries_for("pay_1")
    assert (legacy.effective_at, legacy.value_date) == ("", "")
    assert store.balances_as_of("2000-01-01")["authorization_holds", "EUR"] == 1000


def test_settlement_releases_and_payouts_round_trip_and_guard_the_funds(ddb: Any) -> None:
    store = DynamoLedgerStore(ddb, TABLE)
    PaymentLedger(store, FEE_RULES).record_sale("pay_1", "m_1", 10_000, "EUR", AT)
    line = SettlementLine(SettlementKind.CAPTURE, "pay_1:capture:1", 10_000, "EUR", 20, 10)
    batch = SettlementBatch("b1", "2026-12-01", (line,))
    service = SettlementService(store, FEE_RULES, clock=lambda: AT)
    report = service.run(FixedBatches([batch]), dt.date(2026, 12, 1))
    assert report.settled == ["b1"] and report.payouts[0]["amount"] == 9_835
    (batch_entry,) = [e for e in store.entries_for("settlement:b1") if e.step == "batch"]
    assert batch_entry.references == ("pay_1:capture:1",)
    assert batch_entry.value_date == "2026-12-01"
    keys = {(i["pk"]["S"], i["sk"]["S"]) for i in stored_items(ddb)}
    assert ("settlement#b1", "entry#batch") in keys
    assert ("payout#m_1:2026-12-01", "entry#payout-EUR") in keys
    assert ("position#funds:m_1:EUR", "position") in keys
    assert store.stored_position("funds:m_1:EUR") == {"available": 0}
    # A payout decided on a stale read is refused by the transaction, not only by the planner.
    with pytest.raises(PositionLimitError):
        store.post(FEE_RULES.payout("m_1", "EUR", 1, "2026-12-02"))
    # Read again by another run: booked once, paid once.
    again = service.run(FixedBatches([batch]), dt.date(2026, 12, 1))
    assert (again.already_settled, again.payouts, again.posted) == (["b1"], [], 0)
    assert store.balances_as_of("2026-12-01")["cash", "EUR"] == 10_000 - 30 - 9_835


class FixedBatches:
    def __init__(self, batches: list[SettlementBatch]) -> None:
        self._batches = batches

    def batches(self, through: dt.date, settled: frozenset[str]) -> list[SettlementBatch]:
        return self._batches


def test_entries_are_found_by_when_they_were_written_and_settlements_stay_out(ddb: Any) -> None:
    clock = [dt.datetime(2026, 12, 1, 9, 59, tzinfo=dt.UTC)]
    store = DynamoLedgerStore(ddb, TABLE, clock=lambda: clock[0])
    ledger = PaymentLedger(store, FEE_RULES)
    ledger.record_sale("pay_before", "m_1", 1_000, "EUR", AT)
    clock[0] = dt.datetime(2026, 12, 1, 10, 30, tzinfo=dt.UTC)
    # A sale (the entry in its position), an authorization and its capture (entry items);
    # dated long before (effective_at) yet written now: found by the write.
    ledger.record_sale("pay_sale", "m_1", 1_000, "EUR", AT)
    ledger.record_authorization("pay_auth", "m_1", 500, "EUR", AT)
    clock[0] = dt.datetime(2026, 12, 1, 11, 0, 0, 1_000, tzinfo=dt.UTC)
    ledger.record_capture("pay_auth", "m_1", 500, "EUR", 1, AT)
    store.post(
        FEE_RULES.settlement(
            "b9",
            {(acquirer_receivable("pay_auth", 8), "EUR"): (500, 0)},
            {},
            ["pay_auth:capture:1"],
            AT,
            "2026-12-01",
        )
    )
    clock[0] = dt.datetime(2026, 12, 1, 11, 30, tzinfo=dt.UTC)
    ledger.record_sale("pay_after", "m_1", 1_000, "EUR", AT)

    found = store.subjects_recorded_between(
        "2026-12-01T10:00:00.000+00:00", "2026-12-01T11:30:00.000+00:00"
    )
    # Across the hour's edge, [start, end): the later sale is the next window's.
    assert sorted(found) == ["pay_auth", "pay_auth", "pay_sale"]
    # A later movement of a sale leaves the index entry of its position as it was.
    ledger.record_refund("pay_sale", "m_1", 100, "EUR", "re_1", AT)
    (position,) = [
        i
        for i in stored_items(ddb)
        if i["pk"]["S"] == "payment#pay_sale" and i["sk"]["S"] == "position"
    ]
    assert position["recorded_at"]["S"] == "2026-12-01T10:30:00.000+00:00"
    assert position["recorded_key"]["S"].startswith("led#2026-12-01T10#")
    assert any(i["pk"]["S"] == "settlement#b9" for i in stored_items(ddb))
    assert not [
        i
        for i in stored_items(ddb)
        if i["pk"]["S"].startswith("settlement#") and "recorded_key" in i
    ]
