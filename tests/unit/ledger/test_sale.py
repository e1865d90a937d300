"""A sale (authorized and captured in one step) is one journal entry: Dr acquirer_receivable /
Cr merchant_payable. The hold an authorization would book and the capture release within the
same step is a memo on the payment record, so the hot path posts one transaction, not two."""

from __future__ import annotations

import pytest

from functions.domain.ledger import (
    EntryKind,
    InMemoryLedgerStore,
    LedgerRuleError,
    PaymentLedger,
    PositionLimitError,
    PostingRules,
    logical_balances,
    position,
)
from functions.domain.reconciliation import (
    PaymentFacts,
    PublishedEvent,
    expected_entries,
    reconcile,
)

RULES = PostingRules()


def ledger() -> tuple[PaymentLedger, InMemoryLedgerStore]:
    store = InMemoryLedgerStore()
    return PaymentLedger(store, RULES), store


def test_a_sale_is_one_entry_on_the_receivable_and_the_payable() -> None:
    service, store = ledger()
    entry = service.record_sale("pay_1", "m_1", 1_000, "EUR")
    assert entry.kind is EntryKind.SALE and entry.entry_id == "pay_1#sale"
    assert len(entry.lines) == 2
    assert logical_balances(store.all_entries()) == {
        ("acquirer_receivable", "EUR"): 1_000,
        ("merchant_payable:m_1", "EUR"): -1_000,
    }
    now = position(store.entries_for("pay_1"))
    assert (now.authorized, now.captured, now.uncaptured) == (1_000, 1_000, 0)
    assert store.stored_position("pay_1")["refundable"] == 1_000


def test_a_replayed_sale_posts_nothing_and_a_sale_is_only_a_first_movement() -> None:
    service, store = ledger()
    service.record_sale("pay_1", "m_1", 1_000, "EUR")
    service.record_sale("pay_1", "m_1", 1_000, "EUR")
    assert len(store.all_entries()) == 1
    service.record_authorization("pay_2", "m_1", 1_000, "EUR")
    with pytest.raises(LedgerRuleError, match="first movement"):
        service.record_sale("pay_2", "m_1", 1_000, "EUR")
    # The store refuses it as well, atomically, when the service's read raced another writer.
    with pytest.raises(PositionLimitError):
        store.post(RULES.sale("pay_2", "m_1", 1_000, "EUR"))


def test_refunds_of_a_sale_never_exceed_what_it_captured() -> None:
    service, store = ledger()
    service.record_sale("pay_1", "m_1", 1_000, "EUR")
    service.record_refund("pay_1", "m_1", 600, "EUR", "re_1")
    with pytest.raises(LedgerRuleError):
        service.record_refund("pay_1", "m_1", 600, "EUR", "re_2")
    with pytest.raises(PositionLimitError):
        store.post(RULES.refund("pay_1", "m_1", 600, "EUR", "re_2"))
    with pytest.raises(LedgerRuleError, match="another merchant"):
        service.record_refund("pay_1", "m_2", 100, "EUR", "re_3")
    assert logical_balances(store.all_entries())["merchant_payable:m_1", "EUR"] == -400


def test_compensation_reverses_a_sale() -> None:
    service, store = ledger()
    service.record_sale("pay_1", "m_1", 1_000, "EUR")
    reversals = service.reverse_all("pay_1")
    assert [r.step for r in reversals] == ["reversal-sale"]
    assert all(v == 0 for v in logical_balances(store.all_entries()).values())


def sale_facts(captured: int, status: str = "captured", compensated: bool = False) -> PaymentFacts:
    return PaymentFacts(
        payment_id="pay_1",
        merchant_id="m_1",
        currency="EUR",
        status=status,
        authorized=1_000,
        captured=captured,
        refunded=0,
        voided=0,
        captures=((1, captured),) if captured else (),
        compensated=compensated,
        sale=True,
    )


def test_the_reconciliation_expects_one_sale_entry_and_no_hold_before_it() -> None:
    assert [e.step for e in expected_entries(sale_facts(1_000), RULES)] == ["sale"]
    # Authorized, capture refused, canceled: the hold was a memo; nothing to book or reverse.
    assert expected_entries(sale_facts(0, "canceled", compensated=True), RULES) == []
    service, store = ledger()
    report = reconcile([sale_facts(1_000)], [], [], RULES)
    assert [m.kind for m in report.mismatches][:1] == ["ledger_entry_missing"]
    service.record_sale("pay_1", "m_1", 1_000, "EUR")
    events: list[PublishedEvent] = []
    report = reconcile([sale_facts(1_000)], store.all_entries(), events, RULES)
    assert "ledger_entry_missing" not in [m.kind for m in report.mismatches]
