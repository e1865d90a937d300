"""One optimistic write with its retries, for every read-decide-write on a versioned record.

A store refuses a write made over a version that is no longer the latest (``StaleWriteError``,
``domain.payments.PaymentStore``). Losing that race means the decision was made on old data, so
the only safe answer is to read again and decide again, never to write anyway. This helper is
that loop, once: ``load`` reads the latest version, ``apply`` decides and writes (raising the
store's conflict when it lost). Anything else ``apply`` raises is a real answer (a refused
request, an acquirer error) and passes through at once.

``apply`` should only decide and write: work that must happen once after the write (asking
the acquirer, posting entries) belongs after the call, or in what ``apply`` returns, so that a
conflict raised later can never repeat it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from functions.domain.payments import StaleWriteError

SAVE_ATTEMPTS = 3

State = TypeVar("State")
Result = TypeVar("Result")


class WriteContentionError(StaleWriteError):
    """Every attempt lost to a concurrent write. A ``StaleWriteError`` still, so a caller that
    treats a lost race as "changed since it was read" (the reconciliation) keeps doing so."""

    def __init__(self, key: str, attempts: int) -> None:
        super().__init__(key)
        self.key = key
        self.attempts = attempts

    def __str__(self) -> str:
        return f"{self.key}: every one of {self.attempts} writes lost to a concurrent write"


def retry_on_conflict(
    key: str,
    load: Callable[[], State],
    apply: Callable[[State], Result],
    attempts: int = SAVE_ATTEMPTS,
) -> Result:
    """``apply(load())``, read and decided again after each conflict, at most ``attempts``
    times; then ``WriteContentionError`` naming ``key`` (the record)."""
    for _ in range(attempts):
        state = load()
        try:
            return apply(state)
        except StaleWriteError:
            continue
    raise WriteContentionError(key, attempts)
