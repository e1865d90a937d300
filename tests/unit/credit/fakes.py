"""In-memory implementations of the credit services' ports."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from functions.contracts.credit import (
    BnplEventDetail,
    BnplEventType,
    DecisionRecord,
    PlanCard,
    PlanRecord,
    Review,
)
from functions.domain.credit.policy import Exposure
from functions.services.credit_plans import ChargeResult


class InMemoryDecisionStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.records: dict[str, DecisionRecord] = {}

    def create(self, record: DecisionRecord) -> DecisionRecord:
        with self._lock:
            return self.records.setdefault(record.id, record)

    def get(self, decision_id: str) -> DecisionRecord | None:
        with self._lock:
            return self.records.get(decision_id)

    def append_review(self, decision_id: str, review: Review, expected_reviews: int) -> bool:
        with self._lock:
            record = self.records[decision_id]
            if len(record.reviews) != expected_reviews:
                return False
            self.records[decision_id] = record.model_copy(
                update={"reviews": (*record.reviews, review)}
            )
            return True


@dataclass
class FixedExposures:
    customers: dict[str, Exposure] = field(default_factory=dict)
    merchants: dict[str, Exposure] = field(default_factory=dict)

    def customer(self, customer_id: str, currency: str) -> Exposure:
        return self.customers.get(customer_id, Exposure())

    def merchant(self, merchant_id: str, currency: str) -> Exposure:
        return self.merchants.get(merchant_id, Exposure())


class InMemoryPlanStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.plans: dict[str, PlanRecord] = {}

    def create(self, plan: PlanRecord) -> PlanRecord:
        with self._lock:
            return self.plans.setdefault(plan.id, plan)

    def get(self, plan_id: str) -> PlanRecord | None:
        with self._lock:
            return self.plans.get(plan_id)

    def replace(self, plan: PlanRecord, expected_version: int) -> bool:
        with self._lock:
            if self.plans[plan.id].version != expected_version:
                return False
            self.plans[plan.id] = plan
            return True

    def due(self, today: dt.date) -> list[PlanRecord]:
        with self._lock:
            return [
                p
                for p in self.plans.values()
                if p.status == "active"
                and any(i.status in ("due", "late") and i.due_date <= today for i in p.instalments)
            ]

    def of_customer(self, customer_id: str) -> list[PlanRecord]:
        with self._lock:
            return [p for p in self.plans.values() if p.customer_id == customer_id]

    def of_merchant(self, merchant_id: str) -> list[PlanRecord]:
        with self._lock:
            return [p for p in self.plans.values() if p.merchant_id == merchant_id]


@dataclass
class FakeAcquirer:
    """Charges by idempotency key: a key charged again answers its first result and moves no
    money. ``declining`` tokens are declined; ``declining_unattended`` ones only when the
    customer is not there (collections); ``crash_after`` keys raise after charging (the answer
    lost on the way back). ``present`` records who made each charge."""

    declining: set[str] = field(default_factory=set)
    declining_unattended: set[str] = field(default_factory=set)
    crash_after: set[str] = field(default_factory=set)
    charged: dict[str, tuple[int, ChargeResult]] = field(default_factory=dict)
    refunded: dict[str, int] = field(default_factory=dict)
    present: dict[str, bool] = field(default_factory=dict)
    # Run when a charge or refund under the key reaches the acquirer: what another caller
    # does while that money is in flight.
    meanwhile: dict[str, Callable[[], object]] = field(default_factory=dict)

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
        if idempotency_key in self.meanwhile:
            self.meanwhile.pop(idempotency_key)()
        if idempotency_key not in self.charged:
            self.present[idempotency_key] = customer_present
            ok = token not in self.declining and (
                customer_present or token not in self.declining_unattended
            )
            result = ChargeResult(
                ok, f"ch_{len(self.charged)}" if ok else None, None if ok else "insufficient_funds"
            )
            self.charged[idempotency_key] = (amount if ok else 0, result)
        if idempotency_key in self.crash_after:
            self.crash_after.discard(idempotency_key)
            raise TimeoutError(idempotency_key)
        return self.charged[idempotency_key][1]

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
        if idempotency_key in self.meanwhile:
            self.meanwhile.pop(idempotency_key)()
        charged = self.charged.get(idempotency_key)
        if charged is None or not charged[1].succeeded:
            return False
        self.refunded[idempotency_key] = charged[0]
        return True

    def money_moved(self) -> int:
        return sum(amount for amount, _ in self.charged.values()) - sum(self.refunded.values())


@dataclass
class ListEvents:
    events: list[tuple[str, BnplEventDetail]] = field(default_factory=list)

    def publish(self, detail_type: BnplEventType, detail: BnplEventDetail) -> None:
        self.events.append((detail_type, detail))
