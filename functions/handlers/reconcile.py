"""Lambda and command: reconcile payments, ledger, published events and the acquirer's record.

First cancels the holds that outlived their use (``stale_payments``): an uncaptured
authorization older than ``AUTHORIZATION_VALIDITY_DAYS`` (reason ``expired``: voided at the
acquirer, its entry reversed) and a payment whose 3-D Secure challenge expired (``abandoned``).
Then settles every capture or refund whose acquirer answer was lost (pending on the record) by
asking the acquirer by its idempotency key (``PaymentProcessor.resolve``). Then reads every
payment (payments table), every journal entry (ledger table; balances are the entries' sums, so
there is no stored balance to drift), every payment event the bus delivered to its event log
group and the acquirer's own operation record, reports each mismatch, and with ``repair``
applies the safe repairs: a movement the payment record shows but the ledger lacks is posted
(the exact entry the workflow would have posted, idempotent by its id), and a missing event is
published again (same ``event_id``, so consumers can drop a duplicate). Everything else is
reported for a person to decide.

Run on a schedule (modules/payment_workflow) or by hand: ``python -m local.cli reconcile``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.adapters import clients
from functions.adapters import payment_wiring as wiring
from functions.adapters.clients import EventsClient
from functions.adapters.ledger_table import DynamoLedgerStore
from functions.adapters.payments_table import PaymentsTable
from functions.domain.acquirer import AcquirerError, AcquirerRecords
from functions.domain.ledger import PostingRules
from functions.domain.payments import (
    DEFAULT_AUTHORIZATION_VALIDITY,
    EventType,
    Payment,
    PaymentRuleError,
    PaymentStatus,
    StaleWriteError,
    stale_payments,
)
from functions.domain.reconciliation import (
    PaymentFacts,
    PublishedEvent,
    ReconciliationReport,
    RepairAction,
    reconcile,
)
from functions.services.payment_processing import PaymentProcessor, now_iso

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient

logger = Logger()
tracer = Tracer()

_AUTHORIZED_STATUSES = frozenset(
    {
        PaymentStatus.AUTHORIZED,
        PaymentStatus.CAPTURE_PENDING,
        PaymentStatus.CAPTURED,
        PaymentStatus.PARTIALLY_REFUNDED,
        PaymentStatus.REFUNDED,
        PaymentStatus.CANCELED,
    }
)


def facts_of(payment: Payment) -> PaymentFacts:
    """What the ledger and the events must show for this payment record."""
    authorized = payment.amount if payment.status in _AUTHORIZED_STATUSES else 0
    if payment.status is PaymentStatus.CANCELED and payment.authorization_id is None:
        authorized = 0  # an abandoned challenge: canceled before any authorization
    captured = payment.amount_captured
    done = tuple((r.refund_id, r.amount) for r in payment.refunds if not r.pending)
    pending = tuple(payment.refund_idempotency_key(r.refund_id) for r in payment.pending_refunds)
    if payment.status is PaymentStatus.CAPTURE_PENDING:
        pending = (payment.capture_idempotency_key, *pending)
    return PaymentFacts(
        payment_id=payment.payment_id,
        merchant_id=payment.merchant_id,
        currency=payment.currency,
        # A payment that failed before any authorization published payment.declined.
        status="declined" if payment.status is PaymentStatus.FAILED else str(payment.status),
        authorized=authorized,
        captured=captured,
        # A pending refund is reserved on the record but not yet in the ledger or the events.
        refunded=sum(amount for _, amount in done),
        # One capture per payment: the workflow releases the uncaptured remainder with it.
        voided=authorized - captured if captured else 0,
        captures=((payment.capture_sequence, captured),) if captured else (),
        refunds=done,
        compensated=payment.status is PaymentStatus.CANCELED,
        pending=pending,
        # A payment created with capture is a sale: one entry once captured, none before.
        sale=payment.capture_requested,
    )


def published_events(logs: CloudWatchLogsClient, log_group: str) -> Iterator[dict[str, Any]]:
    """The EventBridge events the bus's archive rule delivered to ``log_group``."""
    kwargs: dict[str, Any] = {"logGroupName": log_group}
    while True:
        page = logs.filter_log_events(**kwargs)
        for record in page.get("events", []):
            try:
                yield json.loads(record["message"])
            except ValueError:
                continue
        if not page.get("nextToken"):
            return
        kwargs["nextToken"] = page["nextToken"]


def event_view(event: dict[str, Any]) -> PublishedEvent | None:
    detail = event.get("detail") or {}
    if not isinstance(detail, dict) or "payment_id" not in detail:
        return None
    return PublishedEvent(
        event_id=str(detail.get("event_id", event.get("id", ""))),
        type=str(event.get("detail-type", "")),
        payment_id=str(detail["payment_id"]),
        amount=detail.get("operation_amount"),
    )


def expected_history(payment: Payment, event: PublishedEvent) -> bool:
    """Events a payment legitimately left behind on its way to its current state: the challenge
    of a payment that was then authenticated, the authorization of one later compensated."""
    if event.type == EventType.REQUIRES_ACTION and payment.sca.get("required"):
        return payment.status is not PaymentStatus.REQUIRES_ACTION
    return event.type == EventType.AUTHORIZED and payment.status is PaymentStatus.CANCELED


STUCK_AFTER = dt.timedelta(minutes=5)


def publish(events_client: EventsClient, entries: Iterable[dict[str, Any]]) -> None:
    for entry in entries:
        events_client.put_events(Entries=[{**entry, "Detail": json.dumps(entry["Detail"])}])


