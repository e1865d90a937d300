"""Issue 19 item 10: settlement (cash against the receivable), chargebacks and disputes with
their fees, payouts to merchants. Money is never moved twice: every entry id is deterministic,
a batch is booked once however often it is read, a reference is settled by one batch only, a
chargeback never takes back what was already refunded, and a payout never pays out funds that
are not settled."""

from __future__ import annotations

import datetime as dt

import pytest

from functions.domain.acquirer import (
    SETTLEMENT_FILE_COLUMNS,
    SETTLEMENT_FILE_COLUMNS_WITH_REASON,
    AcquirerSimulator,
    Authentication,
    AuthorizationRequest,
    CardReference,
    SettlementBatch,
    SettlementFileRecords,
    SettlementKind,
    SettlementLine,
)
from functions.domain.fees import FeeSchedule
from functions.domain.ledger import (
    EntryKind,
    InMemoryLedgerStore,
    PaymentLedger,
    PositionLimitError,
    PostingRules,
    balance_sheet,
    balances_as_of,
    funds_position,
    logical_balances,
)
from functions.domain.reconciliation import PaymentFacts, reconcile
from functions.domain.settlement import PayoutRefusedError, available_for_payout, plan_payout
from functions.services.settlement import SettlementReport, SettlementService

FEES = FeeSchedule.from_config({"default": {"EUR": {"bps": 140, "fixed": "0.25"}}})
RULES = PostingRules(fees=FEES, clock=lambda: "2026-11-30T22:00:00.000+00:00")
DAY = dt.date(2026, 11, 30)


class Books:
    def __init__(self) -> None:
        self.store = InMemoryLedgerStore()
        self.ledger = PaymentLedger(self.store, RULES)
        self.service = SettlementService(self.store, RULES, clock=RULES._clock)

    def sale(self, pid: str, amount: int, merchant: str = "m_1") -> None:
        self.ledger.record_sale(pid, merchant, amount, "EUR")

    def settle(self, *batches: SettlementBatch) -> SettlementReport:
        report = SettlementReport()
        settled = frozenset[str]()
        for batch in batches:
            settled = self.service.settle(batch, settled_now(self.store) | settled, report)
        return report

    def balances(self) -> dict[tuple[str, str], int]:
        return logical_balances(self.store.all_entries())

    def kinds(self) -> list[str]:
        return [str(e.kind) for e in self.store.all_entries()]


def settled_now(store: InMemoryLedgerStore) -> frozenset[str]:
    return frozenset(r for e in store.all_entries() for r in e.references)


def capture(pid: str, amount: int, fees: int = 0) -> SettlementLine:
    return SettlementLine(
        SettlementKind.CAPTURE, f"{pid}:capture:1", amount, "EUR", interchange_fee=fees
    )


def refund(pid: str, rid: str, amount: int) -> SettlementLine:
    return SettlementLine(SettlementKind.REFUND, f"{pid}:refund:{rid}", amount, "EUR")


def chargeback(pid: str, amount: int, fee: int = 1_500) -> SettlementLine:
    return SettlementLine(
        SettlementKind.CHARGEBACK, f"{pid}:chargeback:dp_1", amount, "EUR", dispute_fee=fee
    )


def batch(batch_id: str, *lines: SettlementLine, day: str = "2026-12-01") -> SettlementBatch:
    return SettlementBatch(batch_id, day, lines)


# ---------------------------------------------------------------------------------- settlement


def test_a_batch_books_cash_fees_and_the_merchants_settled_funds() -> None:
    books = Books()
    books.sale("pay_1", 10_000)
    books.sale("pay_2", 5_000, merchant="m_2")
    books.ledger.record_refund("pay_1", "m_1", 3_000, "EUR", "re_1")
    report = books.settle(
        batch(
            "b1",
            capture("pay_1", 10_000, 30),
            capture("pay_2", 5_000, 15),
            refund("pay_1", "re_1", 3_000),
        )
    )
    assert report.settled == ["b1"] and not report.waiting
    held = books.balances()
    assert held["acquirer_receivable", "EUR"] == 0  # every captured cent is settled
    assert held["cash", "EUR"] == 10_000 + 5_000 - 3_000 - 45
    assert held["acquirer_fees", "EUR"] == 45
    assert held["merchant_payable:m_1", "EUR"] == 0
    assert held["merchant_settled:m_1", "EUR"] == -(10_000 - 165 - 3_000)
    assert held["merchant_settled:m_2", "EUR"] == -(5_000 - 95)
    assert sum(v for (_, cur), v in held.items() if cur == "EUR") == 0
    (batch_entry,) = [e for e in books.store.entries_for("settlement:b1") if e.step == "batch"]
    assert batch_entry.kind is EntryKind.SETTLEMENT and batch_entry.value_date == "2026-12-01"


