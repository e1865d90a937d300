"""BNPL reconciliation (pure domain): a BNPL payment's record, its plan and the plan's credit
ledger entries must tell the same story. The card reconciliation cannot check them: their money
is in the credit ledger, not the card ledger.

What must hold, each rule a ``BnplMismatchKind``:

* a captured payment has its plan, live (not canceled or refunded), opened in the ledger for the
  payment's amount with the merchant owed that amount less the plan's fee;
* a refunded payment's plan is refunded, its ``refund`` entry posted, nothing left owed and
  nothing the card paid kept;
* a failed or declined payment moved nothing: no live plan, every entry it has reversed;
* the plan's record and its ledger position agree: each instalment collected has its
  ``collect-{n}`` entry (or the plan was settled early) and each entry its instalment; what an
  active plan's record says is outstanding is what the ledger says is owed; a settled, written
  off or refunded record has the entry that did it;
* a plan is not held by a claim older than the lease (the run that claimed it died; the next
  collection, refund or settlement finishes it, and this says one is due);
* what the acquirer kept under the plan's charge keys (captured less refunded) is what the
  ledger's acquirer receivable holds: a charge whose answer was lost (the card paid, nothing
  booked) or a refund made twice shows here and nowhere else, since the plan and the ledger
  agree with each other. Net, not each way: a checkout that charged a card, lost the answer
  and refunded it before another card paid moved nothing the ledger should book.

A plan under a live claim is money in motion: its record and entries may differ until the claim
is released, so only the payment-level rules are checked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from functions.domain.credit.ledger import (
    ACQUIRER_RECEIVABLE,
    BNPL_FEE_INCOME,
    BNPL_MERCHANT_PAYABLE,
    BNPL_RECEIVABLE,
    REFUND_STEP,
    REVERSAL,
    CreditEntry,
    credit_balances,
    plan_position,
)


class BnplMismatchKind(StrEnum):
    PLAN_MISSING = "bnpl_plan_missing"
    PLAN_STATUS_DIFFERS = "bnpl_plan_status_differs"
    ENTRY_MISSING = "bnpl_entry_missing"
    ENTRY_UNEXPECTED = "bnpl_entry_unexpected"
    AMOUNT_DIFFERS = "bnpl_amount_differs"
    NOT_REVERSED = "bnpl_not_reversed"
    CLAIM_LAPSED = "bnpl_claim_lapsed"
    ACQUIRER_DIFFERS = "bnpl_acquirer_differs"


@dataclass(frozen=True, slots=True)
class BnplMismatch:
    payment_id: str | None
    plan_id: str | None
    kind: BnplMismatchKind
    detail: str

    def to_dict(self) -> dict[str, str | None]:
        return {
            "payment_id": self.payment_id,
            "plan_id": self.plan_id,
            "kind": str(self.kind),
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class BnplPaymentFacts:
    """What the payment record says (``status``: the payment's; ``plan_id``: the plan its
    decision opened or would open)."""

    payment_id: str
    status: str
    amount: int
    plan_id: str | None


@dataclass(frozen=True, slots=True)
class CardMoves:
    """What the acquirer's record shows it captured and refunded under one plan's keys
    (succeeded operations only)."""

    captured: int
    refunded: int


@dataclass(frozen=True, slots=True)
class PlanFacts:
    """What the plan record says. ``instalments``: number -> status; ``outstanding``: what the
    record says is still owed (instalments due or late, with their fees); ``claimed_at``: when
    the claim holding it was taken, if one does."""

    plan_id: str
    status: str
    total: int
    merchant_fee: int
    instalments: Mapping[int, str]
    outstanding: int
    claimed_at: dt.datetime | None = None


_LIVE = frozenset({"active", "paid", "settled_early", "written_off"})
Report = Callable[["BnplMismatchKind", str], None]


def check_bnpl_payment(
    payment: BnplPaymentFacts,
    plan: PlanFacts | None,
    entries: Iterable[CreditEntry],
    now: dt.datetime,
    lease: dt.timedelta,
) -> list[BnplMismatch]:
    """Every rule above that ``payment``, its ``plan`` and the plan's ``entries`` break."""
    entries = sorted(entries, key=lambda e: e.step)
    steps = {e.step for e in entries}
    found: list[BnplMismatch] = []

    def mismatch(kind: BnplMismatchKind, detail: str) -> None:
        found.append(BnplMismatch(payment.payment_id, payment.plan_id, kind, detail))

    status = None if plan is None else plan.status
    if payment.status == "captured":
        if plan is None:
            mismatch(BnplMismatchKind.PLAN_MISSING, "the payment is captured and has no plan")
        elif status not in _LIVE:
            mismatch(BnplMismatchKind.PLAN_STATUS_DIFFERS, f"captured payment, plan {status}")
        if plan is not None:
            _check_opening(plan, payment.amount, entries, mismatch)
    elif payment.status == "refunded":
        if status != "refunded":
            mismatch(BnplMismatchKind.PLAN_STATUS_DIFFERS, f"refunded payment, plan {status}")
        if REFUND_STEP not in steps:
            mismatch(BnplMismatchKind.ENTRY_MISSING, "refunded payment without a refund entry")
        position = plan_position(entries)
        if position.owed or position.paid:
            mismatch(
                BnplMismatchKind.AMOUNT_DIFFERS,
                f"refunded, yet the customer owes {position.owed} and the card paid "
                f"{position.paid} not given back",
            )
    elif payment.status in ("failed", "declined"):
        if status in _LIVE or status == "refunded":
            mismatch(
                BnplMismatchKind.PLAN_STATUS_DIFFERS, f"{payment.status} payment, plan {status}"
            )
        left = {key: net for key, net in credit_balances(entries).items() if net}
        if left:
            mismatch(BnplMismatchKind.NOT_REVERSED, f"entries not reversed: {left}")
    if plan is None:
        return found
    if plan.claimed_at is not None:
        if now - plan.claimed_at > lease:
            mismatch(
                BnplMismatchKind.CLAIM_LAPSED,
                f"claimed at {plan.claimed_at.isoformat()}: its run died, the next one finishes it",
            )
        return found
    if status in _LIVE or status == "refunded":
        _check_position(plan, entries, mismatch)
    return found


