"""Reconciliation of the payments table, the ledger and the published events."""

from __future__ import annotations

import dataclasses
import json

from functions.domain.ledger import (
    EntryKind,
    InMemoryLedgerStore,
    JournalEntry,
    JournalLine,
    PaymentLedger,
    PostingRules,
)
from functions.domain.reconciliation import (
    AUTHORIZED,
    CANCELED,
    CAPTURED,
    DECLINED,
    REFUNDED,
    REQUIRES_ACTION,
    Mismatch,
    MismatchKind,
    PaymentFacts,
    PublishedEvent,
    RepairAction,
    expected_entries,
    reconcile,
)

RULES = PostingRules()

CAPTURED_PAYMENT = PaymentFacts(
    payment_id="pay_1",
    merchant_id="m_1",
    currency="EUR",
    status="partially_refunded",
    authorized=1000,
    captured=700,
    refunded=200,
    voided=300,
    captures=((1, 400), (2, 300)),
    refunds=(("re_1", 200),),
)
DECLINED_PAYMENT = PaymentFacts("pay_2", "m_1", "EUR", "declined", 0, 0, 0, 0)
COMPENSATED_PAYMENT = PaymentFacts("pay_3", "m_2", "JPY", "failed", 500, 0, 0, 0, compensated=True)
PENDING_3DS = PaymentFacts("pay_4", "m_2", "USD", "requires_action", 0, 0, 0, 0)
CANCELED_PAYMENT = PaymentFacts("pay_5", "m_1", "EUR", "canceled", 800, 0, 0, 800)
ALL = [CAPTURED_PAYMENT, DECLINED_PAYMENT, COMPENSATED_PAYMENT, PENDING_3DS, CANCELED_PAYMENT]


def clean_ledger() -> InMemoryLedgerStore:
    """The ledger as the workflow writes it for ALL."""
    store = InMemoryLedgerStore()
    ledger = PaymentLedger(store, RULES)
    ledger.record_authorization("pay_1", "m_1", 1000, "EUR")
    ledger.record_capture("pay_1", "m_1", 400, "EUR", 1)
    ledger.record_capture("pay_1", "m_1", 300, "EUR", 2)
    ledger.record_void("pay_1", "m_1", "EUR")
    ledger.record_refund("pay_1", "m_1", 200, "EUR", "re_1")
    ledger.record_authorization("pay_3", "m_2", 500, "JPY")
    ledger.reverse_all("pay_3")
    ledger.record_authorization("pay_5", "m_1", 800, "EUR")
    ledger.record_void("pay_5", "m_1", "EUR")
    return store


def clean_events() -> list[PublishedEvent]:
    return [
        PublishedEvent("ev_1", AUTHORIZED, "pay_1", 1000),
        PublishedEvent("ev_2", CAPTURED, "pay_1", 400),
        PublishedEvent("ev_3", CAPTURED, "pay_1", 300),
        PublishedEvent("ev_4", REFUNDED, "pay_1", 200),
        PublishedEvent("ev_5", DECLINED, "pay_2", None),
        PublishedEvent("ev_6", REQUIRES_ACTION, "pay_4", None),
        PublishedEvent("ev_7", AUTHORIZED, "pay_5", 800),
        PublishedEvent("ev_8", CANCELED, "pay_5", None),
    ]


def kinds(mismatches: list[Mismatch]) -> list[MismatchKind]:
    return [m.kind for m in mismatches]


def test_a_consistent_set_is_ok() -> None:
    store = clean_ledger()
    report = reconcile(
        ALL,
        store.all_entries(),
        [*clean_events(), clean_events()[0]],  # a duplicate delivery is one event
        RULES,
        balances=store.all_balances(),
    )
    assert report.ok, report.to_dict()
    assert report.checked_payments == 5
    assert report.repairable() == []
    assert report.to_dict() == {"checked_payments": 5, "ok": True, "counts": {}, "mismatches": []}