def test_a_duplicate_batch_is_booked_once() -> None:
    books = Books()
    books.sale("pay_1", 10_000)
    b1 = batch("b1", capture("pay_1", 10_000, 30))
    books.settle(b1)
    before = books.store.all_entries()
    again = books.settle(b1)
    assert again.already_settled == ["b1"] and again.posted == 0
    assert books.store.all_entries() == before


def test_a_reference_settled_by_another_batch_is_not_booked_again() -> None:
    books = Books()
    books.sale("pay_1", 10_000)
    books.settle(batch("b1", capture("pay_1", 10_000)))
    report = books.settle(batch("b2", capture("pay_1", 10_000), day="2026-12-02"))
    assert "already settled" in report.waiting["b2"][0]
    assert books.store.entries_for("settlement:b2") == []
    assert books.balances()["cash", "EUR"] == 10_000


def test_a_batch_waits_for_a_capture_the_ledger_does_not_hold() -> None:
    books = Books()
    books.sale("pay_1", 10_000)
    b1 = batch("b1", capture("pay_1", 10_000), capture("pay_9", 700))
    report = books.settle(b1)
    assert "pay_9:capture:1" in report.waiting["b1"][0]
    assert books.store.entries_for("settlement:b1") == []  # nothing of the batch is booked
    # The reconciliation reports it; once the entry is there the next run books the batch.
    unbooked = reconcile([], books.store.all_entries(), [], RULES, settlements=[b1])
    assert "settlement_unbooked" in unbooked.counts()
    books.sale("pay_9", 700)
    assert books.settle(b1).settled == ["b1"]
    assert reconcile([], books.store.all_entries(), [], RULES, settlements=[b1]).counts() == {
        "ledger_without_payment": 2
    }


def test_an_amount_the_ledger_does_not_hold_is_not_settled() -> None:
    books = Books()
    books.sale("pay_1", 10_000)
    report = books.settle(batch("b1", capture("pay_1", 9_000)))
    assert "settled 9000, the ledger holds 10000" in report.waiting["b1"][0]


def test_a_batch_interrupted_half_way_is_finished_by_the_next_run() -> None:
    books = Books()
    books.sale("pay_1", 10_000)
    books.sale("pay_2", 5_000, merchant="m_2")
    b1 = batch("b1", capture("pay_1", 10_000), capture("pay_2", 5_000))
    # The first run died after the first release: the batch entry (posted last) is missing.
    from functions.domain.settlement import plan_settlement

    entries = {p: books.store.entries_for(p) for p in ("pay_1", "pay_2")}
    plan = plan_settlement(b1, entries, frozenset(), RULES, "2026-11-30T22:00:00.000+00:00")
    books.store.post(plan.entries[0])
    assert books.settle(b1).settled == ["b1"]
    assert [e.step for e in books.store.entries_for("settlement:b1")] == [
        "release-m_1-EUR",
        "release-m_2-EUR",
        "batch",
    ]
    assert books.balances()["acquirer_receivable", "EUR"] == 0


# -------------------------------------------------------------------------------- disputes