def check_plan_charges(
    payment_id: str | None, plan_id: str, entries: Iterable[CreditEntry], moved: CardMoves
) -> list[BnplMismatch]:
    """The acquirer rule above, for a plan no claim holds (a claimed plan's charge may be
    made and not yet booked) whose checkout has finished (the first charge precedes the
    plan's record and its opening entries). ``payment_id``: None when the plan was found by
    the acquirer's record, which does not name the payment."""
    effects = [entry.on(ACQUIRER_RECEIVABLE) for entry in entries]
    booked = CardMoves(sum(e for e in effects if e > 0), -sum(e for e in effects if e < 0))
    if booked.captured - booked.refunded == moved.captured - moved.refunded:
        return []
    return [
        BnplMismatch(
            payment_id,
            plan_id,
            BnplMismatchKind.ACQUIRER_DIFFERS,
            f"the acquirer captured {moved.captured} and refunded {moved.refunded} under the "
            f"plan; the ledger booked {booked.captured} charged and {booked.refunded} refunded",
        )
    ]


def _check_opening(
    plan: PlanFacts, amount: int, entries: list[CreditEntry], mismatch: Report
) -> None:
    opening = next((e for e in entries if e.step == "plan"), None)
    if opening is None:
        mismatch(BnplMismatchKind.ENTRY_MISSING, "the plan was never opened in the ledger")
        return
    if plan.total != amount or opening.on(BNPL_RECEIVABLE) != amount:
        mismatch(
            BnplMismatchKind.AMOUNT_DIFFERS,
            f"payment {amount}, plan {plan.total}, lent {opening.on(BNPL_RECEIVABLE)}",
        )
    owed_merchant = -opening.on(BNPL_MERCHANT_PAYABLE)
    fee = -opening.on(BNPL_FEE_INCOME)
    if (owed_merchant, fee) != (plan.total - plan.merchant_fee, plan.merchant_fee):
        mismatch(
            BnplMismatchKind.AMOUNT_DIFFERS,
            f"merchant owed {owed_merchant} with fee {fee}; the plan says "
            f"{plan.total - plan.merchant_fee} and {plan.merchant_fee}",
        )


def _check_position(plan: PlanFacts, entries: list[CreditEntry], mismatch: Report) -> None:
    live = [e for e in entries if not e.step.startswith(REVERSAL)]
    position = plan_position(live)
    paid_off = {n for n, s in plan.instalments.items() if s in ("collected", "refunded")}
    if not position.settled_early:
        for number in sorted(paid_off - position.collected):
            mismatch(BnplMismatchKind.ENTRY_MISSING, f"instalment {number} paid, no collect entry")
    for number in sorted(position.collected - paid_off):
        if plan.status != "written_off":
            mismatch(
                BnplMismatchKind.ENTRY_UNEXPECTED,
                f"collect entry for instalment {number}, which the plan says is "
                f"{plan.instalments.get(number)}",
            )
    for flag, wanted in (
        (position.settled_early, "settled_early"),
        (position.written_off, "written_off"),
        (position.refunded, "refunded"),
    ):
        if flag != (plan.status == wanted):
            mismatch(
                BnplMismatchKind.PLAN_STATUS_DIFFERS,
                f"plan {plan.status}; the ledger {'has' if flag else 'lacks'} its {wanted} entry",
            )
    if plan.status == "active" and position.owed != plan.outstanding:
        mismatch(
            BnplMismatchKind.AMOUNT_DIFFERS,
            f"the plan says {plan.outstanding} is outstanding, the ledger {position.owed}",
        )
    if plan.status in ("paid", "settled_early", "refunded") and position.owed:
        mismatch(
            BnplMismatchKind.AMOUNT_DIFFERS,
            f"plan {plan.status}, yet the ledger says {position.owed} is owed",
        )
    if plan.status == "refunded" and position.paid:
        mismatch(
            BnplMismatchKind.AMOUNT_DIFFERS,
            f"plan refunded, yet {position.paid} the card paid was not given back "
            f"({ACQUIRER_RECEIVABLE})",
        )
