"""The ledger's accounts, entries, posting rules, in-memory store and payment service."""

from __future__ import annotations

import hashlib

import pytest

from functions.domain.ledger import (
    ConflictingEntryError,
    EntryKind,
    InMemoryLedgerStore,
    JournalEntry,
    JournalLine,
    LedgerRuleError,
    PaymentLedger,
    PaymentPosition,
    PositionLimitError,
    PostingRules,
    UnbalancedEntryError,
    acquirer_receivable,
    authorization_holds,
    balances,
    kind_of_step,
    logical_account,
    logical_balances,
    merchant_pending,
    movement,
    position,
    shard_of,
)
from tests.unit.ledger.interleaving import InterleaveAfterRead

RULES = PostingRules()
HOLDS = authorization_holds("pay_1")
RECEIVABLE = acquirer_receivable("pay_1")
PENDING = RULES.pending("m_1", "pay_1")  # the merchant's shard for this payment
PAYABLE = RULES.payable("m_1", "pay_1")


def make_ledger() -> tuple[PaymentLedger, InMemoryLedgerStore]:
    store = InMemoryLedgerStore()
    return PaymentLedger(store, RULES), store


def line(account: str, debit: int = 0, credit: int = 0, currency: str = "EUR") -> JournalLine:
    return JournalLine(account, currency, debit, credit)


# ------------------------------------------------------------------------------ accounts


def test_shards_are_a_stable_sha256_of_the_payment_id() -> None:
    expected = int.from_bytes(hashlib.sha256(b"pay_1").digest()[:8], "big") % 8
    assert shard_of("pay_1") == expected
    assert authorization_holds("pay_1") == f"authorization_holds#s{expected}"
    assert acquirer_receivable("pay_1") == f"acquirer_receivable#s{expected}"
    assert authorization_holds("pay_1", shards=1) == "authorization_holds#s0"
    assert len({shard_of(f"pay_{i}") for i in range(200)}) == 8  # every shard is used


def test_logical_account_strips_only_the_shard_suffix() -> None:
    assert logical_account("authorization_holds#s7") == "authorization_holds"
    assert logical_account("acquirer_receivable#s12") == "acquirer_receivable"
    assert logical_account("merchant_pending:m_1") == "merchant_pending:m_1"
    assert logical_account("merchant_payable:s1") == "merchant_payable:s1"


@pytest.mark.parametrize("merchant_id", ["", "m#s1"])
def test_merchant_ids_cannot_be_empty_or_hold_a_separator(merchant_id: str) -> None:
    with pytest.raises(LedgerRuleError):
        merchant_pending(merchant_id)


# ------------------------------------------------------------------------ lines, entries


@pytest.mark.parametrize(
    ("debit", "credit", "currency"),
    [
        (0, 0, "EUR"),
        (5, 5, "EUR"),
        (-5, 0, "EUR"),
        (0, True, "EUR"),
        (5, 0, "XYZ"),
        (1.5, 0, "EUR"),
    ],
)
def test_a_line_is_a_debit_or_a_credit_in_a_known_currency(
    debit: int, credit: int, currency: str
) -> None:
    with pytest.raises(LedgerRuleError):
        JournalLine("acct", currency, debit, credit)


def test_an_entry_must_balance_per_currency() -> None:
    with pytest.raises(UnbalancedEntryError, match="EUR"):
        JournalEntry(
            "p#void", "p", EntryKind.VOID, "void", (line("cash", 5), line("msc_income", credit=4))
        )
    # balanced in total, not per currency
    with pytest.raises(UnbalancedEntryError):
        JournalEntry(
            "p#void",
            "p",
            EntryKind.VOID,
            "void",
            (line("cash", 5), line("msc_income", credit=5, currency="USD")),
        )
    ok = JournalEntry(
        "p#void",
        "p",
        EntryKind.VOID,
        "void",
        (
            line("cash", 5),
            line("msc_income", credit=5),
            line("cash", 7, currency="USD"),
            line("acquirer_receivable", credit=3, currency="USD"),
            line("merchant_payable:m_1", credit=4, currency="USD"),
        ),
    )
    assert ok.amount() == 12


