"""A ledger store that lets another writer's whole posting land between a writer's read of a
payment's entries and its write: the interleaving a read-then-write cap cannot survive."""

from __future__ import annotations

from collections.abc import Callable

from functions.domain.ledger import JournalEntry, LedgerStore


class InterleaveAfterRead(LedgerStore):
    """Mix in before a store class; ``interleave`` runs once, after the next read."""

    interleave: Callable[[], object] | None = None

    def entries_for(self, payment_id: str) -> list[JournalEntry]:
        entries = super().entries_for(payment_id)  # type: ignore[safe-super]
        interleave, self.interleave = self.interleave, None
        if interleave is not None:
            interleave()
        return entries
