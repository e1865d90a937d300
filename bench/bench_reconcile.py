"""The windowed reconciliation at volume: seconds per million payments, and its peak memory.

Generated payments of one hour (sales; authorizations captured later; captures partly
refunded; authorizations still open), with the journal entries, the archive rule's event
records and the acquirer simulator's operations each one implies, are read by one report-only
run of ``Reconciliation.run`` over the hour, twice:

* on the emulator's DynamoDB and CloudWatch Logs, through the adapters and settings the
  reconcile function builds (the event record paced to 2.5 FilterLogEvents pages/s), at
  ``EMULATOR_SIZES``. moto answers a Query by walking the whole table (an index's too), so
  the time per payment grows with the table and a million payments cannot be loaded here: the
  figure is extrapolated linearly from the larger size, and ``reconcile_emulator_linearity``
  (the ratio of the per-payment times, 1.0 when linear) shows how far moto is from that;
* on in-memory ports (``tests/unit/services/fakes.py``) at ``MEMORY_SIZES``: the run's own
  work without the store, linear in the payments, with its peak memory (tracemalloc).

Every run must find nothing to report: the data is consistent, so a mismatch is a bench or
code defect. The calls a run makes per payment are counted, for the time on AWS.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import random
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from functions.adapters.ledger_table import DynamoLedgerStore, entry_item, recorded_keys
from functions.adapters.payment_event_log import LogGroupEventRecord
from functions.adapters.payments_table import AcquirerOperationsTable, PaymentsTable, to_item
from functions.domain.acquirer import AcquirerOperation, OperationKind
from functions.domain.ledger import PostingRules
from functions.domain.payments import Payment, PaymentStatus, Refund, RefundStatus, new_payment
from functions.domain.reconciliation import (
    PublishedEvent,
    dated_expected_events,
    expected_entries,
)
from functions.services.reconciliation import Position, Reconciliation, facts_of, instant
from local import endpoints
from local.aws import emulator_client
from local.cli import spawn_emulator, stop_process_group
from tests.adapters.payment_tables import (
    PAYMENTS_TABLE,
    create_ledger_table,
    create_payments_table,
)

EMULATOR_SIZES = (1_000, 2_000)
MEMORY_SIZES = (20_000, 50_000)
LEDGER_TABLE = "bench-ledger"
LOG_GROUP = "/aws/events/bench-payment-events"
RULES = PostingRules()
# The hour the payments were made in, ending a little before the run.
HOUR = dt.timedelta(hours=1)


class NoBus:
    def publish(self, entries: Any) -> int:
        raise AssertionError("a report-only run publishes nothing")


def payments(count: int, end: dt.datetime, seed: int) -> Iterator[Payment]:
    """A realistic mix: 60 % sales, 25 % authorized then captured, 10 % captured then partly
    refunded, 5 % authorized and still open; every one last written within the hour."""
    rng = random.Random(seed)  # noqa: S311 (seeded: the same payments every run)
    for n in range(count):
        into = rng.uniform(0, 3_540)  # seconds into the hour of its last write
        last = end - HOUR + dt.timedelta(seconds=into)
        first = last - dt.timedelta(seconds=rng.uniform(0, min(into, 1_500)))
        amount = rng.randint(100, 50_000)
        kind = rng.random()
        context = {
            "payment_id": f"pay_{seed}_{n:07d}",
            "merchant_id": f"m_{rng.randint(1, 50)}",
            "amount": amount,
            "currency": "EUR",
            "capture": kind < 0.60,
            "card": {"token": f"tok_{n}", "brand": "visa", "last4": "4242"},
            "customer": {"id": f"c_{rng.randint(1, 5_000)}"},
        }
        at_first, at_last = instant(first), instant(last)
        payment = new_payment(context, PaymentStatus.AUTHORIZING, at_first).authorized(
            f"auth_{n}", at_first
        )
        if kind < 0.60:
            payment = payment.captured(amount, at_first).evolve(at_last)
        elif kind < 0.85:
            payment = payment.captured(amount, at_last)
        elif kind < 0.95:
            refund = Refund(f"re_{n}", amount // 3, at_last, RefundStatus.SUCCEEDED)
            payment = payment.captured(amount, at_first).refunded(refund, at_last)
        yield payment.evolve(payment.updated_at, version=0)


def operation(reference: str, payment: Payment, amount: int) -> AcquirerOperation:
    kind = OperationKind.REFUND if ":refund:" in reference else OperationKind.CAPTURE
    return AcquirerOperation(kind, reference, str(payment.authorization_id), amount, "EUR")


def load(clients: dict[str, Any], count: int, end: dt.datetime, seed: int) -> None:
    """Writes the payments, their entries, event records and acquirer operations."""
    ddb, logs = clients["dynamodb"], clients["logs"]
    operations = AcquirerOperationsTable(ddb, PAYMENTS_TABLE)
    items: dict[str, list[dict[str, Any]]] = {PAYMENTS_TABLE: [], LEDGER_TABLE: []}
    records: list[dict[str, Any]] = []

    def flush(table: str, at_least: int) -> None:
        while len(items[table]) >= at_least and items[table]:
            batch, items[table] = items[table][:25], items[table][25:]
            pending: dict[str, Any] = {table: [{"PutRequest": {"Item": i}} for i in batch]}
            while pending:
                pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems", {})

    for payment in payments(count, end, seed):
        facts = facts_of(payment)
        items[PAYMENTS_TABLE].append(to_item(payment))
        executed = dt.datetime.fromisoformat(payment.updated_at)
        for reference, amount in facts.acquirer_references().items():
            done = operation(reference, payment, amount)
            items[PAYMENTS_TABLE].append(operations.item(done, executed))
        # Written when the payment was last updated, as the workflow writes them: the run's
        # by_recorded reads find each against a payment its slice compares.
        items[LEDGER_TABLE].extend(
            {**entry_item(e), **recorded_keys(e, executed)} for e in expected_entries(facts, RULES)
        )
        for n, (event_type, carried, at) in enumerate(dated_expected_events(facts)):
            message = {
                "event_id": f"{payment.payment_id}:{event_type}:{n}",
                "type": event_type,
                "payment_id": payment.payment_id,
                "amount": "" if carried is None else str(carried),
            }
            stamp = dt.datetime.fromisoformat(at or payment.updated_at)
            records.append(
                {"timestamp": int(stamp.timestamp() * 1000), "message": json.dumps(message)}
            )
        for table in items:
            flush(table, 250)
    for table in items:
        flush(table, 1)
    records.sort(key=lambda r: r["timestamp"])
    stream = f"events-{seed}"
    logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=stream)
    for start in range(0, len(records), 5_000):
        logs.put_log_events(
            logGroupName=LOG_GROUP, logStreamName=stream, logEvents=records[start : start + 5_000]
        )


def reconciliation(clients: dict[str, Any]) -> Reconciliation:
    """As functions.handlers.reconcile builds it, report-only (no payment operations)."""
    ddb = clients["dynamodb"]
    return Reconciliation(
        PaymentsTable(ddb, PAYMENTS_TABLE),
        DynamoLedgerStore(ddb, LEDGER_TABLE),
        LogGroupEventRecord(clients["logs"], LOG_GROUP),
        NoBus(),
        RULES,
        "bench-payments",
        acquirer=AcquirerOperationsTable(ddb, PAYMENTS_TABLE),
    )


def timed_run(clients: dict[str, Any], end: dt.datetime) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    outcome = reconciliation(clients).run(
        repair=False, now=end, start=Position(instant(end - HOUR)), end=end
    )
    return time.perf_counter() - started, outcome.to_dict()


def create_tables(clients: dict[str, Any]) -> None:
    """The tables as modules/payment_workflow/tables.tf declares them (the indexes reconcile
    reads included, as the adapter tests create them) and the event record's log group."""
    create_payments_table(clients["dynamodb"])
    create_ledger_table(clients["dynamodb"], LEDGER_TABLE)
    clients["logs"].create_log_group(logGroupName=LOG_GROUP)