@pytest.mark.parametrize(
    ("entry_id", "kind", "step", "reverses", "lines"),
    [
        ("p#x", EntryKind.VOID, "void", None, 2),  # entry id is not payment#step
        ("p#void", EntryKind.VOID, "void", None, 1),  # a single line
        ("p#void", EntryKind.CAPTURE, "void", None, 2),  # the step names another kind
        ("p#capture-a", EntryKind.CAPTURE, "capture-a", None, 2),  # sequence is not a number
        ("p#void", EntryKind.VOID, "void", "p#authorization", 2),  # only reversals reverse
        ("p#reversal-void", EntryKind.REVERSAL, "reversal-void", None, 2),  # names no target
        ("p#reversal-void", EntryKind.REVERSAL, "reversal-void", "p#capture-1", 2),
        (
            "p#reversal-reversal-void",
            EntryKind.REVERSAL,
            "reversal-reversal-void",
            "p#reversal-void",
            2,
        ),
    ],
)
def test_entry_shape_is_checked(
    entry_id: str, kind: EntryKind, step: str, reverses: str | None, lines: int
) -> None:
    body = (line("cash", 5), line("msc_income", credit=5))[:lines]
    with pytest.raises(LedgerRuleError):
        JournalEntry(entry_id, "p", kind, step, body, reverses)


def test_payment_ids_cannot_hold_the_entry_id_separator() -> None:
    with pytest.raises(LedgerRuleError):
        RULES.authorization("pay#1", "m_1", 100, "EUR")


def test_kind_of_step() -> None:
    assert kind_of_step("authorization") is EntryKind.AUTHORIZATION
    assert kind_of_step("capture-12") is EntryKind.CAPTURE
    assert kind_of_step("refund-re_abc") is EntryKind.REFUND
    assert kind_of_step("reversal-capture-1") is EntryKind.REVERSAL
    for bad in ("capture-", "refund-", "settle", "capture-x"):
        with pytest.raises(LedgerRuleError):
            kind_of_step(bad)


# -------------------------------------------------------------------------- posting rules


def test_authorization_holds_the_amount_for_the_merchant() -> None:
    entry = RULES.authorization("pay_1", "m_1", 1050, "EUR")
    assert (entry.entry_id, entry.kind, entry.step) == (
        "pay_1#authorization",
        EntryKind.AUTHORIZATION,
        "authorization",
    )
    assert entry.lines == (line(HOLDS, 1050), line(PENDING, credit=1050))
    assert entry.amount() == movement(entry) == 1050


def test_capture_releases_the_hold_and_books_the_payable() -> None:
    entry = RULES.capture("pay_1", "m_1", 400, "EUR", sequence=2)
    assert (entry.entry_id, entry.kind) == ("pay_1#capture-2", EntryKind.CAPTURE)
    assert entry.lines == (
        line(PENDING, 400),
        line(HOLDS, credit=400),
        line(RECEIVABLE, 400),
        line(PAYABLE, credit=400),
    )
    assert entry.amount() == 800  # total debits: four lines
    assert movement(entry) == 400


def test_void_and_refund() -> None:
    void = RULES.void("pay_1", "m_1", 300, "EUR")
    assert void.entry_id == "pay_1#void"
    assert void.lines == (line(PENDING, 300), line(HOLDS, credit=300))
    refund = RULES.refund("pay_1", "m_1", 200, "EUR", "re_abc")
    assert (refund.entry_id, refund.step) == ("pay_1#refund-re_abc", "refund-re_abc")
    assert refund.lines == (line(PAYABLE, 200), line(RECEIVABLE, credit=200))


def test_reversal_swaps_every_line_and_cannot_itself_be_reversed() -> None:
    capture = RULES.capture("pay_1", "m_1", 400, "EUR", sequence=1)
    reversal = RULES.reversal(capture)
    assert (reversal.entry_id, reversal.step, reversal.reverses, reversal.kind) == (
        "pay_1#reversal-capture-1",
        "reversal-capture-1",
        "pay_1#capture-1",
        EntryKind.REVERSAL,
    )
    assert [(x.debit, x.credit) for x in reversal.lines] == [
        (x.credit, x.debit) for x in capture.lines
    ]
    assert balances([capture, reversal]) == dict.fromkeys(balances([capture]), 0)
    with pytest.raises(LedgerRuleError):
        RULES.reversal(reversal)