def test_a_chargeback_debits_the_merchant_with_its_fee_and_a_won_dispute_gives_it_back() -> None:
    books = Books()
    books.sale("pay_1", 10_000)
    books.settle(batch("b1", capture("pay_1", 10_000)))
    books.settle(batch("b2", chargeback("pay_1", 10_000), day="2026-12-02"))
    held = books.balances()
    assert held["merchant_settled:m_1", "EUR"] == -(10_000 - 165) + 10_000 + 1_500
    assert held["acquirer_receivable", "EUR"] == 0
    assert books.store.stored_position("pay_1")["charged_back"] == 10_000
    # A refund after the chargeback would pay the cardholder twice: refused atomically.
    with pytest.raises(PositionLimitError):
        books.store.post(RULES.refund("pay_1", "m_1", 1, "EUR", "re_late"))
    won = SettlementLine(SettlementKind.DISPUTE_WON, "pay_1:dispute_won:dp_1", 10_000, "EUR")
    books.settle(batch("b3", won, day="2026-12-20"))
    held = books.balances()
    assert held["merchant_settled:m_1", "EUR"] == -(10_000 - 165) + 1_500  # the fee stays
    assert books.store.stored_position("pay_1")["charged_back"] == 0
    assert held["cash", "EUR"] == 10_000 - 10_000 - 1_500 + 10_000


def test_a_chargeback_on_a_refunded_payment_does_not_debit_the_merchant_twice() -> None:
    books = Books()
    books.sale("pay_1", 10_000)
    books.ledger.record_refund("pay_1", "m_1", 10_000, "EUR", "re_1")
    books.settle(batch("b1", capture("pay_1", 10_000), refund("pay_1", "re_1", 10_000)))
    merchant_before = books.balances()["merchant_settled:m_1", "EUR"]
    books.settle(batch("b2", chargeback("pay_1", 10_000), day="2026-12-02"))
    held = books.balances()
    # The merchant refunded already: the chargeback is the platform's to win back by
    # representment, and the acquirer's dispute fee is the platform's expense.
    assert held["merchant_settled:m_1", "EUR"] == merchant_before
    assert held["disputes_recoverable", "EUR"] == 10_000
    assert held["acquirer_fees", "EUR"] == 1_500
    assert held["acquirer_receivable", "EUR"] == 0
    assert sum(v for (_, cur), v in held.items() if cur == "EUR") == 0


def test_a_lost_dispute_writes_the_recoverable_off_as_the_platforms_loss() -> None:
    """Issue 19 item 3: the recoverable of a refunded payment's chargeback stayed an asset for
    ever when the representment failed. A lost dispute books Dr dispute_losses / Cr
    disputes_recoverable, moves no cash and leaves the merchant's funds alone."""
    books = Books()
    books.sale("pay_1", 10_000)
    books.ledger.record_refund("pay_1", "m_1", 4_000, "EUR", "re_1")
    books.settle(batch("b1", capture("pay_1", 10_000), refund("pay_1", "re_1", 4_000)))
    books.settle(batch("b2", chargeback("pay_1", 10_000, fee=0), day="2026-12-02"))
    before = books.balances()
    lost = SettlementLine(SettlementKind.DISPUTE_LOST, "pay_1:dispute_lost:dp_1", 10_000, "EUR")
    books.sale("pay_2", 1_000)  # a batch carries the day's captures as well
    report = books.settle(batch("b3", capture("pay_2", 1_000), lost, day="2026-12-30"))
    assert report.settled == ["b3"]
    held = books.balances()
    assert held["disputes_recoverable", "EUR"] == 0
    assert held["dispute_losses", "EUR"] == 4_000  # the refunded part the merchant never bore
    assert held["cash", "EUR"] - before["cash", "EUR"] == 1_000  # only pay_2's capture
    assert held["merchant_settled:m_1", "EUR"] - before["merchant_settled:m_1", "EUR"] == -(
        1_000 - 39
    )
    (entry,) = [e for e in books.store.entries_for("pay_1") if e.kind is EntryKind.DISPUTE_LOST]
    assert (entry.step, entry.value_date) == ("dispute-lost-dp_1", "2026-12-30")
    assert sum(v for (_, cur), v in held.items() if cur == "EUR") == 0
    # Booked once: the batch read again changes nothing.
    assert books.settle(batch("b3", capture("pay_2", 1_000), lost, day="2026-12-30")).posted == 0


def test_a_lost_dispute_the_merchant_bore_in_full_writes_nothing_off() -> None:
    books = Books()
    books.sale("pay_1", 10_000)
    books.settle(batch("b1", capture("pay_1", 10_000)))
    books.settle(batch("b2", chargeback("pay_1", 10_000, fee=0), day="2026-12-02"))
    books.sale("pay_2", 1_000)
    lost = SettlementLine(SettlementKind.DISPUTE_LOST, "pay_1:dispute_lost:dp_1", 10_000, "EUR")
    assert books.settle(batch("b3", capture("pay_2", 1_000), lost)).settled == ["b3"]
    assert EntryKind.DISPUTE_LOST not in [e.kind for e in books.store.entries_for("pay_1")]
    assert books.balances()["merchant_settled:m_1", "EUR"] == -(10_000 - 165) + 10_000 - (
        1_000 - 39
    )


