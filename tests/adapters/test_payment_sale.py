"""A sale in one step (hot path v2): authorize, reserve the capture in the same write, capture,
post the journal entries, answer both events. Every retry of the step is safe: it never asks
the acquirer twice for what is recorded, captures again only after the acquirer said the
capture did not happen, and posts no entry twice."""

from __future__ import annotations

import itertools
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from functions.adapters.payments_table import PaymentsTable
from functions.domain.acquirer import (
    AcquirerTimeoutError,
    AcquirerUnavailableError,
    AuthorizationRequest,
    AuthorizationResult,
)
from functions.domain.ledger import InMemoryLedgerStore, JournalEntry, PaymentLedger, PostingRules
from functions.domain.payments import Payment, PaymentStatus
from functions.services.payment_processing import CaptureOutcomeUnknownError, PaymentProcessor
from tests.adapters import test_payment_steps as steps
from tests.adapters.service_calls import process
from tests.adapters.test_payment_unknown_outcomes import BUS, LostAnswers

table = steps.table


class FailingLedgerStore(InMemoryLedgerStore):
    def post(self, entry: JournalEntry, *, repair: bool = False) -> bool:
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "down"}}, "Tx")


@pytest.fixture
def acquirer() -> LostAnswers:
    return LostAnswers()


@pytest.fixture
def ledger_store() -> InMemoryLedgerStore:
    return InMemoryLedgerStore()


def processor_with(
    table: PaymentsTable, acquirer: LostAnswers, store: InMemoryLedgerStore
) -> PaymentProcessor:
    ticks = itertools.count()
    return PaymentProcessor(
        table,
        acquirer,
        BUS,
        lambda: f"2026-11-22T10:00:{next(ticks) % 60:02d}.000+00:00",
        ledger=PaymentLedger(store, PostingRules(shards=2)),
    )


def sale(processor: PaymentProcessor) -> dict[str, Any]:
    return process({"action": "create", "payment": {**steps.context(), "capture": True}}, processor)


def test_a_sale_captures_posts_and_answers_both_events_once(
    table: PaymentsTable, acquirer: LostAnswers, ledger_store: InMemoryLedgerStore
) -> None:
    processor = processor_with(table, acquirer, ledger_store)
    answer = sale(processor)
    assert answer["payment"]["status"] == "captured"
    assert [e["DetailType"] for e in answer["events"]] == ["payment.authorized", "payment.captured"]
    assert acquirer.executed == {"pay_1:capture:1": 10_000}
    # One entry: the captured funds (the hold was a memo on the payment record).
    assert [e.step for e in ledger_store.entries_for("pay_1")] == ["sale"]
    stored = table.get("pay_1")
    # authorizing with the capture reserved, then authorized and captured: two versions.
    assert stored is not None and stored.version == 1
    again = sale(processor)  # the step retried after it finished
    assert again["payment"] == answer["payment"] and again["events"] == answer["events"]
    # The BIN (never stored) comes from the step's input again: the fraud stream's BIN
    # counters see the retried sale as they saw the first attempt.
    bins = {event["Detail"]["bin"] for event in again["events"]}
    assert bins == {steps.context()["card"]["first6"]} != {None}
    assert acquirer.executed == {"pay_1:capture:1": 10_000}
    assert len(ledger_store.entries_for("pay_1")) == 1


def test_a_capture_the_acquirer_refused_is_captured_again_by_the_retried_step(
    table: PaymentsTable, acquirer: LostAnswers, ledger_store: InMemoryLedgerStore
) -> None:
    processor = processor_with(table, acquirer, ledger_store)
    acquirer.unavailable["capture"] = 1
    with pytest.raises(AcquirerUnavailableError):
        sale(processor)
    stored = table.get("pay_1")
    assert stored is not None and stored.status is PaymentStatus.AUTHORIZED
    answer = sale(processor)
    assert answer["payment"]["status"] == "captured"
    assert acquirer.executed == {"pay_1:capture:2": 10_000}  # a new sequence, a new key


def test_a_lost_capture_answer_is_an_unknown_outcome_never_a_void(
    table: PaymentsTable, acquirer: LostAnswers, ledger_store: InMemoryLedgerStore
) -> None:
    processor = processor_with(table, acquirer, ledger_store)
    acquirer.lose["capture"] = 1
    with pytest.raises(CaptureOutcomeUnknownError):
        sale(processor)
    stored = table.get("pay_1")
    assert stored is not None and stored.status is PaymentStatus.CAPTURE_PENDING
    # Compensation after it leaves the payment pending and voids nothing.
    left = process({"action": "void", "payment_id": "pay_1", "failure": {}}, processor)
    assert left["payment"]["status"] == "capture_pending" and acquirer.voids == []
    # The retried step sends the same key: captured once.
    assert sale(processor)["payment"]["status"] == "captured"
    assert acquirer.executed == {"pay_1:capture:1": 10_000}


def test_a_ledger_outage_alarms_and_does_not_undo_the_sale(
    table: PaymentsTable, acquirer: LostAnswers, caplog: pytest.LogCaptureFixture
) -> None:
    processor = processor_with(table, acquirer, FailingLedgerStore())
    with caplog.at_level(logging.ERROR):
        answer = sale(processor)
    assert answer["payment"]["status"] == "captured"
    alarms = [vars(r) for r in caplog.records if getattr(r, "ledger_alarm", None)]
    assert [a["step"] for a in alarms] == ["capture"]
    assert {a["ledger_alarm"] for a in alarms} == {"posting_failed"}
    assert all(r.levelname == "ERROR" for r in caplog.records if hasattr(r, "ledger_alarm"))


