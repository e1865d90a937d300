"""The BNPL plans' ports on AWS: the card charger over the payment workflow's acquirer connector
(the customer's vault token, an authorization and its capture under keys derived from the
plan's charge key) and the bnpl.* events on the payment bus (source ``blueprint.credit``, so
that the payment consumers' rules, which match ``blueprint.payments``, never see them)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from aws_lambda_powertools import Logger

from functions.adapters.clients import EventsClient
from functions.contracts.credit import BnplEventDetail, BnplEventType, PlanCard
from functions.domain.acquirer import (
    MERCHANT_INITIATED,
    AcquirerConnector,
    AcquirerOperation,
    Authentication,
    AuthorizationRequest,
    AuthorizationResult,
    CardReference,
    OperationKind,
    OperationStatus,
)
from functions.domain.credit.reconciliation import CardMoves
from functions.domain.credit.schedule import PLAN_ID_PREFIX
from functions.services.credit_plans import ChargeResult
from functions.services.reconciliation import Position

logger = Logger(child=True)
BNPL_EVENT_SOURCE = "blueprint.credit"


class AcquirerCardCharger:
    """A charge is an authorization captured at once: customer-initiated when the customer
    makes it (the first instalment at checkout, early settlement), merchant-initiated for the
    collections after it (the customer agreed to the schedule at checkout and is not there to
    authenticate). The authorize key is the plan's charge key and the capture's is derived
    from it: a repeated charge gets the first authorization back and the capture's first
    answer, and moves no more money."""

    def __init__(self, acquirer: AcquirerConnector) -> None:
        self._acquirer = acquirer

    def charge(
        self,
        token: str,
        amount: int,
        currency: str,
        idempotency_key: str,
        card: PlanCard | None = None,
        *,
        customer_present: bool,
    ) -> ChargeResult:
        authorized = self._authorize(
            token, amount, currency, idempotency_key, card, customer_present
        )
        if not authorized.approved or authorized.authorization_id is None:
            return ChargeResult(False, None, str(authorized.decline_code or "declined"))
        captured = self._acquirer.capture(
            authorized.authorization_id, amount, currency, capture_key(idempotency_key)
        )
        return ChargeResult(True, captured.operation_id)

    def refund(
        self,
        token: str,
        amount: int,
        currency: str,
        idempotency_key: str,
        card: PlanCard | None = None,
        *,
        customer_present: bool,
    ) -> bool:
        authorized = self._authorize(
            token, amount, currency, idempotency_key, card, customer_present
        )
        if not authorized.approved or authorized.authorization_id is None:
            return False
        self._acquirer.refund(
            authorized.authorization_id, amount, currency, refund_key(idempotency_key)
        )
        return True

    def _authorize(
        self,
        token: str,
        amount: int,
        currency: str,
        key: str,
        card: PlanCard | None,
        customer_present: bool,
    ) -> AuthorizationResult:
        """The authorization under the charge's own key: the acquirer answers a repeat with
        the first authorization. A customer-initiated one claims no exemption: the BNPL step
        runs no 3-D Secure, so the issuer decides (and may soft-decline it)."""
        if card is None:
            raise ValueError("the acquirer needs the card's brand and last four beside its token")
        return self._acquirer.authorize(
            AuthorizationRequest(
                payment_id=key.split(":", 1)[0],
                merchant_id="bnpl",
                amount=amount,
                currency=currency,
                card=CardReference(token, card.brand, card.last4, None, None),
                authentication=Authentication(
                    None, None, None if customer_present else MERCHANT_INITIATED
                ),
                idempotency_key=key,
            )
        )


def capture_key(charge_key: str) -> str:
    return f"{charge_key}:capture"


def refund_key(charge_key: str) -> str:
    return f"{charge_key}:refund"


class PlanOperationRecord(Protocol):
    """The acquirer's record as the BNPL reconciliation reads it: many references at once,
    and the operations executed in a window."""

    def find_all(self, references: Sequence[str]) -> Mapping[str, AcquirerOperation]:
        """The operations recorded under ``references``, by reference; those not found left
        out."""
        ...

    def positioned_between(
        self, start: str, end: str, after: Position, *, references: str = ""
    ) -> Iterable[tuple[Position, AcquirerOperation]]:
        """The operations executed in [start, end) after ``after`` whose reference starts with
        ``references``, in (executed at, reference) order, each with its place in it."""
        ...


class AcquirerPlanCharges:
    """The BNPL reconciliation's view of the acquirer's record: what it captured and refunded
    for a plan's charges (each charge's capture and refund under the keys derived above), and
    which plans it moved money for in a window."""

    def __init__(self, records: PlanOperationRecord) -> None:
        self._records = records

    def moved(self, charge_keys: Sequence[str]) -> CardMoves:
        captured = refunded = 0
        asked = [
            (reference, kind)
            for key in charge_keys
            for reference, kind in (
                (capture_key(key), OperationKind.CAPTURE),
                (refund_key(key), OperationKind.REFUND),
            )
        ]
        # One read for the plan's every reference: a reconciliation checks hundreds of plans
        # within its function's timeout.
        recorded = self._records.find_all([reference for reference, _kind in asked])
        for reference, kind in asked:
            operation = recorded.get(reference)
            if (
                operation is not None
                and operation.kind is kind
                and operation.status is OperationStatus.SUCCEEDED
            ):
                if kind is OperationKind.CAPTURE:
                    captured += operation.amount
                else:
                    refunded += operation.amount
        return CardMoves(captured, refunded)

    def plans_charged_between(
        self, start: str, end: str, after: Position
    ) -> Iterable[tuple[Position, str]]:
        # A plan's charges are sent under keys that start with its id (charge_keys): only
        # those are read, not every card payment's operations.
        operations = self._records.positioned_between(
            start, end, after, references=f"{PLAN_ID_PREFIX}_"
        )
        for place, operation in operations:
            yield place, operation.payment_id


class EventBridgeBnplEvents:
    def __init__(self, client: EventsClient, bus_name: str) -> None:
        self._client = client
        self._bus = bus_name

    def publish(self, detail_type: BnplEventType, detail: BnplEventDetail) -> None:
        response = self._client.put_events(
            Entries=[
                {
                    "EventBusName": self._bus,
                    "Source": BNPL_EVENT_SOURCE,
                    "DetailType": detail_type,
                    "Detail": detail.model_dump_json(),
                }
            ]
        )
        if response.get("FailedEntryCount"):
            # Raised, not logged: the step (or the next collections run) repeats the same
            # event id, which consumers drop when it arrives twice.
            raise RuntimeError(f"{detail_type} not published")