def test_a_lost_dispute_without_its_chargeback_waits() -> None:
    books = Books()
    books.sale("pay_1", 10_000)
    lost = SettlementLine(SettlementKind.DISPUTE_LOST, "pay_1:dispute_lost:dp_1", 10_000, "EUR")
    report = books.settle(batch("b1", capture("pay_1", 10_000), lost))
    assert "b1" in report.waiting and books.kinds() == ["sale"]


def test_a_chargebacks_reason_code_is_kept_on_its_entry() -> None:
    """The Art. 19 fraud rate tells fraud from commercial disputes by the scheme reason code."""
    books = Books()
    books.sale("pay_1", 10_000)
    books.settle(batch("b1", capture("pay_1", 10_000)))
    line = SettlementLine(
        SettlementKind.CHARGEBACK, "pay_1:chargeback:dp_1", 10_000, "EUR", reason_code="10.4"
    )
    books.settle(batch("b2", line))
    (entry,) = [e for e in books.store.entries_for("pay_1") if e.kind is EntryKind.CHARGEBACK]
    assert entry.reason_code == "10.4"


def test_a_settlement_file_may_carry_reason_codes_and_lost_disputes() -> None:
    header = ",".join(SETTLEMENT_FILE_COLUMNS_WITH_REASON)
    rows = [
        "b1,2026-12-01,chargeback,pay_1:chargeback:dp_9,,10000,EUR,,,,1500,4837",
        "b2,2026-12-20,dispute_lost,pay_1:dispute_lost:dp_9,,10000,EUR,,,,,",
    ]
    b1, b2 = SettlementFileRecords("\n".join([header, *rows]) + "\n").batches(DAY, frozenset())
    assert (b1.lines[0].reason_code, b2.lines[0].kind) == ("4837", SettlementKind.DISPUTE_LOST)


def test_a_chargeback_on_a_partly_refunded_payment_splits() -> None:
    books = Books()
    books.sale("pay_1", 10_000)
    books.ledger.record_refund("pay_1", "m_1", 4_000, "EUR", "re_1")
    books.settle(batch("b1", capture("pay_1", 10_000), refund("pay_1", "re_1", 4_000)))
    books.settle(batch("b2", chargeback("pay_1", 10_000, fee=0), day="2026-12-02"))
    (entry,) = [e for e in books.store.entries_for("pay_1") if e.kind is EntryKind.CHARGEBACK]
    parts = {line.account.split("#")[0]: line.debit for line in entry.lines if line.debit}
    assert parts == {"merchant_payable:m_1": 6_000, "disputes_recoverable": 4_000}


# --------------------------------------------------------------------------------- payouts


def test_a_payout_of_unsettled_funds_is_refused() -> None:
    books = Books()
    books.sale("pay_1", 10_000)  # captured, not settled
    entries = books.store.all_entries()
    assert available_for_payout(entries, "m_1", "EUR", "2026-12-31") == 0
    with pytest.raises(PayoutRefusedError):
        plan_payout(entries, RULES, "m_1", "EUR", "2026-12-31", amount=1)
    assert books.service.pay_out("m_1", "EUR", "2026-12-31") is None


def test_settled_funds_are_paid_out_from_their_value_date_and_once() -> None:
    books = Books()
    books.sale("pay_1", 10_000)
    books.settle(batch("b1", capture("pay_1", 10_000), day="2026-12-01"))
    assert books.service.pay_out("m_1", "EUR", "2026-11-30") is None  # not yet value-dated
    with pytest.raises(PayoutRefusedError):
        books.service.pay_out("m_1", "EUR", "2026-12-01", amount=9_836)
    paid = books.service.pay_out("m_1", "EUR", "2026-12-01")
    assert paid is not None and paid.amount() == 9_835 and paid.kind is EntryKind.PAYOUT
    assert paid.entry_id == "payout:m_1:2026-12-01#payout-EUR"
    # Again for the same day: the same payout, nothing more; the next day: nothing left.
    assert books.service.pay_out("m_1", "EUR", "2026-12-01") == paid
    assert books.service.pay_out("m_1", "EUR", "2026-12-02") is None
    held = books.balances()
    assert held["merchant_settled:m_1", "EUR"] == 0
    assert held["cash", "EUR"] == 165  # what is left is the platform's charge
    assert held["msc_income", "EUR"] == -165