@pytest.mark.parametrize("amount", [0, -1, True])
def test_rules_refuse_non_positive_amounts(amount: int) -> None:
    with pytest.raises(LedgerRuleError):
        RULES.authorization("pay_1", "m_1", amount, "EUR")


def test_rules_refuse_bad_currency_sequence_and_shards() -> None:
    with pytest.raises(LedgerRuleError):
        RULES.void("pay_1", "m_1", 1, "EURO")
    with pytest.raises(LedgerRuleError):
        RULES.capture("pay_1", "m_1", 1, "EUR", sequence=0)
    with pytest.raises(LedgerRuleError):
        RULES.refund("pay_1", "m_1", 1, "EUR", "")
    with pytest.raises(LedgerRuleError):
        PostingRules(shards=0)


def test_rules_are_deterministic() -> None:
    assert RULES.capture("pay_1", "m_1", 5, "JPY", 3) == PostingRules().capture(
        "pay_1", "m_1", 5, "JPY", 3
    )


# --------------------------------------------------------------------- balances, position


def test_balances_are_debit_positive_and_sum_to_zero_per_currency() -> None:
    entries = [
        RULES.authorization("pay_1", "m_1", 1000, "EUR"),
        RULES.capture("pay_1", "m_1", 600, "EUR", 1),
        RULES.authorization("pay_2", "m_1", 70, "JPY"),
    ]
    got = balances(entries)
    assert got[HOLDS, "EUR"] == 400
    assert got[PENDING, "EUR"] == -400
    assert got[RECEIVABLE, "EUR"] == 600
    assert got[PAYABLE, "EUR"] == -600
    assert got[authorization_holds("pay_2"), "JPY"] == 70
    for currency in ("EUR", "JPY"):
        assert sum(v for (_, c), v in got.items() if c == currency) == 0
    assert logical_balances(entries)["authorization_holds", "EUR"] == 400


def test_position_is_net_of_reversals() -> None:
    auth = RULES.authorization("pay_1", "m_1", 1000, "EUR")
    cap1 = RULES.capture("pay_1", "m_1", 300, "EUR", 1)
    cap2 = RULES.capture("pay_1", "m_1", 200, "EUR", 2)
    void = RULES.void("pay_1", "m_1", 500, "EUR")
    refund = RULES.refund("pay_1", "m_1", 120, "EUR", "re_1")
    entries = [auth, cap1, cap2, void, refund]
    assert position(entries) == PaymentPosition(1000, 500, 500, 120)
    assert position([*entries, RULES.reversal(cap2), RULES.reversal(refund)]) == (
        PaymentPosition(1000, 300, 500, 0)
    )
    assert position([*entries, *(RULES.reversal(e) for e in entries)]) == PaymentPosition()


# -------------------------------------------------------------------------------- the store


def test_store_posts_once_and_recognises_a_replay() -> None:
    store = InMemoryLedgerStore()
    auth = RULES.authorization("pay_1", "m_1", 1000, "EUR")
    assert store.post(auth) is True
    assert store.post(RULES.authorization("pay_1", "m_1", 1000, "EUR")) is False
    assert store.balance("authorization_holds", "EUR") == 1000
    assert store.balance(HOLDS, "EUR") == 1000
    assert store.balance("merchant_pending:m_1", "EUR") == -1000
    assert store.balance("merchant_pending:m_1", "USD") == 0
    assert store.entries_for("pay_1") == [auth]
    with pytest.raises(ConflictingEntryError):
        store.post(RULES.authorization("pay_1", "m_1", 999, "EUR"))
    assert store.balance("authorization_holds", "EUR") == 1000


def test_sharded_balance_sums_every_shard() -> None:
    store = InMemoryLedgerStore()
    payments = [f"pay_{i}" for i in range(20)]
    for pid in payments:
        store.post(RULES.authorization(pid, "m_1", 10, "EUR"))
    assert len({authorization_holds(pid) for pid in payments}) > 1
    assert store.balance("authorization_holds", "EUR") == 200


