"""Issue 19 item 9 (the rest) and item 10 (fees, dates).

An authorization moves no money: it is booked in a memo ledger off the balance sheet, whose lines
balance among themselves, and the per-payment caps still hold atomically. A capture or sale books
the merchant service charge inside its own entry, rounded in integer minor units with the ISO
exponent of its currency. Every entry carries the business time of its event and a value date,
so balances exist as of a cut-off.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from functions.domain.fees import FeeSchedule, FeeScheduleError, ServiceCharge
from functions.domain.ledger import (
    AccountType,
    EntryKind,
    InMemoryLedgerStore,
    JournalEntry,
    JournalLine,
    LedgerRuleError,
    PaymentLedger,
    PositionLimitError,
    PostingRules,
    UnbalancedEntryError,
    account_type,
    balance_sheet,
    balances_as_of,
    logical_balances,
    same_movement,
)
from functions.domain.reconciliation import PaymentFacts, reconcile

FEES = FeeSchedule.from_config(
    {
        "default": {
            "EUR": {"bps": 140, "fixed": "0.25"},
            "JPY": {"bps": "290", "fixed": "30"},
            "KWD": {"bps": "150", "fixed": "0.100"},
        },
        "merchants": {"m_vip": {"EUR": {"bps": "95.5"}}},
    }
)
AT = "2026-11-30T21:15:00.000+00:00"


def ledger(fees: FeeSchedule | None = FEES) -> tuple[PaymentLedger, InMemoryLedgerStore]:
    store = InMemoryLedgerStore()
    return PaymentLedger(store, PostingRules(fees=fees)), store


# ------------------------------------------------------------------ item 9: memo authorizations


def test_an_authorization_alone_puts_nothing_on_the_balance_sheet() -> None:
    service, store = ledger()
    service.record_authorization("pay_1", "m_1", 1_000, "EUR", at=AT)
    held = logical_balances(store.all_entries())
    # Before: Dr authorization_holds (asset) / Cr merchant_pending (liability), EUR 10 each.
    assert account_type("authorization_holds#s3") is AccountType.MEMO
    assert account_type("merchant_pending:m_1#s0") is AccountType.MEMO
    assert held == {("authorization_holds", "EUR"): 1_000, ("merchant_pending:m_1", "EUR"): -1_000}
    assert all(value == 0 for value in balance_sheet(held).values())
    assert balance_sheet(held) == {}


def test_a_capture_releases_the_memo_and_books_the_money() -> None:
    service, store = ledger(fees=None)
    service.record_authorization("pay_1", "m_1", 1_000, "EUR", at=AT)
    service.record_capture("pay_1", "m_1", 600, "EUR", 1, at=AT)
    service.record_void("pay_1", "m_1", "EUR", at=AT)
    held = logical_balances(store.all_entries())
    assert held["authorization_holds", "EUR"] == 0
    assert held["merchant_pending:m_1", "EUR"] == 0
    assert balance_sheet(held) == {
        ("acquirer_receivable", "EUR"): 600,
        ("merchant_payable:m_1", "EUR"): -600,
    }


def test_the_caps_still_hold_atomically_on_memo_authorizations() -> None:
    service, store = ledger()
    rules = PostingRules(fees=FEES)
    service.record_authorization("pay_1", "m_1", 1_000, "EUR")
    # The store refuses a capture above the authorized amount and a refund above the captured
    # one by itself, whatever a caller read before.
    with pytest.raises(PositionLimitError):
        store.post(rules.capture("pay_1", "m_1", 1_001, "EUR", 1))
    store.post(rules.capture("pay_1", "m_1", 1_000, "EUR", 1))
    store.post(rules.refund("pay_1", "m_1", 700, "EUR", "re_1"))
    with pytest.raises(PositionLimitError):
        store.post(rules.refund("pay_1", "m_1", 301, "EUR", "re_2"))
    assert store.stored_position("pay_1")["refundable"] == 300


def test_memo_lines_cannot_leak_onto_the_balance_sheet() -> None:
    with pytest.raises(UnbalancedEntryError, match="memo"):
        JournalEntry(
            "pay_1#authorization",
            "pay_1",
            EntryKind.AUTHORIZATION,
            "authorization",
            (
                JournalLine("authorization_holds#s1", "EUR", 1_000, 0),
                JournalLine("merchant_payable:m_1#s1", "EUR", 0, 1_000),
            ),
        )
    with pytest.raises(LedgerRuleError, match="chart of accounts"):
        account_type("suspense")


def test_an_authorization_only_payment_reconciles() -> None:
    service, store = ledger()
    service.record_authorization("pay_1", "m_1", 1_000, "EUR")
    facts = PaymentFacts("pay_1", "m_1", "EUR", "authorized", 1_000, 0, 0, 0)
    report = reconcile([facts], store.all_entries(), [], PostingRules(fees=FEES))
    assert [m.kind for m in report.mismatches] == ["event_missing"]  # only the event


# ------------------------------------------------------------------ item 10: service charge


@pytest.mark.parametrize(
    ("merchant", "amount", "currency", "fee"),
    [
        ("m_1", 10_000, "EUR", 165),  # 1.40 % of EUR 100.00 = 140 + 25
        ("m_1", 1_234, "EUR", 42),  # 17.276 rounds to 17, + 25
        ("m_1", 1_250, "EUR", 43),  # 17.5 rounds half up to 18, + 25
        ("m_1", 1_234, "JPY", 66),  # JPY has no minor unit: 35.786 -> 36, + 30 yen
        ("m_1", 12_345, "KWD", 285),  # KWD has three: 185.175 -> 185, + 0.100 KWD = 100
        ("m_vip", 10_000, "EUR", 96),  # the merchant's own rate (0.955 %), no fixed part
        ("m_1", 10_000, "USD", 0),  # no rate for USD: nothing charged
        ("m_1", 10, "EUR", 10),  # never more than the amount captured
    ],
)
def test_the_service_charge_rounds_in_minor_units(
    merchant: str, amount: int, currency: str, fee: int
) -> None:
    assert FEES.charge(merchant, amount, currency) == fee


@pytest.mark.parametrize(
    "raw",
    [
        {"default": {"EUR": {"bps": 140, "fixed": "0.255"}}},  # finer than a cent
        {"default": {"JPY": {"bps": 140, "fixed": "0.5"}}},  # yen have no fraction
        {"default": {"EUR": {"bps": 10_001}}},  # above 100 %
        {"default": {"EUR": {"bps": -1}}},
        {"default": {"EUR": {"bps": True}}},
        {"default": {"EUR": {"bps": "NaN"}}},
        {"default": {"XXX1": {"bps": 1}}},  # not a currency
        {"default": {"EUR": {"fixed": "1"}}},  # no rate
        {"defaults": {}},  # unknown key
    ],
)
def test_a_fee_schedule_that_cannot_be_applied_is_refused(raw: object) -> None:
    with pytest.raises(FeeScheduleError):
        FeeSchedule.from_config(raw)


def test_the_schedule_is_read_from_json_with_decimal_rates() -> None:
    schedule = FeeSchedule.from_json('{"default": {"EUR": {"bps": 1.45, "fixed": "0"}}}')
    assert schedule.rate("m_1", "EUR") == ServiceCharge(Decimal("1.45"), 0)
    assert FeeSchedule.from_json("").charge("m_1", 10_000, "EUR") == 0
    with pytest.raises(FeeScheduleError):
        FeeSchedule.from_json("{")


def test_a_sale_books_its_service_charge_inside_its_one_entry() -> None:
    service, store = ledger()
    entry = service.record_sale("pay_1", "m_1", 10_000, "EUR", at=AT)
    assert store.all_entries() == [entry]  # one entry, one transaction: no extra write
    assert logical_balances([entry]) == {
        ("acquirer_receivable", "EUR"): 10_000,
        ("merchant_payable:m_1", "EUR"): -9_835,
        ("msc_income", "EUR"): -165,
    }
    # The position measures the captured amount, not the payable net of the charge.
    assert store.stored_position("pay_1")["refundable"] == 10_000


def test_a_refund_does_not_return_the_charge_and_compensation_does() -> None:
    service, store = ledger()
    service.record_authorization("pay_1", "m_1", 10_000, "EUR")
    service.record_capture("pay_1", "m_1", 10_000, "EUR", 1)
    service.record_refund("pay_1", "m_1", 10_000, "EUR", "re_1")
    held = logical_balances(store.all_entries())
    assert held["msc_income", "EUR"] == -165
    assert held["merchant_payable:m_1", "EUR"] == 165  # the merchant owes the charge
    other, other_store = ledger()
    other.record_sale("pay_2", "m_1", 10_000, "EUR")
    other.reverse_all("pay_2")
    assert all(v == 0 for v in logical_balances(other_store.all_entries()).values())


def test_a_changed_schedule_neither_conflicts_nor_reports_a_posted_charge() -> None:
    service, store = ledger()
    service.record_sale("pay_1", "m_1", 10_000, "EUR")
    cheaper = PostingRules(fees=FeeSchedule.from_config({"default": {"EUR": {"bps": 50}}}))
    # A retried step under the new schedule answers the entry already posted.
    PaymentLedger(store, cheaper).record_sale("pay_1", "m_1", 10_000, "EUR")
    assert len(store.all_entries()) == 1
    facts = PaymentFacts(
        "pay_1", "m_1", "EUR", "captured", 10_000, 10_000, 0, 0, ((1, 10_000),), sale=True
    )
    report = reconcile([facts], store.all_entries(), [], cheaper)
    assert not [m for m in report.mismatches if m.kind.startswith("ledger")]
    # Another amount is still a difference.
    wrong = cheaper.sale("pay_1", "m_1", 9_000, "EUR")
    assert not same_movement(wrong, store.all_entries()[0])


# ------------------------------------------------------------------------------------ dates


def test_entries_carry_their_business_time_and_value_date() -> None:
    service, _ = ledger()
    entry = service.record_sale("pay_1", "m_1", 1_000, "EUR", at="2026-11-30T23:59:59.000+01:00")
    assert entry.effective_at == "2026-11-30T23:59:59.000+01:00"
    assert entry.value_date == "2026-11-30"  # the UTC day: 22:59:59Z
    clocked = PostingRules(clock=lambda: "2026-12-01T00:00:01.000+00:00").sale(
        "pay_2", "m_1", 1, "EUR"
    )
    assert (clocked.effective_at, clocked.value_date) == (
        "2026-12-01T00:00:01.000+00:00",
        "2026-12-01",
    )
    with pytest.raises(LedgerRuleError):
        PostingRules().sale("pay_3", "m_1", 1, "EUR", at="2026-11-30T10:00:00")  # no offset


def test_a_replay_with_other_dates_is_the_same_entry() -> None:
    service, store = ledger()
    first = service.record_sale("pay_1", "m_1", 1_000, "EUR", at=AT)
    assert store.post(first.dated("2026-12-05T10:00:00.000+00:00")) is False
    assert store.all_entries()[0].effective_at == AT  # the first posting's dates stand


def test_balances_as_of_a_cut_off() -> None:
    service, store = ledger(fees=None)
    service.record_sale("pay_1", "m_1", 1_000, "EUR", at="2026-11-29T12:00:00.000+00:00")
    service.record_sale("pay_2", "m_1", 500, "EUR", at="2026-11-30T12:00:00.000+00:00")
    service.record_refund("pay_1", "m_1", 200, "EUR", "re_1", at="2026-12-01T08:00:00.000+00:00")
    entries = store.all_entries()
    assert balances_as_of(entries, "2026-11-28") == {}
    assert balances_as_of(entries, "2026-11-29")["merchant_payable:m_1", "EUR"] == -1_000
    assert balances_as_of(entries, "2026-11-30")["merchant_payable:m_1", "EUR"] == -1_500
    assert balances_as_of(entries, "2026-12-01")["merchant_payable:m_1", "EUR"] == -1_300
    assert balances_as_of(entries, "2026-11-30", basis="effective") == balances_as_of(
        entries, "2026-11-30"
    )
    with pytest.raises(LedgerRuleError):
        balances_as_of(entries, "30/11/2026")


def test_a_repaired_entry_is_dated_when_the_record_says_it_happened() -> None:
    facts = PaymentFacts(
        "pay_1",
        "m_1",
        "EUR",
        "captured",
        1_000,
        1_000,
        0,
        0,
        ((1, 1_000),),
        sale=True,
        occurred_at=(("sale", AT),),
    )
    report = reconcile([facts], [], [], PostingRules(fees=FEES))
    (repair,) = [m.repair for m in report.repairable() if m.repair and m.repair.entry]
    assert repair.entry is not None and repair.entry.effective_at == AT