def test_the_alarm_log_matches_the_metric_filter(
    table: PaymentsTable, acquirer: LostAnswers, caplog: pytest.LogCaptureFixture
) -> None:
    processor = processor_with(table, acquirer, FailingLedgerStore())
    with caplog.at_level(logging.ERROR):
        sale(processor)
    logged = next(vars(r) for r in caplog.records if getattr(r, "ledger_alarm", None))
    alarms = Path("modules/payment_workflow/alarms.tf").read_text()
    # alarms.tf's invariant_alarms entry: the function whose log it reads, and its pattern.
    pattern = re.search(
        r'ledger_posting_failed = \{\s*function\s*=\s*"(\w+)"\s*'
        r'pattern\s*=\s*"\{ \$\.(\w+) = \\"(\w+)\\" \}"',
        alarms,
    )
    assert pattern is not None, "the metric filter pattern changed shape"
    assert pattern[1] == "process_payment"
    assert logged[pattern[2]] == pattern[3]


def test_a_compensated_sale_reverses_its_entries(
    table: PaymentsTable, acquirer: LostAnswers, ledger_store: InMemoryLedgerStore
) -> None:
    processor = processor_with(table, acquirer, ledger_store)
    acquirer.unavailable["capture"] = 2
    for _ in range(2):
        with pytest.raises(AcquirerUnavailableError):
            sale(processor)
    failure = {"Error": "AcquirerUnavailableError", "Cause": "{}"}
    answer = process({"action": "void", "payment_id": "pay_1", "failure": failure}, processor)
    assert answer["payment"]["status"] == "canceled"
    # The capture never happened: the authorization moved no money and left no entry.
    assert ledger_store.entries_for("pay_1") == []
    assert acquirer.voids


class StepDiedError(Exception):
    """Stands for the Lambda ending mid-step (a crash or its timeout): nothing after runs."""


class DiesBeforeRecording(PaymentsTable):
    """A step that dies after the acquirer answered, before its write (the Lambda timed out or
    crashed): the next ``dies`` writes of a non-``authorizing`` record never happen."""

    dies = 1

    def save(self, payment: Payment) -> None:
        if self.dies and payment.status is not PaymentStatus.AUTHORIZING:
            self.dies -= 1
            raise StepDiedError("the step died before its write")
        super().save(payment)


@pytest.fixture
def dying_table(table: PaymentsTable) -> DiesBeforeRecording:
    return DiesBeforeRecording(table._client, table._table)


def test_a_sale_that_died_after_its_capture_is_never_voided_and_its_retry_captures_once(
    dying_table: DiesBeforeRecording, acquirer: LostAnswers, ledger_store: InMemoryLedgerStore
) -> None:
    processor = processor_with(dying_table, acquirer, ledger_store)
    with pytest.raises(StepDiedError):
        sale(processor)
    stored = dying_table.get("pay_1")
    # One write so far: authorizing, with the capture the acquirer then took.
    assert stored is not None and stored.status is PaymentStatus.AUTHORIZING
    assert stored.capture_may_be_pending and acquirer.executed == {"pay_1:capture:1": 10_000}
    # Compensation asks the acquirer under the capture key: captured, so nothing is voided and
    # the sale is finished from the acquirer's record, as the step would have recorded it.
    compensate = {
        "action": "void",
        "payment_id": "pay_1",
        "failure": {},
        "payment": {**steps.context(), "capture": True},  # the step's input, as the workflow's
    }
    finished = process(compensate, processor)
    assert finished["payment"]["status"] == "captured" and acquirer.voids == []
    assert [e["DetailType"] for e in finished["events"]] == [
        "payment.authorized",
        "payment.captured",
    ]
    assert [e.step for e in ledger_store.entries_for("pay_1")] == ["sale"]
    # The step retried after that (or the compensation retried) answers the same sale:
    # one capture, one entry, the same events.
    again = sale(processor)
    assert again["payment"] == finished["payment"] and again["events"] == finished["events"]
    retried = process(compensate, processor)
    assert retried["payment"] == finished["payment"] and retried["events"] == finished["events"]
    assert acquirer.executed == {"pay_1:capture:1": 10_000} and acquirer.voids == []
    assert [e.step for e in ledger_store.entries_for("pay_1")] == ["sale"]


def test_a_sale_that_died_before_its_capture_is_voided_by_compensation(
    table: PaymentsTable,
    acquirer: LostAnswers,
    ledger_store: InMemoryLedgerStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    processor = processor_with(table, acquirer, ledger_store)

    def lost(request: AuthorizationRequest) -> AuthorizationResult:
        raise AcquirerTimeoutError()  # the authorization's answer never came: no capture sent

    monkeypatch.setattr(acquirer, "authorize", lost)
    with pytest.raises(AcquirerTimeoutError):
        sale(processor)
    stored = table.get("pay_1")
    assert stored is not None and stored.capture_may_be_pending
    failure = {"Error": "AcquirerTimeoutError", "Cause": "{}"}
    answer = process({"action": "void", "payment_id": "pay_1", "failure": failure}, processor)
    assert answer["payment"]["status"] == "failed" and acquirer.voids
    assert acquirer.executed == {} and ledger_store.entries_for("pay_1") == []