def cancel_stale(
    payments: Iterable[Payment],
    processor: PaymentProcessor | None,
    now: dt.datetime,
    authorization_validity: dt.timedelta,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Cancels every stale payment (``processor`` None: none, only listed). Answers the
    cancels' answers (payment and events) and the stale payments left as they are."""
    answers: list[dict[str, Any]] = []
    left: list[dict[str, Any]] = []
    for payment_id, reason in stale_payments(payments, now, authorization_validity):
        stale = {"payment_id": payment_id, "reason": str(reason)}
        if processor is None:
            left.append(stale)
            continue
        try:
            answers.append({**stale, **processor.cancel(payment_id, reason)})
        except AcquirerError as error:
            # The acquirer took no void (or its answer was lost): a later run tries again.
            logger.warning("stale payment not canceled", extra={**stale, "code": error.code})
            left.append(stale)
        except (PaymentRuleError, StaleWriteError):
            continue  # changed since the scan (captured, resumed): no longer stale
    return answers, left


def resolve_pending(payments: Iterable[Payment], processor: PaymentProcessor) -> list[str]:
    """Settles what the acquirer did with every pending capture and refund; the events of
    those it confirms (and any ledger entry the processor could not post) are then published
    and posted by the repairs below."""
    resolved: list[str] = []
    for payment in payments:
        if not payment.has_pending_operation:
            continue
        try:
            settled = processor.resolve(payment.payment_id)
        except AcquirerError as error:
            # Still no answer: it stays pending (and reported) until a later run.
            logger.warning(
                "pending operation unresolved",
                extra={"payment_id": payment.payment_id, "code": error.code},
            )
            continue
        if settled:
            resolved.append(payment.payment_id)
    return resolved


def stuck_authorizations(payments: Iterable[Payment], now: dt.datetime | None) -> list[str]:
    """Payments left ``authorizing`` by a workflow that died before compensating (an EXPRESS
    execution ends within 5 minutes): void each by its authorize idempotency key."""
    cutoff = ((now or dt.datetime.now(dt.UTC)) - STUCK_AFTER).isoformat(timespec="milliseconds")
    return sorted(
        p.payment_id
        for p in payments
        if p.status is PaymentStatus.AUTHORIZING and p.updated_at < cutoff
    )


def run(
    table: PaymentsTable,
    store: DynamoLedgerStore,
    rules: PostingRules,
    logs: CloudWatchLogsClient,
    events_client: EventsClient,
    log_group: str,
    bus_name: str,
    *,
    repair: bool,
    now: dt.datetime | None = None,
    processor: PaymentProcessor | None = None,
    acquirer_records: AcquirerRecords | None = None,
    authorization_validity: dt.timedelta = DEFAULT_AUTHORIZATION_VALIDITY,
) -> dict[str, Any]:
    canceled, stale = cancel_stale(
        table.scan_payments(),
        processor if repair else None,
        now or dt.datetime.now(dt.UTC),
        authorization_validity,
    )
    # Published now, so counted as published: the event record may not hold them yet.
    just_published = [e for answer in canceled for e in answer["events"]]
    publish(events_client, just_published)
    resolved = resolve_pending(table.scan_payments(), processor) if processor and repair else []
    payments = {p.payment_id: p for p in table.scan_payments()}
    entries = list(store.scan_entries())
    events = [
        PublishedEvent(e["Detail"]["event_id"], e["DetailType"], e["Detail"]["payment_id"])
        for e in just_published
    ]
    for raw in published_events(logs, log_group):
        event = event_view(raw)
        if event is None:
            continue
        payment = payments.get(event.payment_id)
        if payment is not None and expected_history(payment, event):
            continue
        events.append(event)
    report: ReconciliationReport = reconcile(
        [facts_of(p) for p in payments.values()],
        entries,
        events,
        rules,
        acquirer=acquirer_records.operations() if acquirer_records is not None else None,
    )
    repaired = []
    if repair:
        for mismatch in report.repairable():
            fix = mismatch.repair
            assert fix is not None
            if fix.action == RepairAction.POST_ENTRY and fix.entry is not None:
                store.post(fix.entry, repair=True)
            elif fix.action == RepairAction.PUBLISH_EVENT and mismatch.payment_id in payments:
                payment = payments[mismatch.payment_id]
                entry = payment.event(EventType(str(fix.event_type)), bus_name, amount=fix.amount)
                publish(events_client, [entry])
            else:
                continue
            repaired.append(mismatch.to_dict())
    answer = report.to_dict()
    answer["repaired"] = repaired
    answer["resolved"] = resolved
    # Stale holds: how many were canceled, and those left (a report-only run cancels none).
    answer["canceled"] = len(canceled)
    answer["canceled_payments"] = [
        {"payment_id": c["payment_id"], "reason": c["reason"]} for c in canceled
    ]
    answer["stale"] = stale
    stuck = stuck_authorizations(payments.values(), now)
    answer["stuck_authorizations"] = stuck
    answer["ok"] = answer["ok"] and not stuck
    logger.info(
        "reconciliation finished",
        extra={
            "checked": report.checked_payments,
            "counts": report.counts(),
            "repaired": len(repaired),
            "canceled": len(canceled),
        },
    )
    return answer


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = wiring.settings()
    bus_name = settings.required("event_bus_name")
    return run(
        wiring.payments_table(),
        wiring.ledger_store(),
        wiring.posting_rules(),
        clients.logs(),
        clients.events(),
        settings.required("event_log_group_name"),
        bus_name,
        repair=bool(event.get("repair", True)),
        processor=PaymentProcessor(
            wiring.payments_table(), wiring.acquirer(), bus_name, now_iso, ledger=wiring.ledger()
        ),
        acquirer_records=wiring.acquirer_records(),
        authorization_validity=dt.timedelta(days=settings.authorization_validity_days),
    )