# ------------------------------------------------------------------------------ the service


def test_capture_up_to_the_authorized_amount_then_refused() -> None:
    ledger, _ = make_ledger()
    ledger.record_authorization("pay_1", "m_1", 1000, "EUR")
    ledger.record_capture("pay_1", "m_1", 600, "EUR", 1)
    with pytest.raises(LedgerRuleError, match="exceeds"):
        ledger.record_capture("pay_1", "m_1", 401, "EUR", 2)
    ledger.record_capture("pay_1", "m_1", 400, "EUR", 2)
    assert ledger.position("pay_1") == PaymentPosition(1000, 1000, 0, 0)


def test_capture_without_authorization_is_refused() -> None:
    ledger, store = make_ledger()
    with pytest.raises(LedgerRuleError):
        ledger.record_capture("pay_1", "m_1", 1, "EUR", 1)
    assert store.all_entries() == []


def test_movements_must_match_the_authorizations_merchant_and_currency() -> None:
    ledger, _ = make_ledger()
    ledger.record_authorization("pay_1", "m_1", 1000, "EUR")
    with pytest.raises(LedgerRuleError, match="another merchant"):
        ledger.record_capture("pay_1", "m_2", 100, "EUR", 1)
    with pytest.raises(LedgerRuleError, match="another merchant"):
        ledger.record_capture("pay_1", "m_1", 100, "USD", 1)


def test_replays_return_the_posted_entry_even_past_the_limits() -> None:
    ledger, store = make_ledger()
    ledger.record_authorization("pay_1", "m_1", 1000, "EUR")
    capture = ledger.record_capture("pay_1", "m_1", 1000, "EUR", 1)
    refund = ledger.record_refund("pay_1", "m_1", 1000, "EUR", "re_1")
    before = store.all_balances()
    assert ledger.record_capture("pay_1", "m_1", 1000, "EUR", 1) == capture
    assert ledger.record_refund("pay_1", "m_1", 1000, "EUR", "re_1") == refund
    assert ledger.record_authorization("pay_1", "m_1", 1000, "EUR").step == "authorization"
    assert store.all_balances() == before
    with pytest.raises(ConflictingEntryError):
        ledger.record_capture("pay_1", "m_1", 999, "EUR", 1)


def test_void_releases_the_uncaptured_remainder_once() -> None:
    ledger, store = make_ledger()
    assert ledger.record_void("pay_1", "m_1", "EUR") is None  # nothing authorized
    ledger.record_authorization("pay_1", "m_1", 1000, "EUR")
    ledger.record_capture("pay_1", "m_1", 300, "EUR", 1)
    void = ledger.record_void("pay_1", "m_1", "EUR")
    assert void is not None and movement(void) == 700
    assert ledger.record_void("pay_1", "m_1", "EUR") == void
    assert ledger.position("pay_1") == PaymentPosition(1000, 300, 700, 0)
    assert store.balance("authorization_holds", "EUR") == 0
    with pytest.raises(LedgerRuleError):
        ledger.record_capture("pay_1", "m_1", 1, "EUR", 2)


def test_void_of_a_fully_captured_payment_is_none() -> None:
    ledger, _ = make_ledger()
    ledger.record_authorization("pay_1", "m_1", 500, "EUR")
    ledger.record_capture("pay_1", "m_1", 500, "EUR", 1)
    assert ledger.record_void("pay_1", "m_1", "EUR") is None


def test_refunds_are_limited_to_the_captured_amount() -> None:
    ledger, _ = make_ledger()
    ledger.record_authorization("pay_1", "m_1", 1000, "EUR")
    with pytest.raises(LedgerRuleError):
        ledger.record_refund("pay_1", "m_1", 1, "EUR", "re_0")
    ledger.record_capture("pay_1", "m_1", 500, "EUR", 1)
    ledger.record_refund("pay_1", "m_1", 300, "EUR", "re_1")
    with pytest.raises(LedgerRuleError, match="exceeds"):
        ledger.record_refund("pay_1", "m_1", 201, "EUR", "re_2")
    ledger.record_refund("pay_1", "m_1", 200, "EUR", "re_2")
    assert ledger.position("pay_1").refunded == 500


