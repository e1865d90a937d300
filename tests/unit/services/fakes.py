"""In-memory implementations of the application services' ports (tests only)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from functions.contracts.steps import ProcessAnswer
from functions.domain.acquirer import AcquirerOperation
from functions.domain.ledger import (
    PAYOUT_SUBJECT,
    SETTLEMENT_SUBJECT,
    InMemoryLedgerStore,
    JournalEntry,
)
from functions.domain.payments import InMemoryPaymentStore, Payment, PaymentStatus, new_payment
from functions.domain.reconciliation import PublishedEvent
from functions.services.fraud_scoring import CARD_INDEX, CARD_INDEX_ATTRIBUTE, DEVICE_INDEX
from functions.services.payment_commands import (
    ApiAnswer,
    Execution,
    IdempotencyCommand,
    KeyReusedError,
    RequestInProgressError,
)
from functions.services.reconciliation import HoldKind, Position, open_hold
from functions.services.risk import platform_card_key

NOW = "2026-11-22T10:00:00.000+00:00"


@dataclass
class FakeWorkflow:
    """Answers every execution with the payment it names, captured (or ``answer`` when set),
    after ``delay_s``."""

    runs: list[Execution] = field(default_factory=list)
    answer: ProcessAnswer | None = None
    fail: bool = False
    delay_s: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def calls(self) -> list[tuple[str, dict[str, Any]]]:
        """(execution name, input as the state machine reads it) of every run."""
        return [(execution.name, execution.payload()) for execution in self.runs]

    def run(self, execution: Execution) -> ProcessAnswer:
        with self._lock:
            self.runs.append(execution)
        time.sleep(self.delay_s)
        if self.fail:
            raise RuntimeError("workflow FAILED")
        if self.answer is not None:
            return self.answer
        context = {
            "payment_id": execution.input.payment_id,
            "merchant_id": "m_1",
            "amount": 2_500,
            "currency": "EUR",
            "card": {"token": "tok_1", "brand": "visa", "last4": "4242"},
        }
        payment = new_payment(context, PaymentStatus.CAPTURED, NOW)
        return ProcessAnswer.model_validate({"payment": payment.view()})


@dataclass
class InMemoryIdempotencyStore:
    """Powertools' semantics in a dict: keyed on merchant and key, a repeat must match the
    operation, target and digest; a key in ``in_progress`` is still running."""

    records: dict[tuple[str, str], tuple[tuple[str, str, str], dict[str, Any]]] = field(
        default_factory=dict
    )
    in_progress: set[tuple[str, str]] = field(default_factory=set)

    def once(self, command: IdempotencyCommand, work: Callable[[], ApiAnswer]) -> ApiAnswer:
        key = (command.merchant_id, command.key)
        payload = (command.operation, command.target, command.digest)
        if key in self.in_progress:
            raise RequestInProgressError
        if key in self.records:
            stored_payload, stored = self.records[key]
            if stored_payload != payload:
                raise KeyReusedError
            return ApiAnswer.model_validate(stored)
        answer = work()  # raising stores nothing
        self.records[key] = (payload, answer.model_dump(mode="json", exclude_unset=True))
        return answer


class PaymentRecords(InMemoryPaymentStore):
    """Payment records with the reconciliation's two indexes (modules/payment_workflow
    tables.tf): by update time, and the open holds by kind and due time."""

    def scan_payments(self) -> list[Any]:
        return self.all()

    def updated_between(self, start: str, end: str, after: Position) -> list[Payment]:
        return sorted(
            (
                p
                for p in self.all()
                if start <= p.updated_at < end and Position(p.updated_at, p.payment_id) > after
            ),
            key=lambda p: (p.updated_at, p.payment_id),
        )

    def holds_due(self, kind: HoldKind, before: str) -> list[Payment]:
        due = []
        for payment in self.all():
            hold = open_hold(payment)
            if hold is not None and hold[0] is kind and hold[1] < before:
                due.append(payment)
        return due


class IndexedPaymentRecords(PaymentRecords):
    """Payment records with the payments table's velocity indexes (modules/payment_workflow
    tables.tf): each index is keyed on one attribute the adapter writes, as the table is. A query
    on any other (index, attribute) is refused, as DynamoDB refuses a key the index lacks."""

    INDEXES: Mapping[tuple[str, str], Callable[[Payment], str | None]] = {
        (CARD_INDEX, CARD_INDEX_ATTRIBUTE): lambda p: platform_card_key(
            {"card_key": p.card_key, "token": p.token}
        ),
        (DEVICE_INDEX, "device_id"): lambda p: p.device_id,
    }

    def count_since(self, index: str, key: str, value: str, since: str) -> int:
        attribute = self.INDEXES[(index, key)]
        return sum(1 for p in self.all() if attribute(p) == value and p.created_at >= since)


class LedgerRecords(InMemoryLedgerStore):
    """The ledger with its ``by_recorded`` index: each payment entry recorded when posted, at
    ``clock`` when set, else at the entry's own date (written when it happened), as the table
    records its write time (settlement and payout entries are not indexed)."""

    def __init__(self, clock: str | None = None) -> None:
        super().__init__()
        self.clock = clock
        self.recorded: list[tuple[str, str]] = []

    def post(self, entry: JournalEntry, *, repair: bool = False) -> bool:
        written = super().post(entry, repair=repair)
        if written and not entry.payment_id.startswith((SETTLEMENT_SUBJECT, PAYOUT_SUBJECT)):
            self.recorded.append((self.clock or entry.effective_at or NOW, entry.payment_id))
        return written

    def subjects_recorded_between(self, start: str, end: str) -> list[str]:
        return [subject for at, subject in self.recorded if start <= at < end]

    def scan_entries(self) -> list[JournalEntry]:
        return self.all_entries()


@dataclass
class EventLog:
    """The bus's event record, and the bus: what is published is recorded (at ``clock``) only
    when ``archive`` is set (the archive rule delivers later, or never)."""

    recorded: list[tuple[str, PublishedEvent]] = field(default_factory=list)
    published: list[Mapping[str, Any]] = field(default_factory=list)
    archive: bool = False
    refuse: bool = False
    clock: str = NOW
    reads: list[tuple[str, str]] = field(default_factory=list)

    def record(self, event: PublishedEvent, at: str | None = None) -> None:
        self.recorded.append((at or self.clock, event))

    def read_between(self, start: str, end: str) -> list[tuple[str, PublishedEvent]]:
        self.reads.append((start, end))
        return [(at, event) for at, event in self.recorded if start <= at <= end]

    def publish(self, entries: Sequence[Mapping[str, Any]]) -> int:
        if self.refuse:
            return len(entries)
        self.published.extend(entries)
        if self.archive:
            # The archive rule dates its record by the event's time (PutEvents ``Time``).
            for entry in entries:
                at = entry.get("Time")
                self.record(
                    event_of(entry), None if at is None else at.isoformat(timespec="milliseconds")
                )
        return 0


@dataclass
class TimedOperationLog:
    """The acquirer's record of what it executed, each operation at ``clock``."""

    clock: str = NOW
    executed: dict[str, tuple[str, AcquirerOperation]] = field(default_factory=dict)

    def record(self, operation: AcquirerOperation) -> AcquirerOperation:
        return self.executed.setdefault(operation.reference, (self.clock, operation))[1]

    def find(self, reference: str) -> AcquirerOperation | None:
        found = self.executed.get(reference)
        return None if found is None else found[1]

    def operations(self) -> list[AcquirerOperation]:
        return [operation for _, operation in self.executed.values()]

    def operations_between(self, start: str, end: str) -> list[AcquirerOperation]:
        return [op for at, op in self.executed.values() if start <= at < end]


def event_of(entry: Mapping[str, Any]) -> PublishedEvent:
    detail = entry["Detail"]
    return PublishedEvent(
        detail["event_id"],
        entry["DetailType"],
        detail["payment_id"],
        detail.get("operation_amount"),
    )