def test_missing_entries_are_repaired_with_the_exact_entries_in_posting_order() -> None:
    store = clean_ledger()
    dropped = {"pay_1#capture-2", "pay_1#refund-re_1", "pay_3#reversal-authorization"}
    entries = [e for e in store.all_entries() if e.entry_id not in dropped]
    report = reconcile(ALL, entries, clean_events(), RULES)
    assert kinds(report.mismatches) == [MismatchKind.LEDGER_ENTRY_MISSING] * 3
    repairs = [m.repair for m in report.repairable()]
    assert all(r is not None and r.action == RepairAction.POST_ENTRY for r in repairs)
    posted = [r.entry for r in repairs if r is not None]
    assert [e.entry_id for e in posted if e is not None] == [
        "pay_1#capture-2",
        "pay_1#refund-re_1",
        "pay_3#reversal-authorization",
    ]
    # applying the repairs gives back the ledger the workflow would have written
    fresh = InMemoryLedgerStore()
    for entry in entries:
        fresh.post(entry)
    for repaired in posted:
        assert repaired is not None and fresh.post(repaired)
    assert fresh.all_balances() == store.all_balances()
    assert reconcile(ALL, fresh.all_entries(), clean_events(), RULES).ok


def test_compensated_payments_expect_every_entry_reversed() -> None:
    facts = dataclasses.replace(CAPTURED_PAYMENT, compensated=True)
    expected = expected_entries(facts, RULES)
    reversals = [e for e in expected if e.kind is EntryKind.REVERSAL]
    assert [e.step for e in reversals] == [
        "reversal-refund-re_1",
        "reversal-void",
        "reversal-capture-2",
        "reversal-capture-1",
        "reversal-authorization",
    ]
    report = reconcile([facts], clean_ledger().entries_for("pay_1"), [], RULES)
    missing = [m for m in report.mismatches if m.kind is MismatchKind.LEDGER_ENTRY_MISSING]
    assert len(missing) == 5
    # a compensated payment does not expect its authorization event
    assert AUTHORIZED not in {m.repair.event_type for m in report.repairable() if m.repair}


def test_amounts_that_differ_are_reported_not_repaired() -> None:
    store = clean_ledger()
    record = dataclasses.replace(CAPTURED_PAYMENT, captures=((1, 450), (2, 300)), captured=750)
    report = reconcile([record], store.entries_for("pay_1"), clean_events()[:4], RULES)
    differs = [m for m in report.mismatches if m.kind is MismatchKind.LEDGER_AMOUNT_DIFFERS]
    assert len(differs) == 1
    assert differs[0].repair is None
    assert "pay_1#capture-1" in differs[0].detail and "450" in differs[0].detail
    # the record's captured event of 450 is missing and the ledger's 400 event unexpected
    assert sorted(kinds(report.mismatches)) == sorted(
        [
            MismatchKind.LEDGER_AMOUNT_DIFFERS,
            MismatchKind.EVENT_MISSING,
            MismatchKind.EVENT_UNEXPECTED,
        ]
    )


def test_entries_the_record_does_not_show_are_reported() -> None:
    store = clean_ledger()
    extra = RULES.refund("pay_1", "m_1", 50, "EUR", "re_ghost")
    store.post(extra)
    report = reconcile(ALL, store.all_entries(), clean_events(), RULES)
    assert kinds(report.mismatches) == [MismatchKind.LEDGER_AMOUNT_DIFFERS]
    assert "pay_1#refund-re_ghost" in report.mismatches[0].detail
    assert report.repairable() == []


def test_ledger_entries_of_unknown_payments_are_reported() -> None:
    store = clean_ledger()
    report = reconcile(ALL[1:], store.all_entries(), clean_events()[4:], RULES)
    assert set(kinds(report.mismatches)) == {MismatchKind.LEDGER_WITHOUT_PAYMENT}
    assert {m.payment_id for m in report.mismatches} == {"pay_1"}
    assert len(report.mismatches) == 5
    assert report.repairable() == []


def corrupt(entry: JournalEntry, lines: tuple[JournalLine, ...]) -> JournalEntry:
    """An entry as a hand-edited table row might hold it: built without its checks."""
    broken = object.__new__(JournalEntry)
    for field in dataclasses.fields(JournalEntry):
        object.__setattr__(broken, field.name, getattr(entry, field.name))
    object.__setattr__(broken, "lines", lines)
    return broken


def test_unbalanced_entries_and_balance_drift_are_reported() -> None:
    store = clean_ledger()
    entries = store.all_entries()
    auth = entries[0]
    short = (auth.lines[0], JournalLine(auth.lines[1].account, "EUR", 0, 900))
    entries[0] = corrupt(auth, short)
    report = reconcile(ALL, entries, clean_events(), RULES, balances=store.all_balances())
    assert kinds(report.mismatches) == [
        MismatchKind.ENTRY_UNBALANCED,
        MismatchKind.LEDGER_AMOUNT_DIFFERS,
        MismatchKind.BALANCE_DRIFT,
    ]
    assert "{'EUR': 100}" in report.mismatches[0].detail
    assert "merchant_pending:m_1 EUR" in report.mismatches[2].detail
    assert report.repairable() == []