def test_reverse_all_reverses_newest_first_and_is_idempotent() -> None:
    ledger, store = make_ledger()
    ledger.record_authorization("pay_1", "m_1", 1000, "EUR")
    for sequence in range(1, 12):  # sequence 10 and 11 sort after 9, not after 1
        ledger.record_capture("pay_1", "m_1", 10, "EUR", sequence)
    ledger.record_refund("pay_1", "m_1", 50, "EUR", "re_1")
    ledger.record_void("pay_1", "m_1", "EUR")
    ledger.record_authorization("pay_2", "m_1", 70, "EUR")
    reversals = ledger.reverse_all("pay_1")
    assert [r.step for r in reversals] == [
        "reversal-refund-re_1",
        "reversal-void",
        *(f"reversal-capture-{n}" for n in range(11, 0, -1)),
        "reversal-authorization",
    ]
    assert ledger.position("pay_1") == PaymentPosition()
    assert ledger.reverse_all("pay_1") == []
    assert store.balance("authorization_holds", "EUR") == 70
    assert store.balance("merchant_payable:m_1", "EUR") == 0
    assert ledger.record_void("pay_1", "m_1", "EUR") is None
    with pytest.raises(LedgerRuleError):
        ledger.record_capture("pay_1", "m_1", 1, "EUR", 12)


def test_reverse_all_finishes_a_partial_compensation() -> None:
    ledger, store = make_ledger()
    auth = ledger.record_authorization("pay_1", "m_1", 1000, "EUR")
    capture = ledger.record_capture("pay_1", "m_1", 400, "EUR", 1)
    store.post(RULES.reversal(capture))  # a compensation that stopped after one reversal
    assert ledger.reverse_all("pay_1") == [RULES.reversal(auth)]
    assert ledger.position("pay_1") == PaymentPosition()


# ------------------------------------- issue 19 item 2: caps guarded atomically with the write


class InterleavingStore(InterleaveAfterRead, InMemoryLedgerStore):
    pass


def test_two_interleaved_full_refunds_refund_the_capture_once() -> None:
    store = InterleavingStore()
    ledger = PaymentLedger(store, RULES)
    ledger.record_authorization("pay_1", "m_1", 1000, "EUR")
    ledger.record_capture("pay_1", "m_1", 1000, "EUR", 1)
    store.interleave = lambda: ledger.record_refund("pay_1", "m_1", 1000, "EUR", "re_2")
    with pytest.raises(PositionLimitError):
        ledger.record_refund("pay_1", "m_1", 1000, "EUR", "re_1")
    assert ledger.position("pay_1").refunded == 1000
    assert store.balance("acquirer_receivable", "EUR") == 0
    assert store.stored_position("pay_1")["refundable"] == 0


def test_two_interleaved_captures_capture_the_authorization_once() -> None:
    store = InterleavingStore()
    ledger = PaymentLedger(store, RULES)
    ledger.record_authorization("pay_1", "m_1", 1000, "EUR")
    store.interleave = lambda: ledger.record_capture("pay_1", "m_1", 1000, "EUR", 2)
    with pytest.raises(PositionLimitError):
        ledger.record_capture("pay_1", "m_1", 1000, "EUR", 1)
    assert ledger.position("pay_1").captured == 1000


def test_merchant_accounts_are_sharded_like_the_platform_accounts() -> None:
    rules = PostingRules(shards=4)
    accounts = {
        line.account
        for n in range(40)
        for line in rules.capture(f"pay_{n}", "m_1", 10, "EUR", 1).lines
        if logical_account(line.account) in ("merchant_pending:m_1", "merchant_payable:m_1")
    }
    assert accounts == {
        f"merchant_{kind}:m_1#s{n}" for kind in ("pending", "payable") for n in range(4)
    }
    store = InMemoryLedgerStore()
    ledger = PaymentLedger(store, rules)
    for n in range(8):
        ledger.record_authorization(f"pay_{n}", "m_1", 100, "EUR")
    assert store.balance("merchant_pending:m_1", "EUR") == -800