def test_two_racing_payouts_cannot_both_pay_the_same_funds() -> None:
    books = Books()
    books.sale("pay_1", 10_000)
    books.settle(batch("b1", capture("pay_1", 10_000)))
    entries = books.store.all_entries()
    # Both decided on the same read; the funds position refuses the second atomically.
    first = plan_payout(entries, RULES, "m_1", "EUR", "2026-12-01")
    second = plan_payout(entries, RULES, "m_1", "EUR", "2026-12-02")
    assert first is not None and second is not None
    books.store.post(first)
    with pytest.raises(PositionLimitError):
        books.store.post(second)
    assert books.store.stored_position(funds_position("m_1", "EUR")) == {"available": 0}


def test_a_chargeback_after_settlement_reduces_what_can_be_paid_at_once() -> None:
    books = Books()
    books.sale("pay_1", 10_000)
    books.sale("pay_2", 2_000)
    books.settle(batch("b1", capture("pay_1", 10_000), capture("pay_2", 2_000)))
    books.settle(batch("b2", chargeback("pay_2", 2_000), day="2026-12-05"))
    # The chargeback's value date is later, but money leaving counts at once.
    available = available_for_payout(books.store.all_entries(), "m_1", "EUR", "2026-12-01")
    assert available == (10_000 - 165) + (2_000 - 53) - 2_000 - 1_500


def captured_at(
    simulator: AcquirerSimulator, payment_id: str, amount: int, last4: str = "4242"
) -> None:
    """An authorization captured at once at the simulator, under the payment's keys."""
    auth = simulator.authorize(
        AuthorizationRequest(
            payment_id,
            "m_1",
            amount,
            "EUR",
            CardReference("tok", "visa", last4, 12, 2030),
            Authentication(None, None, None),
            f"{payment_id}:authorize",
        )
    )
    assert auth.authorization_id is not None
    simulator.capture(auth.authorization_id, amount, "EUR", f"{payment_id}:capture:1")


def test_the_daily_run_books_the_simulators_batches_and_pays_out() -> None:
    simulator = AcquirerSimulator(b"settlement-test-key", 0.01, sleep=lambda _: None)
    books = Books()
    for pid, last4, amount in (("pay_1", "4242", 10_000), ("pay_2", "2685", 5_000)):
        captured_at(simulator, pid, amount, last4)
        books.sale(pid, amount)
    first = books.service.run(simulator, DAY)
    assert first.settled == ["sim-2026-11-30"] and first.payouts == []  # funds arrive T+1
    (sim_batch,) = simulator.batches(DAY, frozenset())
    assert sim_batch.value_date == "2026-12-01"
    assert [(x.interchange_fee, x.scheme_fee) for x in sim_batch.lines] == [(20, 10), (10, 5)]
    # The next day the disputed card comes back as a chargeback; the payout nets it.
    second = books.service.run(simulator, DAY + dt.timedelta(days=1))
    assert second.settled == ["sim-2026-12-01"]
    assert [p["amount"] for p in second.payouts] == [(10_000 - 165) + (5_000 - 95) - 5_000 - 1_500]
    third = books.service.run(simulator, DAY + dt.timedelta(days=1))
    assert (third.settled, third.posted) == ([], 0)  # nothing left to settle or pay
    sheet = balance_sheet(books.balances())
    assert sheet["acquirer_receivable", "EUR"] == 0
    assert sum(v for (_, cur), v in sheet.items() if cur == "EUR") == 0
    # As of the first value date, the chargeback batch (value date 12-02) is not in the books.
    cut = balances_as_of(books.store.all_entries(), "2026-12-01")
    assert cut["cash", "EUR"] == 15_000 - 45 - second.payouts[0]["amount"]