def test_balance_drift_compares_logical_accounts() -> None:
    store = clean_ledger()
    drifted = dict(store.all_balances())
    shard = next(a for a, c in drifted if a.startswith("acquirer_receivable#"))
    drifted[shard, "EUR"] += 1
    report = reconcile(ALL, store.all_entries(), clean_events(), RULES, balances=drifted)
    # One unit appeared from nowhere: the stored accounts no longer sum to zero either.
    assert kinds(report.mismatches) == [
        MismatchKind.TRIAL_BALANCE_NOT_ZERO,
        MismatchKind.BALANCE_DRIFT,
    ]
    assert all(m.payment_id is None for m in report.mismatches)
    assert report.mismatches[1].detail.startswith("acquirer_receivable EUR")
    # the same totals on other shards are no drift
    moved = dict(store.all_balances())
    value = moved.pop((shard, "EUR"))
    moved["acquirer_receivable#s99", "EUR"] = value
    assert reconcile(ALL, store.all_entries(), clean_events(), RULES, balances=moved).ok


def test_missing_events_are_repaired_by_publishing() -> None:
    events = [e for e in clean_events() if e.event_id not in {"ev_3", "ev_5", "ev_6", "ev_8"}]
    report = reconcile(ALL, clean_ledger().all_entries(), events, RULES)
    assert set(kinds(report.mismatches)) == {MismatchKind.EVENT_MISSING}
    repairs = [(m.payment_id, m.repair) for m in report.repairable()]
    assert [(pid, r.event_type, r.amount) for pid, r in repairs if r is not None] == [
        ("pay_1", CAPTURED, 300),
        ("pay_2", DECLINED, None),
        ("pay_4", REQUIRES_ACTION, None),
        ("pay_5", CANCELED, None),
    ]
    assert all(r is not None and r.action == "publish_event" for _, r in repairs)


def test_unexpected_events_are_reported() -> None:
    events = [
        *clean_events(),
        PublishedEvent("ev_9", CAPTURED, "pay_2", 100),  # a declined payment captured?
        PublishedEvent("ev_10", AUTHORIZED, "pay_3", 500),  # compensated
        PublishedEvent("ev_11", AUTHORIZED, "pay_unknown", 5),
    ]
    report = reconcile(ALL, clean_ledger().all_entries(), events, RULES)
    assert kinds(report.mismatches) == [MismatchKind.EVENT_UNEXPECTED] * 3
    assert [m.payment_id for m in report.mismatches] == ["pay_2", "pay_3", "pay_unknown"]
    assert report.repairable() == []


def test_an_event_without_amount_stands_for_its_type() -> None:
    events = [
        PublishedEvent("ev_1", AUTHORIZED, "pay_1", None),
        *clean_events()[1:4],
    ]
    report = reconcile([CAPTURED_PAYMENT], clean_ledger().entries_for("pay_1"), events, RULES)
    assert report.ok, report.to_dict()


def test_a_record_the_rules_cannot_post_is_reported() -> None:
    bad = dataclasses.replace(DECLINED_PAYMENT, authorized=100, currency="EURO")
    report = reconcile([bad], [], [clean_events()[4]], RULES)
    assert kinds(report.mismatches) == [
        MismatchKind.LEDGER_AMOUNT_DIFFERS,
        MismatchKind.EVENT_MISSING,
    ]
    assert "cannot be posted" in report.mismatches[0].detail


def test_report_serialises_to_json() -> None:
    store = clean_ledger()
    entries = [e for e in store.all_entries() if e.entry_id != "pay_1#void"]
    report = reconcile(ALL, entries, clean_events()[1:], RULES)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is False
    assert data["counts"] == {"ledger_entry_missing": 1, "event_missing": 1}
    missing = data["mismatches"][0]
    assert missing["kind"] == "ledger_entry_missing"
    assert missing["repair"]["action"] == "post_entry"
    assert missing["repair"]["entry"]["entry_id"] == "pay_1#void"
    assert missing["repair"]["entry"]["lines"][0] == {
        "account": RULES.pending("m_1", "pay_1"),
        "currency": "EUR",
        "debit": 300,
        "credit": 0,
    }
    assert data["mismatches"][1]["repair"] == {
        "action": "publish_event",
        "entry": None,
        "event_type": AUTHORIZED,
        "amount": 1000,
    }