def on_the_emulator() -> tuple[dict[int, float], float]:
    """Seconds per payment at each size, and DynamoDB and Logs calls per payment (largest)."""
    with tempfile.TemporaryDirectory() as state:
        process = spawn_emulator(Path(state), Path(state) / "emulator.log", api_port=0)
        try:
            published = endpoints.wait(process, Path(state), 30)
            if published is None:
                raise RuntimeError("the emulator did not start")
            clients = {s: emulator_client(s, published.aws) for s in ("dynamodb", "logs")}
            calls = [0]
            for client in clients.values():
                client.meta.events.register(
                    "before-call.*.*", lambda **_: calls.__setitem__(0, calls[0] + 1)
                )
            create_tables(clients)
            now = dt.datetime.now(dt.UTC).replace(microsecond=0)
            per_payment: dict[int, float] = {}
            for seed, size in enumerate(EMULATOR_SIZES):
                # Each size in an hour of its own, so a run reads only its own payments.
                end = now - dt.timedelta(hours=2 * seed)
                load(clients, size, end, seed)
                calls[0] = 0
                elapsed, report = timed_run(clients, end)
                check(report, size)
                per_payment[size] = elapsed / size
                print(f"  emulator: {size} payments in {elapsed:.1f} s", flush=True)
        finally:
            stop_process_group(process)
    return per_payment, calls[0] / EMULATOR_SIZES[-1]


