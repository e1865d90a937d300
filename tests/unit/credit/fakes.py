"""In-memory implementations of the credit services' ports."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from functions.contracts.credit import DecisionRecord, Review
from functions.domain.credit.policy import Exposure


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