def test_a_bnpl_plans_charge_in_the_acquirers_record_does_not_hold_up_the_card_batch() -> None:
    """The BNPL charger shares the simulator's record: its captures (under the plan's id) are
    in the day's batch, and the card ledger, which never books them, must not wait on them."""
    simulator = AcquirerSimulator(b"settlement-test-key", 0.01, sleep=lambda _: None)
    books = Books()
    captured_at(simulator, "pay_1", 10_000)
    captured_at(simulator, "pl_1", 2_500)  # as the BNPL charger sends a plan's charge
    books.sale("pay_1", 10_000)
    (day,) = simulator.batches(DAY, frozenset())
    assert {line.payment_id for line in day.lines} == {"pay_1", "pl_1"}
    report = books.service.run(simulator, DAY, payouts=False)
    assert report.settled == ["sim-2026-11-30"] and not report.waiting
    assert books.balances()["acquirer_receivable", "EUR"] == 0
    assert all("pl_1" not in r for e in books.store.all_entries() for r in e.references)


def test_settlement_entries_are_not_payment_mismatches() -> None:
    books = Books()
    books.sale("pay_1", 10_000)
    books.settle(batch("b1", capture("pay_1", 10_000)))
    books.settle(batch("b2", chargeback("pay_1", 10_000), day="2026-12-02"))
    facts = PaymentFacts(
        "pay_1", "m_1", "EUR", "captured", 10_000, 10_000, 0, 0, ((1, 10_000),), sale=True
    )
    report = reconcile(
        [facts], books.store.all_entries(), [], RULES, balances=books.store.all_balances()
    )
    assert {m.kind.value for m in report.mismatches} == {"event_missing"}


# -------------------------------------------------------------------------- settlement file


HEADER = ",".join(SETTLEMENT_FILE_COLUMNS)
FILE = f"""{HEADER}
b1,2026-12-01,capture,pay_1:capture:1,auth_1,10000,EUR,succeeded,20,10,
b1,2026-12-01,refund,pay_1:refund:re_1,auth_1,3000,EUR,succeeded,,,
,,void,pay_2:void,auth_2,0,,succeeded,,,
b2,2026-12-02,chargeback,pay_1:chargeback:dp_9,auth_1,7000,EUR,,,,1500
"""


def test_a_settlement_file_gives_batches_and_operations() -> None:
    records = SettlementFileRecords(FILE)
    assert [o.reference for o in records.operations()] == [
        "pay_1:capture:1",
        "pay_1:refund:re_1",
        "pay_2:void",
    ]
    b1, b2 = records.batches(DAY, frozenset())
    assert (b1.batch_id, b1.value_date, [x.kind for x in b1.lines]) == (
        "b1",
        "2026-12-01",
        [SettlementKind.CAPTURE, SettlementKind.REFUND],
    )
    assert b1.lines[0].acquirer_fees == 30
    assert (b2.lines[0].dispute_fee, b2.lines[0].operation) == (1_500, "dp_9")
    books = Books()
    books.sale("pay_1", 10_000)
    books.ledger.record_refund("pay_1", "m_1", 3_000, "EUR", "re_1")
    assert books.service.run(records, DAY).settled == ["b1", "b2"]
    assert books.balances()["acquirer_receivable", "EUR"] == 0


@pytest.mark.parametrize(
    "row",
    [
        "b1,2026-12-01,capture,pay_1:capture:1,auth_1,-5,EUR,succeeded,,,",  # negative amount
        "b1,2026-13-01,capture,pay_1:capture:1,auth_1,5,EUR,succeeded,,,",  # no such day
        "b1,2026-12-01,chargeback,pay_1:capture:1,auth_1,5,EUR,,,,",  # reference of a capture
        "b1,2026-12-01,capture,pay_1:capture:1,auth_1,5,EUR,succeeded,x,,",  # fee not a number
    ],
)
def test_a_malformed_settlement_line_refuses_the_file(row: str) -> None:
    with pytest.raises(ValueError, match="malformed"):
        SettlementFileRecords(f"{HEADER}\n{row}\n")


def test_a_batch_settles_each_reference_once() -> None:
    with pytest.raises(ValueError, match="twice"):
        batch("b1", capture("pay_1", 1), capture("pay_1", 1))