def in_memory() -> tuple[dict[int, float], float]:
    """Seconds per payment at each size on in-memory ports, and the peak MiB at the largest."""
    from tests.unit.services.fakes import EventLog, LedgerRecords, PaymentRecords, TimedOperationLog

    per_payment: dict[int, float] = {}
    peak = 0.0
    for seed, size in enumerate(MEMORY_SIZES):
        end = dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC)
        records, store, events = PaymentRecords(), LedgerRecords(), EventLog()
        acquirer = TimedOperationLog()
        for payment in payments(size, end, seed):
            facts = facts_of(payment)
            records.save(payment)
            store.clock = payment.updated_at  # written with the record's last update
            for entry in expected_entries(facts, RULES):
                store.post(entry)
            for n, (event_type, carried, at) in enumerate(dated_expected_events(facts)):
                event = PublishedEvent(
                    f"{payment.payment_id}:{n}", event_type, payment.payment_id, carried
                )
                events.record(event, at or payment.updated_at)
            acquirer.clock = payment.updated_at
            for reference, amount in facts.acquirer_references().items():
                acquirer.record(operation(reference, payment, amount))
        service = Reconciliation(records, store, events, NoBus(), RULES, "bench", acquirer=acquirer)
        gc.collect()
        tracemalloc.start()
        started = time.perf_counter()
        outcome = service.run(repair=False, now=end, start=Position(instant(end - HOUR)), end=end)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        check(outcome.to_dict(), size)
        per_payment[size] = elapsed / size
        print(f"  in memory: {size} payments in {elapsed:.1f} s, peak {peak:.0f} MiB", flush=True)
    return per_payment, peak


def check(report: dict[str, Any], size: int) -> None:
    if report["counts"] or report["checked_payments"] != size:
        raise RuntimeError(
            f"the bench data did not reconcile: {report['checked_payments']} of {size} checked, "
            f"{report['counts']}"
        )


def run() -> dict[str, dict[str, float | str]]:
    emulator, calls = on_the_emulator()
    memory, peak = in_memory()
    largest, biggest = EMULATOR_SIZES[-1], MEMORY_SIZES[-1]
    return {
        "reconcile_s_per_million_payments": {
            "value": round(emulator[largest] * 1_000_000, 1),
            "unit": f"s per 1M payments on the emulator (linear from {largest:,} measured)",
        },
        "reconcile_emulator_linearity": {
            "value": round(emulator[largest] / emulator[EMULATOR_SIZES[0]], 2),
            "unit": f"per-payment time at {largest:,} over {EMULATOR_SIZES[0]:,} (1.0: linear)",
        },
        "reconcile_calls_per_payment": {
            "value": round(calls, 2),
            "unit": "DynamoDB and CloudWatch Logs requests per payment reconciled",
        },
        "reconcile_cpu_s_per_million_payments": {
            "value": round(memory[biggest] * 1_000_000, 1),
            "unit": f"s per 1M payments on in-memory ports (linear from {biggest:,} measured)",
        },
        "reconcile_cpu_linearity": {
            "value": round(memory[biggest] / memory[MEMORY_SIZES[0]], 2),
            "unit": f"per-payment time at {biggest:,} over {MEMORY_SIZES[0]:,} (1.0: linear)",
        },
        "reconcile_peak_mib": {
            "value": round(peak, 1),
            "unit": f"MiB of Python allocations at peak ({biggest:,} payments in one hour)",
        },
    }
